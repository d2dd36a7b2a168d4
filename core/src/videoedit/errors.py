"""The error taxonomy shared by every provider.

Every failure a caller can meet is one of these classes, so an application can handle
"try later", "fix your request" and "this edit failed" the same way whichever provider it
uses. The provider's own code, message and request id always travel on the error, because
those are what its support desk asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from videoedit.task import Task

__all__ = [
    "AuthenticationError",
    "DownloadError",
    "InvalidRequestError",
    "LedgerError",
    "PermissionDeniedError",
    "PluginLoadError",
    "ProviderNotFoundError",
    "RateLimitError",
    "ServiceError",
    "SubmissionUncertainError",
    "TaskCanceledError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TransportError",
    "UnsupportedOperationError",
    "VideoEditError",
    "WaitTimeoutError",
]


class VideoEditError(Exception):
    """Base of every error videoedit raises on purpose.

    ``code`` and ``message`` are the provider's own words when the provider said something;
    ``request_id`` is the provider's id for the HTTP exchange; ``task_id`` is set whenever a
    task is known, so that no task is ever lost to an exception. ``maybe_submitted`` is true
    when a task creation failed in a way that does not tell whether the service made the
    task (see [`TransportError`][videoedit.TransportError] and [`ServiceError`][videoedit.ServiceError]).
    """

    maybe_submitted: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        provider: str | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        task_id: str | None = None,
        hint: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = message
        self.code = code
        self.provider = provider
        self.request_id = request_id
        self.status_code = status_code
        self.task_id = task_id
        self.hint = hint
        self.body = body
        super().__init__(message)

    def __str__(self) -> str:
        parts = [f"[{self.code}] {self.message}" if self.code else self.message]
        context = []
        if self.provider:
            context.append(f"provider={self.provider}")
        if self.status_code is not None:
            context.append(f"http={self.status_code}")
        if self.task_id:
            context.append(f"task_id={self.task_id}")
        if self.request_id:
            context.append(f"request_id={self.request_id}")
        if context:
            parts.append(f"({', '.join(context)})")
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class InvalidRequestError(VideoEditError, ValueError):
    """The request breaks a documented rule; ``field`` names it and ``rule`` says what it is.

    Raised locally before anything is sent, and also when the service itself answers 400.
    ``errors`` holds every violation found, not only the first, so one round of fixes suffices.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.field = field
        self.rule = rule
        self.errors = (
            errors if errors is not None else ([(field, rule or message)] if field else [])
        )


class AuthenticationError(VideoEditError):
    """The key was refused (HTTP 401). For region-bound keys ``hint`` names the other region."""


class PermissionDeniedError(VideoEditError):
    """The key is valid but may not do this (HTTP 403): balance, permission, or sync calls."""


class RateLimitError(VideoEditError):
    """The provider throttled the call; ``retry_after`` is its advice in seconds, if it gave any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceError(VideoEditError):
    """The provider failed on its side (HTTP 5xx), or answered something that cannot be parsed.

    On a task creation, ``maybe_submitted`` is true: a gateway that answers 502 or 504, or an
    answer cut short, may come after the service made the task. The creation is not repeated
    (that could bill the same edit twice); list recent tasks to find out.
    """

    def __init__(self, message: str, *, maybe_submitted: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_submitted = maybe_submitted


class UnsupportedOperationError(VideoEditError):
    """The provider has no such call (e.g. cancel on a gateway), or refused it for this task's state."""


class TaskNotFoundError(VideoEditError):
    """The task id is unknown to the provider or has expired (DashScope status UNKNOWN)."""


class TaskFailedError(VideoEditError):
    """The task ended FAILED; ``task`` is its last state, with the provider's code and message."""

    def __init__(self, message: str, *, task: Task | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.task = task


class TaskCanceledError(TaskFailedError):
    """The task ended CANCELED before it produced a result."""


class WaitTimeoutError(VideoEditError, TimeoutError):
    """``wait`` ran out of time; the task goes on, and ``task`` says where it stood."""

    def __init__(self, message: str, *, task: Task | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.task = task


class TransportError(VideoEditError):
    """The network failed before an answer came.

    ``maybe_submitted`` is true when a task creation may have reached the service: such a
    call is never repeated automatically, because a repeat could bill the same edit twice.
    """

    def __init__(self, message: str, *, maybe_submitted: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_submitted = maybe_submitted


class DownloadError(VideoEditError):
    """The result could not be saved whole (short read, expired link, a bound passed, a
    folder that cannot take it); nothing was left behind. ``path`` is the target when the
    file system refused it (code ``CannotWrite``)."""

    def __init__(self, message: str, *, path: Path | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.path = path


class ProviderNotFoundError(VideoEditError, LookupError):
    """No installed plugin registered a provider under that id or alias."""


class PluginLoadError(VideoEditError):
    """A plugin failed to load and strict mode is on (otherwise it is only a warning)."""


class SubmissionUncertainError(VideoEditError):
    """A creation may or may not have reached the service, and the ledger cannot tell which.

    Raised instead of sending the edit again (which could bill it twice): the provider has no
    task listing to look in, or its listing holds several tasks that could be this one, or the
    creation failed too recently to conclude it never arrived. ``fingerprint`` is the edit's
    entry in the ledger; ``candidates`` the task ids that could be it. The user decides:
    `videoedit.Ledger.resolve` adopts a task id or allows a new submission.
    """

    maybe_submitted = True

    def __init__(
        self,
        message: str,
        *,
        fingerprint: str = "",
        candidates: tuple[str, ...] = (),
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.fingerprint = fingerprint
        self.candidates = candidates
        self.retry_after = retry_after


class LedgerError(VideoEditError):
    """A ledger file cannot be used: another schema version, not a ledger, or corrupt.

    The file is left exactly as it was (a ledger is never overwritten: it may hold the only
    record of paid tasks); ``path`` names it.
    """

    def __init__(self, message: str, *, path: Path | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.path = path
