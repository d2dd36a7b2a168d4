"""Server-side rules of ``wan2.7-videoedit``, from the documentation (API-FACTS §1).

Independent of the client's request models on purpose (see ``models/base.py``). Static
rules (types, lengths, counts, enums, ranges) are checked by `Wan27VideoEdit.validate`;
rules about the input video's content (container, 2–10 s, sides, aspect, size, and
``duration`` not beyond its length) by `Wan27VideoEdit.prepare`, when the file is here.

What the output follows (seed 003's output table, seeds 001 and 004's ``ratio`` row):

- **size**: ``resolution`` × ``ratio`` from `OUTPUT_SIZES`; with ``ratio`` omitted, the
  input's own aspect ratio (`size_for_input`), not the nearest listed ratio;
- **length**: a whole number of seconds in [2, 10]: ``duration`` when given, else the input's
  length rounded down (`whole_seconds`);
- **audio** follows the input: a silent input gives a silent output whatever
  ``audio_setting``; an input with sound keeps a track (``origin``: its own; ``auto``: the
  stand-in's tone, standing for the sound the model makes). An input the emulator does not
  fetch is a test pattern taken as having sound: both settings give the tone.

Deliberate strictness: a key the model does not document is refused (400) instead of being
ignored as the real service may do, so that a misspelled parameter in a client shows up in
tests. The official SDK's own extras (``input.extend_prompt``, ``input.function``) pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from videoedit_emulator.engine.errors import ApiError
from videoedit_emulator.engine.models.base import (
    JobPlan,
    MediaInput,
    MediaKind,
    RenderPlan,
    ResolvedMedia,
    check_container,
    check_type,
    reject_unknown,
)

if TYPE_CHECKING:
    from videoedit_emulator.render import AudioMode

__all__ = [
    "MAX_SEED",
    "MODEL_ID",
    "OUTPUT_SIZES",
    "PATTERN_SECONDS",
    "RATIOS",
    "TIER_AREAS",
    "Wan27VideoEdit",
    "size_for_input",
    "whole_seconds",
]

MODEL_ID = "wan2.7-videoedit"
MAX_SEED = 2_147_483_647
MAX_PROMPT = 5000
MAX_NEGATIVE_PROMPT = 500
MAX_REFERENCE_IMAGES = 4
MAX_VIDEO_BYTES = 100 * 1024 * 1024
MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
MIN_SIDE, MAX_SIDE = 240, 4096
#: ffmpeg reports lengths to the centisecond and containers round; allow this much slack.
SLACK = 0.05
#: Length of the test pattern that stands in for a video the emulator does not fetch.
PATTERN_SECONDS = 5.0

RESOLUTIONS = ("720P", "1080P")
RATIOS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
#: Output width × height per resolution and ratio. *Unconfirmed*: no seed prints this table
#: (only the 720P/1080P tiers); this is the emulator's choice, set here and only here.
OUTPUT_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720P", "16:9"): (1280, 720),
    ("720P", "9:16"): (720, 1280),
    ("720P", "1:1"): (960, 960),
    ("720P", "4:3"): (1104, 832),
    ("720P", "3:4"): (832, 1104),
    ("1080P", "16:9"): (1920, 1080),
    ("1080P", "9:16"): (1080, 1920),
    ("1080P", "1:1"): (1440, 1440),
    ("1080P", "4:3"): (1648, 1248),
    ("1080P", "3:4"): (1248, 1648),
}
AUDIO_SETTINGS = ("auto", "origin")
MEDIA_TYPES = ("video", "reference_image")
SDK_FUNCTION = "video-synthesis"

_INPUT_KEYS = frozenset({"prompt", "negative_prompt", "media", "extend_prompt", "function"})
_PARAMETER_KEYS = frozenset(
    {"resolution", "ratio", "duration", "audio_setting", "prompt_extend", "watermark", "seed"}
)
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
)


#: The pixel area of each tier (that of its 16:9 size, about that of every row of the table).
#: An output of the input's own aspect ratio keeps it. *Unconfirmed*: the emulator's choice.
TIER_AREAS: dict[str, int] = {"720P": 1280 * 720, "1080P": 1920 * 1080}


def size_for_input(width: int, height: int, resolution: str) -> tuple[int, int]:
    """The output size when ``ratio`` is omitted: the input's own aspect ratio at the tier.

    An input whose sides are exactly one of the listed ratios gets that ratio's size from
    `OUTPUT_SIZES` (a 1920×1080 input at 720P is 1280×720). Any other keeps its ratio
    at the tier's pixel area (`TIER_AREAS`): the short side is rounded to an even
    number, the long side is the nearest even number to short × ratio. A 2:1 input is
    1356×678 at 720P and 2036×1018 at 1080P; over the accepted inputs (1:8 to 8:1) every
    side stays within [240, 4096] (8:1 at 1080P: 4080×510).
    """
    for name, (rw, rh) in RATIOS.items():
        if width * rh == height * rw:
            return OUTPUT_SIZES[(resolution, name)]
    stretch = max(width, height) / min(width, height)
    short = 2 * round(math.sqrt(TIER_AREAS[resolution] / stretch) / 2)
    long = 2 * round(short * stretch / 2)
    short = max(MIN_SIDE, short)
    long = min(MAX_SIDE, long)
    return (long, short) if width >= height else (short, long)


def whole_seconds(input_seconds: float) -> int:
    """The output length for ``duration`` 0: the input's length in whole seconds, rounded
    down (the output never runs past the input; ffmpeg's figure gets `SLACK` so that
    a 3.99 s reading of a 4 s clip is 4), within [2, 10] (seed 003: "[2s, 10s](整数)")."""
    return int(min(MAX_SECONDS, max(MIN_SECONDS, math.floor(input_seconds + SLACK))))


def _image_format(head: bytes) -> str | None:
    for magic, name in _IMAGE_MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _url_rule(field: str, url: str, kind: str) -> None:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    allowed = ("http", "https", "oss") if kind == "video" else ("http", "https", "oss", "data")
    if scheme not in allowed:
        forms = "an http(s) URL or an oss:// URL from a temporary upload"
        if kind == "image":
            forms += ", or a data:{mime};base64,{data} URI"
        raise ApiError.invalid(field, f"must be {forms}; got {url[:60]!r}")


class Wan27VideoEdit:
    """``wan2.7-videoedit``: one video plus 0–4 reference images, restyled by a prompt."""

    models: Mapping[str, frozenset[str] | None] = {MODEL_ID: None}

    def validate(
        self,
        model: str,
        input: Mapping[str, Any],
        parameters: Mapping[str, Any],
        region: str | None,
    ) -> JobPlan:
        reject_unknown("input", input, _INPUT_KEYS, model)
        prompt = check_type("input.prompt", input.get("prompt"), str)
        if prompt is not None and len(prompt) > MAX_PROMPT:
            raise ApiError.invalid(
                "input.prompt", f"must be at most {MAX_PROMPT} characters, got {len(prompt)}"
            )
        negative = check_type("input.negative_prompt", input.get("negative_prompt"), str)
        if negative is not None and len(negative) > MAX_NEGATIVE_PROMPT:
            raise ApiError.invalid(
                "input.negative_prompt",
                f"must be at most {MAX_NEGATIVE_PROMPT} characters, got {len(negative)}",
            )
        check_type("input.extend_prompt", input.get("extend_prompt"), bool)
        function = check_type("input.function", input.get("function"), str)
        if function is not None and function != SDK_FUNCTION:
            raise ApiError.invalid(
                "input.function",
                f"must be {SDK_FUNCTION!r} or absent for {model}, got {function!r} "
                "(function modes belong to wan2.1-vace-plus)",
            )
        media = self._media(input.get("media"))
        params = self._parameters(parameters)
        return JobPlan(
            model=model,
            media=media,
            prompt=prompt or None,
            parameters=params,
            input={"prompt": prompt, "negative_prompt": negative},
        )

    @staticmethod
    def _media(value: Any) -> tuple[MediaInput, ...]:
        if value is None:
            raise ApiError.invalid(
                "input.media", "is required: an array with one item of type video"
            )
        check_type("input.media", value, list)
        items: list[MediaInput] = []
        for i, item in enumerate(value):
            where = f"input.media[{i}]"
            check_type(where, item, dict, nullable=False)
            reject_unknown(where, item, frozenset({"type", "url"}), MODEL_ID)
            kind = check_type(f"{where}.type", item.get("type"), str, nullable=False)
            if kind not in MEDIA_TYPES:
                raise ApiError.invalid(
                    f"{where}.type", f"must be video or reference_image, got {kind!r}"
                )
            url = check_type(f"{where}.url", item.get("url"), str, nullable=False).strip()
            if not url:
                raise ApiError.invalid(f"{where}.url", "must not be empty")
            media_kind: MediaKind = "video" if kind == "video" else "image"
            _url_rule(f"{where}.url", url, media_kind)
            items.append(MediaInput(f"{where}.url", url, media_kind, kind))
        videos = [m for m in items if m.role == "video"]
        images = [m for m in items if m.role == "reference_image"]
        if len(videos) != 1:
            raise ApiError.invalid(
                "input.media", f"must hold exactly one item of type video, got {len(videos)}"
            )
        if len(images) > MAX_REFERENCE_IMAGES:
            raise ApiError.invalid(
                "input.media",
                f"may hold at most {MAX_REFERENCE_IMAGES} items of type reference_image, "
                f"got {len(images)}",
            )
        return tuple(items)

    @staticmethod
    def _parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown("parameters", parameters, _PARAMETER_KEYS, MODEL_ID)
        resolution = check_type("parameters.resolution", parameters.get("resolution"), str)
        if resolution is None:
            resolution = "1080P"
        elif resolution not in RESOLUTIONS:
            raise ApiError.invalid(
                "parameters.resolution", f"must be 720P or 1080P, got {resolution!r}"
            )
        ratio = check_type("parameters.ratio", parameters.get("ratio"), str)
        if ratio is not None and ratio not in RATIOS:
            raise ApiError.invalid(
                "parameters.ratio", f"must be one of {', '.join(RATIOS)}, got {ratio!r}"
            )
        duration = check_type("parameters.duration", parameters.get("duration"), int)
        if duration is None:
            duration = 0
        elif duration != 0 and not MIN_SECONDS <= duration <= MAX_SECONDS:
            raise ApiError.invalid(
                "parameters.duration",
                f"must be 0 (keep the input's length) or an integer from 2 to 10, got {duration}",
            )
        audio = check_type("parameters.audio_setting", parameters.get("audio_setting"), str)
        if audio is None:
            audio = "auto"
        elif audio not in AUDIO_SETTINGS:
            raise ApiError.invalid(
                "parameters.audio_setting", f"must be auto or origin, got {audio!r}"
            )
        prompt_extend = check_type(
            "parameters.prompt_extend", parameters.get("prompt_extend"), bool
        )
        watermark = check_type("parameters.watermark", parameters.get("watermark"), bool)
        seed = check_type("parameters.seed", parameters.get("seed"), int)
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise ApiError.invalid(
                "parameters.seed", f"must be an integer in [0, {MAX_SEED}], got {seed}"
            )
        return {
            "resolution": resolution,
            "ratio": ratio,
            "duration": duration,
            "audio_setting": audio,
            "prompt_extend": True if prompt_extend is None else prompt_extend,
            "watermark": bool(watermark),
            "seed": seed,
        }

    # -- content rules and the render plan ------------------------------------------------------
    def prepare(self, plan: JobPlan, media: Mapping[str, ResolvedMedia]) -> RenderPlan:
        from videoedit_emulator.render import RenderJob

        params = plan.parameters
        video_input = next(m for m in plan.media if m.role == "video")
        video = media[video_input.field]
        requested = int(params["duration"])
        notes: list[str] = []
        if video.path is None or video.info is None:
            input_seconds = float(requested or PATTERN_SECONDS)
            in_w, in_h = 1280, 720
            has_audio = True  # the test pattern stands for an input with sound
            if video.note:
                notes.append(video.note)
        else:
            info = video.info
            self._check_video(video)
            input_seconds = round(info.duration, 2)
            in_w, in_h = info.width, info.height
            has_audio = info.has_audio
            if requested and requested > info.duration + SLACK:
                raise ApiError.invalid(
                    "parameters.duration",
                    f"({requested} s) must not exceed the input video's length "
                    f"({info.duration:.2f} s, {video_input.field})",
                )
        images = []
        for item in plan.media:
            if item.role != "reference_image":
                continue
            image = media[item.field]
            if image.path is None:
                if image.note:
                    notes.append(image.note)
                continue
            with open(image.path, "rb") as handle:
                head = handle.read(16)
            if _image_format(head) is None:
                raise ApiError.invalid(
                    item.field, "is not a JPEG, PNG, BMP or WEBP image (its bytes say otherwise)"
                )
            images.append(image.path)
        resolution = str(params["resolution"])
        ratio = params["ratio"]
        if ratio is None:
            width, height = size_for_input(in_w, in_h, resolution)
            shape = f"input's ratio {width}×{height}"
        else:
            width, height = OUTPUT_SIZES[(resolution, ratio)]
            shape = ratio
        seconds = requested or whole_seconds(input_seconds)
        audio: AudioMode
        if not has_audio:
            audio = "none"  # a silent input gives a silent output, whatever audio_setting
        elif params["audio_setting"] == "origin" and video.path is not None:
            audio = "origin"
        else:
            audio = "tone"  # the stand-in for the sound the model makes (or the pattern's)
        job = RenderJob(
            width=width,
            height=height,
            duration=float(seconds),
            source=video.path,
            audio=audio,
            watermark=bool(params["watermark"]),
            caption=f"emulator stand-in · {plan.model} · {resolution} {shape} · audio {params['audio_setting']}",
            prompt=plan.prompt,
            images=tuple(images),
            source_note=video.note,
        )
        return RenderPlan(
            job=job,
            input_seconds=input_seconds,
            short_side=720 if resolution == "720P" else 1080,
            usage_style="wan27",
            notes=tuple(notes),
        )

    @staticmethod
    def _check_video(video: ResolvedMedia) -> None:
        info = video.info
        assert info is not None
        field = video.field
        if video.size > MAX_VIDEO_BYTES:
            raise ApiError.invalid(
                field, f"is {video.size / 2**20:.1f} MB; an input video may be at most 100 MB"
            )
        check_container(field, info.format)
        if not MIN_SECONDS - SLACK <= info.duration <= MAX_SECONDS + SLACK:
            raise ApiError.invalid(
                field, f"lasts {info.duration:.2f} s; an input video must last 2 to 10 s"
            )
        for name, side in (("width", info.width), ("height", info.height)):
            if not 240 <= side <= 4096:
                raise ApiError.invalid(
                    field, f"{name} is {side} px; each side must be 240 to 4096 px"
                )
        if not 1 / 8 <= info.width / info.height <= 8:
            raise ApiError.invalid(
                field,
                f"is {info.width}x{info.height}; its aspect ratio must be between 1:8 and 8:1",
            )
