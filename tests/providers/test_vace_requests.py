"""The five wan2.1-vace-plus request types: every documented rule, refused locally by name."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from videoedit import InvalidRequestError
from videoedit.hookspecs import EncodeContext
from videoedit_vace import (
    FUNCTIONS,
    ImageReference,
    MaskedVideoEdit,
    VaceRequest,
    VideoExtension,
    VideoOutpainting,
    VideoRepainting,
    dashscope_body,
    parse_vace_request,
)

IMG = "https://example.com/ref.png"
IMG2 = "https://example.com/bg.png"
VIDEO = "https://example.com/in.mp4"
MASK = "https://example.com/mask.png"


def _clip(path: Path, seconds: float, *, size: str = "160x120") -> Path:
    """A tiny test-pattern MP4 (the probe reads its real duration)."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=30",
            "-t",
            str(seconds),
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vace-clips")
    return {
        "2s": _clip(folder / "two.mp4", 2),
        "4s_mov": _clip(folder / "four.mov", 4),
        "6s": _clip(folder / "six.mp4", 6),
    }


def rejected(exc: pytest.ExceptionInfo[InvalidRequestError]) -> dict[str, str]:
    return dict(exc.value.errors)


# -- image_reference ---------------------------------------------------------------------------
def test_image_reference_accepts_one_to_three_tagged_images() -> None:
    request = ImageReference(
        prompt="a girl walks out of a misty forest",
        ref_images_url=[IMG, IMG2],
        obj_or_bg=["obj", "bg"],
        size="1280*720",
    )
    assert request.function == "image_reference"
    assert request.ref_images_url == [IMG, IMG2]
    assert request.obj_or_bg == ["obj", "bg"]


def test_image_reference_needs_at_least_one_image() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[], obj_or_bg=[])
    assert exc.value.field == "ref_images_url"
    assert "1 to 3" in (exc.value.rule or "")


def test_image_reference_refuses_a_fourth_image_the_service_would_drop() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG] * 4, obj_or_bg=["obj"] * 4)
    assert exc.value.field == "ref_images_url"
    assert "got 4" in (exc.value.rule or "")


def test_image_reference_needs_one_tag_per_image() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG, IMG2], obj_or_bg=["obj"])
    assert exc.value.field == "obj_or_bg"
    assert "2 image(s), 1 tag(s)" in (exc.value.rule or "")


def test_image_reference_tags_are_obj_or_bg() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG, IMG2], obj_or_bg=["obj", "background"])
    assert exc.value.field == "obj_or_bg[1]"


def test_image_reference_requires_its_tags() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG])
    assert exc.value.field == "obj_or_bg"


def test_a_single_image_and_tag_may_be_given_bare() -> None:
    request = ImageReference(ref_images_url=IMG, obj_or_bg="bg")
    assert request.ref_images_url == [IMG]
    assert request.obj_or_bg == ["bg"]


def test_each_reference_image_is_checked_and_named_by_index() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG, "ftp://example.com/x.png"], obj_or_bg=["obj", "bg"])
    assert exc.value.field == "ref_images_url[1]"
    assert "scheme" in (exc.value.rule or "")


def test_image_reference_accepts_a_data_uri_image() -> None:
    uri = "data:image/png;base64,iVBORw0KGgo="
    assert ImageReference(ref_images_url=[uri], obj_or_bg=["obj"]).ref_images_url == [uri]


@pytest.mark.parametrize(("given", "sent"), [("1280*720", "1280*720"), ("832x1088", "832*1088")])
def test_size_is_normalised_to_width_star_height(given: str, sent: str) -> None:
    request = ImageReference(ref_images_url=[IMG], obj_or_bg=["obj"], size=given)
    assert request.size == sent


def test_a_size_outside_the_unconfirmed_list_is_accepted() -> None:
    """The documented list is not known to be complete: the service has the last word."""
    request = ImageReference(ref_images_url=[IMG], obj_or_bg=["obj"], size="1024*576")
    assert request.size == "1024*576"


