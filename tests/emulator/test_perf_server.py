"""The emulator's HTTP server settings: no Nagle delay, no access log, results streamed.

- the listening socket is made so that asyncio turns Nagle's algorithm off on every
  accepted connection (with it on, each keep-alive answer waited ~40 ms for a delayed ACK);
- uvicorn logs no line per request;
- a result is sent in bounded chunks read from disk, never read whole into memory.
"""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.render import RenderJob, RenderResult
from videoedit_emulator.server import EmulatorServer, listen_socket, tune_gc, uvicorn_config

BIG = 8 * 1024 * 1024


def test_asyncio_turns_nagle_off_on_connections_accepted_from_the_listening_socket() -> None:
    sock = listen_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(500):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())  # the standard loop: uvloop would set TCP_NODELAY whatever the socket
    assert seen
    assert seen[0] != 0


def test_the_listening_socket_is_bound_and_listening() -> None:
    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        with socket.create_connection(sock.getsockname(), timeout=5):
            pass  # accepted into the backlog before anyone calls accept()
    finally:
        sock.close()


def test_a_port_in_use_is_an_oserror_and_leaves_no_socket_open() -> None:
    taken = listen_socket("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            listen_socket("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_uvicorn_logs_no_line_per_request() -> None:
    config = uvicorn_config(object())
    assert config.access_log is False
    assert config.lifespan == "off"


def test_a_dedicated_emulator_process_runs_full_collections_a_hundred_times_less_often() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        tune_gc()
        assert gc.get_threshold() == (700, 10, 1000)
    finally:
        gc.set_threshold(*saved)


def test_an_emulator_in_a_thread_leaves_the_host_process_gc_alone() -> None:
    saved = gc.get_threshold()
    with EmulatorServer():
        assert gc.get_threshold() == saved


class BigRenderer:
    """Places a large file as the result (what the download benchmark does at 100 MB)."""

    def __call__(self, job: RenderJob, out: Path) -> RenderResult:
        chunk = bytes(range(256)) * 4096
        with open(out, "wb") as sink:
            for _ in range(BIG // len(chunk)):
                sink.write(chunk)
        return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, BIG, False)


@pytest.fixture
def big_server() -> Any:
    engine = TaskEngine(EmulatorConfig(), renderer=BigRenderer())
    with EmulatorServer(engine=engine) as server:
        yield server


def test_a_large_result_is_sent_in_chunks_of_at_most_64_kib(big_server: EmulatorServer) -> None:
    with big_server.client("dashscope-beijing") as client:
        from videoedit import VideoEdit

        task = client.wait(
            client.submit(VideoEdit(video="https://example.invalid/a.mp4", resolution="720P"))
        )
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result is not None
    url = httpx.URL(task.result.video_url)
    bodies: list[int] = []
    started: list[dict[str, Any]] = []

    requested: list[bool] = []

    async def receive() -> dict[str, Any]:
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the app is done
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
        elif message["type"] == "http.response.body":
            bodies.append(len(message.get("body", b"")))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(b"host", url.netloc)],
        "server": (url.host, url.port),
        "client": ("127.0.0.1", 50000),
    }
    asyncio.run(big_server.app(scope, receive, send))  # the app itself: nothing in between

    assert started[0]["status"] == 200
    assert dict(started[0]["headers"])[b"content-length"] == str(BIG).encode()
    assert sum(bodies) == BIG
    assert max(bodies) <= 64 * 1024
    assert len(bodies) >= BIG // (64 * 1024)
