"""The engine decides no transition of its own: take a move out of the lifecycle's table and
the engine can no longer make it (``engine/lifecycle.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine, lifecycle
from videoedit_emulator.engine.config import EmulatorConfig, Progression
from videoedit_emulator.engine.errors import ApiError, Reason
from videoedit_emulator.engine.lifecycle import Event, IllegalTransition
from videoedit_emulator.render import RenderJob, RenderResult

INPUT = {"media": [{"type": "video", "url": "https://example.invalid/clip.mp4"}]}
PARAMS = {"resolution": "720P", "duration": 2}


def tiny_render(job: RenderJob, out: Path) -> RenderResult:
    out.write_bytes(b"mp4")
    return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, 3, False)


@pytest.fixture
def engine() -> Iterator[TaskEngine]:
    config = EmulatorConfig(progression=Progression.after_polls(3))
    engine = TaskEngine(config, renderer=tiny_render)
    yield engine
    engine.close()


def without(state: TaskStatus, event: Event) -> dict[tuple[TaskStatus, Event], TaskStatus]:
    return {move: to for move, to in lifecycle.TRANSITIONS.items() if move != (state, event)}


async def submit(engine: TaskEngine) -> str:
    view = await engine.submit(
        realm="dashscope-beijing", model="wan2.7-videoedit", input=INPUT, parameters=PARAMS
    )
    assert engine.drain(30)
    return view.task_id


@pytest.mark.anyio
async def test_with_the_table_as_declared_polls_3_reads_pending_running_succeeded(
    engine: TaskEngine,
) -> None:
    task_id = await submit(engine)
    statuses = [engine.get(task_id).status for _ in range(3)]
    assert statuses == [TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED]


@pytest.mark.anyio
async def test_without_pending_to_running_a_poll_that_would_make_it_raises(
    engine: TaskEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "TRANSITIONS", without(TaskStatus.PENDING, Event.RUNS))
    task_id = await submit(engine)
    assert engine.get(task_id).status is TaskStatus.PENDING  # the first query: still waiting
    with pytest.raises(IllegalTransition) as caught:
        engine.get(task_id)
    assert (caught.value.state, caught.value.event) == (TaskStatus.PENDING, Event.RUNS)


@pytest.mark.anyio
async def test_without_cancel_a_pending_task_cannot_be_canceled(
    engine: TaskEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "TRANSITIONS", without(TaskStatus.PENDING, Event.CANCEL))
    task_id = await submit(engine)
    with pytest.raises(ApiError) as refused:
        engine.cancel(task_id)
    assert refused.value.reason is Reason.NOT_CANCELABLE
    assert refused.value.detail == f"task {task_id} is PENDING"
    assert engine.get(task_id, poll=False).status is TaskStatus.PENDING
