"""The five function modes of wan2.1-vace-plus, one request type each.

Fields carry the names the DashScope documentation uses (``ref_images_url``, ``obj_or_bg``,
``mask_frame_id``…), so a pipeline written against the raw API maps onto them one to one and
an error names the field the user knows. Each type checks its function's documented rules
on construction and raises [`InvalidRequestError`][videoedit.InvalidRequestError] naming the field.

``function`` is the discriminator: `AnyVaceRequest` is the tagged union of the five
types, and [`parse_vace_request`][videoedit_vace.parse_vace_request] turns a dict (flat, or a DashScope body with ``input``
and ``parameters``) into the right one.

Only fields the caller set are sent (see `videoedit_vace.encoding`), so the service's own
defaults apply to the rest; the documented defaults are the field defaults here, for reading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, get_args

from pydantic import BeforeValidator, Field, field_validator, model_validator

from videoedit.errors import InvalidRequestError
from videoedit.requests import MAX_SEED, EditRequest, FieldRuleError
from videoedit_vace.billing import fixed_output, following_input
from videoedit_vace.media import ClipSource, ImageSource, RepaintVideoSource, VideoSource
from videoedit_vace.regions import MODEL_IDS, MODEL_SINGAPORE, model_id_for

if TYPE_CHECKING:
    from typing_extensions import Self

    from videoedit.billing import Estimate, Lengths
    from videoedit.encoding import EncodeContext

__all__ = [
    "FUNCTIONS",
    "INPUT_FIELDS",
    "KNOWN_SIZES",
    "REQUEST_TYPES",
    "AnyVaceRequest",
    "ControlCondition",
    "ImageReference",
    "MaskType",
    "MaskedVideoEdit",
    "ObjOrBg",
    "VaceFunction",
    "VaceRequest",
    "VideoExtension",
    "VideoOutpainting",
    "VideoRepainting",
    "parse_vace_request",
]

VaceFunction = Literal[
    "image_reference", "video_repainting", "video_edit", "video_extension", "video_outpainting"
]
FUNCTIONS: Final[tuple[str, ...]] = get_args(VaceFunction)
ObjOrBg = Literal["obj", "bg"]
ControlCondition = Literal["posebodyface", "posebody", "depth", "scribble"]
MaskType = Literal["tracking", "fixed"]

#: Output sizes listed for ``image_reference`` and ``video_edit`` (*unconfirmed*: no primary
#: source gives the full list). Any well-formed ``WIDTH*HEIGHT`` is accepted, so a size the
#: service adds later is not refused here; the service has the last word.
KNOWN_SIZES: Final = ("1280*720", "720*1280", "960*960", "832*1088", "1088*832")

#: Fields the DashScope body carries under ``input``; every other field goes under
#: ``parameters`` (``model`` and ``function`` aside).
INPUT_FIELDS: Final = frozenset(
    {
        "prompt",
        "negative_prompt",
        "ref_images_url",
        "video_url",
        "mask_image_url",
        "mask_video_url",
        "mask_frame_id",
        "first_clip_url",
        "last_clip_url",
        "first_frame_url",
        "last_frame_url",
    }
)

MAX_REFERENCE_IMAGES: Final = 3

_SIZE = re.compile(r"^(\d{1,5})\s*[*xX×]\s*(\d{1,5})$")


def _size(value: Any) -> str:
    """``WIDTH*HEIGHT``; ``1280x720`` and ``1280×720`` are read as the same thing."""
    if not isinstance(value, str):
        raise ValueError("must be a string WIDTH*HEIGHT, such as '1280*720'")
    match = _SIZE.match(value.strip())
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        raise ValueError(
            f"{value!r} is not of the form WIDTH*HEIGHT (documented sizes: {', '.join(KNOWN_SIZES)})"
        )
    return f"{int(match[1])}*{int(match[2])}"


#: An output size, normalised to ``WIDTH*HEIGHT``.
Size = Annotated[str, BeforeValidator(_size)]


def _no_bool(value: Any) -> Any:
    """pydantic reads ``True`` as 1; a flag where a number belongs is a mistake."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


def _as_list(value: Any) -> Any:
    """One item may be given bare: ``"obj"`` means ``["obj"]``."""
    return [value] if isinstance(value, (str, Path)) else value


