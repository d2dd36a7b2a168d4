"""Request models: what is asked, with every documented limit checked before anything is sent.

The core owns the wan2.7 instruction edit ([`VideoEdit`][videoedit.VideoEdit]); plugins add request types by
subclassing [`EditRequest`][videoedit.EditRequest] and teaching providers to encode them through the
``encode_request`` hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from videoedit.errors import InvalidRequestError
from videoedit.media import (
    MediaKind,
    classify,
    local_path,
    validate_image_source,
    validate_video_source,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from videoedit.billing import Estimate, Lengths
    from videoedit.encoding import EncodeContext

__all__ = [
    "MAX_SEED",
    "EditRequest",
    "FieldRuleError",
    "Ratio",
    "Resolution",
    "VideoEdit",
    "invalid_request",
    "invalid_request_from",
]

MAX_SEED = 2_147_483_647
MAX_VIDEO_BYTES = 100 * 1024 * 1024
#: The longest input video wan2.7 takes (documented: 2 to 10 s).
MAX_INPUT_SECONDS = 10.0

Resolution = Literal["720P", "1080P"]
Ratio = Literal["16:9", "9:16", "1:1", "4:3", "3:4"]
AudioSetting = Literal["auto", "origin"]


class FieldRuleError(ValueError):
    """A rule broken by a whole-request check, naming the field it belongs to."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request"


def invalid_request_from(exc: ValidationError, model: str) -> InvalidRequestError:
    """Turn pydantic's error list into one [`InvalidRequestError`][videoedit.InvalidRequestError] naming every field."""
    errors: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = _loc(tuple(err["loc"]))
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, InvalidRequestError):
            # Our own __init__ ran inside pydantic (model_validate, nested requests): keep its
            # findings rather than wrapping them as one "request" error.
            prefix = f"{loc}." if err["loc"] else ""
            errors += [(prefix + f, r) for f, r in cause.errors] or [(loc, cause.message)]
            continue
        if isinstance(cause, FieldRuleError):
            loc = _loc((*err["loc"], cause.field)) if err["loc"] else cause.field
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a field of this request"
        errors.append((loc, msg))
    return invalid_request(model, errors or [("request", str(exc))])


def invalid_request(model: str, errors: list[tuple[str, str]]) -> InvalidRequestError:
    """One [`InvalidRequestError`][videoedit.InvalidRequestError] for ``(field, rule)`` findings, the first one leading."""
    first_field, first_rule = errors[0]
    summary = "; ".join(f"{f}: {r}" for f, r in errors)
    return InvalidRequestError(
        f"invalid {model} request: {summary}", field=first_field, rule=first_rule, errors=errors
    )


