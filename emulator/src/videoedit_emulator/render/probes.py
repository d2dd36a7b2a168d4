"""What ffmpeg said about each input file, remembered by the file's stat signature.

An edit probes its input twice, once when the task is created (``engine/sources.py`` checks the
video) and once when it is rendered (the package's ``__init__`` plans the filter graph), and every edit of
the same upload probes it again. Each probe is an ffmpeg run of 10-20 ms, which is most of
the cost of an edit answered from the render cache. So the facts are kept by
``(path, size, mtime_ns, inode)``, as git's index and the render cache's digests do: a file
rewritten in place has a new signature and is probed afresh. Only successful probes are kept.

`run_probe` is the one probe of an input the emulator runs (at creation and before a
render): it opens the file only if it is mp4 or mov (`videoedit_emulator.render.demuxers`), so
a playlist or a list of other files is refused before ffmpeg reads anything it names.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from videoedit.probe import VideoInfo, parse_ffmpeg_banner

from . import demuxers

__all__ = ["ContainerRefused", "lookup", "remember", "run_probe"]

_MAX = 4096
_known: dict[tuple[str, int, int, int], VideoInfo] = {}
_lock = threading.Lock()


def _signature(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (os.fspath(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def lookup(path: Path) -> VideoInfo | None:
    """The facts of ``path`` as last probed, if the file has not changed since."""
    signature = _signature(path)
    if signature is None:
        return None
    with _lock:
        return _known.get(signature)


def remember(path: Path, info: VideoInfo) -> None:
    """Keep what a probe of ``path`` found (the memo restarts when it holds 4096 files)."""
    signature = _signature(path)
    if signature is None:
        return
    with _lock:
        if len(_known) >= _MAX:
            _known.clear()
        _known[signature] = info


class ContainerRefused(ValueError):
    """The file is not mp4 or mov, so ffmpeg was not let to open it; ``name`` is what ffmpeg
    detected (``matroska,webm``, ``hls``, ``concat``) or ``unknown``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"its container is {name!r}, not mp4 or mov")
        self.name = name


def run_probe(path: Path, ffmpeg: str, *, timeout: float = 60) -> VideoInfo:
    """One probe of an input video (not memoized: callers keep it with `remember`).

    Raises `ContainerRefused` for a file in another container, ``ValueError`` when
    ffmpeg finds no video stream, ``OSError`` or ``subprocess.TimeoutExpired`` when ffmpeg
    cannot run.
    """
    stderr = _run(demuxers.probe_argv(ffmpeg, path), timeout)
    if demuxers.refused(stderr):
        debug = _run(demuxers.probe_argv(ffmpeg, path, debug=True), timeout)
        raise ContainerRefused(demuxers.refused_format(debug))
    return parse_ffmpeg_banner(stderr)


def _run(argv: list[str], timeout: float) -> str:
    proc = subprocess.run(
        argv, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
    )
    return proc.stderr
