"""Fixtures for running the official ``dashscope`` SDK, unmodified, against the emulator.

The SDK keeps its endpoint and key in process-wide globals (``dashscope.base_http_api_url``
and ``dashscope.api_key``), read once from ``DASHSCOPE_HTTP_BASE_URL`` / ``DASHSCOPE_API_KEY``
when it is first imported: setting the environment afterwards changes nothing. The
``dashscope_sdk`` fixture therefore sets the module attributes and puts them back after the
test, so no test leaks an endpoint into another (or into a real-service test).

Everything here is model-neutral, for every SDK compatibility test (wan2.7, vace, ...):
the SDK pointed at a region, small media made locally, a loopback file server, and the
download-and-probe helpers that check what came back.
"""

from __future__ import annotations

import http.server
import itertools
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import dashscope
import httpx
import pytest

from videoedit_emulator.render import OutputInfo

if TYPE_CHECKING:
    from videoedit_emulator.server import EmulatorServer

#: What ``probe_mp4`` answers: the renderer's ``OutputInfo`` (codec, pix_fmt, width, height,
#: fps, duration, exact frames, has_audio, audio_codec, faststart).
Mp4Facts = OutputInfo

#: Any non-empty key is accepted by a default emulator; this one is recognisably fake.
SDK_API_KEY = "sk-emulator-compat-0000"


# -- the SDK, pointed at the emulator ----------------------------------------------------------
@dataclass
class SdkTarget:
    """Where the SDK's globals point for this test, and how to move them.

    ``use(provider_id)`` re-points the SDK at another region of the same emulator
    (``dashscope-beijing`` → ``{url}/api/v1``, ``dashscope-singapore`` → ``{url}/intl/api/v1``).
    """

    emulator: EmulatorServer
    monkeypatch: pytest.MonkeyPatch
    api_key: str = SDK_API_KEY
    provider_id: str = "dashscope-beijing"

    @property
    def base_url(self) -> str:
        return self.emulator.base_url(self.provider_id)

    def use(self, provider_id: str) -> SdkTarget:
        self.provider_id = provider_id
        self.monkeypatch.setattr(dashscope, "base_http_api_url", self.base_url)
        return self


@pytest.fixture
def dashscope_sdk(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SdkTarget]:
    """The official SDK bound to a freshly reset emulator (Beijing route), restored afterwards.

    Also makes sure loopback traffic never goes through a proxy a developer has configured
    (``requests`` and ``aiohttp`` both honour ``NO_PROXY``), and drops the SDK's pooled
    keep-alive connection so nothing dangles into the next test.
    """
    target = SdkTarget(emulator=emulator, monkeypatch=monkeypatch)
    monkeypatch.setattr(dashscope, "api_key", target.api_key)
    target.use("dashscope-beijing")
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        monkeypatch.setenv(name, ",".join(filter(None, [current, "127.0.0.1", "localhost"])))
    yield target
    dashscope.close_shared_sync_session()


# -- media made locally ------------------------------------------------------------------------
def make_clip(path: Path, *, seconds: float, width: int, height: int, audio: bool = True) -> Path:
    """A plain input clip (the renderer's ``make_sample_clip``: testsrc, 30 fps, H.264, a
    440 Hz tone unless ``audio=False``). Cheap at small sizes; not a stand-in."""
    from videoedit_emulator.render import make_sample_clip

    return make_sample_clip(path, seconds=seconds, width=width, height=height, audio=audio)


def make_png(path: Path, *, width: int, height: int, rgb: tuple[int, int, int]) -> Path:
    """A solid-colour PNG written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compat-media")


@pytest.fixture(scope="session")
def sample_clip(media_dir: Path) -> Path:
    """A 3 s, 320×240, 30 fps H.264 clip with a 440 Hz tone: a valid wan2.7 input, cheap to make.

    Its file name has a space in it on purpose: the SDK puts the raw base name into the
    upload key and the ``oss://`` URL, so the emulator has to cope with that.
    """
    return make_clip(media_dir / "sample clip.mp4", seconds=3, width=320, height=240)


@pytest.fixture(scope="session")
def reference_png(media_dir: Path) -> Path:
    """A 256×256 solid orange PNG, a valid reference image."""
    return make_png(media_dir / "reference.png", width=256, height=256, rgb=(255, 140, 0))


# -- a loopback file server (the emulator fetches http(s) inputs on this machine) --------------
@dataclass(frozen=True)
class LoopbackFiles:
    """Serves ``root`` over http://127.0.0.1:<port>/ for as long as the session lasts."""

    root: Path
    origin: str

    def url(self, path: Path) -> str:
        relative = Path(path).resolve().relative_to(self.root.resolve())
        return f"{self.origin}/{quote(relative.as_posix())}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def loopback_files(media_dir: Path) -> Iterator[LoopbackFiles]:
    """The session's media directory on a loopback HTTP server: ``loopback_files.url(path)``."""
    handler = partial(_QuietHandler, directory=str(media_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="compat-files", daemon=True)
    thread.start()
    try:
        yield LoopbackFiles(root=media_dir, origin=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- what came back ----------------------------------------------------------------------------
@pytest.fixture
def download(tmp_path: Path) -> Callable[[str], Path]:
    """``download(url)`` fetches a result link to a new temporary file; any non-200 fails."""
    names = itertools.count(1)

    def fetch(url: str) -> Path:
        response = httpx.get(url, timeout=30, trust_env=False)
        assert response.status_code == 200, (
            f"GET {url} answered {response.status_code}: {response.text[:300]}"
        )
        target = tmp_path / f"download-{next(names)}.mp4"
        target.write_bytes(response.content)
        return target

    return fetch


@pytest.fixture
def probe_mp4() -> Callable[[Path], Mp4Facts]:
    """``probe_mp4(path)``: the renderer's own probe (codec, pixel format, size, fps, exact
    frame count, duration, audio, faststart) of a downloaded result."""
    from videoedit_emulator.render import probe_output

    def probe(path: Path) -> Mp4Facts:
        return probe_output(path)

    return probe
