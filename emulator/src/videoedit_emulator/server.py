"""The emulator in a thread: for tests, notebooks and the demo.

```pycon
>>> with EmulatorServer() as server:                        # 127.0.0.1, port picked by the OS
...     client = server.client("dashscope-singapore")      # a videoedit.Client bound to it
...     server.base_url("dashscope-beijing")                # 'http://127.0.0.1:PORT/api/v1'
```

The server runs uvicorn on its own event loop in a daemon thread, so the calling thread may
block (a sync client, a test) while the emulator answers.
"""

from __future__ import annotations

import dataclasses
import gc
import socket
import threading
import time
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.engine.sources import is_loopback_host
from videoedit_emulator.web.app import create_app

if TYPE_CHECKING:
    import videoedit
    from videoedit_emulator.web.faults import FaultPlan
    from videoedit_emulator.web.journal import Journal
    from videoedit_emulator.web.state import WebState

__all__ = ["DEFAULT_API_KEY", "EmulatorServer", "listen_socket", "tune_gc", "uvicorn_config"]

#: The key clients bound by [`EmulatorServer.client`][videoedit_emulator.server.EmulatorServer.client] send unless given one.
DEFAULT_API_KEY = "sk-emulator"
_START_TIMEOUT = 15.0
#: Connections the listening socket queues before uvicorn accepts them: room for a burst of
#: clients (hundreds of pollers starting at once) without the kernel dropping SYNs, which
#: clients would only retry a second later.
BACKLOG = 1024


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket for uvicorn (``port=0``: chosen by the OS).

    ``IPPROTO_TCP`` is spelled out on purpose: asyncio's own event loop turns Nagle's
    algorithm off only on sockets whose ``proto`` says TCP, and the sockets accepted from a
    listener made with ``proto=0`` inherit that 0. Every keep-alive answer (headers and body
    are two writes) then waited for the client's delayed ACK: about 40 ms per request on
    Linux instead of well under one. (uvloop sets ``TCP_NODELAY`` itself.)
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def tune_gc() -> None:
    """Collect the oldest generation a hundred times less often (threshold 10 -> 1000).

    For a process that is an emulator and nothing else (``videoedit-emulator serve``): each
    full collection walks every live object (the request journal alone holds thousands)
    and stopped this server for 30-50 ms at a time, every few thousand requests, which was
    the whole 99th percentile of its answers. Young objects are still collected as usual.
    The in-thread [`EmulatorServer`][videoedit_emulator.EmulatorServer] leaves its host process's settings alone.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)


def uvicorn_config(app: Any, *, log_level: str = "warning") -> uvicorn.Config:
    """The emulator's uvicorn settings, shared by [`EmulatorServer`][videoedit_emulator.EmulatorServer] and ``serve``.

    No access log: a line per poll costs more than answering the poll. ``http`` and
    ``loop`` stay ``auto``, so uvicorn uses httptools' C parser and uvloop (dependencies of
    the emulator) and falls back to h11 and asyncio where they are missing. See
    ``docs/performance.md``.
    """
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )


class EmulatorServer:
    """An emulator on ``host:port`` (``port=0``: chosen by the OS) in a background thread.

    ``config`` fields may also be given as keywords (``EmulatorServer(seed=7)``).
    ``engine`` gives direct control (progression, failures, the clock) without HTTP.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        engine: TaskEngine | None = None,
        **overrides: Any,
    ) -> None:
        if engine is not None and (config is not None or overrides):
            raise ValueError("EmulatorServer: give an engine or a config, not both")
        own_engine = engine is None
        if engine is None:
            config = dataclasses.replace(config or EmulatorConfig(), **overrides)
            engine = TaskEngine(config)
        self.engine = engine
        try:
            self.app = create_app(engine)  # refuses a key bound to a realm nobody serves
        except Exception:
            if own_engine:
                engine.close()
            raise
        #: The web app's adapters, fault rules and journal (`faults`, `journal`).
        self.web: WebState = self.app.state.web
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Bind, start serving, and return once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("EmulatorServer: already started")
        if not is_loopback_host(self.host):
            warnings.warn(
                f"EmulatorServer bound to {self.host}, not loopback: anyone who can reach this "
                "address can use the emulator and read what is uploaded to it",
                RuntimeWarning,
                stacklevel=2,
            )
        sock = listen_socket(self.host, self._requested_port)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn_config(self.app)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"videoedit-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError("EmulatorServer: uvicorn stopped before it started serving")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"EmulatorServer: not serving after {_START_TIMEOUT:g} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread, and delete the emulator's storage."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._cleanup()
        self.engine.close()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer({self.url if self.port else 'not started'})"

    # -- addresses --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:54321``."""
        if self.port is None:
            raise RuntimeError("EmulatorServer: not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The base URL a client of ``provider`` (an id or alias) uses against this emulator."""
        return self.url + self.web.adapters.prefixes()[_provider_id(provider, self.web)]

    # -- conveniences -----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None) -> None:
        """Forget every task, upload, result, fault and journal entry (see
        [`TaskEngine.reset`][videoedit_emulator.engine.tasks.TaskEngine.reset])."""
        self.web.reset(seed=seed)

    @property
    def faults(self) -> FaultPlan:
        """The fault rules: ``server.faults.add("status", route="create", status=503, times=1)``."""
        return self.web.faults

    @property
    def journal(self) -> Journal:
        """Requests received, redacted: ``server.journal.count(route="create", reached_app=True)``."""
        return self.web.journal

    def client(self, provider: str, **kwargs: Any) -> videoedit.Client:
        """A [`videoedit.Client`][videoedit.Client] for ``provider`` bound to this emulator.

        ``api_key`` defaults to `DEFAULT_API_KEY`; other keywords go to the client.
        """
        import videoedit

        kwargs.setdefault("api_key", DEFAULT_API_KEY)
        return videoedit.Client(provider, base_url=self.base_url(provider), **kwargs)

    def async_client(self, provider: str, **kwargs: Any) -> videoedit.AsyncClient:
        """A [`videoedit.AsyncClient`][videoedit.AsyncClient] for ``provider`` bound to this emulator."""
        import videoedit

        kwargs.setdefault("api_key", DEFAULT_API_KEY)
        return videoedit.AsyncClient(provider, base_url=self.base_url(provider), **kwargs)


def _provider_id(provider: str, web: WebState) -> str:
    prefixes = web.adapters.prefixes()  # the emulator's own adapters and those of plugins
    if provider in prefixes:
        return provider
    import videoedit

    try:
        found = videoedit.default_host().provider(provider).id
    except videoedit.ProviderNotFoundError:
        found = provider
    if found not in prefixes:
        raise ValueError(
            f"the emulator serves no provider {provider!r}; it serves {', '.join(prefixes)}"
        )
    return found
