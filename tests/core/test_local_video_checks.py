"""A local input video is probed before anything is sent: container, size, length, sides, ratio.

The probe runs when the edit is submitted, not when the request is built. The clips are real,
rendered once per session by imageio-ffmpeg's ffmpeg at a few frames per second so that the
whole set takes about a second to make.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

import videoedit.probe
from videoedit import Client, InvalidRequestError, PluginHost, VideoEdit
from videoedit.probe import probe_video

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

#: name -> (width, height, seconds, ffmpeg output format)
CLIPS = {
    "ok.mp4": (320, 240, 3, "mp4"),
    "ok.mov": (320, 240, 2, "mov"),
    "short.mp4": (320, 240, 1, "mp4"),
    "long.mp4": (320, 240, 11, "mp4"),
    "low.mp4": (320, 200, 2, "mp4"),  # height under 240
    "wide.mp4": (4112, 600, 2, "mp4"),  # width over 4096 (ratio 6.9 is fine)
    "tall.mp4": (240, 2000, 2, "mp4"),  # 1:8.33, sides fine
    "matroska.mp4": (320, 240, 2, "matroska"),  # right name, wrong container
}


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    made = {}
    for name, (width, height, seconds, fmt) in CLIPS.items():
        path = folder / name
        source = f"testsrc2=size={width}x{height}:rate=2:duration={seconds}"
        encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", fmt]
        subprocess.run(
            [exe, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source, *encode, str(path)],
            check=True,
            timeout=60,
        )
        made[name] = path
    return made


def rejected(video: Path, **fields: object) -> InvalidRequestError:
    """The error the submission of this edit raises, having sent nothing (no upload either)."""
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(500))
    plugins = PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=True)
    with (
        Client("dashscope-singapore", api_key="sk", plugins=plugins, transport=transport) as client,
        pytest.raises(InvalidRequestError) as caught,
    ):
        client.submit(VideoEdit(video=str(video), **fields))
    assert sent == []
    return caught.value


def test_building_the_request_probes_nothing(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_probe(*args: object, **kwargs: object) -> None:
        raise AssertionError("a request was probed while it was being built")

    monkeypatch.setattr(videoedit.probe, "probe_video", no_probe)
    edit = VideoEdit(video=clips["long.mp4"], duration=10)  # too long: found at submission
    assert edit.local_files() == {"video": clips["long.mp4"]}


def test_the_probe_reads_what_was_rendered(clips: dict[str, Path]) -> None:
    info = probe_video(clips["ok.mp4"])
    assert info is not None
    assert (info.width, info.height, info.codec) == (320, 240, "h264")
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert "mp4" in info.format.split(",")


@pytest.mark.parametrize("name", ["ok.mp4", "ok.mov"])
def test_a_video_within_every_limit_is_accepted(clips: dict[str, Path], name: str) -> None:
    edit = VideoEdit(video=clips[name], duration=2)
    edit.check_local_files()  # what submission runs: no error
    assert edit.video == str(clips[name])
    assert edit.local_files() == {"video": clips[name]}


def test_a_video_shorter_than_2_seconds_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["short.mp4"])
    assert error.field == "video"
    assert "short.mp4 lasts 1.00 s; input video must last 2 to 10 s" in error.rule


def test_a_video_longer_than_10_seconds_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["long.mp4"])
    assert error.field == "video"
    assert "long.mp4 lasts 11.00 s; input video must last 2 to 10 s" in error.rule


def test_a_side_under_240_pixels_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["low.mp4"])
    assert error.field == "video"
    assert "low.mp4 height is 200 px; each side must be 240 to 4096 px" in error.rule


def test_a_side_over_4096_pixels_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["wide.mp4"])
    assert error.field == "video"
    assert "wide.mp4 width is 4112 px; each side must be 240 to 4096 px" in error.rule


def test_an_aspect_ratio_beyond_1_to_8_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["tall.mp4"])
    assert error.field == "video"
    assert "tall.mp4 is 240x2000; aspect ratio must be between 1:8 and 8:1" in error.rule


def test_a_container_other_than_mp4_or_mov_is_rejected_by_content(
    clips: dict[str, Path],
) -> None:
    error = rejected(clips["matroska.mp4"])
    assert error.field == "video"
    assert "matroska.mp4 is a matroska file; the container must be mp4 or mov" in error.rule


def test_a_file_that_is_not_a_video_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are not frames")
    error = rejected(path)
    assert error.field == "video"
    assert "no video stream found" in error.rule


def test_a_video_over_100_mb_is_rejected(clips: dict[str, Path], tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    shutil.copyfile(clips["ok.mp4"], big)
    os.truncate(big, 100 * 2**20 + 1)  # sparse: no 100 MB is written
    error = rejected(big)
    assert error.field == "video"
    assert "big.mp4 is 100.0 MB; the limit is 100 MB" in error.rule


def test_a_duration_longer_than_the_local_input_is_rejected(clips: dict[str, Path]) -> None:
    error = rejected(clips["ok.mp4"], duration=5)
    assert error.field == "duration"
    assert "5 s exceeds the input video's length (3.00 s)" in error.rule


def test_without_ffmpeg_the_content_checks_are_skipped(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(videoedit.probe, "ffmpeg_exe", lambda: None)
    for name in ("short.mp4", "long.mp4", "low.mp4", "wide.mp4", "tall.mp4", "matroska.mp4"):
        VideoEdit(video=clips[name], duration=10).check_local_files()


def test_without_ffmpeg_the_size_and_name_rules_still_apply(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(videoedit.probe, "ffmpeg_exe", lambda: None)
    big = tmp_path / "big.mov"
    shutil.copyfile(clips["ok.mp4"], big)
    os.truncate(big, 101 * 2**20)
    assert "the limit is 100 MB" in rejected(big).rule
    avi = tmp_path / "clip.avi"
    shutil.copyfile(clips["ok.mp4"], avi)
    assert "container: mp4 or mov" in rejected(avi).rule


def test_the_size_limit_is_read_when_checking(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is a module constant looked up at call time, so a deployment may lower it."""
    monkeypatch.setattr(videoedit.requests, "MAX_VIDEO_BYTES", 1024)
    error = rejected(clips["ok.mp4"])
    assert "the limit is 1024 bytes" in error.rule
