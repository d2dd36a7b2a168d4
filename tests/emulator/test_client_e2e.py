"""End to end through the real client: videoedit.Client and AsyncClient against the emulator.

Local files take DashScope's upload flow; waits poll; results stream to disk. The saved MP4
is then read back with ffmpeg.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import videoedit
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer

ClientFactory = Callable[..., videoedit.Client]


def edit(clip: Path, **fields: object) -> videoedit.VideoEdit:
    return videoedit.VideoEdit(
        video=str(clip), prompt="claymation", resolution="720P", ratio="16:9", **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(("audio_setting", "has_audio"), [("origin", True), ("auto", True)])
@pytest.mark.parametrize("provider", ["dashscope-singapore", "dashscope-beijing"])
def test_client_submits_waits_and_saves_a_real_mp4(
    emulator_client: ClientFactory,
    emulator_sample_clip: Path,
    tmp_path: Path,
    provider: str,
    audio_setting: str,
    has_audio: bool,
) -> None:
    client = emulator_client(provider)
    events: list[videoedit.EventKind] = []
    task = client.submit(
        edit(emulator_sample_clip, audio_setting=audio_setting),
        on_event=lambda e: events.append(e.kind),
    )
    assert task.status is videoedit.TaskStatus.PENDING
    done = client.wait(task)
    saved = client.save(done, tmp_path / "out.mp4")
    info = probe_output(saved)
    assert (info.width, info.height, info.duration, info.fps, info.codec) == (
        1280,
        720,
        2.0,
        30.0,
        "h264",
    )
    assert info.has_audio is has_audio
    assert events[:2] == [videoedit.EventKind.UPLOADED, videoedit.EventKind.SUBMITTED]
    usage = done.result.usage if done.result else None
    assert usage is not None
    assert (usage.input_seconds, usage.output_seconds, usage.total_seconds, usage.short_side) == (
        2.0,
        2.0,
        4.0,
        720,
    )


def test_a_silent_input_with_origin_audio_saves_without_audio(
    emulator_client: ClientFactory, portrait_clip: Path, tmp_path: Path
) -> None:
    client = emulator_client()
    task = client.edit(
        videoedit.VideoEdit(video=str(portrait_clip), resolution="720P", audio_setting="origin"),
        tmp_path / "out.mp4",
    )
    info = probe_output(tmp_path / "out.mp4")
    assert (info.width, info.height, info.has_audio) == (720, 1280, False)
    assert task.status is videoedit.TaskStatus.SUCCEEDED


@pytest.mark.anyio
async def test_async_client_submits_waits_and_saves(
    emulator: EmulatorServer, emulator_sample_clip: Path, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("polls=3")
    async with emulator.async_client("dashscope-singapore") as client:
        seen: list[videoedit.TaskStatus] = []
        task = await client.submit(edit(emulator_sample_clip, duration=2, audio_setting="origin"))
        done = await client.wait(
            task,
            on_event=lambda e: (
                e.kind is videoedit.EventKind.POLLED and e.task and seen.append(e.task.status)
            ),
        )
        path = await client.save(done, tmp_path / "async.mp4")
    assert seen[0] is videoedit.TaskStatus.PENDING
    assert seen[-1] is videoedit.TaskStatus.SUCCEEDED
    info = probe_output(path)
    assert (info.width, info.height, info.duration, info.fps, info.codec, info.has_audio) == (
        1280, 720, 2.0, 30.0, "h264", True,
    )  # fmt: skip


def test_client_cancels_a_pending_task(
    emulator: EmulatorServer, emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    emulator.engine.set_default_progression("polls=5")
    client = emulator_client()
    task = client.submit(edit(emulator_sample_clip))
    assert client.cancel(task).status is videoedit.TaskStatus.CANCELED
    with pytest.raises(videoedit.TaskCanceledError):
        client.wait(task)


def test_client_cancel_of_a_running_task_is_unsupported(
    emulator: EmulatorServer, emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    emulator.engine.set_default_progression("polls=5")
    client = emulator_client()
    task = client.submit(edit(emulator_sample_clip))
    for _ in range(3):
        client.status(task)
    with pytest.raises(videoedit.UnsupportedOperationError) as caught:
        client.cancel(task)
    assert caught.value.code == "UnsupportedOperation"


def test_client_lists_recent_tasks(
    emulator: EmulatorServer, emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    emulator.engine.set_default_progression("polls=5")
    client = emulator_client()
    first = client.submit(edit(emulator_sample_clip))
    second = client.submit(edit(emulator_sample_clip))
    page = client.list(page_size=10)
    assert [t.task_id for t in page.tasks] == [second.task_id, first.task_id]
    assert page.total == 2
    assert all(t.status is videoedit.TaskStatus.PENDING for t in page.tasks)


def test_a_failed_task_raises_task_failed_with_the_providers_code(
    emulator: EmulatorServer, emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    emulator.engine.set_default_progression("polls=2")
    client = emulator_client()
    task = client.submit(edit(emulator_sample_clip))
    emulator.engine.fail(
        task.task_id, "DataInspectionFailed", "Input data may contain inappropriate content."
    )
    with pytest.raises(videoedit.TaskFailedError) as caught:
        client.wait(task)
    assert caught.value.code == "DataInspectionFailed"
    assert "inappropriate content" in str(caught.value)


def test_a_server_side_400_reaches_the_client_with_the_field(
    emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    client = emulator_client()
    first = client.wait(client.submit(edit(emulator_sample_clip)))
    assert first.video_url is not None
    # The client cannot probe a URL: only the service can tell that 8 s exceeds the 2 s input.
    with pytest.raises(videoedit.InvalidRequestError) as caught:
        client.submit(videoedit.VideoEdit(video=first.video_url, resolution="720P", duration=8))
    error = caught.value
    assert (error.status_code, error.code, error.field) == (
        400,
        "InvalidParameter",
        "parameters.duration",
    )
    assert error.message.startswith(
        "parameters.duration (8 s) must not exceed the input video's length (2.00 s"
    )


def test_an_expired_result_link_is_a_download_error(
    emulator: EmulatorServer,
    emulator_client: ClientFactory,
    emulator_sample_clip: Path,
    tmp_path: Path,
) -> None:
    clock = emulator.engine.use_clock(ManualClock())
    client = emulator_client()
    done = client.wait(client.submit(edit(emulator_sample_clip)))
    clock.advance(25 * 3600)
    with pytest.raises(videoedit.DownloadError) as caught:
        client.save(done, tmp_path / "late.mp4")
    assert caught.value.code == "ResultUnavailable"
    assert caught.value.status_code == 403
    assert not (tmp_path / "late.mp4").exists()


def test_an_expired_task_is_task_not_found(
    emulator: EmulatorServer, emulator_client: ClientFactory, emulator_sample_clip: Path
) -> None:
    clock = emulator.engine.use_clock(ManualClock())
    client = emulator_client()
    task = client.submit(edit(emulator_sample_clip))
    clock.advance(24 * 3600)
    with pytest.raises(videoedit.TaskNotFoundError):
        client.wait(task)
