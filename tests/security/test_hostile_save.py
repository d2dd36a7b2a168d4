"""A hostile (or broken) result link, and a folder that cannot take the file: ``save`` writes
a whole MP4 or nothing, never more than ``max_download_bytes``, never a decoded body, and
fails with a ``DownloadError`` that names the path and the reason, leaving no ``.part``
file; a ``.part`` file a killed process left is removed by the next save to that target.

The links are a raw HTTP server on loopback that answers exactly the bytes each test
scripts (close-delimited bodies, gzip bombs, endless bodies). ``os.write``, which ``save``
writes with, is watched: after each write into a ``.part`` file of the target folder the
file's size is taken, so "bytes written" is what reached the disk. The folders are real: a
read-only folder, a file where a folder should be, a folder where the file should go; a
full disk is a small tmpfs where one can be mounted, and a write failing with ENOSPC
everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import anyio
import pytest
from boxed_mp4 import boxed_mp4

from videoedit import (
    AsyncClient,
    Client,
    DownloadError,
    InvalidRequestError,
    RetryPolicy,
    Task,
    TaskResult,
    TaskStatus,
)
from videoedit.download import DEFAULT_MAX_DOWNLOAD_BYTES

MIB = 1 << 20
TASK_ID = "6f1c2a4e-hostile-save"
#: Retries without waiting: some attacks are worth a second try, and the tests count them.
TWICE = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)

Answer = Callable[[socket.socket], None]


class Disk:
    """The largest size a ``.part`` file of ``folder`` reached, write by write."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.largest_part = 0
        real_write = os.write

        def write(fd: int, data: bytes) -> int:
            written = real_write(fd, data)
            seen = os.fstat(fd)
            parts = self.folder.glob(".*.part")
            if stat.S_ISREG(seen.st_mode) and any(os.path.samestat(seen, p.stat()) for p in parts):
                self.largest_part = max(self.largest_part, seen.st_size)
            return written

        monkeypatch.setattr(os, "write", write)


class Links:
    """A result host: each GET gets the next scripted answer (the last one repeats)."""

    def __init__(self, disk: Disk) -> None:
        self.disk = disk
        self.answers: list[Answer] = []
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._listener.getsockname()[1]
        return f"http://127.0.0.1:{port}/{TASK_ID}.mp4?Expires=4102444800&Signature=s1g"

    def script(self, *answers: Answer) -> None:
        self.answers = list(answers)

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            self.requests.append(head)
            answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
            with contextlib.suppress(OSError):  # the client hung up: that is what refusing does
                answer(conn)

    def close(self) -> None:
        self._closing = True
        self._listener.close()


def head(*headers: str, status: str = "200 OK") -> bytes:
    return (
        "\r\n".join([f"HTTP/1.1 {status}", *headers, "Connection: close"]) + "\r\n\r\n"
    ).encode()


def sending(first: bytes, chunks: Iterable[bytes] = ()) -> Answer:
    """Send ``first``, then each chunk."""

    def answer(conn: socket.socket) -> None:
        conn.sendall(first)
        for chunk in chunks:
            conn.sendall(chunk)

    return answer


def whole(body: bytes) -> Answer:
    return sending(head("Content-Type: video/mp4", f"Content-Length: {len(body)}") + body)


def close_delimited(body: bytes) -> Answer:
    """No Content-Length: the body ends where the connection does."""
    return sending(head("Content-Type: video/mp4") + body)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


@pytest.fixture
def links(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Links]:
    server = Links(Disk(folder, monkeypatch))
    yield server
    server.close()


@pytest.fixture
def mp4(emulator_sample_clip: Path) -> bytes:
    """A real MP4 (ffmpeg's: ftyp, moov, free, mdat), 75 KB."""
    return emulator_sample_clip.read_bytes()


def done(url: str) -> Task:
    return Task(
        task_id=TASK_ID,
        provider="dashscope-beijing",
        status=TaskStatus.SUCCEEDED,
        result=TaskResult(video_url=url),
    )


