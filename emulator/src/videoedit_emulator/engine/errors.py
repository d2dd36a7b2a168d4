"""The emulator's one error type, independent of any wire format.

Models, sources, the store and the engine raise `ApiError`; each adapter renders it
in its provider's own format and HTTP status (DashScope: ``{"request_id", "code",
"message"}``; OSS: an XML ``<Error>``; the gateways: their envelopes). ``code`` carries the
DashScope-style code when the raiser knows the precise one (``BadRequest.EmptyInput``);
otherwise adapters derive one from ``kind``.
"""

from __future__ import annotations

import enum

__all__ = ["HTTP_STATUS", "ApiError", "ErrorKind"]


class ErrorKind(str, enum.Enum):
    INVALID_PARAMETER = "invalid_parameter"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    THROTTLED = "throttled"
    UNSUPPORTED = "unsupported"
    TOO_LARGE = "too_large"
    INTERNAL = "internal"

    def __str__(self) -> str:
        return self.value


#: The usual HTTP status of each kind; an adapter may choose differently for its provider.
HTTP_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_PARAMETER: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.THROTTLED: 429,
    ErrorKind.UNSUPPORTED: 400,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.INTERNAL: 500,
}


class ApiError(Exception):
    """A refusal the emulator answers instead of a result.

    ``message`` starts with the field it concerns when there is one
    (``"parameters.duration must be ..."``), so that any wire format carries the field name
    even when it has no slot for it; ``field`` repeats it for adapters that do.
    """

    def __init__(
        self,
        kind: ErrorKind | str,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.field = field
        self.code = code
        self.retry_after = retry_after
        self._status = status

    @property
    def status(self) -> int:
        """The HTTP status to answer with (the kind's usual one unless set)."""
        return self._status if self._status is not None else HTTP_STATUS[self.kind]

    def __repr__(self) -> str:
        return f"ApiError({self.kind.value!r}, {self.message!r}, code={self.code!r})"

    @classmethod
    def invalid(cls, field: str, rule: str, *, code: str = "InvalidParameter") -> ApiError:
        """``<field> <rule>``: the common 400 naming the field and the rule it breaks."""
        return cls(ErrorKind.INVALID_PARAMETER, f"{field} {rule}", field=field, code=code)
