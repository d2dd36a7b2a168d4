"""Every client operation written once, as a generator of I/O actions.

A flow yields `Transmit`, `StreamTo`, `Sleep` and `Blocking`
actions and receives their results (or has their exceptions thrown into it).
[`Client`][videoedit.Client] drives the flows with blocking calls and
[`AsyncClient`][videoedit.AsyncClient] with awaited ones, so retry, polling, upload and download
logic exist exactly once. File I/O is an action too (`Blocking`, httpx's
``sync_auth_flow``/``async_auth_flow`` idea): the async driver runs it in a worker thread, so a
slow disk never stalls the event loop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx

from videoedit.download import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    RETRYABLE_DOWNLOAD_FAILURES,
    ResultFile,
    raw_request,
)
from videoedit.errors import (
    DownloadError,
    InvalidRequestError,
    RateLimitError,
    ServiceError,
    TaskCanceledError,
    TaskFailedError,
    TaskNotFoundError,
    TransportError,
    VideoEditError,
    WaitTimeoutError,
)
from videoedit.events import EventKind, TaskEvent
from videoedit.keys import redact
from videoedit.logs import log_event
from videoedit.pacing import Turn
from videoedit.plugins import PluginHost
from videoedit.policy import PollSchedule, RetryPolicy
from videoedit.provider import Call, ListQuery, Provider, Retry, Uploader, parse_retry_after
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskPage, TaskStatus

T = TypeVar("T")

log = logging.getLogger("videoedit.client")


@dataclass(frozen=True)
class Transmit:
    """Send ``request``; a client with a pacer first waits for its ``turn`` (a quota's)."""

    request: httpx.Request
    turn: Turn | None = None


@dataclass(frozen=True)
class StreamTo:
    """Send ``request`` and, when ``sink.accept(response)``, write its body into ``sink``;
    otherwise leave the body unread. (``accept`` refuses every content coding, so the
    bytes written are the bytes sent: nothing is decoded.)"""

    request: httpx.Request
    sink: ResultFile


@dataclass(frozen=True)
class Streamed:
    response: httpx.Response
    written: int


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Blocking:
    """Call ``call`` (file I/O) and hand back what it returns, or throw in what it raises.

    [`Client`][videoedit.Client] calls it in place; [`AsyncClient`][videoedit.AsyncClient] runs it in
    a worker thread.
    """

    call: Callable[[], Any]


Action = Transmit | StreamTo | Sleep | Blocking
Flow = Generator[Action, Any, T]
EventCallback = Callable[[TaskEvent], None]

#: A poll or a listing spends a turn of the account's task queries.
_QUERY = Turn("query")

#: Exceptions after which the request certainly never reached the server.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class _OutOfTime(Exception):
    """A retry's pause would end after the caller's deadline (``wait``'s timeout)."""


class _Again(Exception):
    """An attempt failed in a way worth another try (see `Operations.retrying`).

    ``error`` is what the caller gets when no try is left; ``label`` names the failure in the
    RETRYING event; ``retry_after`` is the pause the answer asked for, if it asked.
    """

    def __init__(self, error: BaseException, label: str, retry_after: float | None = None) -> None:
        super().__init__(label)
        self.error = error
        self.label = label
        self.retry_after = retry_after


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Operations:
    """The shared brain of both clients. Holds no socket; see the module docstring."""

    def __init__(
        self,
        provider: Provider,
        plugins: PluginHost,
        poll: PollSchedule,
        retry: RetryPolicy,
        uploader: Uploader | None,
        on_event: EventCallback | None,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> None:
        self.provider = provider
        self.max_download_bytes = max_download_bytes
        self.plugins = plugins
        self.poll = poll
        self.retry = retry
        self.uploader = uploader if uploader is not None else provider.uploader()
        self.on_event = on_event
        self.rng = random.Random()
        #: Seconds on a monotonic clock; replaced (with the drivers' sleep) by tests.
        self.clock: Callable[[], float] = time.monotonic
        #: Waits under way on this client (see PollSchedule.per_second).
        self._waits = 0
        self._waits_lock = threading.Lock()

    # -- events ---------------------------------------------------------------------------
    def emit(self, kind: EventKind, callback: EventCallback | None = None, **fields: Any) -> None:
        """Tell observer plugins and callbacks; none of them may break the operation.

        A callback that raises is logged and ignored, like an observer plugin: an exception
        escaping here could lose a task that was just created.
        """
        event = TaskEvent(kind=kind, provider=self.provider.id, **fields)
        log_event(event, self.provider.config.api_key)  # videoedit.client: see videoedit.logs
        self.plugins.emit(event)
        for cb in (self.on_event, callback):
            if cb is None:
                continue
            try:
                cb(event)
            except Exception:
                log.exception("videoedit event callback %r failed on %s", cb, event.kind)

    # -- retries -------------------------------------------------------------------------------
    def retrying(
        self,
        attempt: Callable[[], Flow[T]],
        *,
        deadline: float | None = None,
        callback: EventCallback | None = None,
        task: Task | None = None,
    ) -> Flow[T]:
        """The one retry loop: run ``attempt()`` again until it returns.

        An attempt that raises `_Again` is followed by a pause (the policy's jittered
        backoff, or the ``Retry-After`` the answer gave), told to observers as RETRYING, and
        tried again; its error is raised instead when the policy's attempts are spent or the
        ``Retry-After`` is beyond ``max_retry_after`` (not worth parking the caller: the error
        says when to come back). With a ``deadline`` (on `clock`), a pause that would end
        after it is not taken: `_OutOfTime` is raised, caused by the error. Whatever
        else an attempt raises ends the loop.
        """
        tries = 0
        while True:
            tries += 1
            try:
                return (yield from attempt())
            except _Again as caught:
                again = caught
            # Out of the handler: the error is raised without this _Again as its context.
            spent = tries >= self.retry.max_attempts
            if spent or (
                again.retry_after is not None and again.retry_after > self.retry.max_retry_after
            ):
                raise again.error
            delay = self.retry.delay(tries, again.retry_after, rng=self.rng)
            if deadline is not None and self.clock() + delay > deadline:
                raise _OutOfTime() from again.error
            self.emit(
                EventKind.RETRYING,
                callback,
                task=task,
                attempt=tries,
                delay=delay,
                error=again.label,
            )
            yield Sleep(delay)

    # -- one call, with retries --------------------------------------------------------------
    def send(
        self,
        call: Call,
        task_id: str | None = None,
        callback: EventCallback | None = None,
        deadline: float | None = None,
        turn: Turn | None = None,
    ) -> Flow[httpx.Response]:
        """Send a call, retrying as its [`Retry`][videoedit.Retry] mode allows; return the 2xx response.

        With a ``deadline`` (on `clock`), a retry whose pause would end after it is
        not attempted: `_OutOfTime` is raised, caused by the failure. Every attempt spends
        ``turn`` (a quota's, see `videoedit.pacing`) when the client paces itself.
        """

        def attempt() -> Flow[httpx.Response]:
            try:
                response: httpx.Response = yield Transmit(call.request, turn)
            except httpx.RequestError as exc:
                unsent = isinstance(exc, _UNSENT)
                error = self._transport_error(call, exc, unsent, task_id)
                error.__cause__ = exc
                may_retry = isinstance(exc, httpx.TransportError) and (
                    call.retry is Retry.IDEMPOTENT or (call.retry is Retry.UNSENT_ONLY and unsent)
                )
                if not may_retry:
                    raise error from exc
                raise _Again(error, _describe(exc)) from None
            if response.is_success:
                return response
            failure = self._scrub(self.provider.parse_error(response))
            if task_id and failure.task_id is None:
                failure.task_id = task_id
            retryable, retry_after = self._retryable(call, response, failure)
            if not retryable:
                raise failure
            raise _Again(failure, type(failure).__name__, retry_after)

        return (yield from self.retrying(attempt, deadline=deadline, callback=callback))

    def _scrub(self, error: VideoEditError) -> VideoEditError:
        """Take the key out of an error built from a response (some gateways echo headers)."""
        key = self.provider.config.api_key
        if key is None:
            return error
        error.message = redact(error.message, key)
        error.args = tuple(redact(a, key) if isinstance(a, str) else a for a in error.args)
        if error.hint:
            error.hint = redact(error.hint, key)
        error.body = _redact_json(error.body, key.reveal())
        return error

    def _retryable(
        self, call: Call, response: httpx.Response, error: VideoEditError
    ) -> tuple[bool, float | None]:
        """Whether a non-2xx answer is worth another try, and the pause it asked for."""
        if call.retry is Retry.NEVER:
            return False, None
        if isinstance(error, RateLimitError):  # refused, not done: safe to repeat, even a create
            return True, error.retry_after
        idempotent_failure = isinstance(error, ServiceError) and (
            response.status_code in self.retry.retry_statuses
        )
        if call.retry is not Retry.IDEMPOTENT or not idempotent_failure:
            return False, None
        return True, parse_retry_after(response.headers.get("Retry-After"))

    def _transport_error(
        self, call: Call, exc: Exception, unsent: bool, task_id: str | None
    ) -> TransportError:
        method, url = call.request.method, call.request.url.copy_with(query=None)
        if call.retry is Retry.UNSENT_ONLY and not unsent:
            return TransportError(
                f"{method} {url} failed after it may have reached the service ({_describe(exc)}); "
                "it was not repeated, so that the same edit is never submitted twice",
                provider=self.provider.id,
                maybe_submitted=True,
                hint="list recent tasks (client.list()) to see whether it was created",
            )
        return TransportError(
            f"{method} {url} failed: {_describe(exc)}",
            provider=self.provider.id,
            task_id=task_id,
        )

    def _calls(
        self, flow: Generator[Call, httpx.Response, T], callback: EventCallback | None
    ) -> Flow[T]:
        """Drive a generator of [`Call`][videoedit.Call] (an uploader) through `send`."""
        try:
            call = next(flow)
            while True:
                response = yield from self.send(call, callback=callback)
                call = flow.send(response)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    # -- operations ---------------------------------------------------------------------------
    def upload_local_files(
        self, request: EditRequest, callback: EventCallback | None
    ) -> Flow[EditRequest]:
        local = request.local_files()
        if not local:
            return request
        if self.uploader is None:
            field_name = next(iter(local))
            raise InvalidRequestError(
                f"{field_name}: {str(local[field_name])!r} is a local file, and provider "
                f"{self.provider.id!r} has no upload API. Pass an http(s) URL (or a data: URI "
                "for images), or give the client an uploader (Client(..., uploader=...))",
                field=field_name,
                rule="local files need an uploader on this provider",
                provider=self.provider.id,
            )
        # An upload serves only the model it was made for: name the id the create call will use.
        model = request.model_for(self.provider.encode_context())
        urls: dict[str, str] = {}
        for key, path in local.items():
            try:
                urls[key] = yield from self._calls(
                    self.uploader.upload(path, model=model), callback
                )
            except TransportError as exc:
                if not exc.maybe_submitted:
                    raise
                # No task exists yet: say what was really lost, and that nothing was billed.
                raise TransportError(
                    f"upload of {key} ({path.name}) broke off after it may have reached the "
                    f"upload host; it was not repeated (a repeat could clash with a partial "
                    f"upload). No task was created: submit again to upload afresh. {exc.message}",
                    provider=self.provider.id,
                ) from exc
            self.emit(EventKind.UPLOADED, callback, detail=f"{key} -> {urls[key]}")
        return request.with_media(urls)

    def submit(
        self,
        request: EditRequest,
        callback: EventCallback | None = None,
        before_create: Callable[[], None] | None = None,
    ) -> Flow[Task]:
        """Check and upload the local inputs, then create the task.

        ``before_create`` (a ledger's claim) runs, as a `Blocking` action, after the
        uploads and just before the creation leaves: what it raises stops the creation.
        """
        if not isinstance(request, EditRequest):
            raise InvalidRequestError(
                f"request must be an EditRequest such as videoedit.VideoEdit, not {type(request).__name__}",
                field="request",
                rule="must be an EditRequest",
            )
        # The local files' content is checked here, not when the request is built: a probe
        # runs ffmpeg, which an async client must not do on its event loop.
        yield Blocking(request.check_local_files)
        request = yield from self.upload_local_files(request, callback)
        http_request = self.plugins.build_create(self.provider, request)
        if before_create is not None:
            yield Blocking(before_create)
        turn = Turn("create", request.model_for(self.provider.encode_context()))
        try:
            response = yield from self.send(
                Call(http_request, Retry.UNSENT_ONLY), callback=callback, turn=turn
            )
            task = self.provider.parse_create(response)
        except ServiceError as exc:
            # A 5xx or an unreadable answer to a creation does not say whether the task was
            # made (a gateway may time out after the service took it): flag it, as a
            # dropped connection is flagged, so that the caller can look before resubmitting.
            exc.maybe_submitted = True
            exc.hint = exc.hint or "list recent tasks (client.list()) to see whether it was created"
            raise
        self.emit(EventKind.SUBMITTED, callback, task=task)
        return task

    def status(
        self,
        task_id: str,
        callback: EventCallback | None = None,
        deadline: float | None = None,
    ) -> Flow[Task]:
        """Poll once. An unreadable 2xx answer (a proxy's page, a cut body) is retried like a
        5xx: a poll changes nothing, so asking again is always safe."""

        def attempt() -> Flow[Task]:
            response = yield from self.send(
                Call(self.provider.build_status(task_id)), task_id, callback, deadline, _QUERY
            )
            try:
                return self.provider.parse_status(task_id, response)
            except VideoEditError as exc:
                exc.task_id = exc.task_id or task_id
                if isinstance(exc, ServiceError) and exc.code == "MalformedResponse":
                    raise _Again(exc, type(exc).__name__) from None
                raise

        return (yield from self.retrying(attempt, deadline=deadline, callback=callback))

    def wait(
        self,
        task_id: str,
        *,
        timeout: float | None,
        poll: PollSchedule | None,
        raise_on_failure: bool,
        callback: EventCallback | None,
    ) -> Flow[Task]:
        with self._waits_lock:
            self._waits += 1
        try:
            return (
                yield from self._wait(
                    task_id, timeout, poll or self.poll, raise_on_failure, callback
                )
            )
        finally:
            with self._waits_lock:
                self._waits -= 1

    def _wait(
        self,
        task_id: str,
        timeout: float | None,
        schedule: PollSchedule,
        raise_on_failure: bool,
        callback: EventCallback | None,
    ) -> Flow[Task]:
        started = self.clock()
        deadline = None if timeout is None else started + timeout
        gaps = schedule.gaps(self.rng)
        previous: TaskStatus | None = None
        task: Task | None = None
        while True:
            try:
                task = yield from self.status(task_id, callback, deadline)
            except _OutOfTime as out:
                assert timeout is not None
                raise WaitTimeoutError(
                    f"task {task_id} did not finish within {timeout:g} s (the last poll "
                    f"failed and its retry would end after the timeout: {out.__cause__}); "
                    "it goes on running: wait again with its id to resume",
                    provider=self.provider.id,
                    task_id=task_id,
                    task=task,
                    code="WaitTimeout",
                ) from out.__cause__
            elapsed = self.clock() - started
            self.emit(EventKind.POLLED, callback, task=task, elapsed=elapsed)
            if task.status is not previous:
                self.emit(EventKind.STATUS_CHANGED, callback, task=task, elapsed=elapsed)
                previous = task.status
            if task.is_done:
                self.emit(EventKind.FINISHED, callback, task=task, elapsed=elapsed)
                if raise_on_failure:
                    raise_for_task(task)
                return task
            gap = next(gaps)
            if schedule.per_second is not None:
                # However many tasks this client waits for, it polls per_second times a second
                # at most in all: hundreds of waits would otherwise each poll as if alone.
                gap = max(gap, self._waits / schedule.per_second)
            if timeout is not None:
                remaining = timeout - (self.clock() - started)
                if remaining <= 0:
                    raise WaitTimeoutError(
                        f"task {task_id} still {task.status} after {timeout:g} s; it goes on "
                        "running: wait again with its id to resume",
                        provider=self.provider.id,
                        task_id=task_id,
                        task=task,
                        code="WaitTimeout",
                    )
                gap = min(gap, remaining)
            yield Sleep(gap)

    def cancel(self, task_id: str) -> Flow[Task]:
        response = yield from self.send(Call(self.provider.build_cancel(task_id)), task_id)
        task = self.provider.parse_cancel(task_id, response)
        if task is None:
            task = yield from self.status(task_id)
        return task

    def list(self, query: ListQuery) -> Flow[TaskPage]:
        response = yield from self.send(Call(self.provider.build_list(query)), turn=_QUERY)
        return self.provider.parse_list(response)

    def save(self, task: Task, path: Path, callback: EventCallback | None) -> Flow[Path]:
        """Stream the result to a temporary file beside ``path``, check it, then rename it."""
        if task.status is not TaskStatus.SUCCEEDED or task.result is None:
            raise_for_task(task)
            raise DownloadError(
                f"task {task.task_id} is {task.status}: there is nothing to save yet",
                provider=self.provider.id,
                task_id=task.task_id,
                code="NoResult",
                hint="wait for the task first: client.save(client.wait(task), path)",
            )
        expires = task.result.expires_at
        if expires is not None and expires <= datetime.now(timezone.utc):
            raise DownloadError(
                f"the result link of task {task.task_id} expired at {expires.isoformat()}",
                provider=self.provider.id,
                task_id=task.task_id,
                code="ResultExpired",
                hint="result links live 24 hours; the edit must be submitted again",
            )
        if path.name in ("", ".", "..") or "\0" in str(path):
            raise InvalidRequestError(
                f"path: {str(path)!r} names no file to save the result to",
                field="path",
                rule="the path of a file",
            )
        part = ResultFile(
            path,
            max_bytes=self.max_download_bytes,
            task_id=task.task_id,
            provider=self.provider.id,
        )
        request = raw_request(self.provider.build_download(task.result.video_url))
        opened = False

        def attempt() -> Flow[Path]:
            nonlocal opened
            retry_after: float | None = None
            if opened:
                yield Blocking(part.restart)
            else:
                yield Blocking(part.open)
                opened = True
            try:
                streamed: Streamed = yield StreamTo(request, part)
                failure = part.verify(streamed.response, streamed.written)
                retry_after = parse_retry_after(streamed.response.headers.get("Retry-After"))
            except httpx.RequestError as exc:
                failure = DownloadError(
                    f"download of task {task.task_id} broke off: {_describe(exc)}",
                    provider=self.provider.id,
                    task_id=task.task_id,
                    code="Interrupted",
                )
            if failure is None:
                yield Blocking(part.commit)
                self.emit(EventKind.SAVED, callback, task=task, detail=str(path))
                return path
            if failure.code not in RETRYABLE_DOWNLOAD_FAILURES:
                raise failure
            raise _Again(failure, failure.code or type(failure).__name__, retry_after)

        try:
            return (yield from self.retrying(attempt, callback=callback, task=task))
        except GeneratorExit:
            # The caller abandoned the flow (Ctrl-C, a cancelled task): no action can follow.
            part.discard()
            raise
        except BaseException:
            discarded = False
            try:
                yield Blocking(part.discard)
                discarded = True
            finally:
                if not discarded:  # the flow was closed before the discard could run
                    part.discard()
            raise


def _redact_json(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, "***")
    if isinstance(value, dict):
        return {k: _redact_json(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v, secret) for v in value]
    return value


def raise_for_task(task: Task) -> None:
    """Raise the taxonomy's error for a FAILED, CANCELED or UNKNOWN task."""
    kwargs: dict[str, Any] = {
        "provider": task.provider,
        "task_id": task.task_id,
        "request_id": task.request_id,
        "code": task.error_code,
    }
    if task.status is TaskStatus.FAILED:
        raise TaskFailedError(
            f"task {task.task_id} failed: {task.error_message or 'no message'}", task=task, **kwargs
        )
    if task.status is TaskStatus.CANCELED:
        raise TaskCanceledError(f"task {task.task_id} was canceled", task=task, **kwargs)
    if task.status is TaskStatus.UNKNOWN:
        kwargs["code"] = kwargs["code"] or "UNKNOWN"
        raise TaskNotFoundError(
            f"task {task.task_id} is unknown to {task.provider}: the id is wrong or expired "
            "(tasks live 24 hours)",
            **kwargs,
        )
