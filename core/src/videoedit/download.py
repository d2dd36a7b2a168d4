"""What a result link may write, and where: the checks of ``save``, in one place.

A result link is a URL the service hands back, and whoever answers it decides what arrives.
So nothing it sends is trusted to be what it says:

- **Bounded.** At most ``max_download_bytes`` reach the disk ([`DEFAULT_MAX_DOWNLOAD_BYTES`][videoedit.download.DEFAULT_MAX_DOWNLOAD_BYTES]
  unless the client is told otherwise): a declared length over the bound is refused before
  the body is read, and a body that grows past it (an endless one) is cut off there.
- **Raw bytes only.** A result is sent as it is stored. The request asks for
  ``Accept-Encoding: identity`` and an answer with any other ``Content-Encoding`` is refused
  unread: decoding it (as httpx would) let 200 KiB of gzip write 200 MiB.
- **Whole.** Before the rename, the file must be an MP4 whose top-level boxes add up to its
  length exactly, starting with ``ftyp`` and holding a ``moov``: a close-delimited body cut
  short has no ``Content-Length`` to betray it, but its last box runs past its end (or its
  ``moov`` never came).
- **Every OS failure named.** A read-only folder, a full disk, a folder where the file
  should go, a parent that is a file: a [`DownloadError`][videoedit.errors.DownloadError] naming the
  path and the reason, never a raw ``OSError``; nothing is left behind.
- **No leftovers.** The hidden ``.part`` file a killed process left beside the target is
  removed by the next save to that target. A ``.part`` file still being written (its writer
  holds a lock on it) is left alone.

Failures found while the body streams (the bound, the disk) are raised from
[`ResultFile.write`][videoedit.download.ResultFile.write], inside the driver: they end the save at once, and the flow's
``finally`` removes the ``.part`` file. Every other check answers a [`DownloadError`][videoedit.DownloadError]
(or ``None``) for the flow to raise or retry.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import struct
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from videoedit.errors import DownloadError, InvalidRequestError

# A lock marks a .part file as still being written. Windows has no flock, and needs none:
# there a file that is open cannot be removed.
if sys.platform != "win32":
    import fcntl

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "RETRYABLE_DOWNLOAD_FAILURES",
    "ResultFile",
    "check_max_download_bytes",
    "raw_request",
]

MIB = 1 << 20
#: The default bound on what one result may write. The largest documented output is 10 s of
#: 1080P at 30 fps (docs/reliability.md): even at the ceiling of H.264 level 4.2, the highest
#: a 1080p30 stream needs (62.5 Mbit/s in the High profile), that is 78 MB; the largest input
#: the service takes is 100 MB. 256 MiB is over three times the one and 2.5 times the other.
DEFAULT_MAX_DOWNLOAD_BYTES = 256 * MIB

#: Failures worth another try: the link itself is fine, the transfer was not.
RETRYABLE_DOWNLOAD_FAILURES = frozenset(
    {"Interrupted", "ShortRead", "Unavailable", "EmptyResult", "Incomplete"}
)

_BOX = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


def check_max_download_bytes(value: object) -> int | None:
    """The client option as given, if it is a whole number of bytes > 0 or ``None`` (no bound)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise InvalidRequestError(
        f"max_download_bytes: must be a whole number of bytes > 0, or None for no bound; "
        f"got {value!r}",
        field="max_download_bytes",
        rule="an integer > 0 or None",
    )


def raw_request(request: httpx.Request) -> httpx.Request:
    """``request`` asking for the bytes as stored: no content coding to decode."""
    request.headers["Accept-Encoding"] = "identity"
    return request


def _content_length(response: httpx.Response) -> int | None:
    declared = response.headers.get("Content-Length", "").strip()
    return int(declared) if declared.isascii() and declared.isdigit() else None


def _reason(exc: OSError) -> str:
    """An ``OSError`` in words, with what it means for a save."""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"the disk is full ({exc.strerror})"
    if code == errno.EROFS:
        return "the folder is on a read-only file system"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: the folder is not writable by this user ({exc.strerror})"
    if code == errno.EISDIR:
        return "a folder is in the way"
    return exc.strerror or type(exc).__name__