class EditRequest(BaseModel):
    """Base of every request type.

    Subclasses list their media fields in ``media_fields`` so the client can find local files
    to upload and put the uploaded URLs in their place, whatever the request type.
    Constructing a request with a bad value raises [`InvalidRequestError`][videoedit.InvalidRequestError]
    (a ``ValueError``), naming each offending field and its rule.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    #: A short name for error messages and logs.
    request_kind: ClassVar[str] = "edit"
    #: Field names holding a media source, or a list of them.
    media_fields: ClassVar[tuple[str, ...]] = ()

    model: str

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise invalid_request_from(exc, self.request_kind) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise invalid_request_from(exc, cls.request_kind) from None

    def media_sources(self) -> dict[str, str]:
        """Every media source in the request, keyed by its field path (``reference_images[1]``)."""
        found: dict[str, str] = {}
        for name in self.media_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                found[name] = value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    found[f"{name}[{i}]"] = item
        return found

    def local_files(self) -> dict[str, Path]:
        """The media sources that are local files and must be uploaded first."""
        return {
            key: local_path(src)
            for key, src in self.media_sources().items()
            if classify(src) is MediaKind.LOCAL
        }

    def with_media(self, replacements: dict[str, str]) -> Self:
        """A copy with the given media field paths replaced (by uploaded URLs)."""
        updates: dict[str, Any] = {}
        for name in self.media_fields:
            value = getattr(self, name)
            if isinstance(value, str) and name in replacements:
                updates[name] = replacements[name]
            elif isinstance(value, (list, tuple)):
                updates[name] = [
                    replacements.get(f"{name}[{i}]", item) for i, item in enumerate(value)
                ]
        return self.model_copy(update=updates)

    def check_local_files(self) -> None:
        """Check what the local files hold against the documented limits; raise
        [`InvalidRequestError`][videoedit.InvalidRequestError] naming the field and the rule.

        The client calls it when the request is submitted, before any upload (under
        [`AsyncClient`][videoedit.AsyncClient] in a worker thread: a probe runs ffmpeg). Constructing
        a request only checks that a local path names a file of an accepted kind, so building
        one does no probing. Nothing to check here; request types with local media override it.
        """

    def model_for(self, context: EncodeContext) -> str:
        """The model id this request names at ``context``'s destination (``model`` here).

        Local files are uploaded for this id before the create call, and an upload serves
        only the model it was made for; a request type whose model id differs by region
        (wan2.1-vace-plus is ``wanx2.1-vace-plus`` in Beijing) overrides this.
        """
        return self.model

    def billable(self, lengths: Lengths) -> Estimate | None:
        """The billable seconds of this request by its model's documented rule
        ([`videoedit.billing.estimate`][videoedit.billing.estimate]); ``None`` (here) when the rule is not known.

        ``lengths.of(source)`` measures a local video (``None`` for a URL: the estimate is
        then the documented upper bound, with ``exact=False``). Request types override it.
        """
        return None


class VideoEdit(EditRequest):
    """The wan2.7 instruction edit (``wan2.7-videoedit``): restyle or edit one video by prompt.

    Limits are the documented ones (see ``docs/requests.md``). A local ``video`` is checked
    at submission (`check_local_files`): its size, and with ffmpeg (when
    ``videoedit[probe]`` is installed) its container, 2–10 s, sides in [240, 4096] px, aspect
    ratio within 1:8..8:1, and ``duration`` not beyond its length.
    """

    request_kind: ClassVar[str] = "wan2.7-videoedit"
    media_fields: ClassVar[tuple[str, ...]] = ("video", "reference_images")

    model: str = "wan2.7-videoedit"
    video: str
    prompt: str | None = Field(default=None, max_length=5000)
    negative_prompt: str | None = Field(default=None, max_length=500)
    reference_images: list[str] = Field(default_factory=list, max_length=4)
    resolution: Resolution = "1080P"
    ratio: Ratio | None = None
    duration: int = 0
    audio_setting: AudioSetting = "auto"
    prompt_extend: bool = True
    watermark: bool = False
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)

    @field_validator("video", mode="before")
    @classmethod
    def _video_source(cls, value: Any) -> str:
        if not isinstance(value, (str, Path)):
            raise ValueError("must be a URL, an oss:// URL or a local path")
        return validate_video_source(value)

    @field_validator("reference_images", mode="before")
    @classmethod
    def _image_sources(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)):
            value = [value]
        if isinstance(value, (list, tuple)):
            # Paths are welcome wherever a local file is (as for ``video``).
            value = [str(item) if isinstance(item, Path) else item for item in value]
        return value

    @field_validator("reference_images")
    @classmethod
    def _each_image(cls, value: list[str]) -> list[str]:
        out = []
        for i, item in enumerate(value):
            try:
                out.append(validate_image_source(item))
            except ValueError as exc:
                raise ValueError(f"item {i}: {exc}") from None
        return out

    @field_validator("resolution", mode="before")
    @classmethod
    def _upper_resolution(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("duration", "seed", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        # pydantic takes True for 1; a flag where a number belongs is a mistake, not a seed.
        if isinstance(value, bool):
            raise ValueError("must be an integer, not a boolean")
        return value

    @field_validator("duration")
    @classmethod
    def _duration_rule(cls, value: int) -> int:
        if value != 0 and not 2 <= value <= 10:
            raise ValueError(
                "must be 0 (keep the input's length) or an integer from 2 to 10 seconds"
            )
        return value

    def billable(self, lengths: Lengths) -> Estimate:
        """Input seconds plus output seconds (see [`videoedit.billing.estimate`][videoedit.billing.estimate]).

        A video that cannot be measured counts as the longest input the model takes (10 s),
        and its output as ``duration`` or that same 10 s.
        """
        from videoedit.billing import Estimate, whole_seconds

        measured = lengths.of(self.video)
        if measured is None:
            input_seconds = MAX_INPUT_SECONDS
            output = float(self.duration or MAX_INPUT_SECONDS)
            note: str | None = (
                f"{lengths.why(self.video)}; a wan2.7 input lasts at most "
                f"{MAX_INPUT_SECONDS:g} s, so this is an upper bound"
            )
        else:
            input_seconds = measured
            output = float(self.duration or whole_seconds(measured))
            note = None
        return Estimate(
            seconds=round(input_seconds + output, 2),
            exact=measured is not None,
            note=note,
            model=self.model,
            resolution=self.resolution,
            input_seconds=input_seconds,
            output_seconds=output,
        )

    def check_local_files(self) -> None:
        """A local ``video``'s size and, with ffmpeg, its content (see the class docstring)."""
        if classify(self.video) is not MediaKind.LOCAL:
            return
        try:
            check_local_video(local_path(self.video), requested_duration=self.duration)
        except FieldRuleError as exc:
            raise invalid_request(self.request_kind, [(exc.field, str(exc))]) from None


