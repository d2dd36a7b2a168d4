"""What the stand-in's marks say, and how it is fitted to the frame.

``drawtext`` does not wrap, so lines are broken here, by the rendered width of each character
(measured once for DejaVu Sans; the other fonts the renderer may pick are no wider), and the
text is cleaned of what drawtext would show as boxes. `describe_mode` is the line that says
which mode a stand-in stands for.
"""

from __future__ import annotations

import unicodedata

from .job import FPS, Extension, ImageReference, MaskedEdit, RenderJob, Repaint, Restyle

__all__ = ["char_em", "clean_text", "describe_mode", "wrap_text"]

# Advance widths of DejaVu Sans (em) for printable ASCII, from ' ' to '~'. Other fonts we may
# pick (Noto Sans CJK, Liberation) are no wider, so wrapping by these never overflows the frame.
_ASCII_EM = (
    0.318, 0.401, 0.460, 0.838, 0.636, 0.950, 0.780, 0.275, 0.390, 0.390, 0.500, 0.838, 0.318,
    0.361, 0.318, 0.337, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636,
    0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.000, 0.684, 0.686, 0.698, 0.770, 0.632, 0.575,
    0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635,
    0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.390, 0.337, 0.390, 0.838, 0.500, 0.500,
    0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974,
    0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525,
    0.636, 0.337, 0.636, 0.838,
)  # fmt: skip


def char_em(ch: str) -> float:
    """Advance of a character in em, rounded up a little (see ``_ASCII_EM``)."""
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return _ASCII_EM[code - 0x20] * 1.03
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if unicodedata.combining(ch):
        return 0.0
    return 0.75


def clean_text(text: str) -> str:
    """Drop control characters drawtext would show as boxes; keep newlines and all scripts."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )


def wrap_text(text: str, max_em: float, max_lines: int) -> list[str]:
    """Greedy wrap by rendered width; breaks at spaces when it can, anywhere when it must.

    Honors the text's own line breaks; the last kept line ends in "…" when text was cut.
    """
    lines: list[str] = []
    truncated = False
    for paragraph in clean_text(text).split("\n"):
        current = ""
        width = 0.0
        for ch in paragraph:
            w = char_em(ch)
            if width + w > max_em and current:
                cut = current.rfind(" ")
                if ch != " " and cut > len(current) // 2:
                    lines.append(current[:cut])
                    current = current[cut + 1 :]
                else:
                    lines.append(current.rstrip())
                    current = ""
                width = sum(char_em(c) for c in current)
                if ch == " " and not current:
                    continue
            current += ch
            width += w
        lines.append(current.rstrip())
        if len(lines) > max_lines:
            truncated = True
            break
    if len(lines) > max_lines:
        truncated = True
        lines = lines[:max_lines]
    if truncated and lines:
        last = lines[-1]
        while last and sum(char_em(c) for c in last) + 1.0 > max_em:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def describe_mode(job: RenderJob, frames: int) -> str:
    mode = job.mode
    if isinstance(mode, Restyle):
        return "instruction edit: the input transcoded, not edited"
    if isinstance(mode, ImageReference):
        n = len(job.images)
        tags = f" ({', '.join(mode.obj_or_bg)})" if mode.obj_or_bg else ""
        return f"image_reference: {n} reference image{'s' if n != 1 else ''}{tags} in sequence"
    if isinstance(mode, Repaint):
        look = {
            "posebodyface": "edges on colour",
            "posebody": "white edges",
            "depth": "blurred grayscale",
            "scribble": "dark lines on white",
        }[mode.control_condition]
        return (
            f"video_repainting: control {mode.control_condition} ({look}), "
            f"strength {mode.strength:.2f}"
        )
    if isinstance(mode, MaskedEdit):
        which = "mask image" if mode.mask_image is not None else "mask video"
        extra = f", expand {mode.expand_ratio:.2f}" if mode.mask_type == "tracking" else ""
        return (
            f"video_edit: {which} (frame {mode.mask_frame_id}, {mode.mask_type}{extra}); "
            "magenta = edited region"
        )
    if isinstance(mode, Extension):
        parts = [
            name.replace("_", " ")
            for name in ("first_clip", "first_frame", "last_clip", "last_frame")
            if getattr(mode, name) is not None
        ]
        given = " + ".join(parts) if parts else "no input"
        return f"video_extension: {given} carried on to {frames / FPS:g} s"
    return (
        f"video_outpainting: top {mode.top:.2f}, bottom {mode.bottom:.2f}, left {mode.left:.2f}, "
        f"right {mode.right:.2f}; slate = painted area"
    )


# --------------------------------------------------------------------------- builder
