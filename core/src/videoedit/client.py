"""``Client`` and ``AsyncClient``: the only places where videoedit performs I/O.

Both drive the same flows (`videoedit._flows`); they differ only in how an action is
carried out: a blocking call or an awaited one.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Generator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import anyio
import httpx

from videoedit._flows import (
    Action,
    Blocking,
    EventCallback,
    Operations,
    Sleep,
    Streamed,
    StreamTo,
    Transmit,
)
from videoedit.download import DEFAULT_MAX_DOWNLOAD_BYTES, check_max_download_bytes
from videoedit.errors import AuthenticationError, InvalidRequestError
from videoedit.events import TaskEvent
from videoedit.fingerprint import fingerprint
from videoedit.keys import ApiKey
from videoedit.ledger import Ledger
from videoedit.pacing import Pacer
from videoedit.plugins import PluginHost, default_host
from videoedit.policy import PollSchedule, RetryPolicy, is_loopback_url
from videoedit.provider import ListQuery, Provider, ProviderConfig, Uploader
from videoedit.reconcile import LedgeredSubmit, ledger_observer
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskPage

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_WAIT_TIMEOUT",
    "MAX_IN_FLIGHT",
    "AsyncClient",
    "Client",
    "ClientOptions",
]

T = TypeVar("T")
TaskRef = Task | str

#: ``wait`` gives up after this many seconds unless told otherwise (vace tasks take 5–10 min).
DEFAULT_WAIT_TIMEOUT = 30 * 60.0
CHUNK = 1 << 16
#: HTTP requests an [`AsyncClient`][videoedit.AsyncClient] has under way at once; the rest wait on a semaphore.
#: Queued in httpx's connection pool instead, they cost milliseconds of CPU each: the pool
#: re-examines every waiting request against every connection whenever one finishes, and
#: checks every idle connection's socket, so each connection more costs every request more.
#: 200 edits gathered at once spent two to three times the client CPU (docs/performance.md).
MAX_IN_FLIGHT = 8


class _Default:
    """Marks an argument left to the client's own setting (``None`` already means "no limit")."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()


def _task_id(task: TaskRef) -> str:
    if isinstance(task, Task):
        return task.task_id
    if isinstance(task, str) and task.strip():
        return task.strip()
    raise InvalidRequestError(
        "task: must be a Task or a non-empty task id", field="task", rule="non-empty id"
    )


def _api_key(given: object, env: tuple[str, ...]) -> ApiKey | None:
    """The key given, else the first of the provider's variables that is set; checked now
    (by [`ApiKey`][videoedit.ApiKey]), so that a key no header can carry fails before any request, in an
    error that names the rule and never the key."""
    if isinstance(given, ApiKey):
        return given
    if isinstance(given, str):
        return ApiKey(given)
    if given is not None:
        raise InvalidRequestError(
            f"api_key: must be a string or an ApiKey, not {type(given).__name__}",
            field="api_key",
            rule="a string or an ApiKey",
            code="InvalidApiKey",
        )
    name = next((n for n in env if os.environ.get(n)), None)
    return ApiKey(os.environ[name], source=name) if name else None


Verify = str | os.PathLike[str] | ssl.SSLContext | bool | None


def _ssl_context(verify: Verify) -> ssl.SSLContext | bool:
    """TLS is always verified: ``verify`` may only choose what to trust, never turn it off."""
    if verify is None or verify is True:
        return True
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
            raise InvalidRequestError(
                "verify: the SSLContext must require certificates and check host names",
                field="verify",
                rule="TLS verification stays on",
            )
        return verify
    if not isinstance(verify, (str, os.PathLike)) or not os.fspath(verify).strip():
        raise InvalidRequestError(
            "verify: TLS verification cannot be turned off; pass a CA bundle path or an "
            "ssl.SSLContext to trust a private CA",
            field="verify",
            rule="a CA bundle path or an ssl.SSLContext",
        )
    path = Path(os.fspath(verify))
    if not path.exists():
        raise InvalidRequestError(
            f"verify: CA bundle {str(path)!r} does not exist",
            field="verify",
            rule="a CA bundle path or an ssl.SSLContext",
        )
    if path.is_dir():
        return ssl.create_default_context(capath=os.fspath(path))
    try:
        return ssl.create_default_context(cafile=os.fspath(path))
    except ssl.SSLError as exc:
        raise InvalidRequestError(
            f"verify: {str(path)!r} holds no usable CA certificate ({exc})",
            field="verify",
            rule="a PEM CA bundle",
        ) from None


