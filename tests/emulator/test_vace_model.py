"""The emulator's server-side rules for wan2.1-vace-plus, checked on the handler itself.

Each rule is refused with a wire-neutral ApiError of kind invalid_parameter, reason
invalid_value (which DashScope words InvalidParameter), whose detail starts with the field. End-to-end behaviour through
HTTP lives in test_vace_e2e.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from videoedit.probe import probe_video
from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.models import default_registry
from videoedit_emulator.engine.models.base import JobPlan, ResolvedMedia
from videoedit_emulator.engine.models.vace import KNOWN_SIZES, VaceLimits, VacePlus, fit_720p
from videoedit_emulator.render import (
    Extension,
    ImageReference,
    MaskedEdit,
    Outpaint,
    Repaint,
    Restyle,
    make_sample_clip,
)
from videoedit_emulator.web.adapters.dashscope_errors import code_of, message_of

SG, BJ = "wan2.1-vace-plus", "wanx2.1-vace-plus"
IMG = "https://example.com/ref.png"
VIDEO = "https://example.com/in.mp4"


def validate(
    input: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    handler: VacePlus | None = None,
) -> JobPlan:
    return (handler or VacePlus()).validate(SG, input, parameters or {}, "singapore")


def refused(
    input: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    handler: VacePlus | None = None,
) -> ApiError:
    with pytest.raises(ApiError) as exc:
        validate(input, parameters, handler)
    error = exc.value
    assert error.kind is ErrorKind.INVALID_PARAMETER
    assert (error.reason, error.code) == (Reason.INVALID_VALUE, None)
    assert error.status == 400
    assert error.field is not None
    assert error.detail.startswith(error.field)
    return error


# -- media on disk -----------------------------------------------------------------------------
def _image(path: Path, size: str = "64x48") -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", f"color=c=orange:s={size}", "-frames:v", "1", "-y", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vace-model")
    mov = folder / "clip.mov"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", "testsrc=size=160x120:rate=30:duration=1", "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", "-f", "mov", "-y", str(mov)],
        check=True,
    )  # fmt: skip
    return {
        "2s": make_sample_clip(folder / "two.mp4", 2, 320, 240, audio=False),
        "4s": make_sample_clip(folder / "four.mp4", 4, 320, 240, audio=False),
        "6s": make_sample_clip(folder / "six.mp4", 6, 160, 120, audio=False),
        "hd": make_sample_clip(folder / "hd.mp4", 1, 1920, 1080, audio=False),
        "portrait": make_sample_clip(folder / "portrait.mp4", 1, 240, 320, audio=False),
        "mov": mov,
        "png": _image(folder / "ref.png"),
        "png2": _image(folder / "bg.png"),
        "not_image": folder / "fake.png",
    }


def resolved(
    plan: JobPlan, files: Mapping[str, Path], **paths: str | None
) -> dict[str, ResolvedMedia]:
    """Resolve the plan's media: ``paths`` maps a field to a key of ``files`` (None: not fetched)."""
    out = {}
    for item in plan.media:
        key = paths.get(item.field)
        if key is None:
            out[item.field] = ResolvedMedia(
                item.field, item.url, item.kind, None, note=f"{item.field} not fetched"
            )
            continue
        path = files[key]
        info = probe_video(path) if item.kind == "video" else None
        out[item.field] = ResolvedMedia(
            item.field, item.url, item.kind, path, path.stat().st_size, info
        )
    return out


# -- registry and regions ----------------------------------------------------------------------
@pytest.mark.parametrize(("model", "region"), [(BJ, "beijing"), (SG, "beijing"), (SG, "singapore")])
def test_beijing_serves_both_spellings_and_singapore_its_own(model: str, region: str) -> None:
    assert isinstance(default_registry().lookup(model, region), VacePlus)


def test_the_wanx_id_is_a_model_that_does_not_exist_in_singapore() -> None:
    with pytest.raises(ApiError) as exc:
        default_registry().lookup(BJ, "singapore")
    assert (exc.value.reason, exc.value.status, exc.value.field) == (
        Reason.UNKNOWN_MODEL,
        400,
        "model",
    )
    assert (code_of(exc.value), message_of(exc.value)[:17]) == (
        "InvalidParameter",
        "Model not exist. ",
    )


# -- function and common fields ----------------------------------------------------------------
def test_function_is_required() -> None:
    error = refused({"video_url": VIDEO})
    assert error.field == "input.function"
    assert "it is missing" in error.message


