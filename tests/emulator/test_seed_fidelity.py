"""The emulator held to the seeds: their own examples replayed, their documented edges probed.

Each rule here is one the emulator once broke (issue 12); each test sends the page's example
(verbatim where the page has one: ``seed_examples.py``) or the edge it documents, and asserts
the answer on the wire or the MP4 it returns (vace's queue, the issue's other item, is
specified in ``test_vace_limits.py``):

- seed 004 sends ``wan2.1-vace-plus`` to the Beijing host in all five vace examples; seed 003
  names ``wanx2.1-vace-plus`` there: Beijing takes both, and reports the one it was sent;
- audio follows the input (seed 003's output table: "有声视频、无声视频(跟随输入视频)");
- an omitted ``ratio`` keeps the input's own ratio (seed 004: "默认与输入视频比例一致");
- the output lasts a whole number of seconds in [2, 10] (seed 003: "[2s, 10s](整数)"), and
  usage bills what was produced;
- ``expand_ratio`` with ``mask_type: fixed`` is taken (seed 004: it only takes effect with
  tracking).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_wire import OSS, REMOTE_VIDEO, DashScopeWire, rendered, wan27_body
from render_media import flat_clip, loudness
from seed_examples import SEED_004, VACE_EXAMPLES, WAN27_EXAMPLES, body

from videoedit import Client, TaskStatus
from videoedit_emulator.engine.models.wan27 import whole_seconds
from videoedit_emulator.render import OutputInfo, probe_output
from videoedit_emulator.server import EmulatorServer
from videoedit_vace import parse_vace_request


def download(wire: DashScopeWire, answer: dict[str, Any], path: Path) -> OutputInfo:
    assert answer["output"]["task_status"] == "SUCCEEDED", answer
    response = wire.http.get(answer["output"]["video_url"])
    assert response.status_code == 200
    path.write_bytes(response.content)
    return probe_output(path)


def replay(wire: DashScopeWire, name: str) -> dict[str, Any]:
    """Send seed 004's example ``name`` byte for byte; the whole query answer once it ended."""
    response = wire.create(content=SEED_004[name].encode())
    assert response.status_code == 200, response.text
    assert response.json()["output"]["task_status"] == "PENDING"
    return wire.finished(response.json()["output"]["task_id"])


# -- 1. wan2.1-vace-plus answers to both its names in Beijing ----------------------------------
@pytest.mark.parametrize("name", VACE_EXAMPLES)
def test_seed_004s_vace_example_is_taken_verbatim_by_the_beijing_route(
    wire: DashScopeWire, tmp_path: Path, name: str
) -> None:
    answer = replay(wire, name)
    (listed,) = wire.list().json()["data"]
    assert listed["model_name"] == "wan2.1-vace-plus"  # the id it was sent
    assert answer["usage"]["video_count"] == 1
    info = download(wire, answer, tmp_path / f"{name}.mp4")
    assert (info.codec, info.fps, info.has_audio) == ("h264", 30.0, False)
    assert info.width * info.height <= 1280 * 720
    assert info.duration <= 5.0
    if "size" in body(name)["parameters"]:  # image_reference, video_edit: "1280*720"
        assert (info.width, info.height) == (1280, 720)


def test_seed_003s_wanx_name_is_taken_in_beijing_and_reported(wire: DashScopeWire) -> None:
    example = body("video_outpainting")
    example["model"] = "wanx2.1-vace-plus"
    answer = wire.finished(wire.submit(example))
    assert answer["output"]["task_status"] == "SUCCEEDED"
    (listed,) = wire.list(model_name="wanx2.1-vace-plus").json()["data"]
    assert listed["model_name"] == "wanx2.1-vace-plus"


def test_our_beijing_client_sends_the_id_its_vace_model_option_names(
    emulator: EmulatorServer, emulator_client: Callable[..., Client]
) -> None:
    client = emulator_client("dashscope-beijing", options={"vace_model": "wan2.1-vace-plus"})
    task = client.wait(client.submit(parse_vace_request(body("video_outpainting"))))
    assert task.status is TaskStatus.SUCCEEDED
    assert emulator.engine.get(task.task_id, poll=False).model == "wan2.1-vace-plus"
    (create,) = emulator.journal.entries(route="create")
    assert create.body == body("video_outpainting")  # seed 004's body, byte for byte in JSON


# -- 2. audio follows the input ----------------------------------------------------------------
@pytest.fixture(scope="session")
def inputs(clip_dir: Path) -> dict[str, Path]:
    """2 s 4:3 clips: without audio, with a tone, with a track of silence."""
    return {
        "silent": flat_clip(clip_dir / "no-audio.mp4", "teal", 2),
        "sound": flat_clip(clip_dir / "tone.mp4", "teal", 2, audio=True),
        "hush": flat_clip(clip_dir / "hush.mp4", "teal", 2, audio=True, sound="anullsrc"),
    }


