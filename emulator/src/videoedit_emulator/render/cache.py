"""A content-addressed store of rendered MP4s.

The key of a job is the SHA-256 of a canonical JSON of its parameters in which every input file
is replaced by the SHA-256 of its bytes (so the same upload under another name is a hit, and an
edited file under the same name is a miss). File digests are memoized by
``(path, size, mtime_ns, inode)``, as git's index does, so a repeated job costs a few ``stat``
calls, not a re-read of the source.

An entry is ``<key>.mp4`` plus ``<key>.json`` (the `RenderResult` fields), written
atomically (temp file + ``os.replace``) so a crash never leaves a half entry that looks valid.
A hit hard-links the entry to the caller's path (a copy when linking is impossible), so callers
must treat delivered files as read-only. The store is bounded: after each insert the least
recently used entries (by mtime, refreshed on every hit) are removed until the total is under
``max_bytes``. Concurrent renders of the same key in one process are serialized by a per-key
lock, so the second waits and then hits instead of encoding the same thing twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["CacheEntry", "RenderCache", "link_or_copy"]

_CHUNK = 1 << 20


class CacheEntry:
    """A stored render: its MP4 and the metadata saved beside it."""

    def __init__(self, mp4: Path, meta: dict[str, Any]) -> None:
        self.mp4 = mp4
        self.meta = meta


class RenderCache:
    """Content-addressed render cache in ``directory`` (created on first use).

    ``max_bytes=None`` never evicts. One instance per directory per process is expected (the
    engine holds it); several processes sharing a directory stay correct, only without the
    cross-process de-duplication of concurrent identical renders.
    """

    def __init__(self, directory: Path | str, *, max_bytes: int | None = 2 << 30) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"RenderCache.max_bytes: must be positive or None, got {max_bytes}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._digests: dict[tuple[str, int, int, int], str] = {}
        self._guard = threading.Lock()
        self._key_locks: weakref.WeakValueDictionary[str, threading.Lock] = (
            weakref.WeakValueDictionary()
        )

    # ----------------------------------------------------------------- digests

    def file_digest(self, path: Path) -> str:
        """SHA-256 of a file's bytes, memoized on its stat signature."""
        st = path.stat()
        sig = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        with self._guard:
            known = self._digests.get(sig)
        if known is not None:
            return known
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
        digest = h.hexdigest()
        with self._guard:
            if len(self._digests) > 4096:
                self._digests.clear()
            self._digests[sig] = digest
        return digest

    # ----------------------------------------------------------------- entries

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.directory / f"{key}.mp4", self.directory / f"{key}.json"

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the in-process lock of one key (render-or-hit must not race itself)."""
        with self._guard:
            lock = self._key_locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._key_locks[key] = lock
        with lock:
            yield

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``, refreshing its LRU time, or ``None``."""
        mp4, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            os.utime(mp4)
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict):
            return None
        return CacheEntry(mp4, meta)

    def put(self, key: str, rendered: Path, meta: dict[str, Any]) -> CacheEntry:
        """Move ``rendered`` into the store under ``key`` (same filesystem: a rename)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        mp4, meta_path = self._paths(key)
        os.replace(rendered, mp4)
        tmp = meta_path.with_name(f".{meta_path.name}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(meta, sort_keys=True), "utf-8")
        os.replace(tmp, meta_path)
        self.evict()
        return CacheEntry(mp4, meta)

    def evict(self) -> int:
        """Remove least recently used entries until the total is within ``max_bytes``.

        Returns the number of entries removed.
        """
        if self.max_bytes is None:
            return 0
        entries: list[tuple[int, int, Path]] = []
        total = 0
        with contextlib.suppress(FileNotFoundError):
            for item in os.scandir(self.directory):
                if not item.name.endswith(".mp4") or item.name.startswith("."):
                    continue
                try:
                    st = item.stat()
                except FileNotFoundError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, Path(item.path)))
                total += st.st_size
        removed = 0
        for _, size, mp4 in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                mp4.with_suffix(".json").unlink()
            with contextlib.suppress(FileNotFoundError):
                mp4.unlink()
            total -= size
            removed += 1
        return removed

    def size_bytes(self) -> int:
        """Total size of the stored MP4s."""
        total = 0
        with contextlib.suppress(FileNotFoundError):
            for item in os.scandir(self.directory):
                if item.name.endswith(".mp4") and not item.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        total += item.stat().st_size
        return total


def link_or_copy(src: Path, dst: Path) -> None:
    """Make ``dst`` hold ``src``'s bytes atomically: a hard link when possible, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