def test_the_sdks_default_function_is_not_a_vace_mode() -> None:
    error = refused({"function": "video-synthesis", "video_url": VIDEO})
    assert error.field == "input.function"
    assert "image_reference" in error.message


def test_a_field_of_another_function_is_refused() -> None:
    error = refused({"function": "video_outpainting", "video_url": VIDEO}, {"strength": 0.5})
    assert error.field == "parameters.strength"
    assert "video_outpainting" in error.message


def test_the_sdks_extend_prompt_and_a_null_prompt_are_tolerated() -> None:
    plan = validate(
        {"function": "video_outpainting", "video_url": VIDEO, "prompt": None, "extend_prompt": True}
    )
    assert plan.prompt is None


@pytest.mark.parametrize("seed", [-1, 2_147_483_648, True, "7"])
def test_seed_is_an_integer_in_range(seed: Any) -> None:
    error = refused({"function": "video_outpainting", "video_url": VIDEO}, {"seed": seed})
    assert error.field == "parameters.seed"


def test_prompt_extend_is_a_boolean() -> None:
    error = refused({"function": "video_outpainting", "video_url": VIDEO}, {"prompt_extend": "no"})
    assert error.field == "parameters.prompt_extend"


@pytest.mark.parametrize("url", ["ftp://x.test/in.mp4", "data:video/mp4;base64,AAAA", ""])
def test_a_video_is_an_http_or_oss_url(url: str) -> None:
    error = refused({"function": "video_repainting", "video_url": url})
    assert error.field == "input.video_url"


# -- image_reference ---------------------------------------------------------------------------
def test_image_reference_needs_its_images() -> None:
    assert refused({"function": "image_reference"}).field == "input.ref_images_url"
    assert refused({"function": "image_reference", "ref_images_url": []}).field == (
        "input.ref_images_url"
    )
    assert refused({"function": "image_reference", "ref_images_url": IMG}).field == (
        "input.ref_images_url"
    )


@pytest.mark.parametrize("block", ["input", "parameters"])
def test_obj_or_bg_is_read_from_either_block(block: str) -> None:
    input: dict[str, Any] = {"function": "image_reference", "ref_images_url": [IMG, IMG]}
    parameters: dict[str, Any] = {}
    (input if block == "input" else parameters)["obj_or_bg"] = ["obj", "bg"]
    assert validate(input, parameters).parameters["obj_or_bg"] == ("obj", "bg")


def test_obj_or_bg_has_one_tag_per_image() -> None:
    error = refused(
        {"function": "image_reference", "ref_images_url": [IMG, IMG]}, {"obj_or_bg": ["obj"]}
    )
    assert error.field == "parameters.obj_or_bg"
    assert "(2), got 1" in error.message


def test_obj_or_bg_tags_are_obj_or_bg() -> None:
    error = refused(
        {"function": "image_reference", "ref_images_url": [IMG], "obj_or_bg": ["background"]}
    )
    assert error.field == "input.obj_or_bg[0]"


def test_obj_or_bg_given_twice_must_agree() -> None:
    error = refused(
        {"function": "image_reference", "ref_images_url": [IMG], "obj_or_bg": ["obj"]},
        {"obj_or_bg": ["bg"]},
    )
    assert error.field == "parameters.obj_or_bg"


def test_images_beyond_the_third_are_ignored_as_documented() -> None:
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG] * 5},
        {"obj_or_bg": ["obj", "obj", "bg", "obj", "obj"]},
    )
    assert [m.field for m in plan.media] == [f"input.ref_images_url[{i}]" for i in range(3)]
    assert plan.parameters["obj_or_bg"] == ("obj", "obj", "bg")
    assert "only the first 3 are used" in plan.input["notes"][0]


@pytest.mark.parametrize("size", ["1280x720", "720P", "1920*1080", "1281*720", "8*8"])
def test_size_is_a_width_star_height_of_at_most_720p(size: str) -> None:
    error = refused(
        {"function": "image_reference", "ref_images_url": [IMG]},
        {"obj_or_bg": ["obj"], "size": size},
    )
    assert error.field == "parameters.size"


def test_an_undocumented_720p_size_is_accepted_by_default() -> None:
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG]},
        {"obj_or_bg": ["obj"], "size": "1024*576"},
    )
    assert plan.parameters["size"] == (1024, 576)


