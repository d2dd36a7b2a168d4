"""Server-side rules of ``wan2.1-vace-plus`` (also ``wanx2.1-vace-plus`` in Beijing), API-FACTS §3.

Independent of the client's request models on purpose (see ``models/base.py``): this is the
service's side of the contract, written from the documentation, so a client that builds a
wrong body meets the service's 400 here as it would in production.

The five modes are chosen by ``input.function``. Static rules (types, counts, enums, ranges,
which fields a function takes, the pairings of mask fields) are checked by
`VacePlus.validate`; rules about the files (every video is an mp4 or mov, the
repainting video an MP4 of at most 50 MB and 5 s, extension clips last at most 3 s, a mask
frame within the video) by `VacePlus.prepare`, once the media are here.

What the real service does and this handler copies:

- Beijing answers to both spellings (seed 004's five curl examples send ``wan2.1-vace-plus``
  to the Beijing host, seed 003 names ``wanx2.1-vace-plus`` there), Singapore to
  ``wan2.1-vace-plus`` only (``models``); a task reports the id it was sent, and the registry
  answers ``wanx2.1-vace-plus`` in Singapore with 400 ``InvalidParameter`` "Model not exist.";
- ``obj_or_bg`` is read from ``parameters`` or from ``input`` (the official SDK's
  ``extra_input`` puts it there); the SDK's own ``input.extend_prompt`` is tolerated;
- more than 3 reference images: only the first 3 are used (documented);
- output at most 720P (an area of 1280×720) and 5 s, 30 fps, no audio; usage reports
  ``video_count`` and ``video_duration`` (output seconds only), and the output
  ``task_metrics``;
- 2 task submissions per second and 2 tasks running at once (`VacePlus.limits`).

Deliberate strictness, as in ``wan27.py``: a key the function does not document is refused
instead of being ignored, so that a misspelled field in a client shows up in tests.
Choices where the documentation is silent are listed in ``docs/providers/vace.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videoedit_emulator.engine.errors import ApiError
from videoedit_emulator.engine.models.base import (
    JobPlan,
    MediaInput,
    RenderPlan,
    ResolvedMedia,
    check_container,
    check_type,
)

__all__ = [
    "FUNCTIONS",
    "KNOWN_SIZES",
    "MODEL_BEIJING",
    "MODEL_SINGAPORE",
    "TASK_METRICS",
    "VaceLimits",
    "VacePlus",
    "fit_720p",
]

MODEL_BEIJING = "wanx2.1-vace-plus"
MODEL_SINGAPORE = "wan2.1-vace-plus"
FUNCTIONS = (
    "image_reference",
    "video_repainting",
    "video_edit",
    "video_extension",
    "video_outpainting",
)
#: The output sizes the documentation lists (*unconfirmed* as a complete list).
KNOWN_SIZES: Mapping[str, tuple[int, int]] = {
    "1280*720": (1280, 720),
    "720*1280": (720, 1280),
    "960*960": (960, 960),
    "832*1088": (832, 1088),
    "1088*832": (1088, 832),
}
#: "720P" here is an area: every documented size is at most 1280×720 pixels.
MAX_AREA = 1280 * 720
MIN_SIDE = 16
MAX_SEED = 2_147_483_647
MAX_REFERENCE_IMAGES = 3
MAX_OUTPUT_SECONDS = 5.0
MAX_REPAINT_BYTES = 50 * 1024 * 1024
MAX_REPAINT_SECONDS = 5.0
MAX_CLIP_SECONDS = 3.0
#: ffmpeg reports lengths to the centisecond and containers round; allow this much slack.
SLACK = 0.05
FPS = 30
#: What ``output.task_metrics`` says of a task that produced its one video.
TASK_METRICS: Mapping[str, int] = {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}

CONTROL_CONDITIONS = ("posebodyface", "posebody", "depth", "scribble")
MASK_TYPES = ("tracking", "fixed")
SCALES = ("top_scale", "bottom_scale", "left_scale", "right_scale")

_COMMON_INPUT = frozenset({"function", "prompt", "negative_prompt", "extend_prompt"})
_COMMON_PARAMETERS = frozenset({"prompt_extend", "seed"})
#: What each function takes, beyond the common fields: (input keys, parameter keys).
_FIELDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "image_reference": (
        frozenset({"ref_images_url", "obj_or_bg"}),
        frozenset({"obj_or_bg", "size"}),
    ),
    "video_repainting": (
        frozenset({"video_url", "ref_images_url"}),
        frozenset({"control_condition", "strength"}),
    ),
    "video_edit": (
        frozenset(
            {"video_url", "mask_image_url", "mask_video_url", "mask_frame_id", "ref_images_url"}
        ),
        frozenset({"mask_type", "expand_ratio", "size"}),
    ),
    "video_extension": (
        frozenset({"first_clip_url", "last_clip_url", "first_frame_url", "last_frame_url"}),
        frozenset(),
    ),
    "video_outpainting": (frozenset({"video_url"}), frozenset(SCALES)),
}
_IMAGE_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"))


@dataclass(frozen=True)
class VaceLimits:
    """The documented quotas of the model: task submissions per second, tasks at once.

    ``submissions_per_second``: creations beyond it within one second are answered 429
    ``Throttling.RateQuota``. ``concurrent``: tasks beyond it wait PENDING until one ends.
    ``None`` switches a limit off.
    """

    submissions_per_second: int | None = 2
    concurrent: int | None = 2

    def __post_init__(self) -> None:
        for name in ("submissions_per_second", "concurrent"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(
                    f"VaceLimits.{name}: must be an integer >= 1 or None, got {value!r}"
                )


def fit_720p(width: float, height: float) -> tuple[int, int]:
    """``width×height`` scaled down (never up) to at most 1280×720 pixels of area, even sides."""
    scale = min(1.0, math.sqrt(MAX_AREA / (width * height)))
    w = max(MIN_SIDE, int(width * scale) // 2 * 2)
    h = max(MIN_SIDE, int(height * scale) // 2 * 2)
    return w, h


def _closest_size(width: int, height: int) -> tuple[int, int]:
    """The documented size whose aspect ratio is nearest the input's (on a log scale)."""
    aspect = math.log(width / height)
    return min(KNOWN_SIZES.values(), key=lambda s: abs(aspect - math.log(s[0] / s[1])))