class ClientOptions(TypedDict, total=False):
    """The options both clients take besides their HTTP settings (see [`Client`][videoedit.Client])."""

    api_key: str | ApiKey | None
    base_url: str | None
    options: Mapping[str, Any] | None
    poll: PollSchedule | None
    retry: RetryPolicy | None
    uploader: Uploader | None
    plugins: PluginHost | None
    on_event: EventCallback | None
    wait_timeout: float | None
    max_download_bytes: int | None
    ledger: Ledger | str | os.PathLike[str] | None
    pacer: Pacer | None


class _BaseClient:
    def __init__(
        self,
        provider: str | Provider,
        *,
        api_key: str | ApiKey | None = None,
        base_url: str | None = None,
        options: Mapping[str, Any] | None = None,
        poll: PollSchedule | None = None,
        retry: RetryPolicy | None = None,
        uploader: Uploader | None = None,
        plugins: PluginHost | None = None,
        on_event: EventCallback | None = None,
        wait_timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
        ledger: Ledger | str | os.PathLike[str] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        max_download_bytes = check_max_download_bytes(max_download_bytes)
        #: Paces creations and queries by the provider's quotas (`videoedit.pacing`); a
        #: batch gives its client one when it has none.
        self.pacer = pacer
        self._owns_ledger = ledger is not None and not isinstance(ledger, Ledger)
        self.ledger: Ledger | None = (
            ledger if isinstance(ledger, Ledger) or ledger is None else Ledger(ledger)
        )
        host = plugins or default_host()
        if isinstance(provider, Provider):
            self.provider = provider
        else:
            info = host.provider(provider)
            try:
                key = _api_key(api_key, info.api_key_env)
            except InvalidRequestError as exc:
                exc.provider = info.id
                raise
            if key is None and info.api_key_env:
                raise AuthenticationError(
                    f"no API key for provider {info.id!r}: pass api_key=... or set "
                    f"{' or '.join(info.api_key_env)}",
                    provider=info.id,
                    code="MissingApiKey",
                )
            config = ProviderConfig(
                base_url=base_url or info.base_url,
                api_key=key,
                options=dict(options or {}),
            )
            self.provider = info.factory(config)
        if poll is None:
            poll = (
                PollSchedule.fast() if is_loopback_url(self.provider.base_url) else PollSchedule()
            )
        self.wait_timeout = wait_timeout
        if self.ledger is not None:
            on_event = _both(ledger_observer(self.ledger), on_event)
        self._ops = Operations(
            self.provider,
            host,
            poll,
            retry or RetryPolicy(),
            uploader,
            on_event,
            max_download_bytes=max_download_bytes,
        )
        self._ledgered = LedgeredSubmit(self._ops, self.ledger) if self.ledger else None

    def _submit_flow(
        self, request: EditRequest, on_event: EventCallback | None
    ) -> Generator[Action, Any, Task]:
        if self._ledgered is not None:
            return self._ledgered.submit(request, on_event)
        return self._ops.submit(request, on_event)

    def fingerprint(self, request: EditRequest) -> str:
        """The edit's fingerprint at this client's provider, as its ledger files it
        (`videoedit.fingerprint`; local inputs are read and hashed)."""
        model = request.model_for(self.provider.encode_context())
        return fingerprint(self.provider.id, model, request)

    def _close_ledger(self) -> None:
        if self._owns_ledger and self.ledger is not None:
            self.ledger.close()

    @property
    def provider_id(self) -> str:
        return self.provider.id

    @property
    def base_url(self) -> str:
        return self.provider.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider.id!r}, base_url={self.provider.base_url!r})"

    def _timeout(self, timeout: float | _Default | None) -> float | None:
        return self.wait_timeout if isinstance(timeout, _Default) else timeout


