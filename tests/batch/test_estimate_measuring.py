"""How an estimate measures a local input: once per file, an upper bound without ffmpeg,
and a clear error for a file that is no video."""

from __future__ import annotations

from pathlib import Path

import pytest

import videoedit.probe
from videoedit import InvalidRequestError, VideoEdit
from videoedit.billing import estimate
from videoedit.probe import VideoInfo
from videoedit_emulator.render import make_sample_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_clip(tmp_path_factory.mktemp("measure") / "in.mp4", 2.5, 320, 240)


def test_without_ffmpeg_a_local_video_gets_the_upper_bound_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "unmeasured.mp4"
    path.write_bytes(b"\x00" * 64)
    monkeypatch.setattr(videoedit.probe, "ffmpeg_exe", lambda: None)

    found = estimate(VideoEdit(video=path, duration=2), "dashscope-singapore")

    assert found is not None
    assert (found.seconds, found.exact) == (12.0, False)
    assert found.note is not None
    assert "videoedit[probe]" in found.note


def test_a_local_file_that_is_no_video_is_a_bad_request_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")

    with pytest.raises(InvalidRequestError) as caught:
        estimate(VideoEdit(video=path), "dashscope-singapore")

    assert caught.value.field == "video"
    assert "notes.mp4" in str(caught.value)


def test_one_file_on_many_edits_is_measured_once(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = estimate(VideoEdit(video=clip, prompt="ink"), "dashscope-singapore")
    calls: list[object] = []
    real = videoedit.probe.probe_video

    def counting(path: str | Path, *, exe: str | None = None) -> VideoInfo | None:
        calls.append(path)
        return real(path, exe=exe)

    monkeypatch.setattr(videoedit.probe, "probe_video", counting)
    again = [estimate(VideoEdit(video=clip, seed=i), "vtrix") for i in range(3)]

    assert first is not None
    assert {e.seconds for e in again if e is not None} == {first.seconds} == {4.5}
    assert calls == []