class VaceRequest(EditRequest):
    """Fields every function shares. Use one of the five subclasses, or [`parse_vace_request`][videoedit_vace.parse_vace_request].

    ``model`` names the family: either spelling is accepted, and the id sent follows the
    provider's region (``wanx2.1-vace-plus`` in Beijing, ``wan2.1-vace-plus`` elsewhere)
    unless the provider's ``vace_model`` option picks one.
    ``negative_prompt`` and ``seed`` are in the API reference, not in the guide page we hold:
    sent as given, *unconfirmed* here. No prompt length limit is applied (*unconfirmed*;
    gateways cite 800 characters).
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus"

    model: str = MODEL_SINGAPORE
    function: VaceFunction
    prompt: str | None = Field(default=None, min_length=1)
    negative_prompt: str | None = Field(default=None, min_length=1)
    prompt_extend: bool = True
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)

    _numbers = field_validator("seed", mode="before")(_no_bool)

    @field_validator("model")
    @classmethod
    def _model_family(cls, value: str) -> str:
        if value not in MODEL_IDS:
            raise ValueError(
                f"{value!r} is not wan2.1-vace-plus; use {MODEL_SINGAPORE!r} (the id sent "
                "follows the provider's region)"
            )
        return value

    def model_for(self, context: EncodeContext) -> str:
        """The id the create call will name (uploads must be made for it)."""
        return model_id_for(context.region, context.options)


def _reference_count(value: list[str] | None, most: int) -> list[str] | None:
    if value is None:
        return None
    if not 1 <= len(value) <= most:
        extra = " (the service would silently ignore the rest)" if len(value) > most else ""
        raise ValueError(f"takes 1 to {most} images, got {len(value)}{extra}")
    return value


class ImageReference(VaceRequest):
    """``image_reference``: a video from 1–3 reference images, each tagged subject or background.

    ``obj_or_bg`` gives one tag per image, in order: ``obj`` (a subject: person, animal,
    clothing…) or ``bg`` (a scene). ``size`` picks the output frame (720P class).
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus image_reference"
    media_fields: ClassVar[tuple[str, ...]] = ("ref_images_url",)

    function: Literal["image_reference"] = "image_reference"
    ref_images_url: list[ImageSource]
    obj_or_bg: list[ObjOrBg]
    size: Size | None = None

    _bare = field_validator("ref_images_url", "obj_or_bg", mode="before")(_as_list)

    @field_validator("ref_images_url")
    @classmethod
    def _one_to_three(cls, value: list[str]) -> list[str]:
        _reference_count(value, MAX_REFERENCE_IMAGES)
        return value

    def billable(self, lengths: Lengths) -> Estimate:
        """Always 5 s of output (`videoedit_vace.billing`)."""
        return fixed_output(self)

    @model_validator(mode="after")
    def _one_tag_per_image(self) -> Self:
        images, tags = len(self.ref_images_url), len(self.obj_or_bg)
        if images != tags:
            raise FieldRuleError(
                "obj_or_bg",
                f"needs one tag per reference image, in order: {images} image(s), {tags} tag(s)",
            )
        return self


