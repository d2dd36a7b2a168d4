"""The emulator's one error type, and the reasons it is raised for: no wire format's words.

Models, sources, the store and the engine raise `ApiError` with a `ErrorKind` (what sort of
refusal: it picks the usual HTTP status), a `Reason` (the precise cause, a neutral token),
the ``field`` it concerns and a ``detail`` in the emulator's own words. They never name a
service's code or copy its message: each adapter words the reason as its service does
(DashScope: ``Reason.EMPTY_MODEL`` is 400 ``BadRequest.EmptyModel`` 'Required parameter
"model" missing from request.'; OSS: ``Reason.NO_SUCH_OBJECT`` is an XML 404 ``NoSuchKey``;
the gateways forward DashScope's code in their envelopes). The wording of each service lives
in its adapter, in one table.

A failed task carries a `Reason` too (``DOWNLOAD_FAILED``, ``RENDER_FAILED``) with its
detail; a failure a caller asked for (the control plane, the ``fail`` directive) carries the
caller's own wire code instead, which adapters show as given.

``code`` is for adapters only: a refusal an adapter raises itself may carry its service's
code directly (``InvalidApiKey``), as no other adapter ever renders it.
"""

from __future__ import annotations

import enum

__all__ = ["HTTP_STATUS", "ApiError", "ErrorKind", "Reason"]


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


class Reason(str, enum.Enum):
    """Why the engine refused a call or failed a task, as a token adapters word.

    Adding a member obliges every adapter that words reasons to word it (tests check that
    DashScope's table words every reason, and OSS's every reason the store raises).
    """

    # -- creations and task calls ----------------------------------------------------------
    #: A field breaks one of the model's rules; the detail is ``"<field> <rule>"``.
    INVALID_VALUE = "invalid_value"
    #: The request names no model.
    EMPTY_MODEL = "empty_model"
    #: The request carries no ``input``.
    EMPTY_INPUT = "empty_input"
    #: The model is not served (in that region).
    UNKNOWN_MODEL = "unknown_model"
    #: A rate quota is passed (creations per model family, queries per account).
    RATE_QUOTA = "rate_quota"
    #: Only a PENDING task can be canceled.
    NOT_CANCELABLE = "not_cancelable"
    #: The task id is unknown or expired (control plane).
    UNKNOWN_TASK = "unknown_task"
    #: The task has ended and can no longer change (control plane).
    TASK_ENDED = "task_ended"
    #: The engine is closing and takes no more tasks.
    SHUTTING_DOWN = "shutting_down"
    # -- why a task failed --------------------------------------------------------------------
    #: An input the emulator should have been able to read could not be had.
    DOWNLOAD_FAILED = "download_failed"
    #: The stand-in MP4 could not be rendered.
    RENDER_FAILED = "render_failed"
    # -- uploads and result links (the store) ---------------------------------------------------
    #: An object key the store refuses (a folder name, a result key out of shape).
    INVALID_OBJECT_NAME = "invalid_object_name"
    #: An upload without a policy, or a link without its signature parameters.
    NOT_SIGNED = "not_signed"
    #: An access key id the store never issued.
    UNKNOWN_ACCESS_KEY = "unknown_access_key"
    #: A signature that does not sign what it should.
    BAD_SIGNATURE = "bad_signature"
    #: A policy document that cannot be read.
    MALFORMED_POLICY = "malformed_policy"
    #: A policy past its expiration.
    POLICY_EXPIRED = "policy_expired"
    #: A well-signed policy the store holds no record of.
    UNKNOWN_POLICY = "unknown_policy"
    #: A form field that breaks a condition of its policy.
    POLICY_VIOLATED = "policy_violated"
    #: A file larger than its policy's content-length range.
    UPLOAD_TOO_LARGE = "upload_too_large"
    #: A file smaller than its policy's content-length range.
    UPLOAD_TOO_SMALL = "upload_too_small"
    #: An object that must not be overwritten exists.
    ALREADY_EXISTS = "already_exists"
    #: A result link whose ``Expires`` is not a number.
    MALFORMED_LINK = "malformed_link"
    #: A result link past its ``Expires``.
    LINK_EXPIRED = "link_expired"
    #: No object under that key.
    NO_SUCH_OBJECT = "no_such_object"

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

    ``detail`` starts with the field it concerns when there is one
    (``"parameters.duration must be ..."``), so that any wire format carries the field name
    even when it has no slot for it; ``field`` repeats it for adapters that do. ``reason``
    is ``None`` only for an adapter's own refusals, worded from ``kind`` (or ``code``).
    """

    def __init__(
        self,
        kind: ErrorKind | str,
        detail: str,
        *,
        reason: Reason | None = None,
        field: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = ErrorKind(kind)
        self.detail = detail
        self.reason = reason
        self.field = field
        self.code = code
        self.retry_after = retry_after
        self._status = status

    @property
    def message(self) -> str:
        """The detail, under the name adapters written before reasons read it by."""
        return self.detail

    @property
    def status(self) -> int:
        """The HTTP status to answer with (the kind's usual one unless set)."""
        return self._status if self._status is not None else HTTP_STATUS[self.kind]

    def __repr__(self) -> str:
        return f"ApiError({self.kind.value!r}, {self.detail!r}, reason={self.reason!r})"

    @classmethod
    def invalid(cls, field: str, rule: str) -> ApiError:
        """``<field> <rule>``: the common 400 naming the field and the rule it breaks."""
        return cls(
            ErrorKind.INVALID_PARAMETER, f"{field} {rule}", reason=Reason.INVALID_VALUE, field=field
        )
