"""The engine's cheap paths: encoder threads chosen by load, answers built once.

- a render starting alone gets every core for its encoder, renders sharing a full pool one
  thread each (throughput), and the default renderer passes that choice to ffmpeg;
- an ended task never changes, so its snapshot is built once and every later poll gets it;
- a result link is signed once per (key, base URL, expiry).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from videoedit.task import TaskStatus
from videoedit_emulator import render as render_module
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.render import RenderJob, RenderResult

INPUT = {"media": [{"type": "video", "url": "https://example.invalid/clip.mp4"}]}
PARAMS = {"resolution": "720P", "duration": 2}


class GatedRenderer:
    """Holds every render until the gate opens, then writes a tiny file."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, job: RenderJob, out: Path) -> RenderResult:
        self.started.release()
        self.gate.wait(30)
        out.write_bytes(b"mp4")
        return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, 3, False)


async def submit(engine: TaskEngine, **kwargs: Any) -> str:
    view = await engine.submit(
        realm="dashscope-beijing",
        model="wan2.7-videoedit",
        input=INPUT,
        parameters=PARAMS,
        **kwargs,
    )
    return view.task_id


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.mark.anyio
async def test_a_lone_render_gets_every_core_and_a_full_pool_one_thread_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render_module, "default_threads", lambda: 4)
    renderer = GatedRenderer()
    engine = TaskEngine(EmulatorConfig(render_workers=2), renderer=renderer)
    try:
        assert engine.render_threads() == 4  # idle
        await submit(engine)
        assert renderer.started.acquire(timeout=30)
        assert engine.render_threads() == 4  # one render: the cores are all its own
        await submit(engine)
        await submit(engine)  # queued behind a full pool
        assert renderer.started.acquire(timeout=30)
        assert engine.render_threads() == 2  # two run at once, whatever waits behind them
        renderer.gate.set()
        assert engine.drain(30)
        assert engine.render_threads() == 4
    finally:
        renderer.gate.set()
        engine.close()


@pytest.mark.anyio
async def test_a_single_worker_pool_gives_its_render_every_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render_module, "default_threads", lambda: 2)
    renderer = GatedRenderer()
    engine = TaskEngine(EmulatorConfig(render_workers=1), renderer=renderer)
    try:
        for _ in range(3):
            await submit(engine)
        assert renderer.started.acquire(timeout=30)
        assert engine.render_threads() == 2  # only one ever runs: the queue does not count
    finally:
        renderer.gate.set()
        engine.close()


@pytest.mark.anyio
async def test_the_default_renderer_hands_ffmpeg_the_chosen_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int | None] = []

    def fake_render(job: RenderJob, out: Path, **kwargs: Any) -> RenderResult:
        seen.append(kwargs.get("threads"))
        out.write_bytes(b"mp4")
        return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, 3, False)

    monkeypatch.setattr(render_module, "render", fake_render)
    monkeypatch.setattr(render_module, "default_threads", lambda: 2)
    engine = TaskEngine(EmulatorConfig(render_workers=2))
    try:
        await submit(engine)
        assert engine.drain(30)
        assert seen == [2]
    finally:
        engine.close()


@pytest.mark.anyio
async def test_an_ended_task_is_answered_from_one_snapshot() -> None:
    renderer = GatedRenderer()
    renderer.gate.set()
    engine = TaskEngine(EmulatorConfig(), renderer=renderer)
    try:
        task_id = await submit(engine)
        wait_for(lambda: engine.get(task_id).status is TaskStatus.SUCCEEDED)

        first = engine.get(task_id)
        assert engine.get(task_id) is first
        assert engine.get(task_id, "dashscope-beijing") is first
        assert engine.get(task_id, "dashscope-singapore").status is TaskStatus.UNKNOWN
    finally:
        engine.close()


@pytest.mark.anyio
async def test_a_live_task_is_seen_afresh_on_every_poll() -> None:
    renderer = GatedRenderer()
    renderer.gate.set()
    engine = TaskEngine(EmulatorConfig(), renderer=renderer)
    try:
        task_id = await submit(engine, progression=engine.set_default_progression("polls=3"))
        views = [engine.get(task_id) for _ in range(3)]
        assert [v.polls for v in views] == [1, 2, 3]
        assert [v.status for v in views[:2]] == [TaskStatus.PENDING, TaskStatus.RUNNING]
    finally:
        engine.close()


@pytest.mark.anyio
async def test_a_reset_does_not_serve_the_snapshot_of_a_forgotten_task() -> None:
    """Ids come from the seed, so the first task after a reset has the old first id."""
    renderer = GatedRenderer()
    renderer.gate.set()
    engine = TaskEngine(EmulatorConfig(), renderer=renderer)
    try:
        old = await submit(engine)
        wait_for(lambda: engine.get(old).status is TaskStatus.SUCCEEDED)
        engine.reset()
        new = await submit(engine, progression=engine.set_default_progression("polls=5"))

        assert new == old
        assert engine.get(new).status is TaskStatus.PENDING
    finally:
        engine.close()


@pytest.mark.anyio
async def test_result_links_are_signed_once_and_equal_the_stores_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = GatedRenderer()
    renderer.gate.set()
    engine = TaskEngine(EmulatorConfig(), renderer=renderer)
    try:
        task_id = await submit(engine)
        wait_for(lambda: engine.get(task_id).status is TaskStatus.SUCCEEDED)
        view = engine.get(task_id)
        assert view.result is not None
        signed: list[str] = []
        sign = engine.store.result_url

        def counting(key: str, base: str, expires: int) -> str:
            signed.append(base)
            return sign(key, base, expires)

        monkeypatch.setattr(engine.store, "result_url", counting)
        one = engine.result_url(view, "http://127.0.0.1:1")
        again = engine.result_url(view, "http://127.0.0.1:1")
        other = engine.result_url(view, "http://localhost:1")

        assert (
            one == again == sign(view.result.key, "http://127.0.0.1:1", int(view.result.expires_at))
        )
        assert other is not None
        assert other.startswith("http://localhost:1/oss/")
        assert signed == ["http://127.0.0.1:1", "http://localhost:1"]
    finally:
        engine.close()
