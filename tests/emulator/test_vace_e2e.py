"""wan2.1-vace-plus end to end: our client, the vace plugin, the emulator's DashScope routes.

Every function completes in both regions with the region's model id, and what comes back is
a real MP4 at most 720P and 5 s, at 30 fps, without audio (the inputs have a tone on purpose).
The emulator's own rules are then exercised over raw HTTP, where no client check stands in
front of them.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from videoedit import Client, InvalidRequestError, TaskStatus
from videoedit_emulator.render import make_sample_clip, probe_output
from videoedit_emulator.server import DEFAULT_API_KEY, EmulatorServer
from videoedit_vace import (
    ImageReference,
    MaskedVideoEdit,
    VaceRequest,
    VideoExtension,
    VideoOutpainting,
    VideoRepainting,
)

REGIONS = [("dashscope-singapore", "wan2.1-vace-plus"), ("dashscope-beijing", "wanx2.1-vace-plus")]
CREATE = "/services/aigc/video-generation/video-synthesis"
METRICS = {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}


def _write_png(path: Path, width: int, height: int, gray: bool, rows: bytes) -> Path:
    """A PNG written by hand: 8-bit RGB (or grayscale) ``rows``, each led by filter byte 0."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if gray else 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


def _png(path: Path, width: int, height: int, rgb: tuple[int, int, int]) -> Path:
    return _write_png(path, width, height, False, (b"\x00" + bytes(rgb) * width) * height)


def _mask(path: Path, width: int, height: int) -> Path:
    """Black, with a white rectangle in the middle: the region to edit."""
    rows = b""
    for y in range(height):
        inside = height // 4 <= y < 3 * height // 4
        rows += b"\x00" + bytes(
            255 if inside and width // 4 <= x < 3 * width // 4 else 0 for x in range(width)
        )
    return _write_png(path, width, height, True, rows)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vace-e2e")
    return {
        "clip": make_sample_clip(folder / "clip.mp4", 2, 320, 240, audio=True),
        "subject": _png(folder / "subject.png", 96, 96, (230, 90, 30)),
        "background": _png(folder / "background.png", 160, 120, (40, 120, 200)),
        "mask": _mask(folder / "mask.png", 320, 240),
    }


def requests_for(media: dict[str, Path]) -> dict[str, tuple[VaceRequest, tuple[int, int], float]]:
    """Each function's request, with the output size and length the emulator should give."""
    clip = media["clip"]
    return {
        "image_reference": (
            ImageReference(
                prompt="a girl in a forest",
                ref_images_url=[media["subject"], media["background"]],
                obj_or_bg=["obj", "bg"],
                size="320*240",
            ),
            (320, 240),
            5.0,
        ),
        "video_repainting": (
            VideoRepainting(
                prompt="a steampunk car", video_url=clip, control_condition="depth", strength=0.7
            ),
            (320, 240),
            2.0,
        ),
        "video_edit": (
            MaskedVideoEdit(
                prompt="a lion in a suit",
                video_url=clip,
                mask_image_url=media["mask"],
                mask_frame_id=1,
                expand_ratio=0.1,
                size="320*240",
            ),
            (320, 240),
            2.0,
        ),
        "video_extension": (
            VideoExtension(prompt="a dog on a skateboard", first_clip_url=clip),
            (320, 240),
            5.0,
        ),
        "video_outpainting": (
            VideoOutpainting(
                prompt="an orchestra", video_url=clip, left_scale=1.5, right_scale=1.5
            ),
            (640, 240),
            2.0,
        ),
    }


