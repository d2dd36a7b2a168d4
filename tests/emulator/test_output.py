"""The stand-in MP4 itself: size from resolution × ratio, length, frame rate, codec.

Each test downloads the result link the way any client would and reads the file with ffmpeg.
What the seeds say of audio, length and the omitted ratio: ``test_seed_fidelity.py``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from emulator_wire import DashScopeWire, rendered, wan27_body

from videoedit_emulator.engine.models.wan27 import OUTPUT_SIZES, size_for_input


def test_the_output_is_h264_yuv420p_30fps_faststart(wire: DashScopeWire, tmp_path: Path) -> None:
    info, response = rendered(wire, wan27_body(ratio="16:9"), tmp_path)
    assert (info.codec, info.pix_fmt, info.fps, info.faststart) == ("h264", "yuv420p", 30.0, True)
    assert (info.width, info.height, info.frames) == (1280, 720, 60)
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize("ratio", ["9:16", "1:1", "4:3", "3:4"])
def test_720p_sizes_follow_the_documented_table(
    wire: DashScopeWire, tmp_path: Path, ratio: str
) -> None:
    info, _ = rendered(wire, wan27_body(ratio=ratio), tmp_path)
    assert (info.width, info.height) == OUTPUT_SIZES[("720P", ratio)]


def test_1080p_16_9_is_1920x1080(wire: DashScopeWire, tmp_path: Path) -> None:
    info, _ = rendered(wire, wan27_body(resolution="1080P", ratio="16:9"), tmp_path)
    assert (info.width, info.height) == (1920, 1080)


def test_without_ratio_the_output_follows_a_portrait_input(
    wire: DashScopeWire, portrait_clip: Path, tmp_path: Path
) -> None:
    url = wire.upload(portrait_clip)
    info, _ = rendered(wire, wan27_body(url, duration=0), tmp_path)
    assert (info.width, info.height) == (720, 1280)


def test_duration_0_keeps_the_inputs_length(
    wire: DashScopeWire, emulator_sample_clip: Path, tmp_path: Path
) -> None:
    url = wire.upload(emulator_sample_clip)
    info, _ = rendered(wire, wan27_body(url, duration=0), tmp_path)
    assert (info.frames, info.duration) == (60, 2.0)


def test_the_link_serves_byte_ranges(wire: DashScopeWire) -> None:
    url = wire.finished(wire.submit())["output"]["video_url"]
    whole = wire.http.get(url).content
    part = wire.http.get(url, headers={"Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == whole[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(whole)}"


def test_a_link_with_an_altered_signature_is_refused(wire: DashScopeWire) -> None:
    url = httpx.URL(wire.finished(wire.submit())["output"]["video_url"])
    forged = url.copy_set_param("Expires", str(int(url.params["Expires"]) + 3600))
    response = wire.http.get(forged)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_a_link_without_its_signature_is_refused(wire: DashScopeWire) -> None:
    url = httpx.URL(wire.finished(wire.submit())["output"]["video_url"])
    response = wire.http.get(url.copy_with(query=None))
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text


@pytest.mark.parametrize(
    ("size", "resolution", "output"),
    [
        ((1920, 1080), "720P", (1280, 720)),  # a listed ratio: the table's size
        ((640, 360), "1080P", (1920, 1080)),
        ((360, 640), "720P", (720, 1280)),
        ((1000, 1000), "720P", (960, 960)),
        ((1200, 900), "1080P", (1648, 1248)),
        ((300, 400), "720P", (832, 1104)),
        ((2000, 1000), "720P", (1356, 678)),  # 2:1 stays 2:1, at the tier's pixel area
        ((2000, 1000), "1080P", (2036, 1018)),
        ((1000, 2000), "720P", (678, 1356)),
        ((1100, 1000), "720P", (1008, 916)),
        ((1920, 240), "1080P", (4080, 510)),  # 8:1, the widest input taken
        ((240, 1920), "720P", (340, 2720)),
    ],
)
def test_ratio_omitted_keeps_the_inputs_own_ratio(
    size: tuple[int, int], resolution: str, output: tuple[int, int]
) -> None:
    assert size_for_input(*size, resolution) == output


def test_every_own_ratio_size_is_even_within_bounds_and_keeps_the_ratio() -> None:
    """Over a grid of every accepted input shape (sides 240-4096, 1:8 to 8:1), both tiers."""
    for resolution in ("720P", "1080P"):
        for w in range(240, 4097, 37):
            for h in range(240, 4097, 41):
                if w > 8 * h or h > 8 * w:
                    continue
                width, height = size_for_input(w, h, resolution)
                assert (width % 2, height % 2) == (0, 0), (w, h, resolution)
                assert min(width, height) >= 240, (w, h, resolution)
                assert max(width, height) <= 4096, (w, h, resolution)
                assert abs(width / height - w / h) < 0.01 * (w / h), (w, h, width, height)