def _image_format(head: bytes) -> str | None:
    for magic, name in _IMAGE_MAGIC:
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


def _url(field: str, value: Any, kind: str) -> str:
    url = str(check_type(field, value, str, nullable=False)).strip()
    if not url:
        raise ApiError.invalid(field, "must not be empty")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    allowed = ("http", "https", "oss") if kind == "video" else ("http", "https", "oss", "data")
    if scheme not in allowed:
        forms = "an http(s) URL or an oss:// URL from a temporary upload"
        if kind == "image":
            forms += ", or a data:{mime};base64,{data} URI"
        raise ApiError.invalid(field, f"must be {forms}; got {url[:60]!r}")
    return url


def _number(field: str, value: Any, low: float, high: float, default: float) -> float:
    if value is None:
        return default
    number = float(check_type(field, value, float))
    if not (math.isfinite(number) and low <= number <= high):
        raise ApiError.invalid(field, f"must be within [{low}, {high}], got {value!r}")
    return number


def _size(value: Any, allowed: frozenset[str] | None) -> tuple[int, int] | None:
    field = "parameters.size"
    text = check_type(field, value, str)
    if text is None:
        return None
    documented = ", ".join(KNOWN_SIZES)
    if allowed is not None:
        if text not in allowed:
            raise ApiError.invalid(
                field, f"must be one of {', '.join(sorted(allowed))}, got {text!r}"
            )
        if text in KNOWN_SIZES:
            return KNOWN_SIZES[text]
    parts = text.split("*")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ApiError.invalid(
            field, f"must be WIDTH*HEIGHT such as 1280*720 (documented: {documented}), got {text!r}"
        )
    width, height = int(parts[0]), int(parts[1])
    if width < MIN_SIDE or height < MIN_SIDE or width * height > MAX_AREA:
        raise ApiError.invalid(
            field,
            f"must be an output size of at most 720P (1280*720 pixels; sides of at least "
            f"{MIN_SIDE}); documented: {documented}; got {text!r}",
        )
    return width, height


def _output_size(size: tuple[int, int], notes: list[str]) -> tuple[int, int]:
    """``size`` as rendered: H.264 in yuv420p needs even sides, so an odd one loses a pixel."""
    width, height = size[0] // 2 * 2, size[1] // 2 * 2
    if (width, height) != size:
        notes.append(
            f"parameters.size {size[0]}*{size[1]}: rendered at {width}*{height} (even sides)"
        )
    return width, height