def test_an_odd_size_is_rendered_a_pixel_smaller_and_said_so(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG]},
        {"obj_or_bg": ["obj"], "size": "641*481"},
    )
    render = VacePlus().prepare(plan, resolved(plan, files, **{"input.ref_images_url[0]": "png"}))
    assert (render.job.width, render.job.height) == (640, 480)
    assert any("rendered at 640*480" in note for note in render.notes)


def test_sizes_can_be_restricted_to_the_documented_list() -> None:
    strict = VacePlus(sizes=KNOWN_SIZES)
    error = refused(
        {"function": "image_reference", "ref_images_url": [IMG]},
        {"obj_or_bg": ["obj"], "size": "1024*576"},
        strict,
    )
    assert error.field == "parameters.size"
    assert "832*1088" in error.message


def test_image_reference_renders_the_images_with_their_tags(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG, IMG]},
        {"obj_or_bg": ["obj", "bg"], "size": "960*960"},
    )
    media = resolved(
        plan,
        files,
        **{"input.ref_images_url[0]": "png", "input.ref_images_url[1]": "png2"},
    )
    render = VacePlus().prepare(plan, media)
    job = render.job
    assert (job.width, job.height, job.duration, job.audio) == (960, 960, 5.0, "none")
    assert job.images == (files["png"], files["png2"])
    assert job.mode == ImageReference(obj_or_bg=("obj", "bg"))
    assert render.usage_style == "vace"
    assert render.input_seconds is None
    assert render.output_extras == {"task_metrics": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}}


def test_an_image_that_was_not_fetched_is_left_out_with_its_tag(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG, IMG]}, {"obj_or_bg": ["obj", "bg"]}
    )
    render = VacePlus().prepare(plan, resolved(plan, files, **{"input.ref_images_url[1]": "png"}))
    assert render.job.images == (files["png"],)
    assert render.job.mode == ImageReference(obj_or_bg=("bg",))
    assert (render.job.width, render.job.height) == (1280, 720)
    assert "input.ref_images_url[0] not fetched" in render.notes


def test_bytes_that_are_not_an_image_are_refused(files: dict[str, Path]) -> None:
    files["not_image"].write_bytes(b"<html>not an image</html>")
    plan = validate(
        {"function": "image_reference", "ref_images_url": [IMG]}, {"obj_or_bg": ["obj"]}
    )
    with pytest.raises(ApiError) as exc:
        VacePlus().prepare(plan, resolved(plan, files, **{"input.ref_images_url[0]": "not_image"}))
    assert exc.value.field == "input.ref_images_url[0]"


# -- video_repainting --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"control_condition": "canny"}, "parameters.control_condition"),
        ({"strength": 1.5}, "parameters.strength"),
        ({"strength": -0.1}, "parameters.strength"),
        ({"strength": "1"}, "parameters.strength"),
    ],
)
def test_repainting_parameters(parameters: dict[str, Any], field: str) -> None:
    assert refused({"function": "video_repainting", "video_url": VIDEO}, parameters).field == field


def test_repainting_needs_a_video() -> None:
    assert refused({"function": "video_repainting"}).field == "input.video_url"


def test_repainting_takes_one_reference_image_at_most() -> None:
    error = refused(
        {"function": "video_repainting", "video_url": VIDEO, "ref_images_url": [IMG, IMG]}
    )
    assert error.field == "input.ref_images_url"


def test_repainting_renders_the_input_under_its_control_filter(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "video_repainting", "video_url": VIDEO},
        {"control_condition": "scribble", "strength": 0.6},
    )
    job = VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": "2s"})).job
    assert job.mode == Repaint(control_condition="scribble", strength=0.6)
    assert (job.source, job.width, job.height, job.duration) == (files["2s"], 320, 240, 2.0)


def test_repainting_scales_an_input_above_720p_down_to_720p(files: dict[str, Path]) -> None:
    plan = validate({"function": "video_repainting", "video_url": VIDEO})
    job = VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": "hd"})).job
    assert (job.width, job.height) == (1280, 720)
    assert job.mode == Repaint(control_condition="depth", strength=1.0)


@pytest.mark.parametrize(("key", "words"), [("6s", "at most 5 s"), ("mov", "takes MP4")])
def test_repainting_refuses_a_long_or_quicktime_video(
    files: dict[str, Path], key: str, words: str
) -> None:
    plan = validate({"function": "video_repainting", "video_url": VIDEO})
    with pytest.raises(ApiError) as exc:
        VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": key}))
    assert exc.value.field == "input.video_url"
    assert words in exc.value.message