class ResultFile:
    """The hidden ``.part`` file one save streams into, beside its target; see the module.

    Made by [`open`][videoedit.download.ResultFile.open] (the target checked, stale ``.part`` files removed); filled through
    [`accept`][videoedit.download.ResultFile.accept] and [`write`][videoedit.download.ResultFile.write] by the driver; checked by [`verify`][videoedit.download.ResultFile.verify]; renamed onto
    the target by [`commit`][videoedit.download.ResultFile.commit]; removed by [`discard`][videoedit.download.ResultFile.discard] whatever happened.
    """

    def __init__(self, target: Path, *, max_bytes: int | None, task_id: str, provider: str) -> None:
        self.target = target
        self.max_bytes = max_bytes
        self.task_id = task_id
        self.provider = provider
        self.written = 0
        self.part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        self._fd: int | None = None

    def error(self, message: str, code: str, **kwargs: Any) -> DownloadError:
        return DownloadError(
            message, provider=self.provider, task_id=self.task_id, code=code, **kwargs
        )

    @contextlib.contextmanager
    def _os_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise self.error(
                f"cannot save the result of task {self.task_id} to {self.target}: {doing} "
                f"failed: {_reason(exc)}",
                "CannotWrite",
                path=self.target,
                hint="choose another path (-o), or make room or permission for this one",
            ) from exc

    def _blocked(self, reason: str) -> DownloadError:
        return self.error(
            f"cannot save the result of task {self.task_id} to {self.target}: {reason}",
            "CannotWrite",
            path=self.target,
            hint="choose another path (-o), or move what is in the way",
        )

    # -- before the download ------------------------------------------------------------------
    def open(self) -> None:
        """Check the target, remove stale ``.part`` files, create this save's own."""
        if self.target.is_dir():
            raise self._blocked("a folder is in the way")
        folder = self.target.parent
        for ancestor in (folder, *folder.parents):
            if ancestor.exists() or ancestor.is_symlink():
                if not ancestor.is_dir():
                    raise self._blocked(f"{ancestor} is a file, not a folder")
                break
        with self._os_errors(f"creating the folder {folder}"):
            folder.mkdir(parents=True, exist_ok=True)
        self._remove_stale_parts()
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        with self._os_errors(f"creating {self.part.name} in {folder}"):
            self._fd = os.open(self.part, flags | getattr(os, "O_BINARY", 0), 0o666)
        if sys.platform != "win32":
            with contextlib.suppress(OSError):  # no locks here: stale files are not told apart
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _remove_stale_parts(self) -> None:
        """Remove the ``.part`` files of earlier saves to this target whose writer is gone
        (a killed process's lock went with it). Another save's file, still locked, stays."""
        pattern = re.compile(rf"\.{re.escape(self.target.name)}\.[0-9a-f]{{8}}\.part")
        try:
            names = [n for n in os.listdir(self.target.parent) if pattern.fullmatch(n)]
        except OSError:
            return  # an unreadable folder: creating the file will say what is wrong
        for name in names:
            stale = self.target.parent / name
            if sys.platform == "win32":
                with contextlib.suppress(OSError):  # refused while its writer has it open
                    stale.unlink()
                continue
            try:
                fd = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue  # gone already, or a link: not ours to judge
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # still being written, or no locks here to tell
            else:
                with contextlib.suppress(OSError):
                    stale.unlink()
            finally:
                os.close(fd)

    # -- while it streams (called by the driver) ------------------------------------------------
    def refusal(self, response: httpx.Response) -> DownloadError | None:
        """Why this answer's body must not be saved (read), if it must not."""
        status = response.status_code
        if status in (403, 404, 410):
            return self.error(
                f"the result of task {self.task_id} is no longer available (HTTP {status}); "
                "result links expire after 24 hours",
                "ResultUnavailable",
                status_code=status,
            )
        if not response.is_success:
            return self.error(
                f"download of task {self.task_id} answered HTTP {status}",
                "Unavailable" if status in (408, 429) or status >= 500 else "HTTPError",
                status_code=status,
            )
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            return self.error(
                f"download of task {self.task_id} came with Content-Encoding {encoding!r}: a "
                "video is sent as stored, and decoding it could write without bound; nothing "
                "was written",
                "EncodedResult",
            )
        declared = _content_length(response)
        if self.max_bytes is not None and declared is not None and declared > self.max_bytes:
            return self._too_large(f"declares {declared} bytes")
        return None

    def _too_large(self, what: str) -> DownloadError:
        return self.error(
            f"download of task {self.task_id} {what}, over the bound of {self.max_bytes} "
            "bytes (max_download_bytes); nothing was kept",
            "TooLarge",
            hint="raise the client's max_download_bytes if such a result is expected",
        )

    def accept(self, response: httpx.Response) -> bool:
        """Whether the driver may stream this answer's body into the file."""
        return self.refusal(response) is None

    def restart(self) -> None:
        """Empty the file for another attempt."""
        assert self._fd is not None
        with self._os_errors(f"emptying {self.part.name}"):
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
        self.written = 0

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``, or raise: past the bound (nothing more is read), or the disk's error."""
        assert self._fd is not None
        if self.max_bytes is not None and self.written + len(chunk) > self.max_bytes:
            raise self._too_large(f"sent more than {self.max_bytes} bytes")
        view = memoryview(chunk)
        with self._os_errors(f"writing {self.part.name}"):
            while view:
                view = view[os.write(self._fd, view) :]
        self.written += len(chunk)

    # -- after it streamed ------------------------------------------------------------------
    def verify(self, response: httpx.Response, written: int) -> DownloadError | None:
        """Why the file just streamed is not the whole result, if it is not."""
        refused = self.refusal(response)
        if refused is not None:
            return refused
        declared = _content_length(response)
        if declared is not None and declared != written:
            return self.error(
                f"download of task {self.task_id} is short: {written} of {declared} bytes",
                "ShortRead",
            )
        if written == 0:
            return self.error(f"download of task {self.task_id} is empty", "EmptyResult")
        flaw = self._mp4_flaw(written)
        if flaw is None:
            return None
        code, reason = flaw
        return self.error(f"download of task {self.task_id} {reason}", code)

    def _mp4_flaw(self, size: int) -> tuple[str, str] | None:
        """Walk the top-level boxes: ``("Incomplete", why)`` when they run past the end (or
        the ``moov`` is missing), ``("NotMP4", why)`` when they are no MP4 at all."""
        assert self._fd is not None
        seen: set[bytes] = set()
        offset = 0
        with self._os_errors(f"reading {self.part.name} back"):
            while offset < size:
                header = os.pread(self._fd, 16, offset)
                if len(header) < 8:
                    return (
                        "Incomplete",
                        f"is cut short: it ends inside a box header at byte {offset}",
                    )
                length, kind = _BOX.unpack_from(header)
                smallest = 8
                if length == 1:  # a 64-bit length follows the type
                    if len(header) < 16:
                        return (
                            "Incomplete",
                            f"is cut short: it ends inside a box header at byte {offset}",
                        )
                    (length,) = _LARGE.unpack_from(header, 8)
                    smallest = 16
                elif length == 0:  # the last box, running to the end of the file
                    length = size - offset
                if length < smallest or not all(0x20 <= c <= 0x7E for c in kind):
                    return "NotMP4", f"is not an MP4: no box can start at byte {offset}"
                if offset == 0 and kind != b"ftyp":
                    return "NotMP4", "is not an MP4: it does not begin with an ftyp box"
                if offset + length > size:
                    return (
                        "Incomplete",
                        f"is cut short: its {kind.decode()} box at byte {offset} needs "
                        f"{length} bytes and the file ends after {size - offset}",
                    )
                seen.add(kind)
                offset += length
        if b"moov" not in seen:
            return "Incomplete", "is cut short: it has no moov box (the movie's index)"
        return None

    # -- the end ----------------------------------------------------------------------------
    def commit(self) -> None:
        """Make the file durable and put it in the target's place, in one rename."""
        assert self._fd is not None
        with self._os_errors(f"writing {self.part.name}"):
            os.fsync(self._fd)
        self._close()
        if self.target.is_dir():
            raise self._blocked("a folder is in the way")
        with self._os_errors(f"renaming {self.part.name} to {self.target.name}"):
            os.replace(self.part, self.target)

    def discard(self) -> None:
        """Remove the ``.part`` file (nothing, once it was renamed)."""
        self._close()
        with contextlib.suppress(OSError):
            self.part.unlink()

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
