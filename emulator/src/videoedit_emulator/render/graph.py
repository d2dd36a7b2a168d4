"""The state of one filter graph being built, and the steps every stage shares.

A `GraphBuilder` holds what ``build_command`` assembles: the ``-i`` arguments (each input opened
once, through the one demuxer of its kind), the filter chains, fresh labels, the small text
files and font links ffmpeg reads from its work directory. The stages add to it: the base
frames (``base_stage.py``), the mode filters (``mode_filters.py``) and the marks (``marks.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from videoedit.probe import VideoInfo

from . import demuxers, fonts
from .job import FPS, TEST_PATTERN_SECONDS, RenderError, RenderJob

__all__ = ["GraphBuilder", "Prober", "even", "num"]

Prober = Callable[[Path, str], VideoInfo]
"""``probe(path, field_name)`` -> facts about an input video; raises RenderError naming it."""


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def num(value: float) -> str:
    """A number as ffmpeg reads it: no exponent, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


class GraphBuilder:
    """One filter graph under construction (``W×H`` output frames of ``job``)."""

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
            self.input_args += ["-t", num(limit)]
        # One decoder thread: decoding is a small share of a render and threads of its own
        # only add CPU (see build_command).
        self.input_args += demuxers.input_options(demuxer)
        self.input_args += ["-threads", "1", "-i", demuxers.input_url(path)]
        self.cmd_inputs.append((name, path))
        self.input_index[key] = len(self.cmd_inputs) - 1
        return self.input_index[key]

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

    def frames_for(self, info: VideoInfo | None) -> int:
        if self.job.duration is not None:
            return max(1, round(self.job.duration * FPS))
        if info is not None and info.duration > 0:
            return max(1, round(info.duration * FPS))
        return round(TEST_PATTERN_SECONDS * FPS)

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