def test_repainting_refuses_a_video_over_fifty_megabytes(files: dict[str, Path]) -> None:
    plan = validate({"function": "video_repainting", "video_url": VIDEO})
    media = resolved(plan, files, **{"input.video_url": "2s"})
    big = media["input.video_url"]
    media["input.video_url"] = ResolvedMedia(
        big.field, big.url, big.kind, big.path, 50 * 2**20 + 1, big.info
    )
    with pytest.raises(ApiError) as exc:
        VacePlus().prepare(plan, media)
    assert "at most 50 MB" in exc.value.message


# -- video_edit --------------------------------------------------------------------------------
EDIT = {"function": "video_edit", "video_url": VIDEO}


@pytest.mark.parametrize(
    ("input", "parameters", "field"),
    [
        ({}, {}, "input.mask_image_url"),
        ({"mask_image_url": IMG, "mask_video_url": VIDEO}, {}, "input.mask_video_url"),
        ({"mask_video_url": VIDEO, "mask_frame_id": 2}, {}, "input.mask_frame_id"),
        ({"mask_image_url": IMG, "mask_frame_id": 0}, {}, "input.mask_frame_id"),
        ({"mask_image_url": IMG, "mask_frame_id": 1.5}, {}, "input.mask_frame_id"),
        ({"mask_image_url": IMG}, {"mask_type": "follow"}, "parameters.mask_type"),
        ({"mask_image_url": IMG}, {"expand_ratio": 1.2}, "parameters.expand_ratio"),
        (
            {"mask_image_url": IMG},
            {"mask_type": "fixed", "expand_ratio": -0.1},
            "parameters.expand_ratio",
        ),
        ({"mask_image_url": IMG, "ref_images_url": "x"}, {}, "input.ref_images_url"),
    ],
)
def test_masked_edit_rules(input: dict[str, Any], parameters: dict[str, Any], field: str) -> None:
    assert refused({**EDIT, **input}, parameters).field == field


def test_masked_edit_paints_the_mask_region(files: dict[str, Path]) -> None:
    plan = validate(
        {**EDIT, "mask_image_url": IMG, "mask_frame_id": 3},
        {"mask_type": "tracking", "expand_ratio": 0.2, "size": "1280*720"},
    )
    media = resolved(plan, files, **{"input.video_url": "2s", "input.mask_image_url": "png"})
    job = VacePlus().prepare(plan, media).job
    assert job.mode == MaskedEdit(
        mask_image=files["png"], mask_type="tracking", expand_ratio=0.2, mask_frame_id=3
    )
    assert (job.width, job.height, job.duration) == (1280, 720, 2.0)


def test_masked_edit_without_a_size_takes_the_documented_size_nearest_the_input(
    files: dict[str, Path],
) -> None:
    plan = validate({**EDIT, "mask_video_url": VIDEO}, {"mask_type": "fixed"})
    media = resolved(
        plan, files, **{"input.video_url": "portrait", "input.mask_video_url": "portrait"}
    )
    job = VacePlus().prepare(plan, media).job
    assert (job.width, job.height) == (832, 1088)
    assert job.mode == MaskedEdit(
        mask_video=files["portrait"], mask_type="fixed", expand_ratio=0.05
    )


def test_a_mask_frame_beyond_the_video_is_refused(files: dict[str, Path]) -> None:
    plan = validate({**EDIT, "mask_image_url": IMG, "mask_frame_id": 61})
    media = resolved(plan, files, **{"input.video_url": "2s", "input.mask_image_url": "png"})
    with pytest.raises(ApiError) as exc:
        VacePlus().prepare(plan, media)
    assert exc.value.field == "input.mask_frame_id"
    assert "60 frames" in exc.value.message


def test_a_mask_that_was_not_fetched_is_said_in_the_notes(files: dict[str, Path]) -> None:
    plan = validate({**EDIT, "mask_image_url": IMG})
    render = VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": "2s"}))
    assert render.job.mode == Restyle()
    assert any("cannot show the edited region" in n for n in render.notes)


