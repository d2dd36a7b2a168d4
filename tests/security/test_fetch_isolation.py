"""The emulator fetches only its own store, data URIs and loopback URLs: every connection it
attempts while resolving inputs goes to a loopback address, whatever the URL says, whatever
DNS would answer, and whatever proxy the environment names.

The socket layer is watched (``socket.getaddrinfo`` and ``socket.socket.connect`` record
every call, in every thread of this process, the emulator's included).
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from resilience_wire import (
    auth,
    create_body,
    create_url,
    status,
    stub_renderer,
    task_id_of,
    task_state,
)

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.server import EmulatorServer

#: URLs whose host is not this machine, or only pretends to be.
ELSEWHERE = [
    "http://example.com/clip.mp4",
    "https://10.0.0.7/clip.mp4",
    "http://169.254.169.254/latest/meta-data/clip.mp4",  # cloud metadata
    "http://[::ffff:169.254.169.254]/clip.mp4",
    "http://[fd00::1]/clip.mp4",
    "http://0.0.0.0:80/clip.mp4",
    "http://2130706433/clip.mp4",  # 127.0.0.1 as one number: not a literal loopback address
    "http://0x7f.0.0.1/clip.mp4",
    "http://127.1/clip.mp4",
    "http://localhost.example.com/clip.mp4",
    "http://localhost./clip.mp4",
    "http://127.0.0.1.nip.io/clip.mp4",
    "http://127.0.0.1@example.com/clip.mp4",
    "http://127.0.0.1\\@example.com/clip.mp4",
    "http://example.com#@127.0.0.1/clip.mp4",
    "ftp://127.0.0.1/clip.mp4",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
]


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    engine = TaskEngine(EmulatorConfig(render_cache_bytes=0), renderer=stub_renderer)
    with EmulatorServer(engine=engine) as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    """This module's emulator (stub renderer), reset before each test."""
    server.reset()
    return server


class Watch:
    """Every name lookup and every connection attempted in this process."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[str] = []
        self.lock = threading.Lock()

    def non_loopback(self) -> list[str]:
        def loopback(host: str) -> bool:
            try:
                return ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                return host == "localhost"

        with self.lock:
            return [h for h in self.lookups + self.connects if not loopback(h)]


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    seen = Watch()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        with seen.lock:
            seen.lookups.append(name)
        if name.endswith(".localhost"):  # a resolver that sends *.localhost elsewhere
            return real_getaddrinfo("10.66.66.66", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple):
            with seen.lock:
                seen.connects.append(str(address[0]))
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    # A proxy in the environment must not be used either (it would be another address).
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://10.77.77.77:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return seen


class _Files(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/away"):
            self.send_response(302)
            self.send_header("Location", "http://10.1.2.3/clip.mp4")
            self.end_headers()
            return
        if self.path.startswith("/sneaky"):
            self.send_response(302)
            self.send_header("Location", "http://evil.localhost:9/clip.mp4")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def files(tmp_path: Path, emulator_sample_clip: Path) -> Iterator[int]:
    """A loopback file server holding the sample clip; its port."""
    (tmp_path / "clip.mp4").write_bytes(emulator_sample_clip.read_bytes())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Files, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def submit(http: httpx.Client, server: EmulatorServer, video: str) -> httpx.Response:
    return http.post(
        create_url(server, "dashscope-beijing"),
        json=create_body("dashscope-beijing", video=video, duration=0),
        headers=auth(),
    )


@pytest.mark.parametrize("url", ELSEWHERE)
def test_an_input_elsewhere_is_never_fetched(
    watch: Watch, emulator: EmulatorServer, url: str
) -> None:
    with httpx.Client(timeout=30, trust_env=False) as http:
        response = submit(http, emulator, url)
        if response.status_code == 200:
            task_id = task_id_of("dashscope-beijing", response)
            assert emulator.engine.drain(60)
            word, _, message = task_state(
                "dashscope-beijing", status(http, emulator, "dashscope-beijing", task_id)
            )
            assert word in ("SUCCEEDED", "FAILED"), message
    assert watch.non_loopback() == []


def test_a_loopback_input_is_fetched_and_only_loopback_is_connected(
    watch: Watch, emulator: EmulatorServer, files: int
) -> None:
    with httpx.Client(timeout=30, trust_env=False) as http:
        for url in (f"http://127.0.0.1:{files}/clip.mp4", f"http://localhost:{files}/clip.mp4"):
            task_id = task_id_of("dashscope-beijing", submit(http, emulator, url))
            assert emulator.engine.drain(60)
            body = status(http, emulator, "dashscope-beijing", task_id).json()
            assert body["output"]["task_status"] == "SUCCEEDED"
            assert "emulator_note" not in body["output"]  # it really was fetched
            assert body["usage"]["input_video_duration"] == 2.0
    assert watch.non_loopback() == []
    assert "127.0.0.1" in watch.connects


def test_a_name_under_localhost_is_not_looked_up(
    watch: Watch, emulator: EmulatorServer, files: int
) -> None:
    with httpx.Client(timeout=30, trust_env=False) as http:
        url = f"http://media.localhost:{files}/clip.mp4"
        task_id = task_id_of("dashscope-beijing", submit(http, emulator, url))
        assert emulator.engine.drain(60)
        word, _, _ = task_state(
            "dashscope-beijing", status(http, emulator, "dashscope-beijing", task_id)
        )
    assert word == "SUCCEEDED"  # sent to 127.0.0.1, not where a resolver would send it
    assert "media.localhost" not in watch.lookups
    assert watch.non_loopback() == []


@pytest.mark.parametrize("path", ["/away", "/sneaky"])
def test_a_redirect_off_this_machine_is_not_followed(
    watch: Watch, emulator: EmulatorServer, files: int, path: str
) -> None:
    with httpx.Client(timeout=30, trust_env=False) as http:
        task_id = task_id_of(
            "dashscope-beijing", submit(http, emulator, f"http://127.0.0.1:{files}{path}")
        )
        word, code, message = task_state(
            "dashscope-beijing", status(http, emulator, "dashscope-beijing", task_id)
        )
    if path == "/away":
        assert (word, code) == ("FAILED", "InvalidParameter")
        assert message is not None
        assert message.endswith("it redirects off this machine, which the emulator does not follow")
    assert watch.non_loopback() == []
