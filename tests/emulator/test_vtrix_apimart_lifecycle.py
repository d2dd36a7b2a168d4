"""The ``vtrix`` and ``apimart`` providers against the emulator, through the real client.

The lifecycle the DashScope providers pass: submit, progress visible while the task advances,
wait, save (the MP4 has the size and length asked for), failures set through the control
plane, unknown and expired ids, and what these services lack (cancel, uploads). Inputs are
served over loopback HTTP by a small bucket server, as a CDN or object store would serve them;
the emulator fetches loopback URLs, so the stand-in is a transcode of the real clip.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from render_media import flat_clip

import videoedit
from videoedit import EventKind, TaskStatus, VideoEdit
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer

PROVIDERS = ["vtrix", "apimart"]
ClientFactory = Callable[..., videoedit.Client]
DOC = Path(__file__).resolve().parents[2] / "docs" / "providers" / "uploaders.md"


class Bucket:
    """A loopback object store: GET serves what was PUT (or placed), like a public bucket."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        bucket = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = bucket.objects.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bucket.objects[self.path] = self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, name: str, data: bytes) -> str:
        self.objects[f"/{name}"] = data
        return f"{self.url}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def bucket() -> Iterator[Bucket]:
    store = Bucket()
    yield store
    store.close()


@pytest.fixture(scope="module")
def clip_url(bucket: Bucket, emulator_sample_clip: Path) -> str:
    """The 2 s, 640×360 sample clip (with audio) at a loopback URL."""
    return bucket.put("in/sample.mp4", emulator_sample_clip.read_bytes())