@pytest.mark.parametrize(("provider", "model"), REGIONS)
@pytest.mark.parametrize(
    "function",
    ["image_reference", "video_repainting", "video_edit", "video_extension", "video_outpainting"],
)
def test_each_function_completes_with_a_silent_720p_mp4_of_at_most_5_seconds(
    emulator: EmulatorServer,
    emulator_client: Callable[..., Client],
    media: dict[str, Path],
    tmp_path: Path,
    provider: str,
    model: str,
    function: str,
) -> None:
    request, (width, height), seconds = requests_for(media)[function]
    client = emulator_client(provider)
    task = client.wait(client.submit(request))

    assert task.status is TaskStatus.SUCCEEDED
    assert emulator.engine.get(task.task_id, poll=False).model == model
    assert task.raw["output"]["task_metrics"] == METRICS
    assert task.result is not None
    assert task.result.usage.video_count == 1
    assert task.result.usage.output_seconds == pytest.approx(seconds)
    assert dict(task.result.metrics) == METRICS

    out = probe_output(client.save(task, tmp_path / f"{function}.mp4"))
    assert (out.width, out.height) == (width, height)
    assert out.width * out.height <= 1280 * 720
    assert out.duration == pytest.approx(seconds, abs=0.01)
    assert out.duration <= 5.0
    assert out.frames == round(seconds * 30)
    assert out.fps == 30
    assert (out.codec, out.has_audio) == ("h264", False)


def test_the_create_body_on_the_wire_names_the_regions_model(
    emulator: EmulatorServer, media: dict[str, Path]
) -> None:
    """The body the emulator received, as the client sent it (seen through an event hook)."""
    seen: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith(CREATE):
            seen.append(json.loads(request.content))

    for provider, _ in REGIONS:
        http = httpx.Client(event_hooks={"request": [record]})
        client = emulator.client(provider, http_client=http)
        client.submit(VideoOutpainting(video_url=media["clip"], top_scale=1.2))
        http.close()
    assert [body["model"] for body in seen] == ["wan2.1-vace-plus", "wanx2.1-vace-plus"]
    assert seen[1]["input"]["video_url"].startswith("oss://")
    assert seen[1]["parameters"] == {"top_scale": 1.2}


def test_an_input_above_720p_comes_back_scaled_to_720p(
    emulator_client: Callable[..., Client], tmp_path: Path
) -> None:
    big = make_sample_clip(tmp_path / "hd.mp4", 0.5, 1920, 1080, audio=False)
    client = emulator_client("dashscope-singapore")
    task = client.wait(client.submit(VideoRepainting(video_url=big, control_condition="scribble")))
    out = probe_output(client.save(task, tmp_path / "out.mp4"))
    assert (out.width, out.height, out.frames) == (1280, 720, 15)


# -- the emulator's own rules, over raw HTTP ---------------------------------------------------
def post(emulator: EmulatorServer, provider: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        emulator.base_url(provider) + CREATE,
        json=body,
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "X-DashScope-Async": "enable"},
        trust_env=False,
    )


VIDEO = "https://example.com/in.mp4"
IMG = "https://example.com/ref.png"


