"""A content-addressed store of rendered MP4s, shared by every emulator on the machine.

The key of a job is the SHA-256 of a canonical JSON of its parameters in which every input file
is replaced by the SHA-256 of its bytes (so the same upload under another name is a hit, and an
edited file under the same name is a miss). File digests are memoized by
``(path, size, mtime_ns, inode)``, as git's index does, so a repeated job costs a few ``stat``
calls, not a re-read of the source.

Where it lives: [`default_cache_dir`][videoedit_emulator.render.cache.default_cache_dir], the
user's cache directory (platformdirs) unless ``VIDEOEDIT_EMULATOR_CACHE_DIR`` moves it or turns
it off, so a test suite's second run, or a CI job that restores the directory, renders nothing
it rendered before.

Safety between processes (several emulators, a pytest-xdist run, two CI jobs on one runner):

- An entry is ``<key>.mp4`` plus ``<key>.json`` (the `RenderResult` fields with the MP4's size
  and SHA-256). The MP4 is fsynced and renamed into place first, then the JSON the same way:
  the JSON is the commit mark, so a crash at any point leaves either a whole entry or none.
- Each key has a lock file, ``<key>.lock``, held with ``flock`` (beside a per-key thread lock)
  from the lookup to the insert: of two processes rendering the same job, one encodes it and
  the other waits, then hits. (Without ``fcntl``, on Windows, only threads are serialized;
  entries still never tear.)
- A hit checks the MP4's size and SHA-256 against its JSON (the hash once per process while
  the file's stat signature stays the same); an entry that fails is dropped and rendered again.
  Delivered files are hard links to the entry, so a caller that writes into one would corrupt
  it: this check is what catches that.
- The store is bounded: after each insert the least recently used entries (by mtime, refreshed
  on every hit) are removed until the total is under ``max_bytes``. Eviction skips an entry
  whose lock another process holds (it is being read), and it removes the work directories of
  renders that died more than an hour ago (a killed process leaves its ``.render-*`` behind)
  and the lock files such processes left of keys that have no entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

if sys.platform != "win32":
    import fcntl

__all__ = [
    "CACHE_DIR_ENV",
    "OFF_VALUES",
    "CacheEntry",
    "RenderCache",
    "default_cache_dir",
    "link_or_copy",
]

_CHUNK = 1 << 20

#: Moves the render cache (a directory) or, set to one of `OFF_VALUES`, turns it off.
CACHE_DIR_ENV = "VIDEOEDIT_EMULATOR_CACHE_DIR"
#: Values of `CACHE_DIR_ENV` (any case) that turn the cache off.
OFF_VALUES = frozenset({"off", "0", "false", "no", "none"})
#: A render work directory untouched this long belongs to a process that died.
_STALE_WORK_SECONDS = 3600.0


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the render cache lives unless configured: ``$VIDEOEDIT_EMULATOR_CACHE_DIR``, or
    ``None`` when that says off, else ``renders/`` in the user's cache directory
    (``~/.cache/videoedit-emulator/renders`` on Linux, ``~/Library/Caches/...`` on macOS,
    ``%LOCALAPPDATA%\\videoedit-emulator\\Cache\\renders`` on Windows).

    Read when an engine starts, not at import, so a test can set the variable first.
    """
    env = os.environ if environ is None else environ
    value = env.get(CACHE_DIR_ENV, "").strip()
    if value.lower() in OFF_VALUES:
        return None
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("videoedit-emulator", appauthor=False)) / "renders"


class CacheEntry:
    """A stored render: its MP4 and the metadata saved beside it."""

    def __init__(self, mp4: Path, meta: dict[str, Any]) -> None:
        self.mp4 = mp4
        self.meta = meta


