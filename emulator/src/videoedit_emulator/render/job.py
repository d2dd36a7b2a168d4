"""What the renderer is asked to draw: `RenderJob` and its modes, and what it returns.

These are plain frozen dataclasses so that a job can be hashed into a cache key, passed to a
worker thread and compared in tests. They validate their own shape (sizes, ranges, enums) and
raise ``ValueError`` naming the field: a bad job is a bug in the caller (the engine or a model
handler), never a user's mistake, because user input is validated by ``models/`` first.

`videoedit_emulator.render` re-exports everything here; import from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "FPS",
    "MAX_DIMENSION",
    "AudioMode",
    "ControlCondition",
    "Extension",
    "ImageReference",
    "MaskType",
    "MaskedEdit",
    "Outpaint",
    "RenderError",
    "RenderJob",
    "RenderMode",
    "RenderResult",
    "Repaint",
    "Restyle",
]

FPS = 30
"""Every output runs at exactly this frame rate (the services' documented output)."""

MAX_DIMENSION = 4096
MIN_DIMENSION = 16
TEST_PATTERN_SECONDS = 5.0
"""Length of a test-pattern output when the job gives no duration."""

AudioMode = Literal["none", "origin", "tone"]
ControlCondition = Literal["posebodyface", "posebody", "depth", "scribble"]
MaskType = Literal["tracking", "fixed"]


class RenderError(RuntimeError):
    """The renderer could not produce the MP4.

    ``message`` names the input at fault when one is (``source``, an image, a mask, a clip);
    ``stderr_tail`` carries the last lines ffmpeg printed, for a failed encode.
    """

    def __init__(self, message: str, *, stderr_tail: str = "", input: Path | None = None) -> None:
        super().__init__(message if not stderr_tail else f"{message}\n{stderr_tail}")
        self.message = message
        self.stderr_tail = stderr_tail
        self.input = input


# --------------------------------------------------------------------------- modes


@dataclass(frozen=True)
class Restyle:
    """wan2.7-videoedit's instruction edit: the source transcoded under the stand-in marks."""

    name: Literal["restyle"] = field(default="restyle", init=False)


@dataclass(frozen=True)
class ImageReference:
    """vace ``image_reference``: the job's ``images`` shown one after another for the duration.

    ``obj_or_bg`` tags each image (same length as ``RenderJob.images`` when given) and is
    printed on its segment; there is no source video.
    """

    obj_or_bg: tuple[Literal["obj", "bg"], ...] = ()
    name: Literal["image_reference"] = field(default="image_reference", init=False)

    def __post_init__(self) -> None:
        for i, tag in enumerate(self.obj_or_bg):
            if tag not in ("obj", "bg"):
                raise ValueError(
                    f"ImageReference.obj_or_bg[{i}]: must be 'obj' or 'bg', got {tag!r}"
                )


@dataclass(frozen=True)
class Repaint:
    """vace ``video_repainting``: the source under a filter that stands for the control signal.

    posebodyface -> bright edges over the source's darkened colours, posebody -> white edges
    on black, depth -> blurred grayscale, scribble -> dark lines on white (Sobel edges).
    ``strength`` is the weight of that control picture over the original frame (1.0 shows only
    the control picture).
    """

    control_condition: ControlCondition = "depth"
    strength: float = 1.0
    name: Literal["video_repainting"] = field(default="video_repainting", init=False)

    def __post_init__(self) -> None:
        if self.control_condition not in ("posebodyface", "posebody", "depth", "scribble"):
            raise ValueError(
                "Repaint.control_condition: must be posebodyface, posebody, depth or scribble, "
                f"got {self.control_condition!r}"
            )
        if not (isinstance(self.strength, (int, float)) and 0.0 <= self.strength <= 1.0):
            raise ValueError(f"Repaint.strength: must be within [0.0, 1.0], got {self.strength!r}")


@dataclass(frozen=True)
class MaskedEdit:
    """vace ``video_edit``: the source with the mask's white region painted over in magenta.

    Exactly one of ``mask_image`` / ``mask_video``. The mask is scaled exactly like the source,
    so it lands where it was drawn. ``expand_ratio`` (tracking only) grows the region by that
    fraction of the frame's short side. Tracking and fixed look the same: the stand-in does not
    track anything, it shows the region as given on every frame (a mask video moves by itself).
    ``mask_frame_id`` is printed, not used to place the region in time.
    """

    mask_image: Path | None = None
    mask_video: Path | None = None
    mask_type: MaskType = "tracking"
    expand_ratio: float = 0.05
    mask_frame_id: int = 1
    name: Literal["video_edit"] = field(default="video_edit", init=False)

    def __post_init__(self) -> None:
        if (self.mask_image is None) == (self.mask_video is None):
            raise ValueError("MaskedEdit: exactly one of mask_image and mask_video is required")
        if self.mask_type not in ("tracking", "fixed"):
            raise ValueError(
                f"MaskedEdit.mask_type: must be 'tracking' or 'fixed', got {self.mask_type!r}"
            )
        if not (isinstance(self.expand_ratio, (int, float)) and 0.0 <= self.expand_ratio <= 1.0):
            raise ValueError(
                f"MaskedEdit.expand_ratio: must be within [0.0, 1.0], got {self.expand_ratio!r}"
            )
        if self.mask_frame_id < 1:
            raise ValueError(f"MaskedEdit.mask_frame_id: must be >= 1, got {self.mask_frame_id!r}")


@dataclass(frozen=True)
class Extension:
    """vace ``video_extension``: given clips/frames, with the time between them carried on.

    The first clip (or first frame) opens the output and its last frame is held until the last
    clip (or last frame) begins; the last part ends the output, its first frame held before it.
    With only a last still frame, it is held for the second half. When every input is ``None``
    (none could be fetched offline) the output is the marked test pattern.
    """

    first_clip: Path | None = None
    last_clip: Path | None = None
    first_frame: Path | None = None
    last_frame: Path | None = None
    name: Literal["video_extension"] = field(default="video_extension", init=False)

    def __post_init__(self) -> None:
        if self.first_clip is not None and self.first_frame is not None:
            raise ValueError("Extension: give first_clip or first_frame, not both")
        if self.last_clip is not None and self.last_frame is not None:
            raise ValueError("Extension: give last_clip or last_frame, not both")


@dataclass(frozen=True)
class Outpaint:
    """vace ``video_outpainting``: the source padded on each side, then fitted to the output.

    A scale of ``s`` on a side adds ``(s - 1)`` times the source's width (left/right) or
    height (top/bottom) on that side, so ``left=1.5`` adds half a frame on the left. The added
    area is filled in slate blue (what the model would paint); any letterbox left over after
    fitting the padded frame into the output is black.
    """

    top: float = 1.0
    bottom: float = 1.0
    left: float = 1.0
    right: float = 1.0
    name: Literal["video_outpainting"] = field(default="video_outpainting", init=False)

    def __post_init__(self) -> None:
        for side in ("top", "bottom", "left", "right"):
            value = getattr(self, side)
            if not (isinstance(value, (int, float)) and 1.0 <= value <= 2.0):
                raise ValueError(f"Outpaint.{side}: must be within [1.0, 2.0], got {value!r}")


RenderMode = Restyle | ImageReference | Repaint | MaskedEdit | Extension | Outpaint


# --------------------------------------------------------------------------- job / result


@dataclass(frozen=True)
class RenderJob:
    """One stand-in MP4 to produce. See the module docstring of `videoedit_emulator.render`."""

    width: int
    height: int
    duration: float | None
    source: Path | None
    audio: AudioMode
    watermark: bool
    caption: str
    prompt: str | None = None
    images: tuple[Path, ...] = ()
    mode: RenderMode = field(default_factory=Restyle)
    fit: Literal["cover", "contain"] = "cover"
    source_note: str | None = None

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"RenderJob.{name}: must be an int, got {value!r}")
            if not MIN_DIMENSION <= value <= MAX_DIMENSION or value % 2:
                raise ValueError(
                    f"RenderJob.{name}: must be an even number of pixels in "
                    f"[{MIN_DIMENSION}, {MAX_DIMENSION}], got {value}"
                )
        if self.duration is not None and not (
            isinstance(self.duration, (int, float))
            and math.isfinite(self.duration)
            and 1 / FPS <= self.duration <= 600
        ):
            raise ValueError(
                f"RenderJob.duration: must be None or seconds in [1/{FPS}, 600], got {self.duration!r}"
            )
        if self.audio not in ("none", "origin", "tone"):
            raise ValueError(
                f"RenderJob.audio: must be 'none', 'origin' or 'tone', got {self.audio!r}"
            )
        if self.fit not in ("cover", "contain"):
            raise ValueError(f"RenderJob.fit: must be 'cover' or 'contain', got {self.fit!r}")
        if not isinstance(self.images, tuple):
            raise ValueError("RenderJob.images: must be a tuple of paths")
        if not isinstance(
            self.mode, (Restyle, ImageReference, Repaint, MaskedEdit, Extension, Outpaint)
        ):
            raise ValueError(f"RenderJob.mode: not a render mode: {self.mode!r}")
        if (
            isinstance(self.mode, ImageReference)
            and self.mode.obj_or_bg
            and len(self.mode.obj_or_bg) != len(self.images)
        ):
            raise ValueError(
                "ImageReference.obj_or_bg: must have one tag per image "
                f"({len(self.images)} images, {len(self.mode.obj_or_bg)} tags)"
            )

    @property
    def frames(self) -> int | None:
        """Exact output frame count when the duration is known before probing."""
        return None if self.duration is None else max(1, round(self.duration * FPS))


@dataclass(frozen=True)
class RenderResult:
    """The MP4 that was written. ``duration`` is ``frames / 30``, exact by construction."""

    path: Path
    width: int
    height: int
    duration: float
    fps: int
    frames: int
    has_audio: bool
    size_bytes: int
    cache_hit: bool
