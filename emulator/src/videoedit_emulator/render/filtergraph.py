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

Each stage is a module of its own (``base_stage.py``, ``mode_filters.py``, ``marks.py``, over
the shared ``graph.py``; the wrapping of text is ``text.py``); this one assembles them into the
argv, with the audio track and the encoder's settings.

Text never goes through the filtergraph parser: it is written to UTF-8 files read with
``textfile=`` and ``expansion=none``, and font files are symlinked beside them; ffmpeg runs
with that work directory as its cwd, so the graph holds only short fixed names and numbers.
Inputs are passed as ``file:<path>``, each through the one demuxer of its kind and the
local-file protocol alone (`videoedit_emulator.render.demuxers`), so no path is mistaken for an
option or a protocol and no input can make ffmpeg open another file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from videoedit.probe import VideoInfo

from . import fonts
from .base_stage import BaseStage
from .graph import Prober, num
from .job import FPS, MaskedEdit, RenderJob, Repaint
from .marks import Marks
from .mode_filters import ModeFilters
from .text import wrap_text

__all__ = ["Command", "Prober", "build_command", "settings_fingerprint", "wrap_text"]

X264_PRESET = "ultrafast"
X264_CRF = 23
AUDIO_BITRATE = "128k"
TONE_HZ = 440


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


class _Builder(BaseStage, ModeFilters, Marks):
    """Every stage's steps on one graph, and the audio track."""

    def audio(self, n: int, info: VideoInfo | None, index: int | None) -> str | None:
        seconds = num(n / FPS)
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
