"""What ffmpeg said about each input file, remembered by the file's stat signature.

An edit probes its input twice, once when the task is created (``sources.py`` checks the
video) and once when it is rendered (``render.py`` plans the filter graph), and every edit of
the same upload probes it again. Each probe is an ffmpeg run of 10-20 ms, which is most of
the cost of an edit answered from the render cache. So the facts are kept by
``(path, size, mtime_ns, inode)``, as git's index and the render cache's digests do: a file
rewritten in place has a new signature and is probed afresh. Only successful probes are kept.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from videoedit.probe import VideoInfo

__all__ = ["lookup", "remember"]

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