@pytest.mark.parametrize("size", ["720P", "1280*", "0*720", "big", 1280])
def test_a_malformed_size_is_refused(size: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        ImageReference(ref_images_url=[IMG], obj_or_bg=["obj"], size=size)
    assert exc.value.field == "size"
    assert "WIDTH*HEIGHT" in (exc.value.rule or "")


# -- video_repainting --------------------------------------------------------------------------
def test_repainting_takes_a_control_condition_and_strength() -> None:
    request = VideoRepainting(
        video_url=VIDEO, prompt="a steampunk car", control_condition="depth", strength=0.4
    )
    assert (request.control_condition, request.strength) == ("depth", 0.4)


def test_repainting_strength_defaults_to_one() -> None:
    assert VideoRepainting(video_url=VIDEO).strength == 1.0


@pytest.mark.parametrize("condition", ["posebodyface", "posebody", "depth", "scribble"])
def test_repainting_accepts_each_documented_condition(condition: str) -> None:
    assert VideoRepainting(video_url=VIDEO, control_condition=condition).control_condition == (
        condition
    )


def test_repainting_refuses_an_unknown_control_condition() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=VIDEO, control_condition="canny")
    assert exc.value.field == "control_condition"


@pytest.mark.parametrize("strength", [-0.1, 1.01, True])
def test_repainting_strength_is_a_number_from_zero_to_one(strength: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=VIDEO, strength=strength)
    assert exc.value.field == "strength"


def test_repainting_takes_at_most_one_reference_image() -> None:
    assert VideoRepainting(video_url=VIDEO, ref_images_url=IMG).ref_images_url == [IMG]
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=VIDEO, ref_images_url=[IMG, IMG2])
    assert exc.value.field == "ref_images_url"
    assert "1 to 1" in (exc.value.rule or "")


def test_repainting_requires_its_video() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(prompt="no video")
    assert exc.value.field == "video_url"


def test_repainting_accepts_a_local_mp4_within_five_seconds(clips: dict[str, Path]) -> None:
    assert VideoRepainting(video_url=clips["2s"]).video_url == str(clips["2s"])


def test_repainting_refuses_a_local_video_longer_than_five_seconds(
    clips: dict[str, Path],
) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=clips["6s"])
    assert exc.value.field == "video_url"
    assert "the limit is 5 s" in (exc.value.rule or "")


def test_repainting_refuses_a_local_mov(clips: dict[str, Path]) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=clips["4s_mov"])
    assert exc.value.field == "video_url"
    assert ".mp4" in (exc.value.rule or "")


def test_repainting_refuses_a_local_video_over_fifty_megabytes(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    with open(big, "wb") as handle:  # sparse: no 50 MB written to disk
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=big)
    assert exc.value.field == "video_url"
    assert "the limit is 50 MB" in (exc.value.rule or "")


def test_a_local_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all")
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=fake)
    assert exc.value.field == "video_url"
    assert "fake.mp4" in (exc.value.rule or "")


# -- video_edit --------------------------------------------------------------------------------
def test_masked_edit_with_a_mask_image_and_its_frame() -> None:
    request = MaskedVideoEdit(
        video_url=VIDEO, mask_image_url=MASK, mask_frame_id=1, mask_type="tracking"
    )
    assert (request.mask_frame_id, request.mask_type, request.expand_ratio) == (1, "tracking", 0.05)


def test_masked_edit_with_a_mask_video(clips: dict[str, Path]) -> None:
    request = MaskedVideoEdit(video_url=VIDEO, mask_video_url=clips["2s"], mask_type="fixed")
    assert request.mask_video_url == str(clips["2s"])


def test_masked_edit_needs_a_mask() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO)
    assert exc.value.field == "mask_image_url"
    assert "mask_video_url" in (exc.value.rule or "")


def test_masked_edit_refuses_both_masks() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO, mask_image_url=MASK, mask_video_url=VIDEO)
    assert exc.value.field == "mask_video_url"
    assert "not both" in (exc.value.rule or "")


def test_mask_frame_id_belongs_to_a_mask_image() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO, mask_video_url=VIDEO, mask_frame_id=3)
    assert exc.value.field == "mask_frame_id"


@pytest.mark.parametrize("frame", [0, -1, True, 1.5])
def test_mask_frame_id_is_a_positive_frame_number(frame: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO, mask_image_url=MASK, mask_frame_id=frame)
    assert exc.value.field == "mask_frame_id"


def test_mask_type_is_tracking_or_fixed() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO, mask_image_url=MASK, mask_type="follow")
    assert exc.value.field == "mask_type"


