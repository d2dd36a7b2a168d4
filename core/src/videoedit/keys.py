"""A wrapper that keeps API keys out of reprs, logs, tracebacks and pickles."""

from __future__ import annotations

import hmac
from typing import NoReturn

from videoedit.errors import InvalidRequestError

__all__ = ["KEY_RULE", "ApiKey", "redact"]

#: What a key may hold: it travels in an HTTP header, which carries visible ASCII only.
KEY_RULE = (
    "visible ASCII characters only (no spaces, line breaks, NUL or other control characters, "
    "no non-ASCII letters)"
)


def _flaw(value: str) -> str | None:
    """What makes ``value`` unfit for a header, in words that give away none of it."""
    for char in value:
        if char in "\r\n":
            return "a line break"
        if char == "\0":
            return "a NUL character"
        if char in " \t":
            return "a space or tab"
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "a control character"
        if ord(char) > 0x7E:
            return "a non-ASCII character"
    return None


class ApiKey:
    """An API key that never prints itself.

    Only `reveal` gives the value, and only the provider calls it, when it writes the
    ``Authorization`` header of a request.

    The key is checked here, when a client is made, not when a header is written: a line
    break or a NUL would otherwise surface as httpx's "illegal header value" error with the
    whole header (the key) in its message, and a non-ASCII letter as a ``UnicodeEncodeError``
    holding it. Surrounding whitespace (the newline of ``$(cat key.txt)``) is dropped.
    ``source`` names where the key came from (an environment variable) for the message.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str, *, source: str | None = None) -> None:
        where = f"api_key (from {source})" if source else "api_key"
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequestError(
                f"{where}: must be a non-empty string",
                field="api_key",
                rule="a non-empty string",
                code="InvalidApiKey",
            )
        flaw = _flaw(value.strip())
        if flaw is not None:
            raise InvalidRequestError(
                f"{where}: holds {flaw}; a key may hold {KEY_RULE}",
                field="api_key",
                rule=KEY_RULE,
                code="InvalidApiKey",
                hint="copy the key again from the provider's console",
            )
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
