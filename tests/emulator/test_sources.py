"""Where inputs come from: loopback URLs are fetched, other hosts never are, data URIs decode,
and the emulator's own result links chain into a new edit."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from emulator_wire import DashScopeWire, error_of, wan27_body

from videoedit_emulator.engine.sources import is_loopback_host

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/away"):
            self.send_response(302)
            self.send_header("Location", "https://example.invalid/clip.mp4")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, emulator_sample_clip: Path) -> Iterator[str]:
    """A loopback HTTP server over a folder with the sample clip, a PNG and a text file."""
    root = tmp_path_factory.mktemp("served")
    (root / "clip.mp4").write_bytes(emulator_sample_clip.read_bytes())
    (root / "ref.png").write_bytes(PNG)
    (root / "notes.png").write_text("not an image")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_loopback_url_is_fetched(wire: DashScopeWire, files: str) -> None:
    task_id = wire.submit(wan27_body(f"{files}/clip.mp4", duration=0, images=(f"{files}/ref.png",)))
    body = wire.finished(task_id)
    assert body["output"]["task_status"] == "SUCCEEDED"
    assert "emulator_note" not in body["output"]
    assert body["usage"]["input_video_duration"] == 2.0


def test_localhost_by_name_is_fetched(wire: DashScopeWire, files: str) -> None:
    url = files.replace("127.0.0.1", "localhost") + "/clip.mp4"
    body = wire.finished(wire.submit(wan27_body(url, duration=0)))
    assert body["output"]["task_status"] == "SUCCEEDED"
    assert "emulator_note" not in body["output"]


def test_a_loopback_404_fails_the_task_as_a_failed_download(
    wire: DashScopeWire, files: str
) -> None:
    url = f"{files}/missing.mp4"
    output = wire.output(wire.submit(wan27_body(url)))
    assert output["task_status"] == "FAILED"
    assert output["code"] == "InvalidParameter"
    assert output["message"] == f"Failed to download input.media[0].url ({url}): HTTP 404"


def test_a_redirect_off_this_machine_is_not_followed(wire: DashScopeWire, files: str) -> None:
    output = wire.output(wire.submit(wan27_body(f"{files}/away")))
    assert output["task_status"] == "FAILED"
    assert output["message"].endswith(
        "it redirects off this machine, which the emulator does not follow"
    )


def test_a_remote_reference_image_is_left_out_and_noted(wire: DashScopeWire, files: str) -> None:
    body = wan27_body(f"{files}/clip.mp4", images=("https://example.invalid/ref.png",))
    output = wire.finished(wire.submit(body))["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["emulator_note"] == (
        "input.media[1].url was not fetched: example.invalid is not on this machine and the "
        "emulator never uses the internet; the render leaves it out"
    )


def test_a_reference_image_that_is_not_an_image_is_a_400(wire: DashScopeWire, files: str) -> None:
    body = wan27_body(f"{files}/clip.mp4", images=(f"{files}/notes.png",))
    assert error_of(wire.create(body)) == (
        400,
        "InvalidParameter",
        "input.media[1].url is not a JPEG, PNG, BMP or WEBP image (its bytes say otherwise)",
    )


def test_a_data_uri_reference_image_is_decoded(wire: DashScopeWire) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    output = wire.finished(wire.submit(wan27_body(images=(uri,))))["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert "input.media[1]" not in output["emulator_note"]


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("data:image/png;base64,@@@", "carries data that is not valid base64"),
        (
            "data:text/plain;base64,aGk=",
            "has mime type 'text/plain'; a data URI must be image/jpeg, image/png, image/bmp or image/webp",
        ),
        ("data:image/png,raw", "must read data:{mime};base64,{data}"),
    ],
)
def test_a_bad_data_uri_is_a_400_naming_the_field(wire: DashScopeWire, uri: str, rule: str) -> None:
    assert error_of(wire.create(wan27_body(images=(uri,)))) == (
        400,
        "InvalidParameter",
        f"input.media[1].url {rule}",
    )


def test_a_result_link_of_this_emulator_chains_into_a_new_edit(
    wire: DashScopeWire, files: str
) -> None:
    first = wire.finished(wire.submit(wan27_body(f"{files}/clip.mp4", duration=0)))
    second = wire.finished(wire.submit(wan27_body(first["output"]["video_url"], duration=0)))
    assert second["output"]["task_status"] == "SUCCEEDED"
    assert "emulator_note" not in second["output"]
    assert second["usage"]["input_video_duration"] == 2.0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("media.localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_which_hosts_count_as_this_machine(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