class RenderCache:
    """Content-addressed render cache in ``directory`` (created on first use).

    ``max_bytes=None`` never evicts. Any number of instances and processes may share a
    directory (see the module docstring for how they stay out of each other's way).
    """

    def __init__(self, directory: Path | str, *, max_bytes: int | None = 2 << 30) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"RenderCache.max_bytes: must be positive or None, got {max_bytes}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._digests: dict[tuple[str, int, int, int], str] = {}
        #: Entries whose MP4 this process has hashed, by key: the stat signature it had then.
        self._verified: dict[str, tuple[int, int, int]] = {}
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
        digest = _sha256(path)
        with self._guard:
            if len(self._digests) > 4096:
                self._digests.clear()
            self._digests[sig] = digest
        return digest

    # ----------------------------------------------------------------- locks

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.directory / f"{key}.mp4", self.directory / f"{key}.json"

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold ``key`` against every other thread and process (render-or-hit must not race
        itself): a thread lock, then the key's ``flock``."""
        with self._guard:
            lock = self._key_locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._key_locks[key] = lock
        with lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._file_lock(key, blocking=True):
                try:
                    yield
                finally:  # a key left without an entry (a failed render) keeps no lock file
                    if not self._paths(key)[1].exists():
                        with contextlib.suppress(FileNotFoundError):
                            (self.directory / f"{key}.lock").unlink()

    @contextlib.contextmanager
    def _file_lock(self, key: str, *, blocking: bool) -> Iterator[bool]:
        """``flock`` on ``<key>.lock``; yields whether it was taken (always, when blocking).

        An evictor unlinks a lock file while holding it, so after taking a lock we check that
        the file we hold is still the one at the path, and start over if not.
        """
        if sys.platform == "win32":
            yield True
            return
        path = self.directory / f"{key}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                yield False
                return
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        try:
            yield True
        finally:
            os.close(fd)

    # ----------------------------------------------------------------- entries

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``, refreshing its LRU time, or ``None`` (hold `lock`).

        An entry whose MP4 does not match the size and SHA-256 its JSON records is removed.
        """
        mp4, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not (isinstance(meta, dict) and self._intact(key, mp4, meta)):
            self._drop(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(mp4)
            st = mp4.stat()
            with self._guard:
                self._verified[key] = (st.st_ino, st.st_size, st.st_mtime_ns)
        return CacheEntry(mp4, meta)

    def _intact(self, key: str, mp4: Path, meta: dict[str, Any]) -> bool:
        try:
            st = mp4.stat()
        except OSError:
            return False
        if st.st_size != meta.get("size"):
            return False
        with self._guard:
            if self._verified.get(key) == (st.st_ino, st.st_size, st.st_mtime_ns):
                return True
        try:
            return _sha256(mp4) == meta.get("sha256")
        except OSError:
            return False

    def _drop(self, key: str) -> None:
        """Remove an entry, its commit mark (the JSON) first."""
        with self._guard:
            self._verified.pop(key, None)
        for path in reversed(self._paths(key)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def put(self, key: str, rendered: Path, meta: dict[str, Any]) -> CacheEntry:
        """Move ``rendered`` into the store under ``key`` (same filesystem: a rename; hold
        `lock`). Durable before it is visible: see the module docstring."""
        self.directory.mkdir(parents=True, exist_ok=True)
        mp4, meta_path = self._paths(key)
        with open(rendered, "rb") as fh:
            os.fsync(fh.fileno())
        meta = {**meta, "size": rendered.stat().st_size, "sha256": _sha256(rendered)}
        os.replace(rendered, mp4)
        tmp = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(meta, sort_keys=True))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, meta_path)
        _fsync_dir(self.directory)
        st = mp4.stat()
        with self._guard:
            self._verified[key] = (st.st_ino, st.st_size, st.st_mtime_ns)
        self.evict()
        return CacheEntry(mp4, meta)

    def evict(self) -> int:
        """Remove least recently used entries until the total is within ``max_bytes``, and
        the leftovers of dead renders. Returns the number of entries removed."""
        self._sweep_dead_work()
        if self.max_bytes is None:
            return 0
        entries: list[tuple[int, int, str]] = []
        total = 0
        for name, st in self._scan(".mp4"):
            entries.append((st.st_mtime_ns, st.st_size, name[: -len(".mp4")]))
            total += st.st_size
        removed = 0
        for _, size, key in sorted(entries):
            if total <= self.max_bytes:
                break
            with self._file_lock(key, blocking=False) as taken:
                if not taken:
                    continue  # another render or hit of this key is under way
                self._drop(key)
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / f"{key}.lock").unlink()
            total -= size
            removed += 1
        return removed

    def _scan(self, suffix: str) -> Iterator[tuple[str, os.stat_result]]:
        with contextlib.suppress(FileNotFoundError):
            for item in os.scandir(self.directory):
                if item.name.endswith(suffix) and not item.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        yield item.name, item.stat()

    def _sweep_dead_work(self) -> None:
        """Remove old work directories and temp files (dot names), and old lock files of
        keys that have no entry (renders that failed)."""
        cutoff = time.time() - _STALE_WORK_SECONDS
        for name, st in self._scan(".lock"):
            key = name[: -len(".lock")]
            if st.st_mtime >= cutoff or self._paths(key)[1].exists():
                continue
            with self._file_lock(key, blocking=False) as taken:
                if taken:
                    with contextlib.suppress(FileNotFoundError):
                        (self.directory / name).unlink()
        with contextlib.suppress(FileNotFoundError):
            for item in os.scandir(self.directory):
                if not item.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    if item.stat(follow_symlinks=False).st_mtime >= cutoff:
                        continue
                    if item.is_dir(follow_symlinks=False):
                        shutil.rmtree(item.path, ignore_errors=True)
                    else:
                        os.unlink(item.path)

    def size_bytes(self) -> int:
        """Total size of the stored MP4s."""
        return sum(st.st_size for _, st in self._scan(".mp4"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
