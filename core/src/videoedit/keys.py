"""A wrapper that keeps API keys out of reprs, logs, tracebacks and pickles."""

from __future__ import annotations

import hmac
from typing import NoReturn

__all__ = ["ApiKey", "redact"]


class ApiKey:
    """An API key that never prints itself.

    Only :meth:`reveal` gives the value, and only the provider calls it, when it writes the
    ``Authorization`` header of a request.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("api_key: must be a non-empty string")
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        # Constant-time, so that comparing keys leaks nothing through timing either.
        return isinstance(other, ApiKey) and hmac.compare_digest(
            other._value.encode(), self._value.encode()
        )

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiKey cannot be pickled: keys are not written anywhere")


def redact(text: str, *secrets: ApiKey | str | None) -> str:
    """Return ``text`` with every given secret replaced by ``***``."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, ApiKey) else secret
        if value:
            text = text.replace(value, "***")
    return text
