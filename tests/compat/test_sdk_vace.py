"""The official dashscope SDK (2.0.2), unmodified, runs the five vace functions on the emulator.

SDK 2.0.2 cannot pass ``function=`` to ``VideoSynthesis.call`` (it raises TypeError), so its
users put the function and its URLs in ``extra_input``, which the SDK merges into ``input``
over its own ``function: "video-synthesis"`` and ``extend_prompt: true``. ``obj_or_bg`` rides
along in ``input`` that way; other parameters go as keywords, which the SDK puts under
``parameters``. The emulator must take all of that and reach SUCCEEDED.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from videoedit_emulator.render import make_sample_clip

dashscope = pytest.importorskip("dashscope")
from dashscope import VideoSynthesis  # noqa: E402

SINGAPORE_MODEL = "wan2.1-vace-plus"


def _png(path: Path, width: int, height: int, rgb: tuple[int, int, int]) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress((b"\x00" + bytes(rgb) * width) * height)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="module")
def vace_media(media_dir: Path) -> dict[str, Path]:
    """Inputs in the directory the loopback file server publishes (a tone on the clip)."""
    folder = media_dir / "vace"
    folder.mkdir(exist_ok=True)
    return {
        "clip": make_sample_clip(folder / "clip.mp4", seconds=2, width=320, height=240),
        "subject": _png(folder / "subject.png", 96, 96, (230, 90, 30)),
        "background": _png(folder / "background.png", 160, 120, (40, 120, 200)),
        "mask": _png(folder / "mask.png", 320, 240, (255, 255, 255)),
    }


def calls(media: dict[str, Path], files: Any) -> dict[str, dict[str, Any]]:
    """Each function as an SDK user writes it: ``extra_input`` plus keyword parameters."""
    clip, url = media["clip"], files.url
    return {
        "image_reference": {
            "extra_input": {
                "function": "image_reference",
                "prompt": "a girl walks out of a misty forest",
                "ref_images_url": [url(media["subject"]), url(media["background"])],
                "obj_or_bg": ["obj", "bg"],
            },
            "size": "320*240",
        },
        "video_repainting": {
            "extra_input": {
                "function": "video_repainting",
                "prompt": "a steampunk car",
                "video_url": url(clip),
            },
            "control_condition": "depth",
            "strength": 0.8,
            "prompt_extend": False,
        },
        "video_edit": {
            "extra_input": {
                "function": "video_edit",
                "prompt": "a lion in a suit sips coffee",
                "video_url": url(clip),
                "mask_image_url": url(media["mask"]),
                "mask_frame_id": 1,
            },
            "mask_type": "tracking",
            "expand_ratio": 0.05,
            "size": "320*240",
        },
        "video_extension": {
            "extra_input": {
                "function": "video_extension",
                "prompt": "a dog wearing sunglasses skateboards down the street",
                "first_clip_url": url(clip),
            },
        },
        "video_outpainting": {
            "extra_input": {
                "function": "video_outpainting",
                "prompt": "a violinist before an orchestra",
                "video_url": url(clip),
            },
            "top_scale": 1.5,
            "left_scale": 1.5,
        },
    }


@pytest.mark.parametrize(
    "function",
    ["image_reference", "video_repainting", "video_edit", "video_extension", "video_outpainting"],
)
def test_the_sdk_reaches_succeeded_for_each_function(
    dashscope_sdk: Any,
    loopback_files: Any,
    vace_media: dict[str, Path],
    download: Callable[[str], Path],
    probe_mp4: Callable[[Path], Any],
    function: str,
) -> None:
    dashscope_sdk.use("dashscope-singapore")
    kwargs = calls(vace_media, loopback_files)[function]

    response = VideoSynthesis.call(model=SINGAPORE_MODEL, api_key=dashscope_sdk.api_key, **kwargs)

    assert response.status_code == 200, (response.code, response.message)
    assert response.output.task_status == "SUCCEEDED"
    assert response.usage.video_count == 1
    facts = probe_mp4(download(response.output.video_url))
    assert facts.width * facts.height <= 1280 * 720
    assert facts.duration <= 5.0 + 0.01
    assert facts.fps == 30
    assert not facts.has_audio


def test_the_sdks_beijing_users_name_the_wanx_id(
    dashscope_sdk: Any, loopback_files: Any, vace_media: dict[str, Path]
) -> None:
    dashscope_sdk.use("dashscope-beijing")
    kwargs = calls(vace_media, loopback_files)["video_outpainting"]
    response = VideoSynthesis.call(
        model="wanx2.1-vace-plus", api_key=dashscope_sdk.api_key, **kwargs
    )
    assert response.status_code == 200, (response.code, response.message)
    assert response.output.task_status == "SUCCEEDED"


def test_the_sdk_sees_beijings_wanx_id_refused_in_singapore(
    dashscope_sdk: Any, loopback_files: Any, vace_media: dict[str, Path]
) -> None:
    dashscope_sdk.use("dashscope-singapore")
    kwargs = calls(vace_media, loopback_files)["video_outpainting"]
    # async_call: call() turns a refused creation into the SDK's own InvalidTask exception
    response = VideoSynthesis.async_call(
        model="wanx2.1-vace-plus", api_key=dashscope_sdk.api_key, **kwargs
    )
    assert response.status_code == 400
    assert response.code == "InvalidParameter"
    assert response.message.startswith("Model not exist.")


def test_the_sdk_sees_a_broken_rule_named(
    dashscope_sdk: Any, loopback_files: Any, vace_media: dict[str, Path]
) -> None:
    dashscope_sdk.use("dashscope-singapore")
    kwargs = calls(vace_media, loopback_files)["video_repainting"]
    response = VideoSynthesis.async_call(
        model=SINGAPORE_MODEL, api_key=dashscope_sdk.api_key, **{**kwargs, "strength": 1.5}
    )
    assert response.status_code == 400
    assert response.code == "InvalidParameter"
    assert response.message.startswith("parameters.strength")
