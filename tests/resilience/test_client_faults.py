"""The client against each fault, one at a time: what it retries, what it refuses to repeat,
and what every error tells its caller (the task id, or that a task may exist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from videoedit import (
    Client,
    DownloadError,
    RateLimitError,
    RetryPolicy,
    ServiceError,
    TaskFailedError,
    TaskStatus,
    TransportError,
    VideoEdit,
)
from videoedit_emulator.server import EmulatorServer

EDIT = VideoEdit(
    video="https://example.invalid/clip.mp4", prompt="faults", resolution="720P", duration=2
)
FAST = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def client(emulator: EmulatorServer) -> Client:
    with emulator.client("dashscope-beijing", api_key="sk-faults", retry=FAST) as made:
        yield made


# -- creations: never repeated unless certainly not received -----------------------------------
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_creation_answered_5xx_is_not_repeated_and_may_have_made_its_task(
    emulator: EmulatorServer, client: Client, when: str
) -> None:
    emulator.faults.add("status", route="create", status=504, when=when)
    with pytest.raises(ServiceError) as caught:
        client.submit(EDIT)
    error = caught.value
    assert (error.status_code, error.maybe_submitted) == (504, True)
    assert error.hint == "list recent tasks (client.list()) to see whether it was created"
    assert emulator.journal.count(route="create") == 1
    tasks = emulator.engine.all_tasks()
    assert len(tasks) == (1 if when == "after" else 0)
    if when == "after":  # the caller finds it where the hint says
        assert [t.task_id for t in client.list().tasks] == [tasks[0].task_id]


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_creation_whose_connection_drops_is_not_repeated(
    emulator: EmulatorServer, client: Client, when: str
) -> None:
    emulator.faults.add("reset", route="create", when=when)
    with pytest.raises(TransportError) as caught:
        client.submit(EDIT)
    assert caught.value.maybe_submitted is True
    assert emulator.journal.count(route="create") == 1
    assert len(emulator.engine.all_tasks()) == (1 if when == "after" else 0)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_creation_answered_with_broken_json_may_have_made_its_task(
    emulator: EmulatorServer, client: Client, when: str
) -> None:
    emulator.faults.add("malformed", route="create", when=when)
    with pytest.raises(ServiceError) as caught:
        client.submit(EDIT)
    assert (caught.value.code, caught.value.maybe_submitted) == ("MalformedResponse", True)
    assert len(emulator.engine.all_tasks()) == (1 if when == "after" else 0)


@pytest.mark.parametrize("retry_after", [1.0, None], ids=["retry-after", "backoff"])
def test_a_throttled_creation_is_repeated_and_makes_one_task(
    emulator: EmulatorServer, client: Client, retry_after: float | None
) -> None:
    emulator.faults.add("rate_limit", route="create", retry_after=retry_after, times=2)
    task = client.submit(EDIT)
    creates = emulator.journal.entries(route="create")
    assert [e.status for e in creates] == [429, 429, 200]
    assert [e.reached_app for e in creates] == [False, False, True]
    assert [t.task_id for t in emulator.engine.all_tasks()] == [task.task_id]


def test_a_creation_throttled_past_the_attempts_is_a_rate_limit_error(
    emulator: EmulatorServer,
) -> None:
    emulator.faults.add("rate_limit", route="create", retry_after=0)
    retry = RetryPolicy(max_attempts=3, base_delay=0.01)
    with emulator.client("vtrix", retry=retry) as vtrix, pytest.raises(RateLimitError) as caught:
        vtrix.submit(EDIT)
    assert (caught.value.code, caught.value.retry_after) == ("rate_limit_exceeded", 0.0)
    assert caught.value.maybe_submitted is False
    assert emulator.engine.all_tasks() == []


# -- polls: retried, and the task id is never lost -----------------------------------------------
@pytest.mark.parametrize(
    "spec",
    [
        "status:status=500,times=2",
        "status:status=503,retry_after=0,times=2",
        "status:rate_limit=0,times=2",
        "status:rate_limit,times=2",
        "status:reset,times=2",
        "status:reset,when=after,times=2",
        "status:latency=0.05,times=2",
    ],
)
def test_a_wait_rides_out_faulted_polls(
    emulator: EmulatorServer, client: Client, spec: str
) -> None:
    emulator.engine.set_default_progression("polls=3")  # three answered polls at least
    task = client.submit(EDIT)
    emulator.faults.add_spec(spec)
    done = client.wait(task)
    assert done.status is TaskStatus.SUCCEEDED
    [rule] = emulator.faults.rules()
    assert rule.applied == 2
    assert emulator.journal.count(route="status") >= 3


def test_an_unreadable_poll_is_asked_again_and_the_wait_succeeds(
    emulator: EmulatorServer, client: Client
) -> None:
    task = client.submit(EDIT)
    emulator.faults.add("malformed", route="status", times=1)
    assert client.wait(task).status is TaskStatus.SUCCEEDED
    assert emulator.journal.count(route="status") >= 2


def test_polls_unreadable_past_the_attempts_give_a_typed_error_with_the_task_id(
    emulator: EmulatorServer, client: Client
) -> None:
    task = client.submit(EDIT)
    emulator.faults.add("malformed", route="status")
    with pytest.raises(ServiceError) as caught:
        client.wait(task)
    assert (caught.value.code, caught.value.task_id) == ("MalformedResponse", task.task_id)
    emulator.faults.clear()
    assert client.wait(caught.value.task_id).status is TaskStatus.SUCCEEDED


def test_polls_failing_past_the_attempts_give_the_task_id(
    emulator: EmulatorServer, client: Client
) -> None:
    task = client.submit(EDIT)
    emulator.faults.add("status", route="status", status=502)
    with pytest.raises(ServiceError) as caught:
        client.wait(task)
    assert (caught.value.status_code, caught.value.task_id) == (502, task.task_id)
    assert caught.value.maybe_submitted is False


# -- task failures -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("DataInspectionFailed", "Input data may contain inappropriate content."),
        (
            "InvalidParameter",
            "Failed to download input.media[0].url: the emulator was told to fail this download.",
        ),
    ],
)
def test_a_task_failed_by_a_fault_raises_task_failed_with_its_code(
    emulator: EmulatorServer, client: Client, code: str, message: str
) -> None:
    emulator.faults.add("task_failure", code=code)
    task = client.submit(EDIT)
    with pytest.raises(TaskFailedError) as caught:
        client.wait(task)
    assert (caught.value.code, caught.value.task_id) == (code, task.task_id)
    assert caught.value.task is not None
    assert caught.value.task.error_message == message


# -- downloads: whole or nothing -------------------------------------------------------------------
def test_a_download_cut_short_is_retried_and_the_file_is_whole(
    emulator: EmulatorServer, client: Client, tmp_path: Path
) -> None:
    task = client.wait(client.submit(EDIT))
    emulator.faults.add("reset", provider="oss", route="download", when="after", times=2)
    saved = client.save(task, tmp_path / "out.mp4")
    assert task.result is not None
    view = emulator.engine.get(task.task_id, poll=False)
    assert view.result is not None
    assert saved.read_bytes() == view.result.path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.mark.parametrize(("status", "code"), [(503, "Unavailable"), (403, "ResultUnavailable")])
def test_a_download_that_keeps_failing_leaves_no_file_at_all(
    emulator: EmulatorServer, client: Client, tmp_path: Path, status: int, code: str
) -> None:
    task = client.wait(client.submit(EDIT))
    emulator.faults.add("status", provider="oss", route="download", status=status)
    with pytest.raises(DownloadError) as caught:
        client.save(task, tmp_path / "out.mp4")
    assert (caught.value.code, caught.value.task_id) == (code, task.task_id)
    assert list(tmp_path.iterdir()) == []