@pytest.mark.parametrize(
    ("input", "parameters", "field"),
    [
        ({"function": "video_morphing", "video_url": VIDEO}, {}, "input.function"),
        (
            {"function": "image_reference", "ref_images_url": [IMG, IMG]},
            {"obj_or_bg": ["obj"]},
            "parameters.obj_or_bg",
        ),
        (
            {"function": "image_reference", "ref_images_url": [IMG]},
            {"obj_or_bg": ["x"]},
            "parameters.obj_or_bg[0]",
        ),
        (
            {"function": "image_reference", "ref_images_url": [IMG]},
            {"size": "1920*1080"},
            "parameters.size",
        ),
        (
            {"function": "video_repainting", "video_url": VIDEO},
            {"control_condition": "edges"},
            "parameters.control_condition",
        ),
        (
            {"function": "video_repainting", "video_url": VIDEO},
            {"strength": 2},
            "parameters.strength",
        ),
        (
            {"function": "video_repainting", "video_url": VIDEO, "ref_images_url": [IMG, IMG]},
            {},
            "input.ref_images_url",
        ),
        ({"function": "video_edit", "video_url": VIDEO}, {}, "input.mask_image_url"),
        (
            {
                "function": "video_edit",
                "video_url": VIDEO,
                "mask_image_url": IMG,
                "mask_video_url": VIDEO,
            },
            {},
            "input.mask_video_url",
        ),
        (
            {"function": "video_edit", "video_url": VIDEO, "mask_image_url": IMG},
            {"mask_type": "fixed", "expand_ratio": 1.2},
            "parameters.expand_ratio",
        ),
        (
            {"function": "video_edit", "video_url": VIDEO, "mask_image_url": IMG},
            {"mask_type": "moving"},
            "parameters.mask_type",
        ),
        ({"function": "video_extension", "first_clip_url": VIDEO}, {}, "input.prompt"),
        ({"function": "video_extension", "prompt": "on"}, {}, "input.first_clip_url"),
        (
            {"function": "video_outpainting", "video_url": VIDEO},
            {"left_scale": 2.5},
            "parameters.left_scale",
        ),
        (
            {"function": "video_outpainting", "video_url": VIDEO},
            {"size": "1280*720"},
            "parameters.size",
        ),
        ({"function": "video_outpainting"}, {}, "input.video_url"),
    ],
)
def test_each_server_side_rule_is_refused_in_dashscopes_error_format(
    emulator: EmulatorServer, input: dict[str, Any], parameters: dict[str, Any], field: str
) -> None:
    body = {"model": "wan2.1-vace-plus", "input": input, "parameters": parameters}
    response = post(emulator, "dashscope-singapore", body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"request_id", "code", "message"}
    assert error["code"] == "InvalidParameter"
    assert error["message"].startswith(field)


def test_beijings_wanx_id_is_refused_in_singapore(emulator: EmulatorServer) -> None:
    body = {
        "model": "wanx2.1-vace-plus",
        "input": {"function": "video_outpainting", "video_url": VIDEO},
    }
    response = post(emulator, "dashscope-singapore", body)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameter"
    assert response.json()["message"].startswith("Model not exist.")


def test_our_client_reports_the_refused_model_as_an_invalid_request(
    emulator: EmulatorServer,
) -> None:
    """A Beijing client pointed at the Singapore route sends Beijing's id: the service refuses."""
    client = Client(
        "dashscope-beijing",
        api_key=DEFAULT_API_KEY,
        base_url=emulator.base_url("dashscope-singapore"),
    )
    with client, pytest.raises(InvalidRequestError) as exc:
        client.submit(VideoOutpainting(video_url=VIDEO))
    assert (exc.value.code, exc.value.status_code) == ("InvalidParameter", 400)
    assert "Model not exist." in exc.value.message
    assert "wanx2.1-vace-plus" in exc.value.message


def test_obj_or_bg_is_accepted_in_the_input_block(emulator: EmulatorServer) -> None:
    body = {
        "model": "wan2.1-vace-plus",
        "input": {"function": "image_reference", "ref_images_url": [IMG], "obj_or_bg": ["obj"]},
        "parameters": {"size": "320*240"},
    }
    response = post(emulator, "dashscope-singapore", body)
    assert response.status_code == 200, response.text
    task_id = response.json()["output"]["task_id"]
    view = emulator.engine.get(task_id, poll=False)
    assert view.parameters["obj_or_bg"] == ("obj",)


def test_an_input_that_cannot_be_fetched_offline_is_said_so(
    emulator_client: Callable[..., Client], tmp_path: Path
) -> None:
    client = emulator_client("dashscope-singapore")
    task = client.wait(client.submit(VideoOutpainting(video_url=VIDEO, top_scale=1.5)))
    assert "input.video_url was not fetched" in task.raw["output"]["emulator_note"]
    out = probe_output(client.save(task, tmp_path / "pattern.mp4"))
    assert out.width * out.height <= 1280 * 720
    assert out.duration == pytest.approx(5.0, abs=0.01)
