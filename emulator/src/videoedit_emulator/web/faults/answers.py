"""The error a ``status`` or ``rate_limit`` rule answers with, before an adapter words it.

The figures here are wire-neutral (an error kind, a status, a message in the usual words of
an HTTP service); each adapter renders the `ApiError` in its own error body, and may
choose differently for its service ([`Adapter.fault_error`][videoedit_emulator.web.adapter.Adapter.fault_error]:
OSS throttles with 503 ``SlowDown`` and names a code for every status).
"""

from __future__ import annotations

from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.web.faults.rule import FaultKind, FaultRule

__all__ = ["MESSAGES", "fault_error", "fault_tag"]

_STATUS_KINDS = {
    400: ErrorKind.INVALID_PARAMETER,
    401: ErrorKind.UNAUTHORIZED,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    413: ErrorKind.TOO_LARGE,
    429: ErrorKind.THROTTLED,
}
#: The message of a ``status`` rule that gives none, by status.
MESSAGES = {
    400: "The request is invalid.",
    401: "Invalid API-key provided.",
    403: "Access denied.",
    404: "Not found.",
    429: "Requests rate limit exceeded, please try again later.",
    500: "An internal error has occured, please try again later or contact service support.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable, please try again later.",
    504: "Gateway timeout.",
}


def fault_tag(rule: FaultRule) -> str:
    """What every fault answer's message ends with, so a reader knows it was on purpose."""
    return f" [emulator fault {rule.id}]" if rule.id else ""


def fault_error(rule: FaultRule) -> ApiError:
    """The error ``rule`` (a ``status`` or ``rate_limit`` rule) answers with."""
    if rule.kind is FaultKind.RATE_LIMIT:
        return ApiError(
            ErrorKind.THROTTLED,
            MESSAGES[429] + fault_tag(rule),
            code=rule.code,
            retry_after=rule.retry_after,
        )
    status = rule.status or 500
    kind = _STATUS_KINDS.get(
        status, ErrorKind.INTERNAL if status >= 500 else ErrorKind.INVALID_PARAMETER
    )
    message = rule.message or MESSAGES.get(status) or f"HTTP {status}."
    return ApiError(
        kind, message + fault_tag(rule), code=rule.code, retry_after=rule.retry_after, status=status
    )
