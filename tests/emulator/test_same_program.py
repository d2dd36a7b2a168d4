"""One short program edits a clip on every provider, changing only the provider id and base URL.

This is the promise of the framework: an application switches between DashScope Beijing,
DashScope Singapore, the Vtrix envelope and an APIMart-format gateway by configuration alone.
The clip is served over loopback HTTP (as a CDN would serve it), so every provider's stand-in
is a transcode of the same real input.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import videoedit
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer


def edit_clip(provider: str, base_url: str, source: str, out: Path) -> Path:
    """The application: the same lines whatever the provider."""
    with videoedit.Client(provider, base_url=base_url, api_key="sk-the-same-key") as client:
        task = client.submit(
            videoedit.VideoEdit(
                video=source,
                prompt="paper cut-out style",
                resolution="720P",
                ratio="9:16",
                duration=2,
            )
        )
        return client.save(client.wait(task), out)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def clip_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 3 s, 640×360 clip at a loopback URL."""
    from videoedit_emulator.render import make_sample_clip

    folder = tmp_path_factory.mktemp("cdn")
    make_sample_clip(folder / "clip.mp4", seconds=3, width=640, height=360)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "provider", ["dashscope-beijing", "dashscope-singapore", "vtrix", "apimart"]
)
def test_the_same_program_edits_a_clip_on_every_provider(
    emulator: EmulatorServer, clip_url: str, tmp_path: Path, provider: str
) -> None:
    saved = edit_clip(provider, emulator.base_url(provider), clip_url, tmp_path / f"{provider}.mp4")

    info = probe_output(saved)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == 2.0
    assert (info.codec, info.fps) == ("h264", 30.0)
    [task] = emulator.engine.all_tasks()
    assert task.realm == provider
