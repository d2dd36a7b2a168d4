"""The documented facts of ``wan2.1-vace-plus`` (API-FACTS §3): its model ids, functions, sizes,
bounds, quotas and which fields each function takes, and the output sizes derived from them.

Both steps of the handler read them: the JSON checks (``vace.py``) and the render plans made
once the files are here (``vace_plans.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "FUNCTIONS",
    "KNOWN_SIZES",
    "MODEL_BEIJING",
    "MODEL_SINGAPORE",
    "TASK_METRICS",
    "VaceLimits",
    "closest_size",
    "fit_720p",
    "output_size",
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

COMMON_INPUT = frozenset({"function", "prompt", "negative_prompt", "extend_prompt"})
COMMON_PARAMETERS = frozenset({"prompt_extend", "seed"})
#: What each function takes, beyond the common fields: (input keys, parameter keys).
FIELDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
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
IMAGE_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"))


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


def closest_size(width: int, height: int) -> tuple[int, int]:
    """The documented size whose aspect ratio is nearest the input's (on a log scale)."""
    aspect = math.log(width / height)
    return min(KNOWN_SIZES.values(), key=lambda s: abs(aspect - math.log(s[0] / s[1])))


def output_size(size: tuple[int, int], notes: list[str]) -> tuple[int, int]:
    """``size`` as rendered: H.264 in yuv420p needs even sides, so an odd one loses a pixel."""
    width, height = size[0] // 2 * 2, size[1] // 2 * 2
    if (width, height) != size:
        notes.append(
            f"parameters.size {size[0]}*{size[1]}: rendered at {width}*{height} (even sides)"
        )
    return width, height