@pytest.mark.parametrize(
    ("clip", "setting", "track", "loud"),
    [
        pytest.param("silent", "auto", False, False, id="silent-auto-gives-none"),
        pytest.param("silent", "origin", False, False, id="silent-origin-gives-none"),
        pytest.param("sound", "auto", True, True, id="sound-auto-gives-a-track"),
        pytest.param("sound", "origin", True, True, id="sound-origin-gives-a-track"),
        # a track of silence tells the two apart: origin keeps it, auto makes the tone
        pytest.param("hush", "origin", True, False, id="hush-origin-keeps-its-own"),
        pytest.param("hush", "auto", True, True, id="hush-auto-gives-the-stand-ins"),
    ],
)
def test_audio_follows_the_input(
    wire: DashScopeWire,
    inputs: dict[str, Path],
    tmp_path: Path,
    clip: str,
    setting: str,
    track: bool,
    loud: bool,
) -> None:
    url = wire.upload(inputs[clip])
    info, _ = rendered(wire, wan27_body(url, audio_setting=setting), tmp_path)
    assert info.has_audio is track
    if track:
        assert info.audio_codec == "aac"
        assert (loudness(tmp_path / "out.mp4") > 0.01) is loud


@pytest.mark.parametrize("setting", ["auto", "origin"])
def test_an_input_not_fetched_counts_as_one_with_sound(
    wire: DashScopeWire, tmp_path: Path, setting: str
) -> None:
    """The emulator's choice: the test pattern standing in for it carries the tone."""
    info, _ = rendered(wire, wan27_body(REMOTE_VIDEO, audio_setting=setting), tmp_path)
    assert info.has_audio is True


# -- 3. an omitted ratio keeps the input's own -------------------------------------------------
@pytest.fixture(scope="session")
def two_to_one(clip_dir: Path) -> Path:
    return flat_clip(clip_dir / "wide.mp4", "navy", 2, width=480, height=240)


@pytest.mark.parametrize(("resolution", "size"), [("720P", (1356, 678)), ("1080P", (2036, 1018))])
def test_seed_004s_example_on_a_2_to_1_input_gives_a_2_to_1_output(
    wire: DashScopeWire, two_to_one: Path, tmp_path: Path, resolution: str, size: tuple[int, int]
) -> None:
    example = body("wan27_style_change")  # no ratio: "默认与输入视频比例一致"
    example["input"]["media"][0]["url"] = wire.upload(two_to_one)
    example["parameters"]["resolution"] = resolution
    info, _ = rendered(wire, example, tmp_path)
    assert (info.width, info.height) == size
    assert info.width == 2 * info.height


@pytest.mark.parametrize("name", WAN27_EXAMPLES)
def test_seed_004s_wan27_examples_are_taken_verbatim(
    wire: DashScopeWire, tmp_path: Path, name: str
) -> None:
    """Their inputs are not fetched offline: a 16:9, 5 s test pattern stands in for them."""
    answer = replay(wire, name)
    info = download(wire, answer, tmp_path / f"{name}.mp4")
    assert (info.width, info.height, info.frames, info.fps) == (1280, 720, 150, 30.0)
    assert answer["usage"] == {
        "duration": 10.0,
        "input_video_duration": 5.0,
        "output_video_duration": 5.0,
        "video_count": 1,
        "SR": 720,
    }


# -- 4. whole seconds, billed as produced ------------------------------------------------------
@pytest.fixture(scope="session")
def three_and_a_half(clip_dir: Path) -> Path:
    return flat_clip(clip_dir / "3.5s.mp4", "olive", 3.5, audio=True)


def test_duration_0_on_a_3_5_second_input_gives_3_whole_seconds_billed_as_such(
    wire: DashScopeWire, three_and_a_half: Path, tmp_path: Path
) -> None:
    body_json = wire.finished(
        wire.submit(wan27_body(wire.upload(three_and_a_half), duration=0), headers=OSS)
    )
    info = download(wire, body_json, tmp_path / "out.mp4")
    assert (info.frames, info.duration) == (90, 3.0)
    assert body_json["usage"]["output_video_duration"] == 3.0
    assert body_json["usage"]["input_video_duration"] == 3.5
    assert body_json["usage"]["duration"] == 6.5


def test_an_input_just_under_2_seconds_gives_the_2_second_minimum(
    wire: DashScopeWire, clip_dir: Path, tmp_path: Path
) -> None:
    short = flat_clip(clip_dir / "59-frames.mp4", "maroon", 59 / 30)  # 1.97 s, within the slack
    body_json = wire.finished(wire.submit(wan27_body(wire.upload(short), duration=0), headers=OSS))
    info = download(wire, body_json, tmp_path / "out.mp4")
    assert (info.frames, info.duration) == (60, 2.0)
    assert body_json["usage"]["output_video_duration"] == 2.0


@pytest.mark.parametrize(
    ("input_seconds", "output"),
    [(1.96, 2), (2.0, 2), (3.5, 3), (3.97, 4), (4.04, 4), (9.99, 10), (10.04, 10)],
)
def test_the_whole_second_rule_rounds_down_within_2_to_10(
    input_seconds: float, output: int
) -> None:
    assert whole_seconds(input_seconds) == output


# -- 5. expand_ratio with a fixed mask ---------------------------------------------------------
def test_seed_004s_masked_edit_with_a_fixed_mask_keeps_its_expand_ratio(
    wire: DashScopeWire,
) -> None:
    example = body("video_edit")
    example["parameters"]["mask_type"] = "fixed"  # the example's expand_ratio 0.05 stays
    answer = wire.finished(wire.submit(example))
    assert answer["output"]["task_status"] == "SUCCEEDED"
    assert (
        "expand_ratio takes effect only with mask_type tracking"
        in (answer["output"]["emulator_note"])
    )
