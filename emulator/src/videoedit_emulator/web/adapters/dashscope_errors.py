"""DashScope's words for the engine's reasons: one table, `WORDING`, code and message.

The engine raises wire-neutral errors (``engine/errors.py``: a kind, a `Reason`, the field, a
detail in the emulator's words); this table says what DashScope answers for each reason, and
what code a task that failed for it shows. The codes and fixed messages come from
``../shared/API-FACTS.md`` (section Errors: ``BadRequest.EmptyModel``, ``Throttling.RateQuota``
"Requests rate limit exceeded, please try again later.", ``UnsupportedOperation``…) and from
answers of the service recorded there; ``{detail}`` in a message is the engine's detail (the
emulator adds what the service leaves unsaid, such as which models it serves). The seed pages
(``../shared/seeds/``) document requests and results, not error texts.

Vtrix and the APIMart gateway forward DashScope's refusals and task failures, so their
adapters word reasons from this table too, in their own envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.snapshots import TaskView

__all__ = ["KIND_CODES", "WORDING", "Wording", "code_of", "failure_of", "message_of"]


@dataclass(frozen=True)
class Wording:
    """A service's code for a reason, and its message (``{detail}``: the engine's detail)."""

    code: str
    message: str = "{detail}"

    def say(self, detail: str) -> str:
        return self.message.format(detail=detail)


#: What DashScope answers for each reason (a test checks that every `Reason` is here).
WORDING: Mapping[Reason, Wording] = MappingProxyType(
    {
        Reason.INVALID_VALUE: Wording("InvalidParameter"),
        Reason.EMPTY_MODEL: Wording(
            "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
        ),
        Reason.EMPTY_INPUT: Wording(
            "BadRequest.EmptyInput", 'Required parameter "input" missing from request.'
        ),
        # An unknown model id, or one of the other region's: 400 "Model not exist."
        Reason.UNKNOWN_MODEL: Wording("InvalidParameter", "Model not exist. ({detail})"),
        Reason.RATE_QUOTA: Wording(
            "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
        ),
        Reason.NOT_CANCELABLE: Wording(
            "UnsupportedOperation",
            "Failed to cancel the task, please confirm if the task is in PENDING status. "
            "({detail})",
        ),
        # The control plane's refusals, should a DashScope route ever pass one on.
        Reason.UNKNOWN_TASK: Wording("InvalidURL"),
        Reason.TASK_ENDED: Wording("UnsupportedOperation"),
        Reason.SHUTTING_DOWN: Wording("InternalError"),
        # How failed tasks read: an input it could not get is "InvalidParameter",
        # "Failed to download …" (API-FACTS.md, task results).
        Reason.DOWNLOAD_FAILED: Wording("InvalidParameter"),
        Reason.RENDER_FAILED: Wording("InternalError"),
        # The store's refusals reach DashScope's routes only through a task's inputs.
        Reason.INVALID_OBJECT_NAME: Wording("InvalidParameter"),
        Reason.NOT_SIGNED: Wording("AccessDenied"),
        Reason.UNKNOWN_ACCESS_KEY: Wording("AccessDenied"),
        Reason.BAD_SIGNATURE: Wording("AccessDenied"),
        Reason.MALFORMED_POLICY: Wording("InvalidParameter"),
        Reason.POLICY_EXPIRED: Wording("AccessDenied"),
        Reason.UNKNOWN_POLICY: Wording("AccessDenied"),
        Reason.POLICY_VIOLATED: Wording("AccessDenied"),
        Reason.UPLOAD_TOO_LARGE: Wording("InvalidParameter"),
        Reason.UPLOAD_TOO_SMALL: Wording("InvalidParameter"),
        Reason.ALREADY_EXISTS: Wording("InvalidParameter"),
        Reason.MALFORMED_LINK: Wording("AccessDenied"),
        Reason.LINK_EXPIRED: Wording("AccessDenied"),
        Reason.NO_SUCH_OBJECT: Wording("InvalidURL"),
    }
)

#: The code of a refusal with no reason (an adapter's own), by its kind.
KIND_CODES: Mapping[ErrorKind, str] = MappingProxyType(
    {
        ErrorKind.INVALID_PARAMETER: "InvalidParameter",
        ErrorKind.UNAUTHORIZED: "InvalidApiKey",
        ErrorKind.FORBIDDEN: "AccessDenied",
        ErrorKind.NOT_FOUND: "InvalidURL",
        ErrorKind.THROTTLED: "Throttling.RateQuota",
        ErrorKind.UNSUPPORTED: "UnsupportedOperation",
        ErrorKind.TOO_LARGE: "RequestTooLarge",
        ErrorKind.INTERNAL: "InternalError",
    }
)


def code_of(error: ApiError, kind_codes: Mapping[ErrorKind, str] = KIND_CODES) -> str:
    """DashScope's code for ``error``: the adapter's own if it set one, else its reason's,
    else its kind's in ``kind_codes`` (a gateway passes its own)."""
    if error.code is not None:
        return error.code
    if error.reason is not None:
        return WORDING[error.reason].code
    return kind_codes[error.kind]


def message_of(error: ApiError) -> str:
    """DashScope's message for ``error`` (its detail where the service has no words of its own)."""
    if error.code is None and error.reason is not None:
        return WORDING[error.reason].say(error.detail)
    return error.detail


def failure_of(view: TaskView) -> tuple[str | None, str | None]:
    """The ``code`` and ``message`` a FAILED task shows: a caller's code as given, else
    DashScope's words for the engine's reason."""
    if view.error_reason is None:
        return view.error_code, view.error_message
    wording = WORDING[view.error_reason]
    return wording.code, wording.say(view.error_message or "")
