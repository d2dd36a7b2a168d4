"""A scripted DashScope behind httpx.MockTransport, virtual time, and twin sync/async clients.

Every client test here runs twice, once with :class:`videoedit.Client` and once with
:class:`videoedit.AsyncClient`, through :class:`Driven`, which awaits whatever needs awaiting.
Sleeps never happen: :class:`VirtualClock` replaces the drivers' sleep and the flows' clock,
so the real default poll and retry policies run in no time and their delays can be asserted.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from boxed_mp4 import boxed_mp4

import videoedit
from videoedit import AsyncClient, Client, TaskEvent
from videoedit.plugins import PluginHost

CANARY_KEY = "sk-canary-7f3a9c0e51d24b86a0c4e2f19d8b7a63"
TASK_ID = "0385dc79-5ff8-4d82-bcb6-2a4a5c6e1a2b"
BASE_URL = "https://dashscope.test/api/v1"
OSS_HOST = "https://dashscope-instant.oss.test"
RESULT_HOST = "https://result.test"
CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
#: A stand-in result: bytes enough for several 64 KiB chunks, in an MP4's top-level boxes.
VIDEO_BYTES = boxed_mp4(bytes(range(256)) * 1024)

Reply = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


class FakeDashScope:
    """Answers like DashScope: scripted replies per route, sensible defaults otherwise.

    Routes: ``create``, ``status``, ``cancel``, ``list``, ``policy`` (getPolicy), ``oss`` (the
    upload host), ``download`` (the result link). ``script(route, *replies)`` queues replies:
    an ``httpx.Response``, an exception to raise (a transport failure), or a callable.
    Every request is recorded in ``requests``; calls to DashScope itself must carry the key.
    """

    task_id = TASK_ID
    base_url = BASE_URL
    oss_host = OSS_HOST
    result_host = RESULT_HOST
    create_url = BASE_URL + CREATE_PATH
    video = VIDEO_BYTES

    def __init__(self, key: str = CANARY_KEY) -> None:
        self.key = key
        self.requests: list[httpx.Request] = []
        self.queues: dict[str, deque[Reply]] = defaultdict(deque)
        self.result_url = (
            f"{RESULT_HOST}/{TASK_ID}.mp4?Expires={int(time.time()) + 86400}&Signature=s1g"
        )
        self.upload_dir = "dashscope-instant/abc123/2026-04-03/d41d8cd9"

    # -- scripting ------------------------------------------------------------------------
    def script(self, route: str, *replies: Reply) -> None:
        self.queues[route].extend(replies)

    def calls(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if self.route(r) == route]

    @staticmethod
    def json(request: httpx.Request) -> Any:
        """The JSON body a request carried."""
        return json.loads(request.content)

    # -- canned answers -------------------------------------------------------------------
    def task(self, status: str, *, task_id: str = TASK_ID, **output: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "request_id": f"req-{status.lower()}",
            "output": {
                "task_id": task_id,
                "task_status": status,
                "submit_time": "2026-04-03 00:08:03.576",
                **output,
            },
        }
        if status == "SUCCEEDED":
            body["output"].setdefault("video_url", self.result_url)
            body["output"].setdefault("end_time", "2026-04-03 00:11:57.286")
            body["usage"] = {
                "duration": 10.04,
                "input_video_duration": 5.02,
                "output_video_duration": 5.02,
                "video_count": 1,
                "SR": 720,
            }
        return httpx.Response(200, json=body)

    @staticmethod
    def error(
        status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = {"request_id": f"req-{code}", "code": code, "message": message}
        return httpx.Response(status, json=body, headers=headers)

    def policy(self) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "request_id": "req-policy",
                "data": {
                    "policy": "eyJleHBpcmF0aW9uIjoi",
                    "signature": "c2lnbmF0dXJl",
                    "upload_dir": self.upload_dir,
                    "upload_host": OSS_HOST,
                    "expire_in_seconds": 300,
                    "max_file_size_mb": 100,
                    "capacity_limit_mb": 999999999,
                    "oss_access_key_id": "LTAI5tOssAccessKey",
                    "x_oss_object_acl": "private",
                    "x_oss_forbid_overwrite": "true",
                },
            },
        )

    def default(self, route: str, request: httpx.Request) -> httpx.Response:
        if route == "create":
            return self.task("PENDING")
        if route == "status":
            return self.task("SUCCEEDED")
        if route == "cancel":
            return httpx.Response(200, json={"request_id": "req-cancel"})
        if route == "list":
            return httpx.Response(
                200,
                json={
                    "request_id": "req-list",
                    "data": [
                        {
                            "task_id": TASK_ID,
                            "status": "SUCCEEDED",
                            "model_name": "wan2.7-videoedit",
                        }
                    ],
                    "total": 1,
                    "total_page": 1,
                    "page_no": 1,
                    "page_size": 10,
                },
            )
        if route == "policy":
            return self.policy()
        if route == "oss":
            return httpx.Response(200)
        if route == "download":
            return httpx.Response(200, content=VIDEO_BYTES, headers={"Content-Type": "video/mp4"})
        raise AssertionError(route)

    # -- the transport handler --------------------------------------------------------------
    @staticmethod
    def route(request: httpx.Request) -> str:
        origin = f"{request.url.scheme}://{request.url.host}"
        if origin == OSS_HOST:
            return "oss"
        if origin == RESULT_HOST:
            return "download"
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "POST" and path == CREATE_PATH:
            return "create"
        if request.method == "GET" and path == "/uploads":
            return "policy"
        if request.method == "GET" and path == "/tasks":
            return "list"
        if request.method == "POST" and re.fullmatch(r"/tasks/[^/]+/cancel", path):
            return "cancel"
        if request.method == "GET" and re.fullmatch(r"/tasks/[^/]+", path):
            return "status"
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def handler(self, request: httpx.Request) -> httpx.Response:
        route = self.route(request)
        self.requests.append(request)
        if route not in ("oss", "download") and (
            request.headers.get("Authorization") != f"Bearer {self.key}"
        ):
            return self.error(401, "InvalidApiKey", "Invalid API-key provided.")
        queue = self.queues[route]
        reply = queue.popleft() if queue else self.default(route, request)
        if isinstance(reply, BaseException):
            if isinstance(reply, httpx.RequestError):
                reply.request = request
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)


class VirtualClock:
    """Stands in for the drivers' sleep and the flows' monotonic clock: time passes instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def install(self, client: Client | AsyncClient) -> None:
        client._ops.clock = self.monotonic
        if isinstance(client, AsyncClient):
            client._sleep = self.async_sleep  # type: ignore[method-assign]
        else:
            client._sleep = self.sleep  # type: ignore[method-assign]