def _both(first: EventCallback, second: EventCallback | None) -> EventCallback:
    if second is None:
        return first

    def both(event: TaskEvent) -> None:
        first(event)
        second(event)

    return both


def _list_query(
    page: int,
    page_size: int,
    status: str | None,
    model: str | None,
    start_time: datetime | None,
    end_time: datetime | None,
) -> ListQuery:
    if page < 1 or not 1 <= page_size <= 100:
        raise InvalidRequestError(
            "page must be >= 1 and page_size in [1, 100]", field="page_size", rule="1..100"
        )
    return ListQuery(page, page_size, status, model, start_time, end_time)


class Client(_BaseClient):
    """A blocking client bound to one provider, one base URL and one key.

    ```pycon
    >>> client = Client("dashscope-singapore")                 # key from DASHSCOPE_API_KEY
    >>> task = client.submit(VideoEdit(video="clip.mp4", prompt="claymation"))
    >>> client.save(client.wait(task), "out.mp4")
    ```

    Arguments, all per instance: ``provider`` (an id, an alias or a [`Provider`][videoedit.Provider]);
    ``api_key`` (else the provider's variable, e.g. ``DASHSCOPE_API_KEY``); ``base_url`` (else
    ``VIDEOEDIT_<ID>_BASE_URL``, else the provider's default); ``options`` (provider options,
    such as DashScope's ``workspace``); ``poll`` ([`PollSchedule`][videoedit.PollSchedule]; a fast one for a
    loopback base URL); ``retry`` ([`RetryPolicy`][videoedit.RetryPolicy]); ``uploader`` (for local files on
    providers without an upload API); ``plugins`` (a [`PluginHost`][videoedit.PluginHost]; default: entry
    points); ``on_event`` (called with every [`TaskEvent`][videoedit.TaskEvent]); ``wait_timeout`` (seconds,
    default 30 minutes, ``None`` for ever); ``max_download_bytes`` (the most a result may
    write, default [`DEFAULT_MAX_DOWNLOAD_BYTES`][videoedit.download.DEFAULT_MAX_DOWNLOAD_BYTES], 256 MiB; ``None``
    for no bound); ``ledger`` (a `Ledger` or the path of its file: every
    edit is recorded before its creation is sent, and none is sent twice, see
    docs/batches.md); ``pacer`` (a `videoedit.pacing.Pacer`: each creation and query waits
    for its turn under the provider's quotas; none by default, a batch brings one);
    ``http_client``, ``transport`` and ``timeout`` for httpx; ``verify``: a CA
    bundle path or an ``ssl.SSLContext`` to trust a private CA. TLS verification itself
    cannot be turned off.
    """

    def __init__(
        self,
        provider: str | Provider,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 60.0,
        verify: Verify = None,
        **kwargs: Unpack[ClientOptions],
    ) -> None:
        super().__init__(provider, **kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout, verify=_ssl_context(verify), transport=transport, follow_redirects=True
        )

    # -- the driver ------------------------------------------------------------------------
    def _run(self, flow: Generator[Action, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    action = flow.throw(error) if error is not None else flow.send(value)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                value, error = None, None
                try:
                    value = self._perform(action)
                except httpx.RequestError as exc:
                    error = exc
                except Exception as exc:
                    if not isinstance(action, Blocking):
                        raise
                    error = exc  # a file operation failed: the flow cleans up, then raises it
        finally:
            flow.close()

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Blocking):
            return action.call()
        if isinstance(action, Transmit):
            if action.turn is None or self.pacer is None:
                return self._http.send(action.request)
            ticket = self.pacer.wait(action.turn.kind, action.turn.model)
            try:
                return self._http.send(action.request)
            finally:
                ticket.done()  # the turn counts from the answer's arrival
        if isinstance(action, StreamTo):
            response = self._http.send(action.request, stream=True)
            written = 0
            try:
                if action.sink.accept(response):
                    for chunk in response.iter_bytes(CHUNK):
                        action.sink.write(chunk)
                        written += len(chunk)
            finally:
                response.close()
            return Streamed(response, written)
        self._sleep(action.seconds)
        return None

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- the API -------------------------------------------------------------------------
    def submit(self, request: EditRequest, *, on_event: EventCallback | None = None) -> Task:
        """Upload local inputs, create the task, and return it (PENDING, with its id).

        With a ledger, an edit it already holds a task for is not sent again: that task is
        returned (see `videoedit.reconcile`)."""
        return self._run(self._submit_flow(request, on_event))

    def status(self, task: TaskRef) -> Task:
        """Poll once."""
        return self._run(self._ops.status(_task_id(task)))

    def wait(
        self,
        task: TaskRef,
        *,
        timeout: float | _Default | None = DEFAULT,
        poll: PollSchedule | None = None,
        raise_on_failure: bool = True,
        on_event: EventCallback | None = None,
    ) -> Task:
        """Poll until the task ends; raise ``TaskFailedError`` & co. unless told not to.

        ``timeout`` defaults to the client's ``wait_timeout``; ``None`` waits for ever.
        On timeout, [`WaitTimeoutError`][videoedit.errors.WaitTimeoutError] carries the task, which goes on.
        """
        return self._run(
            self._ops.wait(
                _task_id(task),
                timeout=self._timeout(timeout),
                poll=poll,
                raise_on_failure=raise_on_failure,
                callback=on_event,
            )
        )

    def cancel(self, task: TaskRef) -> Task:
        """Cancel a task (DashScope: PENDING tasks only) and return its new state."""
        return self._run(self._ops.cancel(_task_id(task)))

    def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        status: str | None = None,
        model: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> TaskPage:
        """One page of the account's recent tasks, where the provider offers a listing."""
        return self._run(
            self._ops.list(_list_query(page, page_size, status, model, start_time, end_time))
        )

    def save(
        self, task: Task, path: str | os.PathLike[str], *, on_event: EventCallback | None = None
    ) -> Path:
        """Stream the result to ``path`` atomically: a complete file, or none at all.

        The raw bytes, at most ``max_download_bytes`` of them, checked to be a whole MP4
        before the rename; anything else, the file system's refusals included, is a
        [`DownloadError`][videoedit.errors.DownloadError] (see `videoedit.download`).
        """
        return self._run(self._ops.save(task, Path(path), on_event))

    def edit(
        self,
        request: EditRequest,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float | _Default | None = DEFAULT,
        on_event: EventCallback | None = None,
    ) -> Task:
        """Submit, wait and (with ``path``) save: the one-shot edit."""
        task = self.submit(request, on_event=on_event)
        task = self.wait(task, timeout=timeout, on_event=on_event)
        if path is not None:
            self.save(task, path, on_event=on_event)
        return task

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        self._close_ledger()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """The awaited twin of [`Client`][videoedit.Client]: same arguments, same calls, same errors.

    At most `MAX_IN_FLIGHT` of its HTTP requests are under way at once; the others
    wait their turn, first come first served (hundreds of ``edit`` calls gathered at once
    are fine).
    """

    def __init__(
        self,
        provider: str | Provider,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 60.0,
        verify: Verify = None,
        **kwargs: Unpack[ClientOptions],
    ) -> None:
        super().__init__(provider, **kwargs)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, verify=_ssl_context(verify), transport=transport, follow_redirects=True
        )
        self._slots = anyio.Semaphore(MAX_IN_FLIGHT)
        #: Requests that wait for a quota's turn (a client with a pacer) queue apart.
        self._paced_slots = anyio.Semaphore(MAX_IN_FLIGHT)

    async def _run(self, flow: Generator[Action, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    action = flow.throw(error) if error is not None else flow.send(value)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                value, error = None, None
                try:
                    value = await self._perform(action)
                except httpx.RequestError as exc:
                    error = exc
                except Exception as exc:
                    if not isinstance(action, Blocking):
                        raise
                    error = exc  # a file operation failed: the flow cleans up, then raises it
        finally:
            flow.close()

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Sleep):
            await self._sleep(action.seconds)
            return None
        if isinstance(action, Blocking):
            # File I/O in a worker thread: a slow or full disk never stalls the event loop.
            return await anyio.to_thread.run_sync(action.call)
        if not (isinstance(action, Transmit) and action.turn and self.pacer is not None):
            async with self._slots:
                return await self._send(action)
        # Paced requests wait for their turn in slots of their own, right before sending (a
        # turn spent late, beside later ones, could land above the quota): a poll waiting
        # for its turn never holds up a download or an upload.
        turn = action.turn
        async with self._paced_slots:
            ticket = await self.pacer.acquire(turn.kind, turn.model)
            try:
                return await self._send(action)
            finally:
                ticket.done()

    async def _send(self, action: Transmit | StreamTo) -> Any:
        if isinstance(action, Transmit):
            return await self._http.send(action.request)
        if isinstance(action, StreamTo):
            response = await self._http.send(action.request, stream=True)
            written = 0
            try:
                if action.sink.accept(response):
                    async for chunk in response.aiter_bytes(CHUNK):
                        await anyio.to_thread.run_sync(action.sink.write, chunk)
                        written += len(chunk)
            finally:
                await response.aclose()
            return Streamed(response, written)
        raise TypeError(f"not an HTTP action: {action!r}")

    async def _sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def submit(self, request: EditRequest, *, on_event: EventCallback | None = None) -> Task:
        """Upload local inputs, create the task, and return it; see [`Client.submit`][videoedit.Client.submit]."""
        return await self._run(self._submit_flow(request, on_event))

    async def status(self, task: TaskRef) -> Task:
        """Poll once."""
        return await self._run(self._ops.status(_task_id(task)))

    async def wait(
        self,
        task: TaskRef,
        *,
        timeout: float | _Default | None = DEFAULT,
        poll: PollSchedule | None = None,
        raise_on_failure: bool = True,
        on_event: EventCallback | None = None,
    ) -> Task:
        """Poll until the task ends; see [`Client.wait`][videoedit.Client.wait]."""
        return await self._run(
            self._ops.wait(
                _task_id(task),
                timeout=self._timeout(timeout),
                poll=poll,
                raise_on_failure=raise_on_failure,
                callback=on_event,
            )
        )

    async def cancel(self, task: TaskRef) -> Task:
        """Cancel a task (DashScope: PENDING tasks only) and return its new state."""
        return await self._run(self._ops.cancel(_task_id(task)))

    async def list(
        self,
        *,
        page: int = 1,
        page_size: int = 10,
        status: str | None = None,
        model: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> TaskPage:
        """One page of the account's recent tasks, where the provider offers a listing."""
        return await self._run(
            self._ops.list(_list_query(page, page_size, status, model, start_time, end_time))
        )

    async def save(
        self, task: Task, path: str | os.PathLike[str], *, on_event: EventCallback | None = None
    ) -> Path:
        """Stream the result to ``path`` atomically; see [`Client.save`][videoedit.Client.save]."""
        return await self._run(self._ops.save(task, Path(path), on_event))

    async def edit(
        self,
        request: EditRequest,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float | _Default | None = DEFAULT,
        on_event: EventCallback | None = None,
    ) -> Task:
        """Submit, wait and (with ``path``) save: the one-shot edit."""
        task = await self.submit(request, on_event=on_event)
        task = await self.wait(task, timeout=timeout, on_event=on_event)
        if path is not None:
            await self.save(task, path, on_event=on_event)
        return task

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        self._close_ledger()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