def _size(n: int) -> str:
    if n % 2**20 == 0:
        return f"{n // 2**20} MB"
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n} bytes"


def check_local_video(
    path: Path,
    *,
    requested_duration: int = 0,
    min_seconds: float = 2.0,
    max_seconds: float = 10.0,
    max_bytes: int | None = None,
    field: str = "video",
) -> None:
    """Apply the documented input-video limits to a local file (content checks need ffmpeg).

    The size rule always runs; container (by content, not only by name), duration, sides and
    aspect ratio need ``videoedit[probe]`` and are skipped without it.
    """
    from videoedit.probe import probe_video

    def broken(rule: str, name: str = field) -> FieldRuleError:
        return FieldRuleError(name, rule)

    limit = MAX_VIDEO_BYTES if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise broken(f"{path.name} is {_size(size)}; the limit is {_size(limit)}")
    try:
        info = probe_video(path)
    except ValueError as exc:
        raise broken(f"{path.name}: {exc}") from None
    if info is None:
        return
    if info.format and not {"mov", "mp4"} & set(info.format.split(",")):
        raise broken(
            f"{path.name} is a {info.format.split(',')[0]} file; the container must be mp4 or mov"
        )
    if not min_seconds - 0.05 <= info.duration <= max_seconds + 0.05:
        raise broken(
            f"{path.name} lasts {info.duration:.2f} s; input video must last "
            f"{min_seconds:g} to {max_seconds:g} s"
        )
    for side_name, side in (("width", info.width), ("height", info.height)):
        if not 240 <= side <= 4096:
            raise broken(f"{path.name} {side_name} is {side} px; each side must be 240 to 4096 px")
    ratio = info.width / info.height
    if not 1 / 8 <= ratio <= 8:
        raise broken(
            f"{path.name} is {info.width}x{info.height}; aspect ratio must be between 1:8 and 8:1"
        )
    if requested_duration and requested_duration > info.duration + 0.05:
        raise broken(
            f"{requested_duration} s exceeds the input video's length ({info.duration:.2f} s)",
            "duration",
        )