class Driven:
    """One face for both clients: every method is awaited when the client is async."""

    def __init__(self, inner: Client | AsyncClient) -> None:
        self.inner = inner

    @property
    def is_async(self) -> bool:
        return isinstance(self.inner, AsyncClient)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            return await out if inspect.isawaitable(out) else out

        return call


class Recorder:
    """An observer plugin (``on_task_event``) and a per-call callback in one."""

    def __init__(self) -> None:
        self.events: list[TaskEvent] = []

    @videoedit.hookimpl
    def on_task_event(self, event: TaskEvent) -> None:
        self.events.append(event)

    def __call__(self, event: TaskEvent) -> None:
        self.events.append(event)

    @property
    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.events]

    def of(self, kind: str) -> list[TaskEvent]:
        return [e for e in self.events if e.kind == kind]


@pytest.fixture
def service() -> FakeDashScope:
    return FakeDashScope()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def plugins() -> PluginHost:
    """Only the built-in plugins, whatever else is installed or allow-listed in the env."""
    return PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=True)


@pytest.fixture
def observer(plugins: PluginHost) -> Recorder:
    """A Recorder registered as an observer plugin on the clients' plugin host."""
    recorder = Recorder()
    plugins.register(recorder, name="observer")
    return recorder


@pytest.fixture
def callback() -> Recorder:
    """A Recorder to pass as a per-call ``on_event`` callback."""
    return Recorder()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(
    kind: str, service: FakeDashScope, plugins: PluginHost, clock: VirtualClock
) -> Iterator[Callable[..., Driven]]:
    made: list[Client | AsyncClient] = []

    def make(provider: str = "dashscope-singapore", **kwargs: Any) -> Driven:
        kwargs.setdefault("api_key", CANARY_KEY)
        kwargs.setdefault("base_url", BASE_URL)
        kwargs.setdefault("plugins", plugins)
        transport = httpx.MockTransport(service.handler)
        inner: Client | AsyncClient = (
            Client(provider, transport=transport, **kwargs)
            if kind == "sync"
            else AsyncClient(provider, transport=transport, **kwargs)
        )
        clock.install(inner)
        made.append(inner)
        return Driven(inner)

    yield make
    for client in made:
        if isinstance(client, AsyncClient):
            anyio.run(client.aclose)
        else:
            client.close()


@pytest.fixture
def client(make_client: Callable[..., Driven]) -> Driven:
    return make_client()
