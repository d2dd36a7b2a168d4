"""Every documented limit of a wan2.7 edit (API-FACTS §1) fails locally, naming the field.

The local-video content checks (duration, sides, aspect ratio, size, container by content)
are in ``test_local_video_checks.py``; these need no ffmpeg.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from videoedit import InvalidRequestError, VideoEdit

VIDEO = "https://cdn.example.com/in.mp4"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


def rejected(**fields: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        VideoEdit(**{"video": VIDEO, **fields})
    return caught.value


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        pytest.param({"prompt": "x" * 5001}, "prompt", "at most 5000 characters", id="prompt>5000"),
        pytest.param(
            {"negative_prompt": "x" * 501}, "negative_prompt", "at most 500", id="negative>500"
        ),
        pytest.param(
            {"reference_images": [f"https://cdn.example.com/{i}.png" for i in range(5)]},
            "reference_images",
            "at most 4 items",
            id="5-reference-images",
        ),
        pytest.param(
            {"reference_images": ["data:image/gif;base64,R0lGODlh"]},
            "reference_images",
            "mime type 'image/gif' is not one of image/bmp, image/jpeg, image/png, image/webp",
            id="data-uri-mime",
        ),
        pytest.param(
            {"reference_images": ["data:image/png;base64,not*base64!"]},
            "reference_images",
            "not valid base64",
            id="data-uri-base64",
        ),
        pytest.param(
            {"reference_images": ["data:image/png,rawbytes"]},
            "reference_images",
            "data:{mime};base64,{data}",
            id="data-uri-not-base64-form",
        ),
        pytest.param(
            {"reference_images": ["data:image/png;base64,"]},
            "reference_images",
            "carries no data",
            id="data-uri-empty",
        ),
        pytest.param({"resolution": "480P"}, "resolution", "'720P' or '1080P'", id="resolution"),
        pytest.param(
            {"ratio": "21:9"}, "ratio", "'16:9', '9:16', '1:1', '4:3' or '3:4'", id="ratio"
        ),
        pytest.param(
            {"duration": 1}, "duration", "0 (keep the input's length) or", id="duration=1"
        ),
        pytest.param({"duration": 11}, "duration", "an integer from 2 to 10", id="duration=11"),
        pytest.param({"duration": -1}, "duration", "an integer from 2 to 10", id="duration=-1"),
        pytest.param({"duration": 2.5}, "duration", "valid integer", id="duration=2.5"),
        pytest.param({"audio_setting": "mute"}, "audio_setting", "'auto' or 'origin'", id="audio"),
        pytest.param({"seed": -1}, "seed", "greater than or equal to 0", id="seed=-1"),
        pytest.param({"seed": 2**31}, "seed", "less than or equal to 2147483647", id="seed=2^31"),
        pytest.param({"seed": True}, "seed", "not a boolean", id="seed=True"),
        pytest.param({"video": PNG}, "video", "cannot be a data URI", id="video-data-uri"),
        pytest.param({"video": ""}, "video", "must not be empty", id="video-empty"),
        pytest.param({"video": "https:///in.mp4"}, "video", "has no host", id="video-no-host"),
        pytest.param(
            {"video": "ftp://media.example.com/in.mp4"},
            "video",
            "URL scheme 'ftp' is not supported",
            id="video-ftp",
        ),
        pytest.param({"prompt_extend": "sometimes"}, "prompt_extend", "valid boolean", id="extend"),
        pytest.param({"watermark": "yes please"}, "watermark", "valid boolean", id="watermark"),
        pytest.param({"model_size": "xl"}, "model_size", "is not a field", id="unknown-field"),
    ],
)
def test_a_broken_limit_is_rejected_naming_the_field(
    fields: dict[str, Any], field: str, rule: str
) -> None:
    error = rejected(**fields)
    assert error.field == field
    assert rule in error.rule
    assert f"{field}: " in str(error)
    assert rule in str(error)
    assert error.code is None  # a local refusal: no provider said anything


def test_a_missing_local_video_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    error = rejected(video=str(missing))
    assert error.field == "video"
    assert f"local file {str(missing)!r} does not exist" in error.rule


@pytest.mark.parametrize("name", ["clip.avi", "clip.mkv", "clip.webm", "clip"])
def test_a_local_video_in_another_container_is_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00" * 64)
    error = rejected(video=str(path))
    assert error.field == "video"
    assert "must be one of .mov, .mp4 (container: mp4 or mov)" in error.rule


def test_a_local_reference_image_of_another_type_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    error = rejected(reference_images=[VIDEO.replace("mp4", "png"), str(path)])
    assert error.field == "reference_images"
    assert error.rule.startswith("item 1: ")
    assert "jpeg, png, bmp or webp" in error.rule


def test_every_violation_is_reported_at_once() -> None:
    error = rejected(prompt="x" * 5001, seed=-5, ratio="2:1")
    assert {field for field, _ in error.errors} == {"prompt", "seed", "ratio"}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"prompt": "x" * 5000, "negative_prompt": "y" * 500}, id="longest-prompts"),
        pytest.param({"reference_images": [PNG] * 4}, id="4-data-uris"),
        pytest.param({"duration": 2, "seed": 0}, id="smallest"),
        pytest.param({"duration": 10, "seed": 2**31 - 1}, id="largest"),
        pytest.param({"video": "oss://dashscope-instant/abc/in.mov"}, id="oss-video"),
        pytest.param({"resolution": "720p", "ratio": "3:4", "audio_setting": "origin"}, id="misc"),
    ],
)
def test_values_on_the_limits_are_accepted(fields: dict[str, Any]) -> None:
    VideoEdit(**{"video": VIDEO, **fields})


def test_defaults_are_the_documented_ones() -> None:
    edit = VideoEdit(video=VIDEO)
    assert (edit.resolution, edit.ratio, edit.duration, edit.audio_setting) == (
        "1080P",
        None,
        0,
        "auto",
    )
    assert (edit.prompt_extend, edit.watermark, edit.seed) == (True, False, None)
    assert edit.model == "wan2.7-videoedit"


def test_a_single_reference_image_may_be_given_as_a_string() -> None:
    assert VideoEdit(video=VIDEO, reference_images=PNG).reference_images == [PNG]


def test_requests_are_immutable() -> None:
    edit = VideoEdit(video=VIDEO)
    with pytest.raises(Exception, match="frozen"):
        edit.prompt = "changed"  # type: ignore[misc]


def test_validating_a_dict_raises_the_same_error() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        VideoEdit.model_validate({"video": VIDEO, "seed": -1})
    assert caught.value.field == "seed"