@pytest.mark.parametrize("ratio", [-0.01, 1.5])
def test_expand_ratio_is_from_zero_to_one(ratio: float) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        MaskedVideoEdit(video_url=VIDEO, mask_image_url=MASK, expand_ratio=ratio)
    assert exc.value.field == "expand_ratio"


def test_expand_ratio_with_a_fixed_mask_is_taken_and_sent() -> None:
    """Seed 004: expand_ratio "only takes effect" with tracking; with fixed it is not refused."""
    request = MaskedVideoEdit(
        video_url=VIDEO, mask_image_url=MASK, mask_type="fixed", expand_ratio=0.2
    )
    assert dashscope_body(request, "singapore")["parameters"] == {
        "mask_type": "fixed",
        "expand_ratio": 0.2,
    }


def test_expand_ratio_with_the_default_mask_type_is_fine() -> None:
    request = MaskedVideoEdit(video_url=VIDEO, mask_image_url=MASK, expand_ratio=0.3)
    assert (request.mask_type, request.expand_ratio) == ("tracking", 0.3)


def test_masked_edit_takes_reference_images_and_a_size() -> None:
    request = MaskedVideoEdit(
        video_url=VIDEO, mask_image_url=MASK, ref_images_url=[IMG], size="720*1280"
    )
    assert (request.ref_images_url, request.size) == ([IMG], "720*1280")


# -- video_extension ---------------------------------------------------------------------------
def test_extension_needs_a_prompt() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoExtension(first_clip_url=VIDEO)
    assert exc.value.field == "prompt"


def test_extension_refuses_an_empty_prompt() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoExtension(prompt="   ", first_clip_url=VIDEO)
    assert exc.value.field == "prompt"


def test_extension_needs_something_to_extend() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoExtension(prompt="a dog on a skateboard")
    assert exc.value.field == "first_clip_url"
    for name in ("last_clip_url", "first_frame_url", "last_frame_url"):
        assert name in (exc.value.rule or "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("first_clip_url", VIDEO),
        ("last_clip_url", VIDEO),
        ("first_frame_url", IMG),
        ("last_frame_url", IMG),
    ],
)
def test_extension_accepts_any_one_source(name: str, value: str) -> None:
    request = VideoExtension(prompt="a dog on a skateboard", **{name: value})
    assert getattr(request, name) == value


def test_extension_clips_last_at_most_three_seconds(clips: dict[str, Path]) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoExtension(prompt="go on", last_clip_url=clips["4s_mov"])
    assert exc.value.field == "last_clip_url"
    assert "the limit is 3 s" in (exc.value.rule or "")


def test_extension_accepts_a_short_local_clip(clips: dict[str, Path]) -> None:
    assert VideoExtension(prompt="go on", first_clip_url=clips["2s"]).first_clip_url == str(
        clips["2s"]
    )


# -- video_outpainting -------------------------------------------------------------------------
def test_outpainting_scales_default_to_one() -> None:
    request = VideoOutpainting(video_url=VIDEO, left_scale=1.5)
    assert (request.top_scale, request.bottom_scale, request.left_scale, request.right_scale) == (
        1.0,
        1.0,
        1.5,
        1.0,
    )


@pytest.mark.parametrize("name", ["top_scale", "bottom_scale", "left_scale", "right_scale"])
@pytest.mark.parametrize("value", [0.99, 2.01])
def test_each_outpainting_scale_is_from_one_to_two(name: str, value: float) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=VIDEO, **{name: value})
    assert exc.value.field == name


def test_outpainting_has_no_size() -> None:
    """The output follows the input up to 720P: a size is a mistake, not a wish."""
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=VIDEO, size="1280*720")
    assert exc.value.field == "size"
    assert exc.value.rule == "is not a field of this request"


# -- shared fields -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [-1, 2_147_483_648, True])
def test_seed_is_an_integer_in_the_documented_range(seed: Any) -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=VIDEO, seed=seed)
    assert exc.value.field == "seed"


def test_model_names_the_vace_family_only() -> None:
    assert VideoOutpainting(video_url=VIDEO, model="wanx2.1-vace-plus").model == (
        "wanx2.1-vace-plus"
    )
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=VIDEO, model="wan2.7-videoedit")
    assert exc.value.field == "model"


def test_fields_of_another_function_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoOutpainting(video_url=VIDEO, control_condition="depth")
    assert exc.value.field == "control_condition"


