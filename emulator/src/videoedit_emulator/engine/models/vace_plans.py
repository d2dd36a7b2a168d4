"""The second step of ``wan2.1-vace-plus``: what only the files can tell, and the render plan.

One planner per function (`PLANNERS`), called by `VacePlus.prepare` once the engine has
resolved the media: every video an mp4 or mov, the repainting video an MP4 of at most 50 MB
and 5 s, extension clips of at most 3 s, a mask frame within the video, images that are what
their bytes say; and the output's size and length, which follow the input up to 720P and 5 s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from videoedit_emulator.engine.errors import ApiError
from videoedit_emulator.engine.models.base import ResolvedMedia
from videoedit_emulator.engine.models.vace_facts import (
    FPS,
    IMAGE_MAGIC,
    KNOWN_SIZES,
    MAX_CLIP_SECONDS,
    MAX_OUTPUT_SECONDS,
    MAX_REPAINT_BYTES,
    MAX_REPAINT_SECONDS,
    SLACK,
    closest_size,
    fit_720p,
    output_size,
)

__all__ = ["PLANNERS", "Planner", "check_image"]

#: (the request's parameters, the resolved media by role, the notes to add to) -> RenderJob fields.
Planner = Callable[
    [Mapping[str, Any], Mapping[str, list[ResolvedMedia]], list[str]], dict[str, Any]
]


def plan_image_reference(
    params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
) -> dict[str, Any]:
    from videoedit_emulator.render import ImageReference

    refs = by_role.get("reference_image", [])
    tags = tuple(params["obj_or_bg"])
    fetched = [i for i, ref in enumerate(refs) if ref.path is not None]
    width, height = output_size(params["size"] or KNOWN_SIZES["1280*720"], notes)
    return {
        "width": width,
        "height": height,
        "duration": MAX_OUTPUT_SECONDS,
        "source": None,
        "images": tuple(refs[i].path for i in fetched if refs[i].path is not None),
        # the tags of the images shown (untagged requests show none)
        "mode": ImageReference(obj_or_bg=tuple(tags[i] for i in fetched) if tags else ()),
    }


def plan_video_repainting(
    params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
) -> dict[str, Any]:
    from videoedit_emulator.render import ControlCondition, Repaint

    video = by_role["video"][0]
    if video.path is not None:
        if video.size > MAX_REPAINT_BYTES:
            raise ApiError.invalid(
                video.field,
                f"is {video.size / 2**20:.1f} MB; video_repainting takes at most 50 MB",
            )
        if _is_quicktime(video.path):
            raise ApiError.invalid(
                video.field, "is a QuickTime (mov) file; video_repainting takes MP4"
            )
    if video.info is not None and video.info.duration > MAX_REPAINT_SECONDS + SLACK:
        raise ApiError.invalid(
            video.field,
            f"lasts {video.info.duration:.2f} s; video_repainting takes at most 5 s",
        )
    images = tuple(r.path for r in by_role.get("reference_image", []) if r.path is not None)
    condition: ControlCondition = params["control_condition"] or "depth"
    if params["control_condition"] is None:
        notes.append("parameters.control_condition not given: the stand-in shows depth")
    return {
        **_follow_input(video),
        "images": images,
        "mode": Repaint(control_condition=condition, strength=float(params["strength"])),
    }


def plan_video_edit(
    params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
) -> dict[str, Any]:
    from videoedit_emulator.render import MaskedEdit, Restyle

    video = by_role["video"][0]
    mask_image = _first(by_role, "mask_image")
    mask_video = _first(by_role, "mask_video")
    frame = int(params["mask_frame_id"])
    if video.info is not None and mask_image is not None:
        frames = max(1, round(video.info.duration * (video.info.fps or FPS)))
        if frame > frames:
            raise ApiError.invalid(
                "input.mask_frame_id", f"is {frame}, beyond the video's {frames} frames"
            )
    if params["size"] is not None:
        width, height = output_size(params["size"], notes)
    elif video.info is not None:
        width, height = closest_size(video.info.width, video.info.height)
    else:
        width, height = KNOWN_SIZES["1280*720"]
    mask_path = mask_image.path if mask_image else None
    mask_video_path = mask_video.path if mask_video else None
    if mask_path is None and mask_video_path is None:
        mode: Any = Restyle()
        notes.append("the mask was not fetched: the stand-in cannot show the edited region")
    else:
        mode = MaskedEdit(
            mask_image=mask_path,
            mask_video=mask_video_path,
            mask_type=params["mask_type"],
            expand_ratio=float(params["expand_ratio"]),
            mask_frame_id=frame,
        )
    images = tuple(r.path for r in by_role.get("reference_image", []) if r.path is not None)
    return {
        "width": width,
        "height": height,
        "duration": _output_seconds(video),
        "source": video.path,
        "source_note": video.note,
        "images": images,
        "mode": mode,
    }


def plan_video_extension(
    params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
) -> dict[str, Any]:
    from videoedit_emulator.render import Extension

    def one(role: str) -> ResolvedMedia | None:
        return _first(by_role, role)

    for role in ("first_clip", "last_clip"):
        clip = one(role)
        if (
            clip is not None
            and clip.info is not None
            and clip.info.duration > MAX_CLIP_SECONDS + SLACK
        ):
            raise ApiError.invalid(
                clip.field,
                f"lasts {clip.info.duration:.2f} s; a clip to extend may last at most 3 s",
            )
    paths: dict[str, Path | None] = {}
    for role in ("first_clip", "last_clip", "first_frame", "last_frame"):
        found = one(role)
        paths[role] = found.path if found is not None else None
    for end in ("first", "last"):
        if paths[f"{end}_clip"] is not None and paths[f"{end}_frame"] is not None:
            notes.append(
                f"input.{end}_frame_url: a {end} clip was given too; the stand-in uses the clip"
            )
            paths[f"{end}_frame"] = None
    shaped = next(
        (
            m
            for role in ("first_clip", "last_clip")
            if (m := one(role)) is not None and m.info is not None
        ),
        None,
    )
    width, height = (
        fit_720p(shaped.info.width, shaped.info.height) if shaped and shaped.info else (1280, 720)
    )
    return {
        "width": width,
        "height": height,
        "duration": MAX_OUTPUT_SECONDS,
        "source": None,
        "mode": Extension(**paths),
    }


def plan_video_outpainting(
    params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
) -> dict[str, Any]:
    from videoedit_emulator.render import Outpaint

    video = by_role["video"][0]
    in_w, in_h = (video.info.width, video.info.height) if video.info else (1280, 720)
    padded_w = in_w * (params["left_scale"] + params["right_scale"] - 1)
    padded_h = in_h * (params["top_scale"] + params["bottom_scale"] - 1)
    width, height = fit_720p(padded_w, padded_h)
    return {
        "width": width,
        "height": height,
        "duration": _output_seconds(video),
        "source": video.path,
        "source_note": video.note,
        "fit": "contain",
        "mode": Outpaint(
            top=params["top_scale"],
            bottom=params["bottom_scale"],
            left=params["left_scale"],
            right=params["right_scale"],
        ),
    }


#: The planner of each function.
PLANNERS: Mapping[str, Planner] = {
    "image_reference": plan_image_reference,
    "video_repainting": plan_video_repainting,
    "video_edit": plan_video_edit,
    "video_extension": plan_video_extension,
    "video_outpainting": plan_video_outpainting,
}


def _first(by_role: Mapping[str, list[ResolvedMedia]], role: str) -> ResolvedMedia | None:
    found = by_role.get(role)
    return found[0] if found else None


def check_image(image: ResolvedMedia) -> None:
    assert image.path is not None
    with open(image.path, "rb") as handle:
        head = handle.read(16)
    if _image_format(head) is None:
        raise ApiError.invalid(
            image.field, "is not a JPEG, PNG, BMP or WEBP image (its bytes say otherwise)"
        )


def _output_seconds(video: ResolvedMedia) -> float:
    """The input's length, at most 5 s (5 s for a test pattern)."""
    if video.info is None:
        return MAX_OUTPUT_SECONDS
    return min(MAX_OUTPUT_SECONDS, max(1 / FPS, round(video.info.duration, 3)))


def _follow_input(video: ResolvedMedia) -> dict[str, Any]:
    """Size and length that follow the input up to 720P and 5 s (repainting, outpainting)."""
    width, height = fit_720p(video.info.width, video.info.height) if video.info else (1280, 720)
    return {
        "width": width,
        "height": height,
        "duration": _output_seconds(video),
        "source": video.path,
        "source_note": video.note,
    }


def _image_format(head: bytes) -> str | None:
    for magic, name in IMAGE_MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _is_quicktime(path: Path) -> bool:
    """A ``.mov`` file: its ``ftyp`` box names the QuickTime brand (ffmpeg calls both "mov,mp4")."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return head[4:8] == b"ftyp" and head[8:12] == b"qt  "
