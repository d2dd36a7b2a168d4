"""Turn a `RenderJob` into one ffmpeg command line.

One ffmpeg process per render, one ``-filter_complex`` graph, every frame touched by as few
filters as the job needs. The graph has three stages:

1. **base**: ``W×H`` yuv420p frames at exactly 30 fps, ``N`` of them, built by the mode: the
   source (or the ``testsrc2`` pattern) scaled to the output, the reference images in sequence,
   or the extension's clips and held frames. Sources are decoded only as far as needed
   (``-t`` on the input) and converted to 30 fps before or after scaling, whichever touches
   fewer frames. ``tpad`` clones the last frame when the source is shorter than the output
   and ``trim`` cuts at exactly ``N`` frames, so the count never depends on the source.
2. **mode filter**: repainting's control picture, the mask overlay (outpainting is part of the
   base geometry).
3. **marks**: reference thumbnails (each image is decoded and scaled once, then repeated by
   ``overlay``), one ``drawtext`` block (caption, mode, source note, prompt) and the watermark.

Text never goes through the filtergraph parser: it is written to UTF-8 files read with
``textfile=`` and ``expansion=none``, and font files are symlinked beside them; ffmpeg runs
with that work directory as its cwd, so the graph holds only short fixed names and numbers.
Inputs are passed as ``file:<path>``, each through the one demuxer of its kind and the
local-file protocol alone (`videoedit_emulator.render.demuxers`), so no path is mistaken for an
option or a protocol and no input can make ffmpeg open another file.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from videoedit.probe import VideoInfo

from . import demuxers, fonts
from .job import (
    FPS,
    TEST_PATTERN_SECONDS,
    Extension,
    ImageReference,
    MaskedEdit,
    Outpaint,
    RenderError,
    RenderJob,
    Repaint,
    Restyle,
)

__all__ = ["Command", "build_command", "wrap_text"]

X264_PRESET = "ultrafast"
X264_CRF = 23
AUDIO_BITRATE = "128k"
TONE_HZ = 440
WATERMARK_CJK = "AI生成"
WATERMARK_LATIN = "AI-generated"
OUTPAINT_FILL = "0x3c5a78"
MASK_ALPHA = 0.55
PROMPT_MAX_LINES = 4

Prober = Callable[[Path, str], VideoInfo]
"""``probe(path, field_name)`` -> facts about an input video; raises RenderError naming it."""


@dataclass
class Command:
    """An ffmpeg invocation plus the small files it expects in its work directory."""

    argv: list[str]
    frames: int
    has_audio: bool
    text_files: dict[str, str] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)
    inputs: list[tuple[str, Path]] = field(default_factory=list)
    """(field name, path) of each ``-i`` in order, to name the culprit when ffmpeg fails."""


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _num(value: float) -> str:
    """A number as ffmpeg reads it: no exponent, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------- text


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


def _char_em(ch: str) -> float:
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
            w = _char_em(ch)
            if width + w > max_em and current:
                cut = current.rfind(" ")
                if ch != " " and cut > len(current) // 2:
                    lines.append(current[:cut])
                    current = current[cut + 1 :]
                else:
                    lines.append(current.rstrip())
                    current = ""
                width = sum(_char_em(c) for c in current)
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
        while last and sum(_char_em(c) for c in last) + 1.0 > max_em:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _describe_mode(job: RenderJob, frames: int) -> str:
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


