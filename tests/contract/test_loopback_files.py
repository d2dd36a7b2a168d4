"""LoopbackFiles: local files on 127.0.0.1 for the emulator to fetch (the kit's input, and
``videoedit edit --emulator`` on providers without an upload API)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from videoedit_emulator.web.fileserver import LoopbackFiles


def test_an_added_file_is_served_on_loopback_and_nothing_else(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 10)
    secret = tmp_path / "secret.txt"
    secret.write_text("not shared")

    with LoopbackFiles() as files:
        url = files.add(clip)
        got = httpx.get(url)
        head = httpx.head(url)
        beside = httpx.get(url.rsplit("/", 1)[0] + "/secret.txt")
        root = httpx.get(files.url + "/")

    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/clip.mp4")
    assert (got.status_code, got.content) == (200, clip.read_bytes())
    assert got.headers["content-type"] == "video/mp4"
    assert (head.status_code, head.headers["content-length"]) == (200, str(clip.stat().st_size))
    assert beside.status_code == root.status_code == 404


def test_each_addition_gets_a_url_of_its_own(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")

    with LoopbackFiles() as files:
        assert files.add(clip) != files.add(clip)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with LoopbackFiles() as files, pytest.raises(FileNotFoundError, match="is not a file"):
        files.add(tmp_path / "nope.mp4")


def test_the_uploader_returns_the_files_url_without_sending_anything(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")

    with LoopbackFiles() as files:
        flow = files.uploader().upload(clip, model="wan2.7-videoedit")
        with pytest.raises(StopIteration) as done:
            next(flow)  # no call is yielded: the "upload" is serving the file
        assert httpx.get(done.value.value).content == b"video"
