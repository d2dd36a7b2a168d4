"""Creating a task on the DashScope routes: the success answer and every refusal.

Each refusal is checked on the wire: HTTP status, DashScope code, and a message that names
the field and the rule. The emulator checks requests with its own code (models/wan27.py),
so these are the errors a buggy client would meet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_wire import MODEL, OSS, REMOTE_VIDEO, DashScopeWire, error_of, wan27_body

from videoedit_emulator.render import make_sample_clip
from videoedit_emulator.server import EmulatorServer


def test_create_answers_request_id_and_a_pending_task(wire: DashScopeWire) -> None:
    response = wire.create(wan27_body())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "output"}
    assert body["output"] == {"task_id": body["output"]["task_id"], "task_status": "PENDING"}


def test_task_ids_follow_the_seed(emulator: EmulatorServer, wire: DashScopeWire) -> None:
    first = [wire.submit() for _ in range(2)]
    emulator.reset()
    assert [wire.submit() for _ in range(2)] == first
    emulator.reset(seed=99)
    assert wire.submit() not in first


def test_the_same_seed_gives_the_same_ids_in_another_emulator(wire: DashScopeWire) -> None:
    with EmulatorServer(seed=0) as other:
        other_wire = DashScopeWire(other)
        assert other_wire.submit() == wire.submit()
        other_wire.close()


def test_missing_async_header_is_refused_as_documented(wire: DashScopeWire) -> None:
    assert error_of(wire.create(wan27_body(), asynchronous=False)) == (
        403,
        "AccessDenied",
        "current user api does not support synchronous calls",
    )


@pytest.mark.parametrize("key", ["", "   "])
def test_missing_or_empty_key_is_invalid_api_key(wire: DashScopeWire, key: str) -> None:
    assert error_of(wire.create(wan27_body(), key=key)) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )


def test_no_authorization_header_is_invalid_api_key(wire: DashScopeWire) -> None:
    response = wire.http.post(
        wire.base + "/services/aigc/video-generation/video-synthesis",
        json=wan27_body(),
        headers={"X-DashScope-Async": "enable"},
    )
    assert error_of(response) == (401, "InvalidApiKey", "Invalid API-key provided.")


def test_the_key_is_checked_before_the_async_header(wire: DashScopeWire) -> None:
    assert error_of(wire.create(wan27_body(), key="", asynchronous=False))[:2] == (
        401,
        "InvalidApiKey",
    )


def test_the_official_sdks_extra_input_fields_are_accepted(wire: DashScopeWire) -> None:
    body = wan27_body()
    body["input"].update({"extend_prompt": True, "function": "video-synthesis"})
    assert wire.create(body).status_code == 200


def test_a_null_prompt_as_the_sdk_sends_it_is_accepted(wire: DashScopeWire) -> None:
    body = wan27_body(prompt=None)
    body["input"]["prompt"] = None
    assert wire.create(body).status_code == 200


@pytest.mark.parametrize(
    ("content", "message_start"),
    [
        (b'{"model": "wan2.7-videoedit",', "body is not valid JSON"),
        (b"", "body is empty"),
        (b"\xff\xfe", "body is not UTF-8"),
        (b"[1, 2]", "body must be a JSON object"),
    ],
)
def test_malformed_bodies_are_400_never_500(
    wire: DashScopeWire, content: bytes, message_start: str
) -> None:
    status, code, message = error_of(wire.create(content=content))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith(message_start)


def test_an_unknown_top_level_field_is_named(wire: DashScopeWire) -> None:
    body = {**wan27_body(), "resolution": "720P"}
    status, code, message = error_of(wire.create(body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("resolution is not a field of the request body")


def test_missing_model_is_bad_request_empty_model(wire: DashScopeWire) -> None:
    body = wan27_body()
    del body["model"]
    assert error_of(wire.create(body)) == (
        400,
        "BadRequest.EmptyModel",
        'Required parameter "model" missing from request.',
    )


def test_a_model_that_is_not_a_string_is_named(wire: DashScopeWire) -> None:
    assert error_of(wire.create({**wan27_body(), "model": 27})) == (
        400,
        "InvalidParameter",
        "model must be a string, got an integer",
    )


def test_unknown_model_is_model_not_exist(wire: DashScopeWire) -> None:
    status, code, message = error_of(wire.create({**wan27_body(), "model": "wan9-videoedit"}))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("Model not exist.")
    assert "'wan9-videoedit'" in message


def test_a_model_of_the_other_region_does_not_exist_here(sg_wire: DashScopeWire) -> None:
    body = {
        "model": "wanx2.1-vace-plus",
        "input": {"function": "image_reference"},
        "parameters": {},
    }
    status, code, message = error_of(sg_wire.create(body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("Model not exist.")
    assert "region singapore" in message


def test_missing_input_is_bad_request_empty_input(wire: DashScopeWire) -> None:
    assert error_of(wire.create({"model": MODEL, "parameters": {}})) == (
        400,
        "BadRequest.EmptyInput",
        'Required parameter "input" missing from request.',
    )


def _with(path: str, value: Any) -> dict[str, Any]:
    body = wan27_body(images=("https://example.invalid/ref.png",))
    block, _, name = path.partition(".")
    if name:
        body[block][name] = value
    else:
        body[block] = value
    return body


def _media(*items: dict[str, Any]) -> dict[str, Any]:
    body = wan27_body()
    body["input"]["media"] = list(items)
    return body


VIDEO = {"type": "video", "url": REMOTE_VIDEO}
IMAGE = {"type": "reference_image", "url": "https://example.invalid/ref.png"}

REFUSALS = [
    (_with("input.prompt", "x" * 5001), "input.prompt must be at most 5000 characters, got 5001"),
    (_with("input.prompt", 42), "input.prompt must be a string, got an integer"),
    (
        _with("input.negative_prompt", "x" * 501),
        "input.negative_prompt must be at most 500 characters, got 501",
    ),
    (_with("input.media", None), "input.media is required: an array with one item of type video"),
    (_with("input.media", {"type": "video"}), "input.media must be an array, got an object"),
    (_media(), "input.media must hold exactly one item of type video, got 0"),
    (_media(IMAGE), "input.media must hold exactly one item of type video, got 0"),
    (_media(VIDEO, VIDEO), "input.media must hold exactly one item of type video, got 2"),
    (
        _media(VIDEO, *[IMAGE] * 5),
        "input.media may hold at most 4 items of type reference_image, got 5",
    ),
    (
        _media(VIDEO, {"type": "audio", "url": "https://example.invalid/a.mp3"}),
        "input.media[1].type must be video or reference_image, got 'audio'",
    ),
    (_media({"type": "video"}), "input.media[0].url must be a string, got null"),
    (_media({"type": "video", "url": " "}), "input.media[0].url must not be empty"),
    (
        _media({"type": "video", "url": REMOTE_VIDEO, "name": "x"}),
        "input.media[0].name is not a parameter of wan2.7-videoedit",
    ),
    (
        _media({"type": "video", "url": "/home/me/clip.mp4"}),
        "input.media[0].url must be an http(s) URL or an oss:// URL",
    ),
    (
        _media({"type": "video", "url": "data:video/mp4;base64,AAAA"}),
        "input.media[0].url must be an http(s) URL or an oss:// URL",
    ),
    (
        _media(VIDEO, {"type": "reference_image", "url": "ftp://host/ref.png"}),
        "input.media[1].url must be an http(s) URL or an oss:// URL from a temporary upload, or a data:",
    ),
    (_with("input.style", "clay"), "input.style is not a parameter of wan2.7-videoedit"),
    (
        _with("input.function", "video_edit"),
        "input.function must be 'video-synthesis' or absent for wan2.7-videoedit",
    ),
    (_with("input.extend_prompt", "yes"), "input.extend_prompt must be a boolean, got a string"),
    (_with("parameters.resolution", "4K"), "parameters.resolution must be 720P or 1080P, got '4K'"),
    (_with("parameters.resolution", 720), "parameters.resolution must be a string, got an integer"),
    (
        _with("parameters.ratio", "21:9"),
        "parameters.ratio must be one of 16:9, 9:16, 1:1, 4:3, 3:4, got '21:9'",
    ),
    (
        _with("parameters.duration", 1),
        "parameters.duration must be 0 (keep the input's length) or an integer from 2 to 10, got 1",
    ),
    (
        _with("parameters.duration", 11),
        "parameters.duration must be 0 (keep the input's length) or an integer from 2 to 10, got 11",
    ),
    (_with("parameters.duration", "5"), "parameters.duration must be an integer, got a string"),
    (_with("parameters.duration", 5.5), "parameters.duration must be an integer, got a number"),
    (_with("parameters.duration", True), "parameters.duration must be an integer, got a boolean"),
    (
        _with("parameters.audio_setting", "loud"),
        "parameters.audio_setting must be auto or origin, got 'loud'",
    ),
    (_with("parameters.seed", -1), "parameters.seed must be an integer in [0, 2147483647], got -1"),
    (
        _with("parameters.seed", 2147483648),
        "parameters.seed must be an integer in [0, 2147483647], got 2147483648",
    ),
    (
        _with("parameters.prompt_extend", "yes"),
        "parameters.prompt_extend must be a boolean, got a string",
    ),
    (_with("parameters.watermark", 1), "parameters.watermark must be a boolean, got an integer"),
    (
        _with("parameters.size", "1280*720"),
        "parameters.size is not a parameter of wan2.7-videoedit",
    ),
    (_with("parameters", []), "parameters must be an object"),
    (_with("input", "a clip"), "input must be an object"),
]


@pytest.mark.parametrize(
    ("body", "message_start"), REFUSALS, ids=[m.split(" ")[0] + ":" + m[-16:] for _, m in REFUSALS]
)
def test_each_documented_limit_is_a_400_naming_the_field(
    wire: DashScopeWire, body: dict[str, Any], message_start: str
) -> None:
    status, code, message = error_of(wire.create(body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith(message_start), message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seed", 0),
        ("seed", 2147483647),
        ("duration", 0),
        ("duration", 10),
        ("ratio", "3:4"),
        ("audio_setting", "origin"),
    ],
)
def test_values_at_the_edges_of_each_range_are_accepted(
    wire: DashScopeWire, name: str, value: Any
) -> None:
    assert wire.create(_with(f"parameters.{name}", value)).status_code == 200


def test_four_reference_images_are_accepted(wire: DashScopeWire) -> None:
    assert wire.create(_media(VIDEO, *[IMAGE] * 4)).status_code == 200


def test_an_oss_input_needs_the_resolve_header(wire: DashScopeWire) -> None:
    body = wan27_body("oss://dashscope-instant/abc/2026-04-03/x/clip.mp4")
    status, code, message = error_of(wire.create(body))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("input.media[0].url is an oss:// URL")
    assert "X-DashScope-OssResourceResolve: enable" in message


def test_the_body_size_limit_is_a_413_dashscope_error() -> None:
    with EmulatorServer(max_body_bytes=2048) as small:
        wire = DashScopeWire(small)
        body = wan27_body(prompt="x" * 3000)
        status, code, message = error_of(wire.create(body))
        assert (status, code) == (413, "RequestTooLarge")
        assert message.startswith("request body is")
        assert "the limit is 2048 bytes" in message
        wire.close()


# -- rules that need the input's content ---------------------------------------------------------
@pytest.fixture(scope="module")
def odd_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("odd")
    return {
        "short": make_sample_clip(
            root / "short.mp4", seconds=1, width=320, height=240, audio=False
        ),
        "narrow": make_sample_clip(
            root / "narrow.mp4", seconds=2, width=320, height=160, audio=False
        ),
        "wide": make_sample_clip(root / "wide.mp4", seconds=2, width=2000, height=240, audio=False),
    }


def test_duration_longer_than_the_input_is_a_400(
    wire: DashScopeWire, emulator_sample_clip: Path
) -> None:
    url = wire.upload(emulator_sample_clip)
    status, code, message = error_of(wire.create(wan27_body(url, duration=5), headers=OSS))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith(
        "parameters.duration (5 s) must not exceed the input video's length (2.00 s"
    )


@pytest.mark.parametrize(
    ("clip", "rule"),
    [
        ("short", "lasts 1.00 s; an input video must last 2 to 10 s"),
        ("narrow", "height is 160 px; each side must be 240 to 4096 px"),
        ("wide", "is 2000x240; its aspect ratio must be between 1:8 and 8:1"),
    ],
)
def test_input_video_content_rules_are_400s_naming_the_media_url(
    wire: DashScopeWire, odd_clips: dict[str, Path], clip: str, rule: str
) -> None:
    url = wire.upload(odd_clips[clip])
    status, code, message = error_of(wire.create(wan27_body(url, duration=0), headers=OSS))
    assert (status, code) == (400, "InvalidParameter")
    assert message == f"input.media[0].url {rule}"


def test_a_container_other_than_mp4_or_mov_is_refused(wire: DashScopeWire, tmp_path: Path) -> None:
    import subprocess

    import imageio_ffmpeg

    mkv = tmp_path / "clip.mkv"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=2",
         "-c:v", "libx264", "-preset", "ultrafast", str(mkv)],
        check=True,
    )  # fmt: skip
    url = wire.upload(mkv)
    status, code, message = error_of(wire.create(wan27_body(url, duration=0), headers=OSS))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith(
        "input.media[0].url has container 'matroska,webm'; it must be mp4 or mov"
    )


def test_a_file_that_is_not_a_video_is_refused(wire: DashScopeWire, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all")
    url = wire.upload(notes)
    assert error_of(wire.create(wan27_body(url), headers=OSS)) == (
        400,
        "InvalidParameter",
        "input.media[0].url is not a video: ffmpeg finds no video stream in it",
    )