class _Builder:
    def __init__(self, job: RenderJob, probe: Prober, *, banded: bool = True) -> None:
        self.job = job
        self.probe = probe
        self.W = job.width
        self.H = job.height
        self.input_args: list[str] = []
        self.chains: list[str] = []
        self.labels = 0
        self.cmd_inputs: list[tuple[str, Path]] = []
        self.input_index: dict[tuple[Path, float | None], int] = {}
        self.text_files: dict[str, str] = {}
        self.links: dict[str, Path] = {}
        self.pattern = False
        self.banded = banded
        self.text_lines = 0

    def label(self, stem: str) -> str:
        self.labels += 1
        return f"{stem}{self.labels}"

    def add_input(
        self, path: Path, name: str, *, limit: float | None = None, still: bool = False
    ) -> int:
        """Index of the ``-i`` for ``path``; a file used twice (a reference image shown as a
        segment and as a thumbnail) is opened and decoded once and its stream used twice.

        Opened through the demuxer of its kind only (`videoedit_emulator.render.demuxers`):
        ``mov`` for a video, the picture's own demuxer for a ``still``."""
        key = (path, limit)
        if key in self.input_index:
            return self.input_index[key]
        if not path.is_file():
            raise RenderError(f"{name}: no such file: {path}", input=path)
        demuxer = demuxers.still_demuxer(path) if still else demuxers.VIDEO_DEMUXER
        if demuxer is None:
            raise RenderError(
                f"{name}: ffmpeg could not use {path} (not a JPEG, PNG, BMP or WEBP picture)",
                input=path,
            )
        if limit is not None:
            self.input_args += ["-t", _num(limit)]
        # One decoder thread: decoding is a small share of a render and threads of its own
        # only add CPU (see build_command).
        self.input_args += demuxers.input_options(demuxer)
        self.input_args += ["-threads", "1", "-i", demuxers.input_url(path)]
        self.cmd_inputs.append((name, path))
        self.input_index[key] = len(self.cmd_inputs) - 1
        return self.input_index[key]

    # ------------------------------------------------------------- geometry

    def geometry(self, fit: str, W: int, H: int, *, picture: bool = True) -> str:
        """Scale to ``W×H`` by covering (centre crop) or containing (black letterbox).

        A picture is converted to limited ("tv") range in the same pass, the range H.264
        players assume: JPEG stills and some phone videos decode to full range, which would
        otherwise be encoded as-is and flagged ``yuvj420p``. A mask becomes gray8, which
        swscale always produces in full range (black 0, white 255), so it needs nothing.
        """
        scale = f"scale={W}:{H}:flags=bilinear" + (":out_range=tv" if picture else "")
        if fit == "cover":
            return f"{scale}:force_original_aspect_ratio=increase,crop={W}:{H}"
        return (
            f"{scale}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
            f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:color=black"
        )

    def outpaint_geometry(self, mode: Outpaint, src_w: int, src_h: int) -> str:
        W, H = self.W, self.H
        pw_src = src_w * (mode.left + mode.right - 1)
        ph_src = src_h * (mode.top + mode.bottom - 1)
        k = min(W / pw_src, H / ph_src)
        pw = min(W, _even(pw_src * k))
        ph = min(H, _even(ph_src * k))
        sw = min(pw, _even(src_w * k))
        sh = min(ph, _even(src_h * k))
        px = min(pw - sw, _even(src_w * (mode.left - 1) * k) if mode.left > 1 else 0)
        py = min(ph - sh, _even(src_h * (mode.top - 1) * k) if mode.top > 1 else 0)
        lx = (W - pw) // 2 // 2 * 2
        ly = (H - ph) // 2 // 2 * 2
        return (
            f"scale={sw}:{sh}:flags=bilinear:out_range=tv,format=yuv420p,setsar=1,"
            f"pad={pw}:{ph}:{px}:{py}:color={OUTPAINT_FILL},pad={W}:{H}:{lx}:{ly}:color=black"
        )

    # ------------------------------------------------------------- base stage

    def frames_for(self, info: VideoInfo | None) -> int:
        if self.job.duration is not None:
            return max(1, round(self.job.duration * FPS))
        if info is not None and info.duration > 0:
            return max(1, round(info.duration * FPS))
        return round(TEST_PATTERN_SECONDS * FPS)

    def pattern_base(self, n: int, out: str) -> None:
        self.pattern = True
        self.chains.append(
            f"testsrc2=size={self.W}x{self.H}:rate={FPS}:duration={_num((n + 1) / FPS)},"
            f"format=yuv420p,setsar=1,trim=end_frame={n}[{out}]"
        )

    def source_base(self, n: int, info: VideoInfo, index: int, geometry: str, out: str) -> None:
        fast_first = info.fps is not None and info.fps > FPS + 0.5
        steps = ["setpts=PTS-STARTPTS"]
        if fast_first:
            steps.append(f"fps={FPS}")
        steps += [geometry, "format=yuv420p", "setsar=1"]
        if not fast_first:
            steps.append(f"fps={FPS}")
        steps += [f"tpad=stop_mode=clone:stop={n}", f"trim=end_frame={n}"]
        self.chains.append(f"[{index}:v]" + ",".join(steps) + f"[{out}]")

    def still_segment(self, index: int, frames: int, geometry: str, out: str) -> None:
        self.chains.append(
            f"[{index}:v]trim=end_frame=1,setpts=PTS-STARTPTS,{geometry},format=yuv420p,"
            f"setsar=1,fps={FPS},tpad=stop_mode=clone:stop={frames},trim=end_frame={frames}[{out}]"
        )

    def build_base(self) -> tuple[str, int, VideoInfo | None, int | None]:
        """Returns (label, frames, source info, source input index)."""
        job, mode = self.job, self.job.mode
        if isinstance(mode, ImageReference):
            return self.image_reference_base(mode)
        if isinstance(mode, Extension):
            return self.extension_base(mode)
        base = self.label("base")
        if job.source is None:
            n = self.frames_for(None)
            if isinstance(mode, Outpaint):
                raw = self.label("pat")
                self.pattern_base(n, raw)
                self.chains.append(f"[{raw}]{self.outpaint_geometry(mode, self.W, self.H)}[{base}]")
            else:
                self.pattern_base(n, base)
            return base, n, None, None
        info = self.probe(job.source, "source")
        n = self.frames_for(info)
        index = self.add_input(job.source, "source", limit=n / FPS + 1.0)
        if isinstance(mode, Outpaint):
            geometry = self.outpaint_geometry(mode, info.width, info.height)
        else:
            geometry = self.geometry(job.fit, self.W, self.H)
        self.source_base(n, info, index, geometry, base)
        return base, n, info, index

    def image_reference_base(self, mode: ImageReference) -> tuple[str, int, None, None]:
        n = self.frames_for(None)
        images = self.job.images
        if not images:
            base = self.label("base")
            self.pattern_base(n, base)
            return base, n, None, None
        count = min(len(images), n)
        segments: list[str] = []
        fs = self.font_size(scale=1.6)
        for i, image in enumerate(images[:count]):
            frames = n // count + (1 if i < n % count else 0)
            index = self.add_input(image, f"images[{i}]", still=True)
            seg = self.label("ref")
            tag = f" · {mode.obj_or_bg[i]}" if mode.obj_or_bg else ""
            name = f"segment{i}.txt"
            self.text_files[name] = f"reference {i + 1}/{count}{tag}"
            raw = self.label("refraw")
            self.still_segment(index, frames, self.geometry("contain", self.W, self.H), raw)
            self.chains.append(
                f"[{raw}]drawtext={self.font_opt()}textfile={name}:expansion=none:"
                f"fontsize={fs}:fontcolor=white:box=1:boxcolor=black@0.6:"
                f"boxborderw={max(2, fs // 4)}:x=(w-tw)/2:y=h*0.62[{seg}]"
            )
            segments.append(seg)
        base = self.label("base")
        if count == 1:
            self.chains.append(f"[{segments[0]}]null[{base}]")
        else:
            joined = "".join(f"[{s}]" for s in segments)
            self.chains.append(f"{joined}concat=n={count}:v=1:a=0[{base}]")
        return base, n, None, None

    def extension_base(self, mode: Extension) -> tuple[str, int, None, None]:
        n = self.frames_for(None)
        first = mode.first_clip or mode.first_frame
        last = mode.last_clip or mode.last_frame
        if first is None and last is None:
            base = self.label("base")
            self.pattern_base(n, base)
            return base, n, None, None
        cover = self.geometry(self.job.fit, self.W, self.H)
        parts: list[str] = []
        last_frames = 0
        if last is not None:
            if mode.last_clip is not None:
                info = self.probe(mode.last_clip, "last_clip")
                clip = max(1, min(round(info.duration * FPS), n - (1 if first else 0)))
                last_frames = clip if first is not None else n
                index = self.add_input(mode.last_clip, "last_clip", limit=info.duration + 1.0)
                seg = self.label("last")
                self.chains.append(
                    f"[{index}:v]setpts=PTS-STARTPTS,{cover},format=yuv420p,setsar=1,fps={FPS},"
                    f"trim=end_frame={clip},tpad=start_mode=clone:start={last_frames - clip}:"
                    f"stop_mode=clone:stop={last_frames},trim=end_frame={last_frames}[{seg}]"
                )
            else:
                assert mode.last_frame is not None
                last_frames = n // 2 if first is not None else n
                index = self.add_input(mode.last_frame, "last_frame", still=True)
                seg = self.label("last")
                self.still_segment(index, last_frames, cover, seg)
            parts.append(seg)
        if first is not None:
            first_frames = n - last_frames
            seg = self.label("first")
            if mode.first_clip is not None:
                index = self.add_input(mode.first_clip, "first_clip", limit=first_frames / FPS + 1)
                self.chains.append(
                    f"[{index}:v]setpts=PTS-STARTPTS,{cover},format=yuv420p,setsar=1,fps={FPS},"
                    f"tpad=stop_mode=clone:stop={first_frames},trim=end_frame={first_frames}[{seg}]"
                )
            else:
                assert mode.first_frame is not None
                index = self.add_input(mode.first_frame, "first_frame", still=True)
                self.still_segment(index, first_frames, cover, seg)
            parts.insert(0, seg)
        base = self.label("base")
        if len(parts) == 1:
            self.chains.append(f"[{parts[0]}]null[{base}]")
        else:
            self.chains.append(f"[{parts[0]}][{parts[1]}]concat=n=2:v=1:a=0[{base}]")
        return base, n, None, None

    # ------------------------------------------------------------- mode filters

    def repaint(self, mode: Repaint, src: str) -> str:
        if mode.strength <= 0:
            return src
        # sobel is ~10x cheaper than edgedetect here and reads as a line drawing
        control = {
            "posebodyface": "sobel=planes=1:scale=2",  # luma edges, chroma kept: edges on colour
            "posebody": "format=gray,sobel=scale=2,format=yuv420p",
            "depth": f"format=gray,gblur=sigma={_num(max(1.0, self.H / 120))},format=yuv420p",
            "scribble": "format=gray,sobel=scale=2,negate,format=yuv420p",
        }[mode.control_condition]
        out = self.label("repaint")
        if mode.strength >= 1:
            self.chains.append(f"[{src}]{control}[{out}]")
            return out
        orig, feed, ctl = self.label("orig"), self.label("feed"), self.label("ctl")
        self.chains.append(f"[{src}]split=2[{orig}][{feed}]")
        self.chains.append(f"[{feed}]{control}[{ctl}]")
        self.chains.append(
            f"[{ctl}][{orig}]blend=all_mode=normal:all_opacity={_num(mode.strength)}[{out}]"
        )
        return out

    def masked(self, mode: MaskedEdit, src: str) -> str:
        job = self.job
        geometry = self.geometry(job.fit, self.W, self.H, picture=False)
        if mode.mask_image is not None:
            index = self.add_input(mode.mask_image, "mask_image", still=True)
            head = f"[{index}:v]trim=end_frame=1,setpts=PTS-STARTPTS,"
            rate = ""
        else:
            assert mode.mask_video is not None
            self.probe(mode.mask_video, "mask_video")
            limit = (job.frames or self.frames_for(None)) / FPS + 1.0
            index = self.add_input(mode.mask_video, "mask_video", limit=limit)
            head = f"[{index}:v]setpts=PTS-STARTPTS,"
            rate = f"fps={FPS},"
        steps = [f"{geometry},{rate}format=gray"]
        if mode.mask_type == "tracking" and mode.expand_ratio > 0:
            radius = min(
                round(mode.expand_ratio * min(self.W, self.H)), min(self.W, self.H) // 2 - 1
            )
            if radius >= 1:
                steps.append(f"boxblur=luma_radius={radius}:luma_power=1,lut=c0='gt(val,0)*255'")
        steps.append(
            "format=rgba,colorchannelmixer=rr=0:rg=0:rb=0:ra=1:gr=0:gg=0:gb=0:ga=0:"
            f"br=0:bg=0:bb=0:ba=1:ar={_num(MASK_ALPHA)}:ag=0:ab=0:aa=0,format=yuva420p"
        )
        mask, out = self.label("mask"), self.label("masked")
        self.chains.append(head + ",".join(steps) + f"[{mask}]")
        self.chains.append(f"[{src}][{mask}]overlay=eof_action=repeat:format=yuv420[{out}]")
        return out

    # ------------------------------------------------------------- marks

    def font_size(self, scale: float = 1.0) -> int:
        return max(10, round(min(self.W, self.H) / 30 * scale))

    def font_opt(self) -> str:
        """``fontfile=...:`` for drawtext: the CJK-capable font when there is one (it has Latin
        glyphs too), else the Latin one; linked into the work dir under a plain name."""
        cjk = fonts.cjk_font()
        path = cjk if cjk is not None else fonts.latin_font()
        if path is None:
            return ""
        name = f"font-{'cjk' if cjk is not None else 'latin'}{path.suffix.lower()}"
        self.links[name] = path
        return f"fontfile={name}:"

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
        return min(self.H, _even(height + border + 2))

    def bottom_band_height(self) -> int:
        """Rows from the bottom that the thumbnails and the watermark can reach (0: none)."""
        height = 0
        if self.job.images:
            margin = max(4, min(self.W, self.H) // 40)
            height = margin + _even(self.H / 5) + 2
        if self.job.watermark:
            fs, margin = self.watermark_size()
            height = max(height, margin + math.ceil(1.6 * fs) + max(1, fs // 14) + 2)
        return min(self.H, _even(height)) if height else 0

    def line_spacing(self) -> int:
        return max(1, self.font_size() // 5)

    def text_block(self, n: int) -> str:
        job = self.job
        fs = self.font_size()
        margin = max(4, fs // 2)
        max_em = (self.W - 3 * margin) / fs
        lines = wrap_text(job.caption or "videoedit emulator stand-in", max_em, 1)
        lines += wrap_text(_describe_mode(job, n), max_em, 2)
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
        return round(sum(_char_em(ch) for ch in self.watermark_text()) * fs) + margin

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
        th = _even(self.H / 5)
        tw = _even(th * 4 / 3)
        gap = max(2, margin // 2)
        room = self.W - 2 * margin
        if self.job.watermark:
            room -= self.watermark_width() + margin
        if len(images) * (tw + gap) > room:
            k = room / (len(images) * (tw + gap))
            th, tw = _even(th * k), _even(tw * k)
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

    # ------------------------------------------------------------- audio

    def audio(self, n: int, info: VideoInfo | None, index: int | None) -> str | None:
        seconds = _num(n / FPS)
        if self.job.audio == "tone":
            self.chains.append(
                f"sine=frequency={TONE_HZ}:sample_rate=48000:duration={seconds}[aout]"
            )
            return "aout"
        if self.job.audio == "origin" and info is not None and info.has_audio and index is not None:
            self.chains.append(
                f"[{index}:a]asetpts=PTS-STARTPTS,atrim=end={seconds},apad=whole_dur={seconds}[aout]"
            )
            return "aout"
        return None


def build_command(
    job: RenderJob,
    output_name: str,
    *,
    ffmpeg: str,
    probe: Prober,
    threads: int,
    banded: bool = True,
) -> Command:
    """The full ffmpeg argv (relative output name, run in the work dir) for ``job``.

    ``threads`` is what the encoder may use: libx264 is where the work is, and on its own a
    render gains from a second encoder thread. Decoders and the filter graph run one thread
    each: measured here, their own thread pools added CPU without making a render faster,
    and under concurrency (the engine passes ``threads=1``) every spare thread is overhead.
    ``banded=False`` draws the marks on one full-frame layer (the same frames, slower; kept
    to check that the bands lose nothing).
    """
    b = _Builder(job, probe, banded=banded)
    base, n, info, index = b.build_base()
    current = base
    if isinstance(job.mode, Repaint):
        current = b.repaint(job.mode, current)
    elif isinstance(job.mode, MaskedEdit):
        current = b.masked(job.mode, current)
    current = b.marks(current, n)
    b.chains.append(f"[{current}]null[vout]")
    audio = b.audio(n, info, index)

    argv = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    argv += ["-filter_complex_threads", "1"]
    argv += b.input_args
    argv += ["-filter_complex", ";".join(b.chains), "-map", "[vout]"]
    if audio is not None:
        argv += ["-map", f"[{audio}]", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
    else:
        argv += ["-an"]
    argv += [
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF),
        "-pix_fmt", "yuv420p", "-r", str(FPS), "-frames:v", str(n),
        "-threads", str(threads),
        "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn",
        "-movflags", "+faststart", "-f", "mp4", output_name,
    ]  # fmt: skip
    return Command(
        argv=argv,
        frames=n,
        has_audio=audio is not None,
        text_files=b.text_files,
        links=b.links,
        inputs=b.cmd_inputs,
    )


def settings_fingerprint() -> dict[str, object]:
    """Everything besides the job that changes the bytes of an output (for the cache key)."""
    cjk, latin = fonts.cjk_font(), fonts.latin_font()
    return {
        "preset": X264_PRESET,
        "crf": X264_CRF,
        "audio_bitrate": AUDIO_BITRATE,
        "fonts": [str(cjk) if cjk else None, str(latin) if latin else None],
    }
