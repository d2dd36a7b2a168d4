"""The client lifecycle, once for Client and once for AsyncClient: submit, wait, save & co."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from videoedit import (
    DEFAULT_WAIT_TIMEOUT,
    PollSchedule,
    TaskCanceledError,
    TaskEvent,
    TaskFailedError,
    TaskNotFoundError,
    TaskStatus,
    UnsupportedOperationError,
    VideoEdit,
    WaitTimeoutError,
    hookimpl,
)
from videoedit.plugins import PluginHost

pytestmark = pytest.mark.anyio

EDIT = VideoEdit(video="https://cdn.example.com/in.mp4", prompt="claymation", resolution="720P")


async def test_submit_returns_the_pending_task_with_its_id(client, service) -> None:
    task = await client.submit(EDIT)
    assert (task.task_id, task.status, task.provider) == (
        service.task_id,
        TaskStatus.PENDING,
        "dashscope-singapore",
    )
    assert task.request_id == "req-pending"
    [create] = service.calls("create")
    assert service.json(create)["input"]["prompt"] == "claymation"


async def test_submit_wait_save_reports_every_step_in_order(
    client, service, observer, callback, tmp_path: Path
) -> None:
    service.script("status", service.task("PENDING"), service.task("RUNNING"))
    service.script("status", service.task("RUNNING"), service.task("SUCCEEDED"))

    task = await client.submit(EDIT, on_event=callback)
    done = await client.wait(task, on_event=callback)
    saved = await client.save(done, tmp_path / "out.mp4", on_event=callback)

    expected = ["submitted"]
    expected += ["polled", "status_changed"]  # PENDING
    expected += ["polled", "status_changed", "polled"]  # RUNNING, RUNNING
    expected += ["polled", "status_changed", "finished", "saved"]  # SUCCEEDED
    assert observer.kinds == expected
    assert callback.kinds == expected
    assert [str(e.task.status) for e in observer.of("status_changed")] == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert observer.of("saved")[0].detail == str(tmp_path / "out.mp4")
    assert saved == tmp_path / "out.mp4"
    assert saved.read_bytes() == service.video
    assert len(service.calls("status")) == 4


async def test_wait_returns_the_result_with_its_usage_and_expiry(client, service) -> None:
    task = await client.wait(service.task_id)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result is not None
    assert task.video_url == service.result_url
    assert task.result.expires_at is not None
    assert task.result.expires_at > datetime.now(timezone.utc)
    assert (task.result.usage.total_seconds, task.result.usage.short_side) == (10.04, 720)


async def test_wait_polls_on_the_configured_schedule(client, service, clock) -> None:
    service.script("status", *[service.task("RUNNING") for _ in range(4)])
    await client.wait(service.task_id, poll=PollSchedule(first=2, factor=2, maximum=5, jitter=0))
    assert clock.sleeps == [2, 4, 5, 5]


async def test_the_default_schedule_suits_the_real_service(client, service, clock) -> None:
    """About 15 s between polls once a task has run a while (the docs suggest 15 s)."""
    service.script("status", *[service.task("RUNNING") for _ in range(12)])
    await client.wait(service.task_id)
    assert 1.8 <= clock.sleeps[0] <= 2.2
    assert all(13.5 <= gap <= 16.5 for gap in clock.sleeps[-4:])


async def test_a_loopback_base_url_polls_fast(make_client) -> None:
    client = make_client(base_url="http://127.0.0.1:8765/api/v1")
    assert client.inner._ops.poll == PollSchedule.fast()


async def test_wait_gives_up_at_its_timeout_and_hands_back_the_task(client, service, clock) -> None:
    service.script("status", *[service.task("RUNNING") for _ in range(100)])
    with pytest.raises(WaitTimeoutError) as caught:
        await client.wait(service.task_id, timeout=60)
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.task is not None
    assert error.task.status is TaskStatus.RUNNING
    assert (error.task_id, error.code) == (service.task_id, "WaitTimeout")
    assert "wait again with its id to resume" in str(error)
    assert sum(clock.sleeps) == pytest.approx(60)  # the last gap is cut to the deadline
    assert service.calls("cancel") == []  # the task goes on


async def test_the_clients_wait_timeout_is_the_default(make_client, service, clock) -> None:
    client = make_client(wait_timeout=30)
    service.script("status", *[service.task("PENDING") for _ in range(100)])
    with pytest.raises(WaitTimeoutError):
        await client.wait(service.task_id)
    assert sum(clock.sleeps) == pytest.approx(30)
    assert DEFAULT_WAIT_TIMEOUT == 30 * 60


async def test_a_failed_task_raises_with_the_providers_code(client, service) -> None:
    service.script(
        "status",
        service.task(
            "FAILED",
            code="InvalidParameter",
            message="Failed to download the video: 403 Forbidden",
            end_time="2026-04-03 00:09:00.000",
        ),
    )
    with pytest.raises(TaskFailedError) as caught:
        await client.wait(service.task_id)
    error = caught.value
    assert type(error) is TaskFailedError
    assert (error.code, error.task_id, error.provider) == (
        "InvalidParameter",
        service.task_id,
        "dashscope-singapore",
    )
    assert "Failed to download the video: 403 Forbidden" in str(error)
    assert error.task is not None
    assert error.task.error_message == "Failed to download the video: 403 Forbidden"


async def test_a_canceled_task_raises_task_canceled(client, service) -> None:
    service.script("status", service.task("CANCELED"))
    with pytest.raises(TaskCanceledError) as caught:
        await client.wait(service.task_id)
    assert caught.value.task is not None
    assert caught.value.task.status is TaskStatus.CANCELED


async def test_an_unknown_task_raises_task_not_found(client, service) -> None:
    service.script("status", service.task("UNKNOWN", task_id="no-such-task"))
    with pytest.raises(TaskNotFoundError) as caught:
        await client.wait("no-such-task")
    assert caught.value.task_id == "no-such-task"
    assert "wrong or expired" in str(caught.value)


async def test_raise_on_failure_false_returns_the_failed_task(client, service) -> None:
    service.script("status", service.task("FAILED", code="DataInspectionFailed", message="x"))
    task = await client.wait(service.task_id, raise_on_failure=False)
    assert (task.status, task.error_code) == (TaskStatus.FAILED, "DataInspectionFailed")


async def test_a_suspended_task_is_still_waited_for(client, service) -> None:
    service.script("status", service.task("SUSPENDED"), service.task("SUCCEEDED"))
    assert (await client.wait(service.task_id)).status is TaskStatus.SUCCEEDED


async def test_status_polls_once(client, service) -> None:
    service.script("status", service.task("RUNNING"))
    task = await client.status(service.task_id)
    assert task.status is TaskStatus.RUNNING
    [poll] = service.requests
    assert (poll.method, str(poll.url)) == ("GET", f"{service.base_url}/tasks/{service.task_id}")


async def test_cancel_posts_to_the_task_and_returns_its_new_state(client, service) -> None:
    service.script("status", service.task("CANCELED"))
    task = await client.cancel(service.task_id)
    assert task.status is TaskStatus.CANCELED
    cancel, poll = service.requests
    assert (cancel.method, str(cancel.url)) == (
        "POST",
        f"{service.base_url}/tasks/{service.task_id}/cancel",
    )
    assert cancel.content == b""
    assert poll.method == "GET"


async def test_cancel_of_a_running_task_is_refused(client, service) -> None:
    service.script(
        "cancel",
        service.error(
            400,
            "UnsupportedOperation",
            "Failed to cancel the task, please confirm if the task is in PENDING status.",
        ),
    )
    with pytest.raises(UnsupportedOperationError) as caught:
        await client.cancel(service.task_id)
    assert (caught.value.code, caught.value.task_id) == ("UnsupportedOperation", service.task_id)


async def test_list_returns_a_page_of_tasks(client, service) -> None:
    page = await client.list(page=1, page_size=10, status="SUCCEEDED")
    assert (page.page, page.page_size, page.total) == (1, 10, 1)
    [task] = page.tasks
    assert (task.task_id, task.status) == (service.task_id, TaskStatus.SUCCEEDED)
    [listing] = service.requests
    assert dict(listing.url.params) == {"page_no": "1", "page_size": "10", "status": "SUCCEEDED"}


async def test_list_rejects_a_page_size_out_of_range(client) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await client.list(page_size=101)


async def test_edit_submits_waits_and_saves_in_one_call(client, service, tmp_path: Path) -> None:
    service.script("status", service.task("RUNNING"))
    task = await client.edit(EDIT, tmp_path / "clips" / "out.mp4")
    assert task.status is TaskStatus.SUCCEEDED
    assert (tmp_path / "clips" / "out.mp4").read_bytes() == service.video
    assert [service.route(r) for r in service.requests] == [
        "create",
        "status",
        "status",
        "download",
    ]


async def test_edit_without_a_path_saves_nothing(client, service) -> None:
    task = await client.edit(EDIT)
    assert task.status is TaskStatus.SUCCEEDED
    assert service.calls("download") == []


async def test_an_observer_that_raises_does_not_break_wait(
    make_client, service, plugins: PluginHost, caplog: pytest.LogCaptureFixture
) -> None:
    plugins.register(_Exploding(), name="exploding")
    client = make_client()

    def bad_callback(event: object) -> None:
        raise RuntimeError("callback bug")

    service.script("status", service.task("RUNNING"))
    task = await client.submit(EDIT, on_event=bad_callback)
    done = await client.wait(task, on_event=bad_callback)
    assert done.status is TaskStatus.SUCCEEDED
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("'exploding' failed on submitted" in r.getMessage() for r in failures)
    assert any("callback" in r.getMessage() and "finished" in r.getMessage() for r in failures)


async def test_a_task_id_must_not_be_empty(client) -> None:
    with pytest.raises(ValueError, match="task: must be a Task or a non-empty task id"):
        await client.wait("  ")


async def test_only_requests_can_be_submitted(client) -> None:
    with pytest.raises(ValueError, match="request must be an EditRequest"):
        await client.submit({"video": "https://cdn.example.com/in.mp4"})


class _Exploding:
    @hookimpl
    def on_task_event(self, event: TaskEvent) -> None:
        raise RuntimeError("observer bug")


async def test_a_retry_that_would_overrun_the_timeout_ends_the_wait(client, service, clock) -> None:
    """The overall timeout holds even when the service asks for a long pause mid-wait."""
    service.script("status", service.task("RUNNING"))
    service.script(
        "status",
        service.error(429, "Throttling", "slow down", headers={"Retry-After": "100"}),
    )
    with pytest.raises(WaitTimeoutError) as caught:
        await client.wait(service.task_id, timeout=30)
    assert sum(clock.sleeps) <= 30
    assert caught.value.task is not None
    assert caught.value.task.status is TaskStatus.RUNNING
    assert "Throttling" in str(caught.value.__cause__)