class VideoRepainting(VaceRequest):
    """``video_repainting``: a new video with the input's motion, layout or sketch.

    ``control_condition`` says what is kept of the input: ``posebodyface`` (body pose and
    facial expression), ``posebody`` (body pose only), ``depth`` (composition and motion
    contours) or ``scribble`` (sketch edges). ``strength`` (0.0–1.0, default 1.0) is how
    closely the output follows it. ``video_url`` is an MP4 of at most 50 MB and 5 s (local
    files are probed); one optional reference image replaces the subject.
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus video_repainting"
    media_fields: ClassVar[tuple[str, ...]] = ("video_url", "ref_images_url")

    function: Literal["video_repainting"] = "video_repainting"
    video_url: RepaintVideoSource
    control_condition: ControlCondition | None = None
    strength: float = Field(default=1.0, ge=0.0, le=1.0)
    ref_images_url: list[ImageSource] | None = None

    _bare = field_validator("ref_images_url", mode="before")(_as_list)
    _strength_number = field_validator("strength", mode="before")(_no_bool)

    @field_validator("ref_images_url")
    @classmethod
    def _at_most_one(cls, value: list[str] | None) -> list[str] | None:
        return _reference_count(value, 1)

    def billable(self, lengths: Lengths) -> Estimate:
        """As many seconds as ``video_url`` lasts, at most 5 (`videoedit_vace.billing`)."""
        return following_input(self, lengths, self.video_url, "video_url")


class MaskedVideoEdit(VaceRequest):
    """``video_edit``: edit the region a mask marks (white = edit, black = keep).

    Exactly one of ``mask_image_url`` (recommended: one frame's mask, tracked by the model)
    and ``mask_video_url`` (a mask per frame). ``mask_frame_id`` (1-based, default the first
    frame) says which frame the mask image belongs to. ``mask_type`` ``tracking`` (default)
    lets the region follow its target, ``fixed`` keeps it still; ``expand_ratio`` (0.0–1.0,
    default 0.05) grows the region and only takes effect with ``tracking`` (given with
    ``fixed`` it is sent and the service ignores it, as documented). Reference images
    (*unconfirmed* count; up to 3 accepted) supply what goes into the region.
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus video_edit"
    media_fields: ClassVar[tuple[str, ...]] = (
        "video_url",
        "mask_image_url",
        "mask_video_url",
        "ref_images_url",
    )

    function: Literal["video_edit"] = "video_edit"
    video_url: VideoSource
    mask_image_url: ImageSource | None = None
    mask_video_url: VideoSource | None = None
    mask_frame_id: int | None = Field(default=None, ge=1)
    mask_type: MaskType = "tracking"
    expand_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    size: Size | None = None
    ref_images_url: list[ImageSource] | None = None

    _bare = field_validator("ref_images_url", mode="before")(_as_list)
    _mask_numbers = field_validator("mask_frame_id", "expand_ratio", mode="before")(_no_bool)

    @field_validator("ref_images_url")
    @classmethod
    def _one_to_three(cls, value: list[str] | None) -> list[str] | None:
        return _reference_count(value, MAX_REFERENCE_IMAGES)

    @model_validator(mode="after")
    def _mask_rules(self) -> Self:
        if self.mask_image_url is None and self.mask_video_url is None:
            raise FieldRuleError(
                "mask_image_url",
                "a mask is required: give mask_image_url (recommended) or mask_video_url",
            )
        if self.mask_image_url is not None and self.mask_video_url is not None:
            raise FieldRuleError(
                "mask_video_url", "give mask_image_url or mask_video_url, not both"
            )
        if self.mask_frame_id is not None and self.mask_image_url is None:
            raise FieldRuleError(
                "mask_frame_id", "names the frame of a mask image: it needs mask_image_url"
            )
        return self

    def billable(self, lengths: Lengths) -> Estimate:
        """As many seconds as ``video_url`` lasts, at most 5 (`videoedit_vace.billing`)."""
        return following_input(self, lengths, self.video_url, "video_url")


class VideoExtension(VaceRequest):
    """``video_extension``: a 5 s video continuing a clip or frame, forwards or backwards.

    ``prompt`` is required, and at least one of ``first_clip_url`` / ``last_clip_url``
    (videos of at most 3 s; local files are probed) or ``first_frame_url`` /
    ``last_frame_url`` (images). "First" material is continued forwards; "last" material is
    reached at the end.
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus video_extension"
    media_fields: ClassVar[tuple[str, ...]] = (
        "first_clip_url",
        "last_clip_url",
        "first_frame_url",
        "last_frame_url",
    )

    function: Literal["video_extension"] = "video_extension"
    prompt: str = Field(min_length=1)
    first_clip_url: ClipSource | None = None
    last_clip_url: ClipSource | None = None
    first_frame_url: ImageSource | None = None
    last_frame_url: ImageSource | None = None

    @model_validator(mode="after")
    def _something_to_extend(self) -> Self:
        sources = (self.first_clip_url, self.last_clip_url, self.first_frame_url)
        if all(s is None for s in (*sources, self.last_frame_url)):
            raise FieldRuleError(
                "first_clip_url",
                "needs at least one of first_clip_url, last_clip_url, first_frame_url, "
                "last_frame_url",
            )
        return self

    def billable(self, lengths: Lengths) -> Estimate:
        """Always 5 s of output (`videoedit_vace.billing`)."""
        return fixed_output(self)


class VideoOutpainting(VaceRequest):
    """``video_outpainting``: widen the frame on each side by a scale in [1.0, 2.0].

    ``left_scale=1.5`` makes the left side half again as wide; 1.0 (default) leaves a side
    as it is. The output keeps the input's size class up to 720P.
    """

    request_kind: ClassVar[str] = "wan2.1-vace-plus video_outpainting"
    media_fields: ClassVar[tuple[str, ...]] = ("video_url",)

    function: Literal["video_outpainting"] = "video_outpainting"
    video_url: VideoSource
    top_scale: float = Field(default=1.0, ge=1.0, le=2.0)
    bottom_scale: float = Field(default=1.0, ge=1.0, le=2.0)
    left_scale: float = Field(default=1.0, ge=1.0, le=2.0)
    right_scale: float = Field(default=1.0, ge=1.0, le=2.0)

    _scale_numbers = field_validator(
        "top_scale", "bottom_scale", "left_scale", "right_scale", mode="before"
    )(_no_bool)

    def billable(self, lengths: Lengths) -> Estimate:
        """As many seconds as ``video_url`` lasts, at most 5 (`videoedit_vace.billing`)."""
        return following_input(self, lengths, self.video_url, "video_url")


#: The five request types as a union tagged by ``function`` (for use in pydantic models).
AnyVaceRequest = Annotated[
    ImageReference | VideoRepainting | MaskedVideoEdit | VideoExtension | VideoOutpainting,
    Field(discriminator="function"),
]

REQUEST_TYPES: Final[Mapping[str, type[VaceRequest]]] = {
    "image_reference": ImageReference,
    "video_repainting": VideoRepainting,
    "video_edit": MaskedVideoEdit,
    "video_extension": VideoExtension,
    "video_outpainting": VideoOutpainting,
}


def _flatten(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A DashScope body's ``input`` and ``parameters`` as one dict, and where each key was."""
    unknown = sorted(set(body) - {"model", "input", "parameters"})
    if unknown:
        raise InvalidRequestError(
            f"{unknown[0]}: is not a part of a DashScope body (model, input, parameters)",
            field=unknown[0],
            rule="not a part of a DashScope body",
        )
    flat: dict[str, Any] = {}
    where: dict[str, str] = {}
    for block in ("input", "parameters"):
        part = body.get(block, {})
        if not isinstance(part, Mapping):
            raise InvalidRequestError(
                f"{block}: must be an object", field=block, rule="must be an object"
            )
        for key, value in part.items():
            if key in flat and flat[key] != value:
                raise InvalidRequestError(
                    f"{block}.{key}: given in both input and parameters, with different values",
                    field=f"{block}.{key}",
                    rule="given twice with different values",
                )
            flat[key] = value
            where.setdefault(key, block)
    if "model" in body:
        flat["model"] = body["model"]
    return flat, where


def _prefixed(exc: InvalidRequestError, where: Mapping[str, str], kind: str) -> InvalidRequestError:
    """Name fields as they sit in the body the caller gave (``input.video_url``)."""

    def name(field: str) -> str:
        root = re.split(r"[.\[]", field, maxsplit=1)[0]
        if root == "model" or root not in where:
            block = "input" if root in INPUT_FIELDS or root == "function" else "parameters"
            return field if root in ("model", "request") else f"{block}.{field}"
        return f"{where[root]}.{field}"

    errors = [(name(f), r) for f, r in exc.errors] or [
        (name(exc.field or "request"), exc.rule or exc.message)
    ]
    summary = "; ".join(f"{f}: {r}" for f, r in errors)
    return InvalidRequestError(
        f"invalid {kind} request: {summary}", field=errors[0][0], rule=errors[0][1], errors=errors
    )


def parse_vace_request(data: Mapping[str, Any]) -> VaceRequest:
    """Build the request type ``data["function"]`` names, with every rule checked.

    ``data`` is either flat (``{"function": "video_edit", "video_url": …, "mask_type": …}``)
    or a DashScope create body (``{"model", "input": {…}, "parameters": {…}}``, as the
    documentation's examples and the official SDK write it; ``obj_or_bg`` may sit in either
    block). Errors name fields flat in the first case and ``input.…`` / ``parameters.…`` in
    the second.
    """
    if not isinstance(data, Mapping):
        raise InvalidRequestError(
            f"request: must be a mapping, not {type(data).__name__}",
            field="request",
            rule="must be a mapping",
        )
    where: dict[str, str] | None = None
    flat: dict[str, Any] = dict(data)
    if isinstance(data.get("input"), Mapping) or "parameters" in data:
        flat, where = _flatten(data)
    function = flat.pop("function", None)
    if not isinstance(function, str) or function not in REQUEST_TYPES:  # [] is not hashable
        field = "input.function" if where is not None else "function"
        got = "missing" if function is None else f"{function!r} is not one of them"
        raise InvalidRequestError(
            f"{field}: must be one of {', '.join(FUNCTIONS)} ({got})",
            field=field,
            rule=f"one of {', '.join(FUNCTIONS)}",
        )
    cls = REQUEST_TYPES[function]
    bad_key = next((k for k in flat if not isinstance(k, str)), None)
    if bad_key is not None:
        raise InvalidRequestError(
            f"request: key {bad_key!r} is not a string", field="request", rule="string keys"
        )
    try:
        # The constructor, not model_validate: EditRequest's own __init__ names the fields.
        return cls(**flat)
    except InvalidRequestError as exc:
        if where is None:
            raise
        raise _prefixed(exc, where, cls.request_kind) from None
