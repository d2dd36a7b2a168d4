"""What ffmpeg said about each input file, remembered by the file's stat signature.

An edit probes its input twice, once when the task is created (``engine/sources.py`` checks the
video) and once when it is rendered (the package's ``__init__`` plans the filter graph), and every edit of
the same upload probes it again. Each probe is an ffmpeg run of 10-20 ms, which is most of
the cost of an edit answered from the render cache. So the facts are kept by
``(path, size, mtime_ns, inode)``, as git's index and the render cache's digests do: a file
rewritten in place has a new signature and is probed afresh. Only successful probes are kept.
They are also kept by the SHA-256 of the file's bytes, so the same clip uploaded again (a new
file under a new name, as every test of a suite uploads its clip) is not probed again: hashing
a few MB costs a millisecond or two, a probe 10-20 ms.

`run_probe` is the one probe of an input the emulator runs (at creation and before a
render): it opens the file only if it is mp4 or mov (`videoedit_emulator.render.demuxers`), so
a playlist or a list of other files is refused before ffmpeg reads anything it names.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

from videoedit.probe import VideoInfo, parse_ffmpeg_banner

from . import demuxers

__all__ = ["ContainerRefused", "clear", "lookup", "remember", "run_probe"]

_MAX = 4096
_known: dict[tuple[str, int, int, int], VideoInfo] = {}
_by_content: dict[str, VideoInfo] = {}
_digests: dict[tuple[str, int, int, int], str] = {}
_lock = threading.Lock()
#: Files larger than this are not hashed for the memo (a probe reads only their head).
_HASH_LIMIT = 256 * 1024 * 1024


def _signature(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (os.fspath(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def lookup(path: Path) -> VideoInfo | None:
    """The facts of ``path`` as last probed (or of a file with the same bytes), if the file
    has not changed since."""
    signature = _signature(path)
    if signature is None:
        return None
    with _lock:
        known = _known.get(signature)
    if known is not None:
        return known
    digest = _digest(path, signature)
    with _lock:
        known = None if digest is None else _by_content.get(digest)
        if known is not None:
            _known[signature] = known
    return known


def remember(path: Path, info: VideoInfo) -> None:
    """Keep what a probe of ``path`` found (the memo restarts when it holds 4096 files)."""
    signature = _signature(path)
    if signature is None:
        return
    digest = _digest(path, signature)
    with _lock:
        if len(_known) >= _MAX:
            _known.clear()
            _by_content.clear()
        _known[signature] = info
        if digest is not None:
            _by_content[digest] = info


def clear() -> None:
    """Forget every probe (tests that count probes start from here)."""
    with _lock:
        _known.clear()
        _by_content.clear()
        _digests.clear()


def _digest(path: Path, signature: tuple[str, int, int, int]) -> str | None:
    """SHA-256 of the file's bytes, memoized on its signature (``None``: too large or gone)."""
    with _lock:
        known = _digests.get(signature)
    if known is not None or signature[1] > _HASH_LIMIT:
        return known
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    digest = h.hexdigest()
    with _lock:
        if len(_digests) >= _MAX:
            _digests.clear()
        _digests[signature] = digest
    return digest


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