def test_every_violation_is_reported_at_once() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        VideoRepainting(video_url=VIDEO, strength=3, control_condition="x", seed=-5)
    assert set(rejected(exc)) == {"strength", "control_condition", "seed"}


@pytest.mark.parametrize(
    ("region", "model"),
    [
        ("beijing", "wanx2.1-vace-plus"),
        ("singapore", "wan2.1-vace-plus"),
        (None, "wan2.1-vace-plus"),
    ],
)
def test_uploads_are_made_for_the_regions_model_id(region: str | None, model: str) -> None:
    request = VideoOutpainting(video_url=VIDEO)
    context = EncodeContext(provider="p", dialect="dashscope", region=region)
    assert request.model_for(context) == model


def test_local_files_are_found_for_upload(clips: dict[str, Path], tmp_path: Path) -> None:
    image = tmp_path / "ref.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    request = MaskedVideoEdit(
        video_url=clips["2s"], mask_image_url=MASK, ref_images_url=[IMG, str(image)]
    )
    assert request.local_files() == {"video_url": clips["2s"], "ref_images_url[1]": image}


# -- parse_vace_request ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "cls", "fields"),
    [
        ("image_reference", ImageReference, {"ref_images_url": [IMG], "obj_or_bg": ["obj"]}),
        ("video_repainting", VideoRepainting, {"video_url": VIDEO}),
        ("video_edit", MaskedVideoEdit, {"video_url": VIDEO, "mask_image_url": MASK}),
        ("video_extension", VideoExtension, {"prompt": "on", "first_frame_url": IMG}),
        ("video_outpainting", VideoOutpainting, {"video_url": VIDEO}),
    ],
)
def test_parse_picks_the_type_the_function_names(
    function: str, cls: type[VaceRequest], fields: dict[str, Any]
) -> None:
    request = parse_vace_request({"function": function, **fields})
    assert type(request) is cls
    assert request.function == function
    assert set(FUNCTIONS) >= {function}


def test_parse_refuses_an_unknown_function() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request({"function": "video-synthesis", "video_url": VIDEO})
    assert exc.value.field == "function"
    assert "video_outpainting" in str(exc.value)


def test_parse_needs_a_function() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request({"video_url": VIDEO})
    assert exc.value.field == "function"
    assert "missing" in str(exc.value)


def test_parse_names_flat_fields_flat() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request({"function": "video_outpainting", "video_url": VIDEO, "top_scale": 3})
    assert exc.value.field == "top_scale"


def test_parse_reads_a_dashscope_body_and_names_its_blocks() -> None:
    body = {
        "model": "wan2.1-vace-plus",
        "input": {"function": "video_edit", "video_url": VIDEO, "mask_image_url": MASK},
        "parameters": {"mask_type": "fixed", "expand_ratio": 1.1},
    }
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request(body)
    assert exc.value.field == "parameters.expand_ratio"
    assert str(exc.value).startswith("invalid wan2.1-vace-plus video_edit request: parameters.")


def test_parse_names_a_missing_input_field_in_its_block() -> None:
    body = {"input": {"function": "video_repainting"}, "parameters": {}}
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request(body)
    assert exc.value.field == "input.video_url"


def test_parse_accepts_obj_or_bg_in_the_input_block_as_the_sdk_sends_it() -> None:
    body = {
        "model": "wan2.1-vace-plus",
        "input": {"function": "image_reference", "ref_images_url": [IMG], "obj_or_bg": ["bg"]},
        "parameters": {},
    }
    request = parse_vace_request(body)
    assert isinstance(request, ImageReference)
    assert request.obj_or_bg == ["bg"]


def test_parse_refuses_a_field_given_twice_with_different_values() -> None:
    body = {
        "input": {"function": "image_reference", "ref_images_url": [IMG], "obj_or_bg": ["bg"]},
        "parameters": {"obj_or_bg": ["obj"]},
    }
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request(body)
    assert exc.value.field == "parameters.obj_or_bg"


def test_parse_refuses_a_dashscope_body_with_stray_parts() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request({"input": {"function": "video_outpainting"}, "headers": {}})
    assert exc.value.field == "headers"


def test_parse_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        parse_vace_request(["video_edit"])  # type: ignore[arg-type]
    assert exc.value.field == "request"
