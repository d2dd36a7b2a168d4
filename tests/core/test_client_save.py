"""Saving a result: streamed to a temporary file beside the target, checked, renamed into place.

Whatever goes wrong, the target holds a complete file or what it held before, and no
temporary file is left behind.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from videoedit import DownloadError, RetryPolicy, Task, TaskFailedError, TaskResult, TaskStatus
from videoedit.download import ResultFile

pytestmark = pytest.mark.anyio


@pytest.fixture
def done(service) -> Task:
    return Task(
        task_id=service.task_id,
        provider="dashscope-singapore",
        status=TaskStatus.SUCCEEDED,
        result=TaskResult(
            video_url=service.result_url,
            expires_at=datetime.now(timezone.utc) + timedelta(hours=23),
        ),
    )


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body in chunks that may call back between them or break off."""

    def __init__(self, chunks: list[bytes], *, between=None, then_fail: bool = False) -> None:
        self.chunks, self.between, self.then_fail = chunks, between, then_fail

    def __iter__(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if i and self.between:
                self.between()
            yield chunk
        if self.then_fail:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.__iter__():
            yield chunk


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


async def test_the_result_is_streamed_to_a_temporary_file_then_renamed(
    client, service, done, tmp_path: Path
) -> None:
    target = tmp_path / "out.mp4"
    seen: list[tuple[bool, list[str]]] = []

    def midway() -> None:
        seen.append((target.exists(), leftovers(tmp_path)))

    half = len(service.video) // 2
    service.script(
        "download",
        httpx.Response(
            200,
            headers={"Content-Length": str(len(service.video))},
            stream=Body([service.video[:half], service.video[half:]], between=midway),
        ),
    )
    assert await client.save(done, target) == target
    [(target_existed, parts)] = seen
    assert target_existed is False
    assert len(parts) == 1
    assert parts[0].startswith(".out.mp4.")
    assert target.read_bytes() == service.video
    assert leftovers(tmp_path) == []


async def test_the_download_carries_no_key(client, service, done, tmp_path: Path) -> None:
    await client.save(done, tmp_path / "out.mp4")
    [download] = service.requests
    assert str(download.url) == service.result_url
    assert "Authorization" not in download.headers


async def test_a_short_body_is_a_download_error_and_leaves_nothing(
    make_client, service, done, tmp_path: Path
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2))
    short = [
        httpx.Response(200, headers={"Content-Length": "999999"}, content=service.video[:1000])
        for _ in range(2)
    ]
    service.script("download", *short)
    with pytest.raises(DownloadError) as caught:
        await client.save(done, tmp_path / "out.mp4")
    assert caught.value.code == "ShortRead"
    assert "1000 of 999999 bytes" in str(caught.value)
    assert caught.value.task_id == service.task_id
    assert list(tmp_path.iterdir()) == []


async def test_a_short_body_is_fetched_again(client, service, done, tmp_path: Path) -> None:
    service.script(
        "download",
        httpx.Response(200, headers={"Content-Length": "999999"}, content=b"partial"),
    )
    await client.save(done, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == service.video
    assert len(service.calls("download")) == 2


async def test_an_interrupted_stream_leaves_the_target_as_it_was(
    make_client, service, done, tmp_path: Path
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=3))
    target = tmp_path / "out.mp4"
    target.write_bytes(b"the previous edit")
    broken = [
        httpx.Response(200, stream=Body([service.video[:5000]], then_fail=True)) for _ in range(3)
    ]
    service.script("download", *broken)
    with pytest.raises(DownloadError) as caught:
        await client.save(done, target)
    assert caught.value.code == "Interrupted"
    assert "ReadError: connection reset by peer" in str(caught.value)
    assert target.read_bytes() == b"the previous edit"
    assert leftovers(tmp_path) == []
    assert len(service.calls("download")) == 3


