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

The documented facts (ids, sizes, bounds, quotas) are ``vace_facts.py``; the second step, the
render plan of each function, is ``vace_plans.py``; this module holds the handler and its
checks of the JSON.

Deliberate strictness, as in ``wan27.py``: a key the function does not document is refused
instead of being ignored, so that a misspelled field in a client shows up in tests.
Choices where the documentation is silent are listed in ``docs/providers/vace.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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
from videoedit_emulator.engine.models.vace_facts import (
    COMMON_INPUT,
    COMMON_PARAMETERS,
    CONTROL_CONDITIONS,
    FIELDS,
    FUNCTIONS,
    KNOWN_SIZES,
    MASK_TYPES,
    MAX_AREA,
    MAX_REFERENCE_IMAGES,
    MAX_SEED,
    MIN_SIDE,
    MODEL_BEIJING,
    MODEL_SINGAPORE,
    SCALES,
    TASK_METRICS,
    VaceLimits,
    fit_720p,
)
from videoedit_emulator.engine.models.vace_plans import PLANNERS, check_image

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
        input_keys, parameter_keys = FIELDS[function]
        for prefix, body, known in (
            ("input", input, COMMON_INPUT | input_keys),
            ("parameters", parameters, COMMON_PARAMETERS | parameter_keys),
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
                check_image(resolved)
            if resolved.kind == "video" and resolved.info is not None:
                check_container(resolved.field, resolved.info.format)
            by_role.setdefault(item.role, []).append(resolved)
        job_fields = PLANNERS[function](params, by_role, notes)
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
