"""The task engine on its own (no HTTP): the render pool, resets, and direct control.

A fake renderer stands in for ffmpeg where the test is about scheduling, not pixels.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.engine.errors import ApiError, Reason
from videoedit_emulator.render import RenderJob, RenderResult

INPUT = {"media": [{"type": "video", "url": "https://example.invalid/clip.mp4"}]}
PARAMS = {"resolution": "720P", "duration": 2}


class GatedRenderer:
    """Writes a tiny file once the gate opens; records how many renders overlap."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.jobs: list[RenderJob] = []

    def __call__(self, job: RenderJob, out: Path) -> RenderResult:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.jobs.append(job)
        try:
            self.gate.wait(30)
            out.write_bytes(b"mp4")
            return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, 3, False)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def renderer() -> GatedRenderer:
    return GatedRenderer()


def make_engine(renderer: GatedRenderer, **config: Any) -> TaskEngine:
    return TaskEngine(EmulatorConfig(**config), renderer=renderer)


def wait_until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.mark.anyio
@pytest.mark.parametrize("workers", [1, 2])
async def test_renders_run_in_a_pool_no_wider_than_configured(
    renderer: GatedRenderer, workers: int
) -> None:
    engine = make_engine(renderer, render_workers=workers)
    try:
        for _ in range(3):
            await engine.submit(
                realm="dashscope-beijing", model="wan2.7-videoedit", input=INPUT, parameters=PARAMS
            )
        wait_until(lambda: renderer.running == workers)
        time.sleep(
            0.2
        )  # room for a render the pool should not have started (cannot fail a slow run)
        assert renderer.most == workers
        renderer.gate.set()
        assert engine.drain(timeout=30)
        assert len(renderer.jobs) == 3
        assert renderer.most == workers
    finally:
        renderer.gate.set()
        engine.close()


def test_the_pool_defaults_to_one_worker_per_core() -> None:
    import os

    assert EmulatorConfig().workers == (os.cpu_count() or 1)


@pytest.mark.anyio
async def test_a_render_finishing_after_reset_leaves_nothing_behind(
    renderer: GatedRenderer,
) -> None:
    engine = make_engine(renderer)
    try:
        view = await engine.submit(
            realm="dashscope-beijing", model="wan2.7-videoedit", input=INPUT, parameters=PARAMS
        )
        engine.reset()
        renderer.gate.set()
        assert engine.drain(timeout=30)
        assert not (engine.store.root / "results" / f"{view.task_id}.mp4").exists()
        assert engine.get(view.task_id).status is TaskStatus.UNKNOWN
    finally:
        renderer.gate.set()
        engine.close()


@pytest.mark.anyio
async def test_a_canceled_tasks_render_is_dropped(renderer: GatedRenderer) -> None:
    engine = make_engine(renderer, progression=EmulatorConfig().progression.after_polls(3))
    try:
        view = await engine.submit(
            realm="dashscope-beijing", model="wan2.7-videoedit", input=INPUT, parameters=PARAMS
        )
        assert engine.cancel(view.task_id).status is TaskStatus.CANCELED
        renderer.gate.set()
        assert engine.drain(timeout=30)
        assert engine.get(view.task_id).status is TaskStatus.CANCELED
        assert not (engine.store.root / "results" / f"{view.task_id}.mp4").exists()
    finally:
        renderer.gate.set()
        engine.close()


@pytest.mark.anyio
async def test_the_wan27_plan_reaches_the_renderer(renderer: GatedRenderer) -> None:
    engine = make_engine(renderer)
    renderer.gate.set()
    try:
        await engine.submit(
            realm="dashscope-singapore",
            model="wan2.7-videoedit",
            input={**INPUT, "prompt": "clay"},
            parameters={"resolution": "1080P", "ratio": "4:3", "duration": 3, "watermark": True},
        )
        assert engine.drain(timeout=30)
        (job,) = renderer.jobs
        assert (job.width, job.height, job.duration, job.source, job.audio, job.watermark, job.prompt) == (
            1648, 1248, 3.0, None, "tone", True, "clay",
        )  # fmt: skip
        assert job.source_note is not None
    finally:
        engine.close()


@pytest.mark.anyio
async def test_controls_refuse_unknown_and_ended_tasks(renderer: GatedRenderer) -> None:
    engine = make_engine(renderer)
    renderer.gate.set()
    try:
        with pytest.raises(ApiError) as unknown:
            engine.set_progression("nope", "immediate")
        assert (unknown.value.status, unknown.value.field) == (404, "task_id")
        view = await engine.submit(
            realm="dashscope-beijing", model="wan2.7-videoedit", input=INPUT, parameters=PARAMS
        )
        engine.drain(timeout=30)
        assert engine.get(view.task_id).status is TaskStatus.SUCCEEDED
        with pytest.raises(ApiError) as ended:
            engine.fail(view.task_id, "InternalError", "late")
        assert (ended.value.reason, ended.value.field) == (Reason.TASK_ENDED, "task_id")
    finally:
        engine.close()
