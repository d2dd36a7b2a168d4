"""The vace function modes: each stand-in shows what its function means.

Inputs are flat colours so a pixel away from the marks tells what the renderer did; the
marks sit at the top (caption block) and, when present, the bottom (thumbnails, watermark).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from render_media import close, flat_clip, frame, mask_image, solid_image

from videoedit_emulator.render import (
    Extension,
    ImageReference,
    MaskedEdit,
    Outpaint,
    RenderJob,
    RenderMode,
    Repaint,
    probe_output,
    render,
)
from videoedit_emulator.render.filtergraph import build_command

W, H = 320, 240
CENTER = (160, 150)  # below the caption block, above the bottom marks
GRAY = (128, 128, 128)
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
MAGENTA_OVER_GRAY = (198, 58, 198)  # 55 % magenta over gray
SLATE = (0x3C, 0x5A, 0x78)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("render-modes")
    return {
        "gray": flat_clip(d / "gray.mp4", "gray", 2),
        "red_clip": flat_clip(d / "red.mp4", "red", 1),
        "blue_clip": flat_clip(d / "blue.mp4", "blue", 1),
        "red_then_blue": flat_clip(d / "red-blue.mp4", "red", 0.5, then="blue"),
        "black_then_white": flat_clip(d / "mask.mp4", "black", 1, then="white"),
        "red": solid_image(d / "red.png", "red"),
        "blue": solid_image(d / "blue.jpg", "blue", 90, 160),
        "mask": mask_image(d / "mask.png", W, H, (100, 80, 120, 100)),
    }


def vace_job(
    mode: RenderMode, *, source: Path | None, duration: float = 2, **kw: object
) -> RenderJob:
    fields: dict[str, object] = {
        "width": W,
        "height": H,
        "duration": duration,
        "source": source,
        "audio": "none",
        "watermark": False,
        "caption": "wan2.1-vace-plus · stand-in",
        "prompt": "A dog wearing sunglasses skateboarding, 3D cartoon",
        "mode": mode,
    }
    fields.update(kw)
    return RenderJob(**fields)  # type: ignore[arg-type]


def pixel(path: Path, index: int, at: tuple[int, int] = CENTER) -> tuple[int, int, int]:
    return frame(path, index, W, H).pixel(*at)


# --------------------------------------------------------------------------- shape


@pytest.mark.parametrize(
    "name",
    ["image_reference", "repainting", "masked_edit", "extension", "outpainting"],
)
def test_each_function_gives_a_silent_720p_bounded_mp4_of_the_duration(
    media: dict[str, Path], tmp_path: Path, name: str
) -> None:
    job = {
        "image_reference": vace_job(
            ImageReference(("obj", "bg")),
            source=None,
            images=(media["red"], media["blue"]),
            duration=5,
        ),
        "repainting": vace_job(Repaint("posebodyface", 0.7), source=media["gray"], duration=5),
        "masked_edit": vace_job(
            MaskedEdit(mask_image=media["mask"]), source=media["gray"], duration=5
        ),
        "extension": vace_job(Extension(first_clip=media["red_clip"]), source=None, duration=5),
        "outpainting": vace_job(Outpaint(1.5, 1.5, 1.5, 1.5), source=media["gray"], duration=5),
    }[name]

    result = render(job, tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert (info.codec, info.pix_fmt, info.fps) == ("h264", "yuv420p", 30.0)
    assert (info.width, info.height, info.frames, info.has_audio) == (W, H, 150, False)
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_every_mode_names_itself_on_the_frame(media: dict[str, Path]) -> None:
    modes: list[tuple[RenderMode, str]] = [
        (ImageReference(), "image_reference: 0 reference images"),
        (Repaint("scribble", 0.25), "video_repainting: control scribble"),
        (MaskedEdit(mask_image=media["mask"], mask_type="fixed"), "video_edit: mask image"),
        (Extension(first_clip=media["red_clip"]), "video_extension: first clip carried on to 2 s"),
        (Outpaint(top=1.25), "video_outpainting: top 1.25"),
    ]
    for mode, line in modes:
        command = build_command(
            vace_job(mode, source=None), "o.mp4", ffmpeg="ffmpeg", probe=_unused, threads=1
        )
        assert line in command.text_files["block.txt"]


# --------------------------------------------------------------------------- image_reference


def test_image_reference_shows_the_images_one_after_another(
    media: dict[str, Path], tmp_path: Path
) -> None:
    job = vace_job(ImageReference(("obj", "bg")), source=None, images=(media["red"], media["blue"]))

    result = render(job, tmp_path / "out.mp4")

    assert close(pixel(result.path, 0, (160, 100)), (255, 0, 0))
    assert close(pixel(result.path, 59, (160, 100)), (0, 0, 255))


def test_image_reference_labels_each_image_with_its_tag(media: dict[str, Path]) -> None:
    job = vace_job(ImageReference(("obj", "bg")), source=None, images=(media["red"], media["blue"]))

    command = build_command(job, "o.mp4", ffmpeg="ffmpeg", probe=_unused, threads=1)

    assert command.text_files["segment0.txt"] == "reference 1/2 · obj"
    assert command.text_files["segment1.txt"] == "reference 2/2 · bg"


def test_image_reference_without_images_is_the_test_pattern(tmp_path: Path) -> None:
    result = render(vace_job(ImageReference(), source=None), tmp_path / "out.mp4")

    assert probe_output(result.path).frames == 60


# --------------------------------------------------------------------------- repainting


@pytest.mark.parametrize(
    ("condition", "strength", "expected"),
    [
        ("posebody", 1.0, BLACK),  # edges of a flat frame: none
        ("posebodyface", 1.0, BLACK),
        ("scribble", 1.0, WHITE),  # dark lines on white
        ("depth", 1.0, GRAY),  # blurred grayscale of gray
        ("posebody", 0.5, (64, 64, 64)),  # half control picture, half original
        ("scribble", 0.0, GRAY),  # no control at all: the original
    ],
)
def test_repainting_shows_the_control_picture_weighted_by_strength(
    media: dict[str, Path],
    tmp_path: Path,
    condition: str,
    strength: float,
    expected: tuple[int, int, int],
) -> None:
    job = vace_job(Repaint(condition, strength), source=media["gray"], duration=0.5)  # type: ignore[arg-type]

    result = render(job, tmp_path / "out.mp4")

    assert close(pixel(result.path, 7), expected)


def test_repainting_draws_the_edges_of_the_picture(tmp_path: Path) -> None:
    split = _split_clip(tmp_path / "split.mp4")  # black left half, white right half

    result = render(vace_job(Repaint("posebody"), source=split), tmp_path / "out.mp4")

    row = [pixel(result.path, 0, (x, 150))[0] for x in range(140, 180)]
    assert max(row[15:25]) > 150  # a white line where black meets white, at x = 160
    assert max(row[:10] + row[30:]) < 40  # flat areas on either side have no edges


# --------------------------------------------------------------------------- masked edit


def test_masked_edit_paints_the_mask_region_and_leaves_the_rest(
    media: dict[str, Path], tmp_path: Path
) -> None:
    job = vace_job(MaskedEdit(mask_image=media["mask"], expand_ratio=0), source=media["gray"])

    result = render(job, tmp_path / "out.mp4")

    for index in (0, 59):  # the region is shown on every frame
        assert close(pixel(result.path, index, (160, 130)), MAGENTA_OVER_GRAY)
        assert close(pixel(result.path, index, (40, 200)), GRAY)
        assert close(pixel(result.path, index, (95, 130)), GRAY)


def test_tracking_grows_the_region_by_the_expand_ratio(
    media: dict[str, Path], tmp_path: Path
) -> None:
    tracking = vace_job(
        MaskedEdit(mask_image=media["mask"], expand_ratio=0.1), source=media["gray"]
    )
    fixed = vace_job(
        MaskedEdit(mask_image=media["mask"], mask_type="fixed", expand_ratio=0.1),
        source=media["gray"],
    )

    grown = render(tracking, tmp_path / "tracking.mp4")
    kept = render(fixed, tmp_path / "fixed.mp4")

    outside_the_mask = (90, 130)  # 10 px left of it; 0.1 x 240 px = 24 px of growth
    assert close(pixel(grown.path, 0, outside_the_mask), MAGENTA_OVER_GRAY)
    assert close(pixel(kept.path, 0, outside_the_mask), GRAY)


def test_a_mask_video_moves_with_time_and_its_last_frame_holds(
    media: dict[str, Path], tmp_path: Path
) -> None:
    job = vace_job(
        MaskedEdit(mask_video=media["black_then_white"]), source=media["gray"], duration=3
    )

    result = render(job, tmp_path / "out.mp4")

    assert close(pixel(result.path, 10), GRAY, tol=4)  # mask black: nothing to edit
    assert close(pixel(result.path, 45), MAGENTA_OVER_GRAY)  # mask white
    assert close(pixel(result.path, 80), MAGENTA_OVER_GRAY)  # mask over: last frame held


# --------------------------------------------------------------------------- extension


def test_extension_carries_the_first_clip_on(media: dict[str, Path], tmp_path: Path) -> None:
    result = render(
        vace_job(Extension(first_clip=media["red_clip"]), source=None), tmp_path / "o.mp4"
    )

    assert close(pixel(result.path, 0), (255, 0, 0))
    assert frame(result.path, 59, W, H).rgb == frame(result.path, 35, W, H).rgb


def test_extension_holds_the_last_clip_s_first_frame_before_it(
    media: dict[str, Path], tmp_path: Path
) -> None:
    job = vace_job(Extension(last_clip=media["red_then_blue"]), source=None)

    result = render(job, tmp_path / "out.mp4")

    assert close(pixel(result.path, 0), (255, 0, 0))  # held first frame of the clip
    assert close(pixel(result.path, 59), (0, 0, 255))  # the clip ends the output


def test_extension_joins_a_first_and_a_last_clip(media: dict[str, Path], tmp_path: Path) -> None:
    job = vace_job(
        Extension(first_clip=media["red_clip"], last_clip=media["blue_clip"]),
        source=None,
        duration=3,
    )

    result = render(job, tmp_path / "out.mp4")

    assert probe_output(result.path).frames == 90
    assert close(pixel(result.path, 0), (255, 0, 0))
    assert close(pixel(result.path, 55), (255, 0, 0))  # first clip carried on
    assert close(pixel(result.path, 65), (0, 0, 255))  # the last second is the last clip


def test_extension_between_two_frames_holds_each_for_half(
    media: dict[str, Path], tmp_path: Path
) -> None:
    job = vace_job(Extension(first_frame=media["red"], last_frame=media["blue"]), source=None)

    result = render(job, tmp_path / "out.mp4")

    assert close(pixel(result.path, 29), (255, 0, 0))
    assert close(pixel(result.path, 30), (0, 0, 255))


def test_extension_without_inputs_is_the_test_pattern(tmp_path: Path) -> None:
    command = build_command(
        vace_job(Extension(), source=None), "o.mp4", ffmpeg="ffmpeg", probe=_unused, threads=1
    )

    assert "testsrc2=" in command.argv[command.argv.index("-filter_complex") + 1]
    assert "test pattern" in command.text_files["block.txt"]


def test_extension_refuses_a_clip_and_a_frame_at_the_same_end(media: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="first_clip or first_frame, not both"):
        Extension(first_clip=media["red_clip"], first_frame=media["red"])


# --------------------------------------------------------------------------- outpainting


def test_outpainting_pads_each_side_by_its_scale_then_fits(
    media: dict[str, Path], tmp_path: Path
) -> None:
    # left=2.0 doubles the width: a 640x240 picture fitted into 320x240 (letterboxed)
    result = render(vace_job(Outpaint(left=2.0), source=media["gray"]), tmp_path / "out.mp4")

    assert close(pixel(result.path, 0, (80, 120)), SLATE)  # painted area, left
    assert close(pixel(result.path, 0, (240, 120)), GRAY)  # the source, right
    assert close(pixel(result.path, 0, (160, 200)), BLACK)  # letterbox below


def test_outpainting_without_a_source_pads_the_test_pattern(tmp_path: Path) -> None:
    result = render(vace_job(Outpaint(top=2.0, bottom=2.0), source=None), tmp_path / "out.mp4")

    assert close(pixel(result.path, 0, (160, 225)), SLATE)
    assert (probe_output(result.path).width, probe_output(result.path).height) == (W, H)


# --------------------------------------------------------------------------- helpers


def _split_clip(path: Path) -> Path:
    """Left half black, right half white: one vertical edge at x=160."""
    from render_media import ffmpeg

    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"color=c=black:s={W}x{H}:r=30:d=0.5,drawbox=x={W // 2}:y=0:w={W // 2}:h={H}:color=white:t=fill",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def _unused(path: Path, name: str) -> object:
    raise AssertionError(f"no input should be probed, got {name}={path}")