class VacePlus:
    """``wan2.1-vace-plus``: five function modes selected by ``input.function``.

    :param sizes: the ``size`` values accepted. ``None`` (default) accepts any
        ``WIDTH*HEIGHT`` of at most 1280×720 pixels, since the documented list is
        *unconfirmed*; pass ``KNOWN_SIZES`` to accept only the documented five.
    :param limits: the submission rate and concurrency quotas (documented: 2 and 2).
    """

    models: Mapping[str, frozenset[str] | None] = {
        MODEL_BEIJING: frozenset({"beijing"}),
        MODEL_SINGAPORE: frozenset({"beijing", "singapore"}),
    }

    def __init__(
        self, *, sizes: Iterable[str] | None = None, limits: VaceLimits | None = None
    ) -> None:
        self.sizes = None if sizes is None else frozenset(sizes)
        self.limits = limits or VaceLimits()

    # -- the JSON --------------------------------------------------------------------------------
    def validate(
        self,
        model: str,
        input: Mapping[str, Any],
        parameters: Mapping[str, Any],
        region: str | None,
    ) -> JobPlan:
        function = check_type("input.function", input.get("function"), str)
        if function not in FUNCTIONS:
            got = "it is missing" if function is None else f"got {function!r}"
            raise ApiError.invalid(
                "input.function", f"must be one of {', '.join(FUNCTIONS)} for {model} ({got})"
            )
        self._known_keys(model, function, input, parameters)
        prompt = check_type("input.prompt", input.get("prompt"), str)
        if function == "video_extension" and not (prompt or "").strip():
            raise ApiError.invalid("input.prompt", "is required for video_extension")
        check_type("input.negative_prompt", input.get("negative_prompt"), str)
        check_type("input.extend_prompt", input.get("extend_prompt"), bool)
        prompt_extend = check_type(
            "parameters.prompt_extend", parameters.get("prompt_extend"), bool
        )
        seed = check_type("parameters.seed", parameters.get("seed"), int)
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise ApiError.invalid(
                "parameters.seed", f"must be an integer in [0, {MAX_SEED}], got {seed}"
            )
        media, params, notes = getattr(self, f"_{function}")(input, parameters)
        params.update(
            function=function,
            prompt_extend=True if prompt_extend is None else prompt_extend,
            seed=seed,
        )
        return JobPlan(
            model=model,
            media=tuple(media),
            prompt=prompt or None,
            parameters=params,
            input={
                "prompt": prompt,
                "negative_prompt": input.get("negative_prompt"),
                "notes": tuple(notes),
            },
        )

    @staticmethod
    def _known_keys(
        model: str, function: str, input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> None:
        input_keys, parameter_keys = _FIELDS[function]
        for prefix, body, known in (
            ("input", input, _COMMON_INPUT | input_keys),
            ("parameters", parameters, _COMMON_PARAMETERS | parameter_keys),
        ):
            for key in body:
                if key not in known:
                    raise ApiError.invalid(
                        f"{prefix}.{key}",
                        f"is not a parameter of {model} {function} "
                        f"(accepted in {prefix}: {', '.join(sorted(known))})",
                    )

    @staticmethod
    def _images(
        input: Mapping[str, Any], *, required: bool, most: int, ignore_extra: bool
    ) -> tuple[list[MediaInput], list[str]]:
        field = "input.ref_images_url"
        value = input.get("ref_images_url")
        if value is None:
            if required:
                raise ApiError.invalid(field, "is required: an array of 1 to 3 image URLs")
            return [], []
        check_type(field, value, list)
        if not value:
            raise ApiError.invalid(field, f"must hold 1 to {most} image URLs, got none")
        notes = []
        if len(value) > most:
            if not ignore_extra:
                raise ApiError.invalid(
                    field, f"must hold at most {most} image URL(s), got {len(value)}"
                )
            notes.append(f"{field}: {len(value)} images given; only the first {most} are used")
        items = [
            MediaInput(
                f"{field}[{i}]", _url(f"{field}[{i}]", url, "image"), "image", "reference_image"
            )
            for i, url in enumerate(value)
        ]
        return items[:most], notes

    def _image_reference(
        self, input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[list[MediaInput], dict[str, Any], list[str]]:
        images, notes = self._images(
            input, required=True, most=MAX_REFERENCE_IMAGES, ignore_extra=True
        )
        tags = _obj_or_bg(input, parameters, len(input["ref_images_url"]))
        params = {
            "obj_or_bg": tags[: len(images)],
            "size": _size(parameters.get("size"), self.sizes),
        }
        return images, params, notes

    def _video_repainting(
        self, input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[list[MediaInput], dict[str, Any], list[str]]:
        video = _video_input(input, "video_url", "video", required=True)
        images, notes = self._images(input, required=False, most=1, ignore_extra=False)
        condition = check_type(
            "parameters.control_condition", parameters.get("control_condition"), str
        )
        if condition is not None and condition not in CONTROL_CONDITIONS:
            raise ApiError.invalid(
                "parameters.control_condition",
                f"must be one of {', '.join(CONTROL_CONDITIONS)}, got {condition!r}",
            )
        strength = _number("parameters.strength", parameters.get("strength"), 0.0, 1.0, 1.0)
        assert video is not None
        return [video, *images], {"control_condition": condition, "strength": strength}, notes

    def _video_edit(
        self, input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[list[MediaInput], dict[str, Any], list[str]]:
        video = _video_input(input, "video_url", "video", required=True)
        mask_image = input.get("mask_image_url")
        mask_video = input.get("mask_video_url")
        if mask_image is None and mask_video is None:
            raise ApiError.invalid(
                "input.mask_image_url", "is required for video_edit (or input.mask_video_url)"
            )
        if mask_image is not None and mask_video is not None:
            raise ApiError.invalid(
                "input.mask_video_url", "must not be given with input.mask_image_url: give one mask"
            )
        media: list[MediaInput] = [video] if video else []
        if mask_image is not None:
            field = "input.mask_image_url"
            media.append(MediaInput(field, _url(field, mask_image, "image"), "image", "mask_image"))
        else:
            mask = _video_input(input, "mask_video_url", "mask_video", required=True)
            assert mask is not None
            media.append(mask)
        frame = check_type("input.mask_frame_id", input.get("mask_frame_id"), int)
        if frame is not None:
            if mask_image is None:
                raise ApiError.invalid(
                    "input.mask_frame_id", "goes with input.mask_image_url, not with a mask video"
                )
            if frame < 1:
                raise ApiError.invalid(
                    "input.mask_frame_id", f"must be a frame number >= 1, got {frame}"
                )
        mask_type = check_type("parameters.mask_type", parameters.get("mask_type"), str)
        if mask_type is not None and mask_type not in MASK_TYPES:
            raise ApiError.invalid(
                "parameters.mask_type", f"must be tracking or fixed, got {mask_type!r}"
            )
        mask_type = mask_type or "tracking"
        expand = _number("parameters.expand_ratio", parameters.get("expand_ratio"), 0.0, 1.0, 0.05)
        images, notes = self._images(
            input, required=False, most=MAX_REFERENCE_IMAGES, ignore_extra=True
        )
        if parameters.get("expand_ratio") is not None and mask_type != "tracking":
            # Seed 004: it "only takes effect" with tracking; sent with fixed, it is taken.
            notes.append(
                "parameters.expand_ratio takes effect only with mask_type tracking: "
                "ignored with fixed"
            )
        params = {
            "mask_frame_id": frame or 1,
            "mask_type": mask_type,
            "expand_ratio": expand,
            "size": _size(parameters.get("size"), self.sizes),
        }
        return [*media, *images], params, notes

    @staticmethod
    def _video_extension(
        input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[list[MediaInput], dict[str, Any], list[str]]:
        media: list[MediaInput] = []
        for name in ("first_clip_url", "last_clip_url"):
            clip = _video_input(input, name, name.removesuffix("_url"), required=False)
            if clip is not None:
                media.append(clip)
        for name in ("first_frame_url", "last_frame_url"):
            if input.get(name) is not None:
                field = f"input.{name}"
                media.append(
                    MediaInput(
                        field, _url(field, input[name], "image"), "image", name.removesuffix("_url")
                    )
                )
        if not media:
            raise ApiError.invalid(
                "input.first_clip_url",
                "or one of input.last_clip_url, input.first_frame_url, input.last_frame_url is "
                "required for video_extension",
            )
        return media, {}, []

    @staticmethod
    def _video_outpainting(
        input: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[list[MediaInput], dict[str, Any], list[str]]:
        video = _video_input(input, "video_url", "video", required=True)
        assert video is not None
        scales = {
            name: _number(f"parameters.{name}", parameters.get(name), 1.0, 2.0, 1.0)
            for name in SCALES
        }
        return [video], scales, []

    # -- the files and the render plan -----------------------------------------------------------
    def prepare(self, plan: JobPlan, media: Mapping[str, ResolvedMedia]) -> RenderPlan:
        from videoedit_emulator.render import RenderJob

        params = plan.parameters
        function = str(params["function"])
        notes = list(plan.input.get("notes", ()))
        by_role: dict[str, list[ResolvedMedia]] = {}
        for item in plan.media:
            resolved = media[item.field]
            if resolved.note:
                notes.append(resolved.note)
            if resolved.kind == "image" and resolved.path is not None:
                _check_image(resolved)
            if resolved.kind == "video" and resolved.info is not None:
                check_container(resolved.field, resolved.info.format)
            by_role.setdefault(item.role, []).append(resolved)
        job_fields = getattr(self, f"_plan_{function}")(params, by_role, notes)
        job = RenderJob(
            audio="none",
            watermark=False,
            caption=f"{plan.model} · {function}",
            prompt=plan.prompt,
            **job_fields,
        )
        return RenderPlan(
            job=job,
            input_seconds=None,
            short_side=min(job.width, job.height),
            usage_style="vace",
            notes=tuple(notes),
            output_extras={"task_metrics": dict(TASK_METRICS)},
        )

    @staticmethod
    def _plan_image_reference(
        params: Mapping[str, Any], by_role: Mapping[str, list[ResolvedMedia]], notes: list[str]
    ) -> dict[str, Any]:
        from videoedit_emulator.render import ImageReference

        refs = by_role.get("reference_image", [])
        tags = tuple(params["obj_or_bg"])
        fetched = [i for i, ref in enumerate(refs) if ref.path is not None]
        width, height = _output_size(params["size"] or KNOWN_SIZES["1280*720"], notes)
        return {
            "width": width,
            "height": height,
            "duration": MAX_OUTPUT_SECONDS,
            "source": None,
            "images": tuple(refs[i].path for i in fetched if refs[i].path is not None),
            # the tags of the images shown (untagged requests show none)
            "mode": ImageReference(obj_or_bg=tuple(tags[i] for i in fetched) if tags else ()),
        }

    @staticmethod
    def _plan_video_repainting(
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

    @staticmethod
    def _plan_video_edit(
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
            width, height = _output_size(params["size"], notes)
        elif video.info is not None:
            width, height = _closest_size(video.info.width, video.info.height)
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

    @staticmethod
    def _plan_video_extension(
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
            fit_720p(shaped.info.width, shaped.info.height)
            if shaped and shaped.info
            else (1280, 720)
        )
        return {
            "width": width,
            "height": height,
            "duration": MAX_OUTPUT_SECONDS,
            "source": None,
            "mode": Extension(**paths),
        }

    @staticmethod
    def _plan_video_outpainting(
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


def _first(by_role: Mapping[str, list[ResolvedMedia]], role: str) -> ResolvedMedia | None:
    found = by_role.get(role)
    return found[0] if found else None


def _video_input(
    input: Mapping[str, Any], name: str, role: str, *, required: bool
) -> MediaInput | None:
    field = f"input.{name}"
    value = input.get(name)
    if value is None:
        if required:
            raise ApiError.invalid(field, "is required")
        return None
    return MediaInput(field, _url(field, value, "video"), "video", role)


def _obj_or_bg(
    input: Mapping[str, Any], parameters: Mapping[str, Any], images: int
) -> tuple[str, ...]:
    """``obj_or_bg`` from ``parameters`` or ``input`` (the SDK's ``extra_input`` moves it)."""
    in_parameters, in_input = parameters.get("obj_or_bg"), input.get("obj_or_bg")
    if in_parameters is not None and in_input is not None and in_parameters != in_input:
        raise ApiError.invalid("parameters.obj_or_bg", "differs from input.obj_or_bg: give it once")
    field = "parameters.obj_or_bg" if in_parameters is not None else "input.obj_or_bg"
    value = in_parameters if in_parameters is not None else in_input
    if value is None:
        return ()
    check_type(field, value, list)
    for i, tag in enumerate(value):
        if tag not in ("obj", "bg"):
            raise ApiError.invalid(f"{field}[{i}]", f"must be obj or bg, got {tag!r}")
    if len(value) != images:
        raise ApiError.invalid(
            field,
            f"must have as many items as input.ref_images_url ({images}), got {len(value)}",
        )
    return tuple(value)


def _check_image(image: ResolvedMedia) -> None:
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
