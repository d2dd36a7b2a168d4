"""The wan2.7 instruction edit in the APIMart gateway's flat schema (dialect ``"apimart"``).

The gateway page documents ``model``, ``video_urls`` (only the first is used), ``prompt``,
``negative_prompt``, ``resolution`` and ``duration``, and describes the rest of the DashScope
parameters without always printing their names. The names of the reference-image list
(``image_urls``) and of the aspect ratio (``ratio``; some hosts say ``size``) are *unconfirmed*,
so every wire name can be changed per provider instance with the ``field_names`` option, and
the number of reference images with ``max_reference_images`` (4 on the page, 3 on one host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from videoedit.errors import InvalidRequestError
from videoedit.requests import VideoEdit

__all__ = [
    "DEFAULT_FIELD_NAMES",
    "DIALECT",
    "MAX_REFERENCE_IMAGES",
    "ApimartOptions",
    "apimart_body",
]

DIALECT = "apimart"
#: The wan2.7 limit on reference images; a gateway may only lower it.
MAX_REFERENCE_IMAGES = 4

#: Our name for each body field -> the name sent on the wire (``image_urls`` and ``ratio``
#: are the unconfirmed ones).
DEFAULT_FIELD_NAMES: Mapping[str, str] = {
    "model": "model",
    "video_urls": "video_urls",
    "prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "image_urls": "image_urls",
    "resolution": "resolution",
    "ratio": "ratio",
    "duration": "duration",
    "audio_setting": "audio_setting",
    "prompt_extend": "prompt_extend",
    "watermark": "watermark",
    "seed": "seed",
}


def _option_error(name: str, message: str, rule: str) -> InvalidRequestError:
    return InvalidRequestError(f"options.{name}: {message}", field=f"options.{name}", rule=rule)


@dataclass(frozen=True)
class ApimartOptions:
    """The provider options that shape the body and the poll, validated once.

    ``field_names`` overrides wire names (only the keys given; the rest keep their defaults);
    ``max_reference_images`` is 0 to 4; ``language`` is the poll's ``language`` query value
    (an empty string leaves the parameter out).
    """

    field_names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELD_NAMES))
    max_reference_images: int = MAX_REFERENCE_IMAGES
    language: str = "en"

    KNOWN: ClassVar[frozenset[str]] = frozenset({"field_names", "max_reference_images", "language"})

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ApimartOptions:
        """Read and check the options; a bad one raises `InvalidRequestError` naming it."""
        unknown = sorted(set(options) - cls.KNOWN)
        if unknown:
            raise _option_error(
                unknown[0],
                f"not an option of provider 'apimart' (known: {', '.join(sorted(cls.KNOWN))})",
                "unknown option",
            )
        names = dict(DEFAULT_FIELD_NAMES)
        given = options.get("field_names", {})
        if not isinstance(given, Mapping):
            raise _option_error(
                "field_names",
                "must map body fields to the gateway's names, e.g. {'ratio': 'size'}",
                "a mapping",
            )
        for ours, theirs in given.items():
            if ours not in DEFAULT_FIELD_NAMES:
                raise _option_error(
                    f"field_names.{ours}",
                    f"{ours!r} is not a body field (fields: {', '.join(DEFAULT_FIELD_NAMES)})",
                    "unknown body field",
                )
            if not isinstance(theirs, str) or not theirs.strip():
                raise _option_error(
                    f"field_names.{ours}", "the wire name must be a non-empty string", "non-empty"
                )
            names[ours] = theirs.strip()
        clashes = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
        if clashes:
            owners = [k for k, v in names.items() if v == clashes[0]]
            raise _option_error(
                "field_names",
                f"fields {' and '.join(owners)} would both be sent as {clashes[0]!r}",
                "each wire name used once",
            )
        limit = options.get("max_reference_images", MAX_REFERENCE_IMAGES)
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 0 <= limit <= MAX_REFERENCE_IMAGES
        ):
            raise _option_error(
                "max_reference_images",
                f"must be an integer from 0 to {MAX_REFERENCE_IMAGES} (got {limit!r})",
                f"0 to {MAX_REFERENCE_IMAGES}",
            )
        language = options.get("language", "en")
        if not isinstance(language, str):
            raise _option_error(
                "language", "must be a string such as 'en' ('' leaves it out)", "a string"
            )
        return cls(field_names=names, max_reference_images=limit, language=language.strip())


def apimart_body(request: VideoEdit, options: ApimartOptions) -> dict[str, Any]:
    """The flat create body; defaults are sent explicitly so the wire shows the intent."""
    if len(request.reference_images) > options.max_reference_images:
        raise InvalidRequestError(
            f"reference_images: {len(request.reference_images)} given; this gateway takes at "
            f"most {options.max_reference_images} (provider option max_reference_images)",
            field="reference_images",
            rule=f"at most {options.max_reference_images} reference images on this gateway",
        )
    ours: dict[str, Any] = {"model": request.model, "video_urls": [request.video]}
    if request.prompt is not None:
        ours["prompt"] = request.prompt
    if request.negative_prompt is not None:
        ours["negative_prompt"] = request.negative_prompt
    if request.reference_images:
        ours["image_urls"] = list(request.reference_images)
    ours["resolution"] = request.resolution
    if request.ratio is not None:
        ours["ratio"] = request.ratio
    ours["duration"] = request.duration
    ours["audio_setting"] = request.audio_setting
    ours["prompt_extend"] = request.prompt_extend
    ours["watermark"] = request.watermark
    if request.seed is not None:
        ours["seed"] = request.seed
    return {options.field_names[name]: value for name, value in ours.items()}