# -- video_extension ---------------------------------------------------------------------------
def test_extension_needs_a_prompt() -> None:
    error = refused({"function": "video_extension", "first_clip_url": VIDEO})
    assert error.field == "input.prompt"
    error = refused({"function": "video_extension", "prompt": "  ", "first_clip_url": VIDEO})
    assert error.field == "input.prompt"


def test_extension_needs_a_clip_or_a_frame() -> None:
    error = refused({"function": "video_extension", "prompt": "go on"})
    assert error.field == "input.first_clip_url"
    assert "input.last_frame_url" in error.message


def test_extension_carries_the_clip_on_to_five_seconds(files: dict[str, Path]) -> None:
    plan = validate(
        {
            "function": "video_extension",
            "prompt": "go on",
            "first_clip_url": VIDEO,
            "last_frame_url": IMG,
        }
    )
    media = resolved(plan, files, **{"input.first_clip_url": "2s", "input.last_frame_url": "png"})
    job = VacePlus().prepare(plan, media).job
    assert job.mode == Extension(first_clip=files["2s"], last_frame=files["png"])
    assert (job.width, job.height, job.duration, job.source) == (320, 240, 5.0, None)


def test_extension_refuses_a_clip_over_three_seconds(files: dict[str, Path]) -> None:
    plan = validate({"function": "video_extension", "prompt": "go on", "last_clip_url": VIDEO})
    with pytest.raises(ApiError) as exc:
        VacePlus().prepare(plan, resolved(plan, files, **{"input.last_clip_url": "4s"}))
    assert exc.value.field == "input.last_clip_url"
    assert "at most 3 s" in exc.value.message


def test_extension_prefers_a_clip_to_a_frame_at_the_same_end(files: dict[str, Path]) -> None:
    plan = validate(
        {
            "function": "video_extension",
            "prompt": "go on",
            "first_clip_url": VIDEO,
            "first_frame_url": IMG,
        }
    )
    media = resolved(plan, files, **{"input.first_clip_url": "2s", "input.first_frame_url": "png"})
    render = VacePlus().prepare(plan, media)
    assert render.job.mode == Extension(first_clip=files["2s"])
    assert any("uses the clip" in n for n in render.notes)


# -- video_outpainting -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["top_scale", "bottom_scale", "left_scale", "right_scale"])
@pytest.mark.parametrize("value", [0.5, 2.5, True])
def test_each_scale_is_within_one_and_two(name: str, value: Any) -> None:
    error = refused({"function": "video_outpainting", "video_url": VIDEO}, {name: value})
    assert error.field == f"parameters.{name}"


def test_outpainting_pads_the_frame_by_the_scales(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "video_outpainting", "video_url": VIDEO}, {"left_scale": 1.5, "top_scale": 2.0}
    )
    job = VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": "2s"})).job
    assert job.mode == Outpaint(top=2.0, left=1.5)
    assert (job.width, job.height, job.duration) == (480, 480, 2.0)


def test_outpainting_output_is_fitted_to_720p(files: dict[str, Path]) -> None:
    plan = validate(
        {"function": "video_outpainting", "video_url": VIDEO},
        {"left_scale": 2.0, "right_scale": 2.0, "top_scale": 2.0, "bottom_scale": 2.0},
    )
    job = VacePlus().prepare(plan, resolved(plan, files, **{"input.video_url": "hd"})).job
    assert (job.width, job.height) == (1280, 720)


def test_an_unfetched_video_stands_in_as_a_five_second_720p_pattern(files: dict[str, Path]) -> None:
    plan = validate({"function": "video_outpainting", "video_url": VIDEO})
    render = VacePlus().prepare(plan, resolved(plan, files))
    assert (render.job.width, render.job.height, render.job.duration) == (1280, 720, 5.0)
    assert render.job.source is None
    assert "input.video_url not fetched" in render.notes


# -- helpers and knobs -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((320, 240), (320, 240)),
        ((1920, 1080), (1280, 720)),
        ((960, 960), (960, 960)),
        ((2000, 2000), (960, 960)),
    ],
)
def test_fit_720p_scales_down_to_the_area_of_1280_by_720(
    size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert fit_720p(*size) == fitted


def test_limits_default_to_the_documented_two_and_two() -> None:
    assert VacePlus().limits == VaceLimits(submissions_per_second=2, concurrent=2)


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_limits_must_be_positive_integers(value: Any) -> None:
    with pytest.raises(ValueError, match="VaceLimits"):
        VaceLimits(concurrent=value)