def progress_of(events: list[videoedit.TaskEvent]) -> list[tuple[TaskStatus, float | None]]:
    return [
        (e.task.status, e.task.progress) for e in events if e.kind is EventKind.POLLED and e.task
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_submit_wait_and_save_give_the_size_and_length_asked_for(
    emulator: EmulatorServer,
    emulator_client: ClientFactory,
    clip_url: str,
    tmp_path: Path,
    provider: str,
) -> None:
    client = emulator_client(provider)
    task = client.submit(
        VideoEdit(video=clip_url, prompt="claymation", resolution="720P", ratio="9:16", duration=2)
    )
    done = client.wait(task)
    saved = client.save(done, tmp_path / "out.mp4")

    info = probe_output(saved)
    assert (info.width, info.height, info.duration, info.fps, info.codec) == (
        720, 1280, 2.0, 30.0, "h264",
    )  # fmt: skip
    assert done.status is TaskStatus.SUCCEEDED
    assert done.result is not None
    assert done.result.expires_at is not None
    [engine_view] = emulator.engine.all_tasks()
    assert engine_view.realm == provider
    assert engine_view.parameters["ratio"] == "9:16"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ratio_left_out_follows_the_input_clip(
    emulator_client: ClientFactory, clip_url: str, tmp_path: Path, provider: str
) -> None:
    client = emulator_client(provider)
    task = client.edit(
        VideoEdit(video=clip_url, resolution="720P", audio_setting="origin"), tmp_path / "o.mp4"
    )

    info = probe_output(tmp_path / "o.mp4")
    assert (info.width, info.height, info.duration, info.has_audio) == (1280, 720, 2.0, True)
    assert task.result is not None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_gateways_follow_the_seeds_on_ratio_length_and_sound(
    emulator_client: ClientFactory, bucket: Bucket, tmp_path: Path, provider: str
) -> None:
    """A silent 2:1 clip of 3.5 s, no ratio, duration 0: a silent 2:1 output of 3 whole
    seconds, and the gateway reports the 3 s it produced."""
    clip = flat_clip(tmp_path / "in.mp4", "navy", 3.5, width=480, height=240)
    url = bucket.put(f"in/wide-{provider}.mp4", clip.read_bytes())
    client = emulator_client(provider)
    task = client.edit(VideoEdit(video=url, resolution="720P"), tmp_path / "o.mp4")

    info = probe_output(tmp_path / "o.mp4")
    assert (info.width, info.height, info.frames, info.has_audio) == (1356, 678, 90, False)
    assert task.result is not None
    if provider == "vtrix":  # APIMart's answer gives no length
        assert task.result.duration == 3.0


@pytest.mark.parametrize(
    ("provider", "first_status"), [("vtrix", TaskStatus.RUNNING), ("apimart", TaskStatus.PENDING)]
)
def test_progress_is_visible_and_rises_as_the_task_advances(
    emulator: EmulatorServer,
    emulator_client: ClientFactory,
    clip_url: str,
    provider: str,
    first_status: TaskStatus,
) -> None:
    emulator.engine.set_default_progression("polls=4")
    client = emulator_client(provider)
    events: list[videoedit.TaskEvent] = []

    task = client.submit(VideoEdit(video=clip_url, resolution="720P"))
    done = client.wait(task, on_event=events.append)

    seen = progress_of(events)
    assert task.status is first_status
    assert seen[-1] == (TaskStatus.SUCCEEDED, 1.0)
    figures = [p for _, p in seen]
    assert all(p is not None for p in figures)
    assert figures == sorted(figures)
    assert len(set(figures)) >= 3
    assert any(0 < p < 1 for p in figures if p is not None)
    assert done.progress == 1.0


def test_apimart_shows_pending_then_processing_then_completed(
    emulator: EmulatorServer, emulator_client: ClientFactory, clip_url: str
) -> None:
    emulator.engine.set_default_progression("polls=4")
    client = emulator_client("apimart")
    events: list[videoedit.TaskEvent] = []

    client.wait(client.submit(VideoEdit(video=clip_url, resolution="720P")), on_event=events.append)

    statuses = [status for status, _ in progress_of(events)]
    assert statuses[0] is TaskStatus.PENDING
    assert TaskStatus.RUNNING in statuses
    assert statuses[-1] is TaskStatus.SUCCEEDED


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_task_failed_through_the_control_plane_raises_with_its_code(
    emulator: EmulatorServer, emulator_client: ClientFactory, clip_url: str, provider: str
) -> None:
    emulator.engine.set_default_progression("polls=3")
    client = emulator_client(provider)
    task = client.submit(VideoEdit(video=clip_url, resolution="720P"))
    answer = httpx.post(
        f"{emulator.url}/_emulator/tasks/{emulator.engine.all_tasks()[0].task_id}/fail",
        json={
            "code": "DataInspectionFailed",
            "message": "Input data may contain inappropriate content.",
        },
    )
    assert answer.status_code == 200, answer.text

    with pytest.raises(videoedit.TaskFailedError) as caught:
        client.wait(task)

    error = caught.value
    assert error.code == "DataInspectionFailed"
    assert "Input data may contain inappropriate content." in error.message
    assert error.task_id == task.task_id
    assert error.task is not None
    assert error.task.status is TaskStatus.FAILED


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_input_the_service_cannot_download_fails_the_task_naming_it(
    emulator_client: ClientFactory, bucket: Bucket, provider: str
) -> None:
    client = emulator_client(provider)
    missing = f"{bucket.url}/in/missing.mp4"

    with pytest.raises(videoedit.TaskFailedError) as caught:
        client.edit(VideoEdit(video=missing, resolution="720P"))

    assert caught.value.code == "InvalidParameter"
    field = "input.media[0].url" if provider == "vtrix" else "video_urls[0]"
    assert f"Failed to download {field}" in caught.value.message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_request_the_service_refuses_is_an_invalid_request_naming_the_field(
    emulator_client: ClientFactory, clip_url: str, provider: str
) -> None:
    client = emulator_client(provider)
    request = VideoEdit(video=clip_url, resolution="720P", duration=5)  # the clip lasts 2 s

    with pytest.raises(videoedit.InvalidRequestError) as caught:
        client.submit(request)

    field = "parameters.duration" if provider == "vtrix" else "duration"
    assert caught.value.field == field
    assert caught.value.status_code == 400


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unknown_task_id_is_task_not_found(
    emulator_client: ClientFactory, provider: str
) -> None:
    client = emulator_client(provider)

    with pytest.raises(videoedit.TaskNotFoundError) as caught:
        client.status("task_00000000-0000-4000-8000-000000000000")

    assert caught.value.status_code == 404


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_task_is_gone_after_24_hours(
    emulator: EmulatorServer, emulator_client: ClientFactory, clip_url: str, provider: str
) -> None:
    client = emulator_client(provider)
    task = client.wait(client.submit(VideoEdit(video=clip_url, resolution="720P")))
    httpx.post(f"{emulator.url}/_emulator/clock/advance", json={"seconds": 24 * 3600 + 1})

    with pytest.raises(videoedit.TaskNotFoundError):
        client.status(task)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancel_is_refused_by_the_client_as_unsupported(
    emulator_client: ClientFactory, clip_url: str, provider: str
) -> None:
    client = emulator_client(provider)
    task = client.submit(VideoEdit(video=clip_url, resolution="720P"))

    with pytest.raises(videoedit.UnsupportedOperationError) as caught:
        client.cancel(task)

    assert "no cancel call" in caught.value.message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_local_clip_goes_up_through_the_documented_uploader(
    emulator_client: ClientFactory,
    bucket: Bucket,
    emulator_sample_clip: Path,
    tmp_path: Path,
    provider: str,
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(next(b for b in blocks if "class BucketUploader" in b), namespace)
    uploader = namespace["BucketUploader"](bucket.url + "/uploads", token="bucket-token")
    client = emulator_client(provider, uploader=uploader)

    client.edit(
        VideoEdit(video=emulator_sample_clip, resolution="720P", ratio="1:1"), tmp_path / "o.mp4"
    )

    info = probe_output(tmp_path / "o.mp4")
    assert (info.width, info.height, info.duration) == (960, 960, 2.0)
    assert any(key.startswith("/uploads/videoedit/") for key in bucket.objects)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_an_uploader_a_local_clip_is_refused_before_sending(
    emulator: EmulatorServer,
    emulator_client: ClientFactory,
    emulator_sample_clip: Path,
    provider: str,
) -> None:
    client = emulator_client(provider)

    with pytest.raises(videoedit.InvalidRequestError) as caught:
        client.submit(VideoEdit(video=emulator_sample_clip))

    assert caught.value.field == "video"
    assert "has no upload API" in caught.value.message
    assert emulator.engine.all_tasks() == []


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_async_client_runs_the_same_lifecycle(
    emulator: EmulatorServer, clip_url: str, tmp_path: Path, provider: str
) -> None:
    emulator.engine.set_default_progression("polls=2")
    async with emulator.async_client(provider) as client:
        task = await client.submit(VideoEdit(video=clip_url, resolution="720P", ratio="4:3"))
        done = await client.wait(task)
        path = await client.save(done, tmp_path / "async.mp4")

    info = probe_output(path)
    assert (info.width, info.height, info.duration) == (1104, 832, 2.0)


# -- keys bound to realms --------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed() -> Iterator[EmulatorServer]:
    """An emulator that binds keys to realms, as the real services issue them."""
    config = dataclasses.replace(
        EmulatorConfig(),
        keys={"sk-vtrix": "vtrix", "sk-apimart": "apimart", "sk-beijing": "dashscope-beijing"},
    )
    with EmulatorServer(config) as server:
        yield server


@pytest.mark.parametrize(
    ("provider", "key", "variable"),
    [("vtrix", "sk-apimart", "VTRIX_API_KEY"), ("apimart", "sk-beijing", "APIMART_API_KEY")],
)
def test_a_key_bound_elsewhere_is_an_authentication_error_with_a_hint(
    keyed: EmulatorServer, clip_url: str, provider: str, key: str, variable: str
) -> None:
    with (
        keyed.client(provider, api_key=key) as client,
        pytest.raises(videoedit.AuthenticationError) as caught,
    ):
        client.submit(VideoEdit(video=clip_url, resolution="720P"))

    assert caught.value.status_code == 401
    assert caught.value.hint is not None
    assert variable in caught.value.hint


@pytest.mark.parametrize(("provider", "key"), [("vtrix", "sk-vtrix"), ("apimart", "sk-apimart")])
def test_a_key_bound_to_the_provider_is_accepted(
    keyed: EmulatorServer, clip_url: str, provider: str, key: str
) -> None:
    with keyed.client(provider, api_key=key) as client:
        task = client.wait(client.submit(VideoEdit(video=clip_url, resolution="720P")))

    assert task.status is TaskStatus.SUCCEEDED
