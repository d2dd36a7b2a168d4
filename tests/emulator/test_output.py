"""The stand-in MP4 itself: size from resolution × ratio, length, frame rate, codec, audio.

Each test downloads the result link the way any client would and reads the file with ffmpeg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_wire import OSS, DashScopeWire, wan27_body

from videoedit_emulator.models.wan27 import OUTPUT_SIZES, closest_ratio
from videoedit_emulator.render import OutputInfo, probe_output


def rendered(
    wire: DashScopeWire, body: dict[str, Any], tmp_path: Path
) -> tuple[OutputInfo, httpx.Response]:
    body_json = wire.finished(wire.submit(body, headers=OSS))
    assert body_json["output"]["task_status"] == "SUCCEEDED", body_json
    response = wire.http.get(body_json["output"]["video_url"])
    assert response.status_code == 200
    path = tmp_path / "out.mp4"
    path.write_bytes(response.content)
    return probe_output(path), response


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


@pytest.mark.parametrize(("audio_setting", "has_audio"), [("origin", True), ("auto", True)])
def test_audio_settings_on_an_input_with_audio(
    wire: DashScopeWire,
    emulator_sample_clip: Path,
    tmp_path: Path,
    audio_setting: str,
    has_audio: bool,
) -> None:
    url = wire.upload(emulator_sample_clip)
    info, _ = rendered(wire, wan27_body(url, audio_setting=audio_setting), tmp_path)
    assert info.has_audio is has_audio
    assert info.audio_codec == "aac"


def test_origin_audio_of_a_silent_input_is_no_audio(
    wire: DashScopeWire, portrait_clip: Path, tmp_path: Path
) -> None:
    url = wire.upload(portrait_clip)
    info, _ = rendered(wire, wan27_body(url, audio_setting="origin"), tmp_path)
    assert info.has_audio is False


def test_auto_audio_of_a_silent_input_is_the_stand_in_tone(
    wire: DashScopeWire, portrait_clip: Path, tmp_path: Path
) -> None:
    url = wire.upload(portrait_clip)
    info, _ = rendered(wire, wan27_body(url, audio_setting="auto"), tmp_path)
    assert info.has_audio is True


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
    ("size", "ratio"),
    [
        ((1920, 1080), "16:9"),
        ((640, 360), "16:9"),
        ((360, 640), "9:16"),
        ((1000, 1000), "1:1"),
        ((1200, 900), "4:3"),
        ((300, 400), "3:4"),
        ((2000, 1000), "16:9"),  # 2:1 is nearest to 16:9
        ((1100, 1000), "1:1"),  # 1.1 is nearer 1:1 than 4:3 on a log scale
        ((240, 1920), "9:16"),
    ],
)
def test_ratio_omitted_picks_the_table_ratio_nearest_the_inputs(
    size: tuple[int, int], ratio: str
) -> None:
    assert closest_ratio(*size) == ratio
