"""The marks: reference thumbnails, one ``drawtext`` block (caption, mode, source note, prompt)
and the watermark, drawn once on transparent layers that ``overlay`` repeats.

Each image is decoded and scaled once; text is shaped once, from a UTF-8 file read with
``textfile=`` and ``expansion=none``, so it never goes through the filtergraph parser.
"""

from __future__ import annotations

import math

from . import fonts
from .graph import GraphBuilder, even
from .text import char_em, describe_mode, wrap_text

__all__ = ["PROMPT_MAX_LINES", "WATERMARK_CJK", "WATERMARK_LATIN", "Marks"]

WATERMARK_CJK = "AI生成"
WATERMARK_LATIN = "AI-generated"
PROMPT_MAX_LINES = 4


class Marks(GraphBuilder):
    """The steps that draw the marks."""

    def marks(self, current: str, n: int) -> str:
        """Overlay every static mark, band by band.

        The marks do not change over time, so they are drawn once on transparent layers (text
        shaped once, each image decoded and scaled once) and blended by ``overlay``, which then
        repeats that one frame. ``overlay`` blends every pixel of its layer on every frame, so
        a layer spans only the band its marks occupy: the text block along the top, the
        thumbnails and the watermark along the bottom. Outside those bands a full-frame layer
        would be transparent, so the frames are the same; the blend costs a fraction of it
        (``docs/performance.md``). When the bands would meet, one full-frame layer is used.
        """
        text = self.text_block(n)
        top = self.text_band_height()
        bottom = self.bottom_band_height()
        if not self.banded or top + bottom >= self.H:
            layer = self.label("layer")
            self.chains.append(self.blank(layer, self.H))
            layer = self.thumbnails(layer, self.H)
            steps = [text] + ([self.watermark()] if self.job.watermark else [])
            return self.overlay(current, layer, steps, 0)
        layer = self.label("layer")
        self.chains.append(self.blank(layer, top))
        current = self.overlay(current, layer, [text], 0)
        if bottom:
            layer = self.label("layer")
            self.chains.append(self.blank(layer, bottom))
            layer = self.thumbnails(layer, bottom)
            steps = [self.watermark()] if self.job.watermark else []
            current = self.overlay(current, layer, steps, self.H - bottom)
        return current

    def blank(self, label: str, height: int) -> str:
        """A transparent ``W×height`` picture, one frame (``overlay`` repeats it)."""
        return f"color=c=black@0:size={self.W}x{height}:rate=1:duration=1,format=rgba[{label}]"

    def overlay(self, current: str, layer: str, steps: list[str], y: int) -> str:
        """Draw ``steps`` on ``layer`` and blend it over ``current`` at row ``y``."""
        marks, out = self.label("marks"), self.label("marked")
        self.chains.append(f"[{layer}]" + ",".join([*steps, "format=yuva420p"]) + f"[{marks}]")
        self.chains.append(
            f"[{current}][{marks}]overlay=x=0:y={y}:eof_action=repeat:format=yuv420[{out}]"
        )
        return out

    def text_band_height(self) -> int:
        """Rows from the top that the text block can reach (even, at most the frame).

        Each line is given 1.6 em plus the line spacing: more than the tallest fonts the
        renderer picks need (DejaVu Sans 1.17 em, Noto Sans CJK 1.45 em from ascender to
        descender), so the band never cuts a glyph; spare rows are transparent.
        """
        fs = self.font_size()
        margin = max(4, fs // 2)
        border = margin // 2 + 2
        lines = max(1, self.text_lines)
        height = margin + border + lines * math.ceil(1.6 * fs) + (lines - 1) * self.line_spacing()
        return min(self.H, even(height + border + 2))

    def bottom_band_height(self) -> int:
        """Rows from the bottom that the thumbnails and the watermark can reach (0: none)."""
        height = 0
        if self.job.images:
            margin = max(4, min(self.W, self.H) // 40)
            height = margin + even(self.H / 5) + 2
        if self.job.watermark:
            fs, margin = self.watermark_size()
            height = max(height, margin + math.ceil(1.6 * fs) + max(1, fs // 14) + 2)
        return min(self.H, even(height)) if height else 0

    def line_spacing(self) -> int:
        return max(1, self.font_size() // 5)

    def text_block(self, n: int) -> str:
        job = self.job
        fs = self.font_size()
        margin = max(4, fs // 2)
        max_em = (self.W - 3 * margin) / fs
        lines = wrap_text(job.caption or "videoedit emulator stand-in", max_em, 1)
        lines += wrap_text(describe_mode(job, n), max_em, 2)
        if self.pattern:
            lines += wrap_text(
                "source: test pattern (the input was not available offline)", max_em, 1
            )
        if job.source_note:
            lines += wrap_text(f"note: {job.source_note}", max_em, 2)
        if job.prompt and job.prompt.strip():
            lines += wrap_text(f"prompt: {job.prompt.strip()}", max_em, PROMPT_MAX_LINES)
        kept = [line for line in lines if line]
        self.text_lines = len(kept)
        self.text_files["block.txt"] = "\n".join(kept)
        return (
            f"drawtext={self.font_opt()}textfile=block.txt:expansion=none:fontsize={fs}:"
            f"fontcolor=white:line_spacing={self.line_spacing()}:box=1:boxcolor=black@0.75:"
            f"boxborderw={margin // 2 + 2}:x={margin}:y={margin}"
        )

    def watermark_text(self) -> str:
        return WATERMARK_CJK if fonts.cjk_font() is not None else WATERMARK_LATIN

    def watermark_size(self) -> tuple[int, int]:
        """(font size, margin) of the watermark."""
        fs = max(12, round(min(self.W, self.H) / 16))
        return fs, max(6, fs // 2)

    def watermark_width(self) -> int:
        fs, margin = self.watermark_size()
        return round(sum(char_em(ch) for ch in self.watermark_text()) * fs) + margin

    def watermark(self) -> str:
        self.text_files["watermark.txt"] = self.watermark_text()
        fs, margin = self.watermark_size()
        return (
            f"drawtext={self.font_opt()}textfile=watermark.txt:expansion=none:"
            f"fontsize={fs}:fontcolor=white:borderw={max(1, fs // 14)}:"
            f"bordercolor=black@0.7:x=w-tw-{margin}:y=h-th-{margin}"
        )

    def thumbnails(self, layer: str, layer_height: int) -> str:
        """Reference images, bottom-left, each fitted into a white-framed slot (drawn on a
        layer ``layer_height`` rows tall whose bottom is the frame's bottom)."""
        images = self.job.images
        if not images:
            return layer
        margin = max(4, min(self.W, self.H) // 40)
        th = even(self.H / 5)
        tw = even(th * 4 / 3)
        gap = max(2, margin // 2)
        room = self.W - 2 * margin
        if self.job.watermark:
            room -= self.watermark_width() + margin
        if len(images) * (tw + gap) > room:
            k = room / (len(images) * (tw + gap))
            th, tw = even(th * k), even(tw * k)
        border = 2 if th >= 40 else 1
        y = layer_height - margin - th
        for i, image in enumerate(images):
            index = self.add_input(image, f"images[{i}]", still=True)
            thumb, out = self.label("thumb"), self.label("layer")
            self.chains.append(
                f"[{index}:v]trim=end_frame=1,setpts=PTS-STARTPTS,"
                f"scale={tw - 2 * border}:{th - 2 * border}:force_original_aspect_ratio=decrease"
                f":flags=bilinear,format=rgba,pad=iw+{2 * border}:ih+{2 * border}:{border}:{border}"
                f":color=white[{thumb}]"
            )
            x = margin + i * (tw + gap)
            self.chains.append(
                f"[{layer}][{thumb}]overlay=x={x}+({tw}-w)/2:y={y}+({th}-h)/2:format=rgb[{out}]"
            )
            layer = out
        return layer