def save(kind: str, task: Task, target: Path, **options: object) -> Path:
    """``save`` through a fresh Client or AsyncClient."""
    options.setdefault("retry", TWICE)
    settings: dict[str, object] = {"api_key": "sk-save", **options}
    if kind == "sync":
        with Client("dashscope-beijing", **settings) as client:  # type: ignore[arg-type]
            return client.save(task, target)

    async def run() -> Path:
        async with AsyncClient("dashscope-beijing", **settings) as client:  # type: ignore[arg-type]
            return await client.save(task, target)

    return anyio.run(run)


def refused(kind: str, task: Task, target: Path, **options: object) -> DownloadError:
    with pytest.raises(DownloadError) as caught:
        save(kind, task, target, **options)
    assert caught.value.task_id == TASK_ID
    return caught.value


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


# -- what a link may write -------------------------------------------------------------------
@pytest.fixture(scope="module")
def bomb() -> bytes:
    """16 MiB of zeros in 16 KiB of gzip (the issue's was 200 MiB in 200 KiB)."""
    return gzip.compress(b"\0" * (16 * MIB), compresslevel=9)


@KINDS
def test_a_gzip_bomb_is_refused_before_a_byte_is_written(
    kind: str, links: Links, folder: Path, bomb: bytes
) -> None:
    """Sent as the video with ``Content-Encoding: gzip``: httpx would have decoded it all."""
    assert len(bomb) < 20_000
    links.script(
        sending(
            head(
                "Content-Type: video/mp4",
                "Content-Encoding: gzip",
                f"Content-Length: {len(bomb)}",
            ),
            (bomb[i : i + 8192] for i in range(0, len(bomb), 8192)),
        )
    )
    error = refused(kind, done(links.url), folder / "out.mp4")
    assert error.code == "EncodedResult"
    assert "Content-Encoding 'gzip'" in error.message
    assert links.disk.largest_part == 0
    assert left_in(folder) == []
    assert len(links.requests) == 1  # the link will not change its mind: not retried
    assert b"accept-encoding: identity" in links.requests[0].lower()


@KINDS
def test_an_endless_body_stops_at_the_bound(
    kind: str, links: Links, folder: Path, mp4: bytes
) -> None:
    """A close-delimited body that never ends (here: it would stop after 64 MiB)."""
    endless = (b"\0" * 65536 for _ in range(1024))
    links.script(sending(head("Content-Type: video/mp4") + mp4, endless))
    error = refused(kind, done(links.url), folder / "out.mp4", max_download_bytes=MIB)
    assert error.code == "TooLarge"
    assert error.message == (
        f"download of task {TASK_ID} sent more than {MIB} bytes, over the bound of {MIB} "
        "bytes (max_download_bytes); nothing was kept"
    )
    assert 0 < links.disk.largest_part <= MIB
    assert left_in(folder) == []
    assert len(links.requests) == 1


@KINDS
def test_a_declared_length_over_the_bound_is_refused_unread(
    kind: str, links: Links, folder: Path, mp4: bytes
) -> None:
    links.script(
        sending(
            head("Content-Type: video/mp4", f"Content-Length: {10 * 1024 * MIB}") + mp4,
            (b"\0" * 65536 for _ in range(64)),
        )
    )
    error = refused(kind, done(links.url), folder / "out.mp4", max_download_bytes=MIB)
    assert error.code == "TooLarge"
    assert f"declares {10 * 1024 * MIB} bytes" in error.message
    assert links.disk.largest_part == 0
    assert left_in(folder) == []


def test_a_result_at_the_bound_is_saved(links: Links, folder: Path, mp4: bytes) -> None:
    links.script(whole(mp4))
    target = save("sync", done(links.url), folder / "out.mp4", max_download_bytes=len(mp4))
    assert target.read_bytes() == mp4


def test_the_default_bound_comes_from_the_documented_limits() -> None:
    """10 s of 1080P at most: 256 MiB is room for three times H.264 level 4.2's ceiling."""
    assert DEFAULT_MAX_DOWNLOAD_BYTES == 256 * MIB
    with Client("dashscope-beijing", api_key="sk-save") as client:
        assert client._ops.max_download_bytes == DEFAULT_MAX_DOWNLOAD_BYTES