async def test_a_connection_lost_before_the_body_leaves_nothing(
    make_client, service, done, tmp_path: Path
) -> None:
    client = make_client(retry=RetryPolicy.none())
    service.script("download", httpx.ConnectError("refused"))
    with pytest.raises(DownloadError, match="broke off"):
        await client.save(done, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


async def test_an_expired_link_answered_403_is_result_unavailable(
    client, service, done, tmp_path: Path
) -> None:
    service.script(
        "download",
        httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"),
    )
    with pytest.raises(DownloadError) as caught:
        await client.save(done, tmp_path / "out.mp4")
    assert (caught.value.code, caught.value.status_code) == ("ResultUnavailable", 403)
    assert "expire after 24 hours" in str(caught.value)
    assert len(service.calls("download")) == 1  # not worth another try
    assert list(tmp_path.iterdir()) == []


async def test_a_503_on_the_download_is_retried_after_retry_after(
    client, service, done, clock, tmp_path: Path
) -> None:
    service.script("download", httpx.Response(503, headers={"Retry-After": "4"}))
    await client.save(done, tmp_path / "out.mp4")
    assert clock.sleeps == [4.0]
    assert (tmp_path / "out.mp4").read_bytes() == service.video


async def test_a_link_past_its_expiry_is_refused_without_a_request(
    client, service, done, tmp_path: Path
) -> None:
    assert done.result is not None
    stale = replace(
        done,
        result=replace(done.result, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)),
    )
    with pytest.raises(DownloadError) as caught:
        await client.save(stale, tmp_path / "out.mp4")
    assert caught.value.code == "ResultExpired"
    assert service.requests == []
    assert list(tmp_path.iterdir()) == []


async def test_a_task_without_a_result_cannot_be_saved(
    client, service, done, tmp_path: Path
) -> None:
    running = replace(done, status=TaskStatus.RUNNING, result=None)
    with pytest.raises(DownloadError) as caught:
        await client.save(running, tmp_path / "out.mp4")
    assert caught.value.code == "NoResult"
    assert "is RUNNING" in str(caught.value)
    assert service.requests == []


async def test_saving_a_failed_task_raises_its_failure(client, service, done, tmp_path) -> None:
    failed = replace(done, status=TaskStatus.FAILED, result=None, error_code="DataInspectionFailed")
    with pytest.raises(TaskFailedError) as caught:
        await client.save(failed, tmp_path / "out.mp4")
    assert caught.value.code == "DataInspectionFailed"


async def test_an_empty_body_is_not_a_video(make_client, service, done, tmp_path: Path) -> None:
    client = make_client(retry=RetryPolicy.none())
    service.script("download", httpx.Response(200, content=b""))
    with pytest.raises(DownloadError) as caught:
        await client.save(done, tmp_path / "out.mp4")
    assert caught.value.code == "EmptyResult"
    assert list(tmp_path.iterdir()) == []


async def test_a_saved_event_names_the_path(client, done, callback, tmp_path: Path) -> None:
    await client.save(done, tmp_path / "out.mp4", on_event=callback)
    [saved] = callback.events
    assert (saved.kind, saved.detail) == ("saved", str(tmp_path / "out.mp4"))


@pytest.fixture
def file_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Which thread ran each file operation of a save: (method of ResultFile, thread ident)."""
    seen: list[tuple[str, int]] = []
    for name in ("open", "restart", "write", "commit", "discard"):
        original = getattr(ResultFile, name)

        def recorded(self: ResultFile, *args: object, _name=name, _original=original) -> object:
            seen.append((_name, threading.get_ident()))
            return _original(self, *args)

        monkeypatch.setattr(ResultFile, name, recorded)
    return seen


@pytest.mark.parametrize("kind", ["async"])
async def test_under_the_async_client_the_file_is_written_off_the_event_loop(
    client, done, tmp_path: Path, file_threads: list[tuple[str, int]]
) -> None:
    loop_thread = threading.get_ident()
    await client.save(done, tmp_path / "out.mp4")

    assert {"open", "write", "commit"} <= {name for name, _ in file_threads}
    assert [name for name, thread in file_threads if thread == loop_thread] == []


@pytest.mark.parametrize("kind", ["async"])
async def test_under_the_async_client_a_failed_download_is_cleaned_up_off_the_event_loop(
    make_client, service, done, tmp_path: Path, file_threads: list[tuple[str, int]]
) -> None:
    client = make_client(retry=RetryPolicy.none())
    service.script("download", httpx.Response(200, content=b""))
    loop_thread = threading.get_ident()
    with pytest.raises(DownloadError):
        await client.save(done, tmp_path / "out.mp4")

    assert "discard" in {name for name, _ in file_threads}
    assert [name for name, thread in file_threads if thread == loop_thread] == []
    assert list(tmp_path.iterdir()) == []
