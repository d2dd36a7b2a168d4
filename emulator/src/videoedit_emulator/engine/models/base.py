"""What a model handler is: server-side validation of one model family's requests.

The emulator is a test double, so it checks requests with its own code rather than the
client's pydantic models: a client bug then shows up as the service's 400, as it would in
production. A handler works in two steps, because some rules need the input's content:

1. `ModelHandler.validate` checks the JSON (types, ranges, counts) and returns a
   `JobPlan` naming the media to fetch;
2. once the engine has resolved those media (``sources.py``), `ModelHandler.prepare`
   checks what only the files can tell (container, length, sides) and returns a
   `RenderPlan`: the renderer's job plus the figures billing reports.

Both raise `ApiError` with a message that starts with the
field (``input.media[0].url``, ``parameters.duration``) and DashScope-style codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from videoedit_emulator.engine.errors import ApiError

if TYPE_CHECKING:
    from videoedit.probe import VideoInfo
    from videoedit_emulator.render import RenderJob

__all__ = [
    "JobPlan",
    "MediaInput",
    "ModelHandler",
    "RenderPlan",
    "ResolvedMedia",
    "check_container",
    "check_type",
    "reject_unknown",
]

MediaKind = Literal["video", "image"]
#: The containers every model takes a video in, among the names ffmpeg gives a format
#: (``mov,mp4,m4a,3gp,3g2,mj2``); the renderer opens no other (``render/demuxers.py``).
VIDEO_CONTAINERS = frozenset({"mp4", "mov"})


@dataclass(frozen=True)
class MediaInput:
    """One media URL of a request: where it sits in the body, and what it must be."""

    field: str  # e.g. "input.media[0].url"
    url: str
    kind: MediaKind
    role: str  # e.g. "video", "reference_image", "mask_image"


@dataclass(frozen=True)
class JobPlan:
    """A request that passed the static checks, normalised (defaults filled in)."""

    model: str
    media: tuple[MediaInput, ...]
    prompt: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedMedia:
    """A media input made local. ``path`` is ``None`` when the URL was not fetched (it is not
    on this machine): the renderer then draws a test pattern, and ``note`` says so."""

    field: str
    url: str
    kind: MediaKind
    path: Path | None
    size: int = 0
    info: VideoInfo | None = None
    note: str | None = None


@dataclass(frozen=True)
class RenderPlan:
    """What to render for a task, and the figures its usage is built from.

    ``usage_style`` tells adapters which usage shape the model reports (``"wan27"``:
    input + output seconds and SR; others may be added by their handlers).
    ``input_seconds`` is the input video's length (``None`` for models that take none).
    """

    job: RenderJob
    input_seconds: float | None
    short_side: int
    usage_style: str = "wan27"
    notes: tuple[str, ...] = ()
    output_extras: Mapping[str, Any] = field(default_factory=dict)


class ModelHandler(Protocol):
    """A model family's server-side rules. Registered in ``models/__init__.py``."""

    #: Model ids this handler serves, each with the regions that have it (``None``: all).
    models: Mapping[str, frozenset[str] | None]

    def validate(
        self,
        model: str,
        input: Mapping[str, Any],
        parameters: Mapping[str, Any],
        region: str | None,
    ) -> JobPlan:
        """Check the request's JSON; raise ApiError naming the field and the rule."""
        ...

    def prepare(self, plan: JobPlan, media: Mapping[str, ResolvedMedia]) -> RenderPlan:
        """Check the resolved media (keyed by ``MediaInput.field``) and plan the render."""
        ...


# -- small helpers shared by handlers ---------------------------------------------------------
_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "an object",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_type(name: str, value: Any, expected: type, *, nullable: bool = True) -> Any:
    """``value`` if it has the JSON type ``expected`` (bools are not integers), else a 400."""
    if value is None and nullable:
        return None
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ApiError.invalid(
            name, f"must be {_TYPE_NAMES.get(expected, expected.__name__)}, got {_json_type(value)}"
        )
    return value


def check_container(field: str, format_name: str) -> None:
    """A 400 unless ``format_name`` (ffmpeg's name of a video's format) is mp4 or mov."""
    if not set(format_name.split(",")) & VIDEO_CONTAINERS:
        raise ApiError.invalid(
            field, f"has container {format_name or 'unknown'!r}; it must be mp4 or mov"
        )


def reject_unknown(prefix: str, body: Mapping[str, Any], known: frozenset[str], model: str) -> None:
    """A 400 for the first key of ``body`` that the model does not take."""
    for key in body:
        if key not in known:
            raise ApiError.invalid(
                f"{prefix}.{key}",
                f"is not a parameter of {model} (accepted: {', '.join(sorted(known))})",
            )