@pytest.mark.parametrize("bound", [0, -1, True, 1.5, "1 MiB"])
def test_a_bound_that_is_no_byte_count_is_refused(bound: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Client("dashscope-beijing", api_key="sk-save", max_download_bytes=bound)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == (
        "max_download_bytes",
        "an integer > 0 or None",
    )


# -- a whole MP4 or nothing ------------------------------------------------------------------
@KINDS
@pytest.mark.parametrize("cut", ["inside-mdat", "inside-moov", "after-ftyp"])
def test_a_close_delimited_body_cut_short_is_not_saved(
    kind: str, cut: str, links: Links, folder: Path, mp4: bytes
) -> None:
    at = {"inside-mdat": len(mp4) - 1000, "inside-moov": 1000, "after-ftyp": 32}[cut]
    links.script(close_delimited(mp4[:at]))
    target = folder / "out.mp4"
    error = refused(kind, done(links.url), target)
    assert error.code == "Incomplete"
    assert error.message.startswith(f"download of task {TASK_ID} is cut short: ")
    assert len(links.requests) == 2  # a transfer failure: tried again, then given up
    assert left_in(folder) == []


def test_a_body_cut_short_then_sent_whole_is_saved_whole(
    links: Links, folder: Path, mp4: bytes
) -> None:
    links.script(close_delimited(mp4[: len(mp4) // 2]), close_delimited(mp4))
    target = save("sync", done(links.url), folder / "out.mp4")
    assert target.read_bytes() == mp4
    assert left_in(folder) == ["out.mp4"]


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html><body>Sign in to continue</body></html>", b"\0" * 4096],
    ids=["html", "zeros"],
)
def test_a_body_that_is_no_mp4_is_not_saved(body: bytes, links: Links, folder: Path) -> None:
    links.script(whole(body))
    error = refused("sync", done(links.url), folder / "out.mp4")
    assert error.code == "NotMP4"
    assert left_in(folder) == []
    assert len(links.requests) == 1


# -- folders that cannot take it -------------------------------------------------------------
def cannot_write(error: DownloadError, target: Path, reason: str) -> None:
    assert error.code == "CannotWrite"
    assert error.path == target
    assert error.message.startswith(f"cannot save the result of task {TASK_ID} to {target}: "), (
        error.message
    )
    assert reason in error.message
    assert error.__cause__ is None or isinstance(error.__cause__, OSError)


@KINDS
def test_a_folder_in_the_way_is_a_download_error_and_stays(
    kind: str, links: Links, folder: Path, mp4: bytes
) -> None:
    links.script(whole(mp4))
    target = folder / "out.mp4"
    (target / "inside").mkdir(parents=True)
    cannot_write(refused(kind, done(links.url), target), target, "a folder is in the way")
    assert left_in(folder) == ["out.mp4"]
    assert left_in(target) == ["inside"]
    assert links.requests == []  # checked before anything is fetched


@pytest.mark.parametrize("depth", ["parent", "grandparent"])
def test_a_parent_that_is_a_file_is_a_download_error_and_stays(
    depth: str, links: Links, folder: Path, mp4: bytes
) -> None:
    links.script(whole(mp4))
    blocker = folder / "clips"
    blocker.write_bytes(b"not a folder")
    target = blocker / "out.mp4" if depth == "parent" else blocker / "day" / "out.mp4"
    error = refused("sync", done(links.url), target)
    cannot_write(error, target, f"{blocker} is a file, not a folder")
    assert blocker.read_bytes() == b"not a folder"
    assert left_in(folder) == ["clips"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0o500 folder anyway")
def test_a_read_only_folder_is_a_download_error_naming_it(
    links: Links, folder: Path, mp4: bytes
) -> None:
    links.script(whole(mp4))
    folder.chmod(0o500)
    try:
        error = refused("sync", done(links.url), folder / "out.mp4")
    finally:
        folder.chmod(0o700)
    cannot_write(error, folder / "out.mp4", "permission denied")
    assert left_in(folder) == []


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``tmpfs("size=32k")``: a fresh tmpfs mounted for the test; skipped where none can be."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"tmpfs{len(mounted)}"
        point.mkdir()
        done_ = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            check=False,
        )
        if done_.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done_.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.skipif(sys.platform != "linux", reason="tmpfs is Linux's")
def test_a_full_disk_is_a_download_error_naming_the_path(
    tmpfs: Callable[[str], Path], links: Links, mp4: bytes
) -> None:
    small = tmpfs("size=32k,mode=0777")
    links.disk.folder = small
    links.script(whole(mp4))
    target = small / "out.mp4"
    error = refused("sync", done(links.url), target)
    cannot_write(error, target, "the disk is full")
    assert left_in(small) == []


@pytest.mark.skipif(sys.platform != "linux", reason="tmpfs is Linux's")
def test_a_read_only_file_system_is_a_download_error_naming_the_path(
    tmpfs: Callable[[str], Path], links: Links, mp4: bytes
) -> None:
    """A read-only folder that root cannot write into either."""
    links.script(whole(mp4))
    target = tmpfs("ro") / "out.mp4"
    cannot_write(refused("sync", done(links.url), target), target, "read-only file system")


@KINDS
def test_a_write_failing_with_enospc_is_a_download_error_naming_the_path(
    kind: str, links: Links, folder: Path, mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full disk where no tmpfs can be mounted: the file's own writes fail with ENOSPC."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        mine = any(os.path.samestat(os.fstat(fd), p.stat()) for p in folder.glob(".*.part"))
        if mine:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    links.script(whole(mp4))
    target = folder / "out.mp4"
    cannot_write(refused(kind, done(links.url), target), target, "the disk is full")
    assert left_in(folder) == []
    assert len(links.requests) == 1


# -- leftovers -------------------------------------------------------------------------------
def test_a_part_left_by_a_killed_process_is_removed_by_the_next_save(
    links: Links, folder: Path
) -> None:
    """A save killed with SIGKILL half-way leaves its ``.part``; the next save clears it."""
    release = threading.Event()
    video = boxed_mp4(b"\x07" * MIB)  # the client writes in 64 KiB chunks: send several

    def half_then_hang(conn: socket.socket) -> None:
        conn.sendall(head("Content-Type: video/mp4", f"Content-Length: {len(video)}"))
        conn.sendall(video[: len(video) // 2])
        release.wait(60)

    links.script(half_then_hang, whole(video))
    target = folder / "out.mp4"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from videoedit import Client, Task, TaskResult, TaskStatus
        task = Task(task_id={TASK_ID!r}, provider="dashscope-beijing",
                    status=TaskStatus.SUCCEEDED, result=TaskResult(video_url={links.url!r}))
        with Client("dashscope-beijing", api_key="sk-save") as client:
            client.save(task, Path({str(target)!r}))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in folder.glob(".out.mp4.*.part")):
            assert child.poll() is None, "the saving process ended early"
            assert time.monotonic() < deadline, "the saving process never wrote"
            time.sleep(0.05)
        child.kill()
        child.wait(timeout=30)
    finally:
        release.set()
    [stale] = left_in(folder)
    assert stale.startswith(".out.mp4.")
    assert stale.endswith(".part")
    assert save("sync", done(links.url), target) == target
    assert target.read_bytes() == video
    assert left_in(folder) == ["out.mp4"]


def test_a_part_still_being_written_is_left_alone(links: Links, folder: Path, mp4: bytes) -> None:
    """Another save to the same target, alive (it holds the lock on its file)."""
    live = folder / ".out.mp4.0123abcd.part"
    live.write_bytes(b"someone else's")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        links.script(whole(mp4))
        save("sync", done(links.url), folder / "out.mp4")
        assert left_in(folder) == [".out.mp4.0123abcd.part", "out.mp4"]
    assert live.read_bytes() == b"someone else's"


def test_only_the_parts_of_this_target_are_touched(links: Links, folder: Path, mp4: bytes) -> None:
    others = [".other.mp4.0123abcd.part", ".out.mp4.backup", "out.mp4.0123abcd.part"]
    for name in others:
        (folder / name).write_bytes(b"x")
    links.script(whole(mp4))
    save("sync", done(links.url), folder / "out.mp4")
    assert left_in(folder) == sorted([*others, "out.mp4"])


@pytest.mark.parametrize("path", [".", "..", "", "out\0.mp4"])
def test_a_path_that_names_no_file_is_refused(path: str, links: Links) -> None:
    links.script(whole(b""))
    with pytest.raises(InvalidRequestError) as caught:
        save("sync", done(links.url), Path(path))
    assert caught.value.field == "path"
    assert links.requests == []
