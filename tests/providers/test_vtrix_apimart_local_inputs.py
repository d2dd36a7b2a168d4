"""Local inputs on the providers without an upload API (``vtrix``, ``apimart``).

A local path is refused before anything is sent, naming the field and what to pass instead,
unless the client has an uploader; the uploader tested here is the example printed in
``docs/providers/uploaders.md``, executed from the page itself so the page cannot drift.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

import videoedit
from videoedit import EventKind, InvalidRequestError, PluginHost, PollSchedule, VideoEdit
from videoedit.probe import ffmpeg_exe

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers" / "uploaders.md"
PROVIDERS = ["vtrix", "apimart"]
CLIP = "https://media.example.com/in.mp4"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a3e9b7e20000000049454e44ae426082"
)


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.from_entry_points(allow=["wan27", "vtrix", "apimart"], strict=True)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "style ref.png"
    path.write_bytes(PNG)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2 s, 320x240 MP4: local videos are probed before anything is sent."""
    exe = ffmpeg_exe()
    if exe is None:
        pytest.skip("videoedit[probe] (imageio-ffmpeg) is needed to build a local clip")
    path = tmp_path_factory.mktemp("clips") / "in.mp4"
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def doc_uploader_class() -> Any:
    """The ``BucketUploader`` class exactly as the documentation prints it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    source = next(block for block in blocks if "class BucketUploader" in block)
    namespace: dict[str, Any] = {"__name__": "uploaders_doc"}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace["BucketUploader"]


class Recorder:
    """Plays the bucket and the provider; answers creates for either wire format."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "bucket.example.com":
            return httpx.Response(200)
        if request.url.path.endswith("/model/v1/generation"):
            return httpx.Response(200, json={"id": "gen_1", "status": "in_progress"})
        return httpx.Response(
            200, json={"code": 200, "data": [{"status": "submitted", "task_id": "task_1"}]}
        )

    @property
    def creates(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.host != "bucket.example.com"]

    @property
    def puts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "bucket.example.com"]


def client(host: PluginHost, provider: str, recorder: Recorder, **kw: Any) -> videoedit.Client:
    return videoedit.Client(
        provider,
        api_key="test-key-0123",
        plugins=host,
        transport=httpx.MockTransport(recorder),
        poll=PollSchedule.fast(),
        **kw,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_local_video_is_refused_naming_the_field_and_what_to_pass(
    host: PluginHost, provider: str, clip: Path
) -> None:
    recorder = Recorder()

    with pytest.raises(InvalidRequestError) as caught:
        client(host, provider, recorder).submit(VideoEdit(video=clip, prompt="watercolor"))

    error = caught.value
    assert error.field == "video"
    assert error.provider == provider
    assert str(clip) in error.message
    assert f"provider {provider!r} has no upload API" in error.message
    assert "Pass an http(s) URL" in error.message
    assert "uploader=" in error.message
    assert recorder.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_local_reference_image_is_refused_naming_its_index(
    host: PluginHost, provider: str, image: Path
) -> None:
    recorder = Recorder()
    request = VideoEdit(
        video=CLIP, reference_images=["https://media.example.com/a.png", str(image)]
    )

    with pytest.raises(InvalidRequestError) as caught:
        client(host, provider, recorder).submit(request)

    assert caught.value.field == "reference_images[1]"
    assert "data: URI for images" in caught.value.message
    assert recorder.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_documented_uploader_puts_the_file_and_its_url_goes_in_the_body(
    host: PluginHost, provider: str, clip: Path, image: Path
) -> None:
    uploader = doc_uploader_class()(
        "https://bucket.example.com/in",
        token="bucket-token",
        public_url="https://cdn.example.com/in",
    )
    recorder = Recorder()
    uploaded: list[str] = []

    task = client(host, provider, recorder, uploader=uploader).submit(
        VideoEdit(video=clip, reference_images=[str(image)]),
        on_event=lambda e: (
            uploaded.append(e.detail or "") if e.kind is EventKind.UPLOADED else None
        ),
    )

    puts = recorder.puts
    assert [p.method for p in puts] == ["PUT", "PUT"]
    assert puts[0].headers["Authorization"] == "Bearer bucket-token"
    assert puts[0].headers["Content-Type"] == "video/mp4"
    assert puts[0].content == clip.read_bytes()
    assert puts[1].headers["Content-Type"] == "image/png"
    video_path, image_path = (p.url.raw_path.decode() for p in puts)
    assert video_path.startswith("/in/videoedit/wan2.7-videoedit/")
    assert image_path.endswith("/style%20ref.png")
    video_url = "https://cdn.example.com" + video_path
    image_url = "https://cdn.example.com" + image_path
    assert uploaded == [f"video -> {video_url}", f"reference_images[0] -> {image_url}"]
    [body] = recorder.creates
    if provider == "vtrix":
        assert body["input"][0]["params"]["input"]["media"] == [
            {"type": "video", "url": video_url},
            {"type": "reference_image", "url": image_url},
        ]
    else:
        assert body["video_urls"] == [video_url]
        assert body["image_urls"] == [image_url]
    assert task.task_id in ("gen_1", "task_1")


def test_a_failed_upload_stops_before_the_task_is_created(host: PluginHost, image: Path) -> None:
    uploader = doc_uploader_class()("https://bucket.example.com/in", token="bad")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "bucket.example.com":
            return httpx.Response(403, json={"message": "AccessDenied: bad token"})
        raise AssertionError("the task must not be created")

    with (
        videoedit.Client(
            "vtrix",
            api_key="test-key-0123",
            plugins=host,
            uploader=uploader,
            transport=httpx.MockTransport(handler),
        ) as c,
        pytest.raises(videoedit.PermissionDeniedError) as caught,
    ):
        c.submit(VideoEdit(video=CLIP, reference_images=[str(image)]))

    assert "AccessDenied: bad token" in caught.value.message
