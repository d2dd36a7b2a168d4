"""The render pool: each task's MP4 rendered from submission on, off the event loop.

Threads bounded by the configured workers (one per core by default), so the event loop never
waits on ffmpeg. A render writes under a name of its own and is moved into place only while
its task is current: after a reset the same seeded id comes back, and the render of the
forgotten task must neither overwrite nor delete the new task's file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from videoedit_emulator.engine.models.base import RenderPlan
from videoedit_emulator.engine.record import TaskRecord
from videoedit_emulator.engine.store import Store

if TYPE_CHECKING:
    from videoedit_emulator.render import RenderJob, RenderResult

__all__ = ["RenderPool", "Renderer"]

#: Renders a job to a path; the default is `videoedit_emulator.render.render`.
Renderer = Callable[["RenderJob", Path], "RenderResult"]


class RenderPool:
    """Renders of one engine. ``lock`` is the engine's; ``is_current`` says (under it) whether
    a task is still the engine's own, ``now`` reads the engine's clock."""

    def __init__(
        self,
        workers: int,
        *,
        store: Store,
        lock: threading.RLock,
        renderer: Renderer,
        is_current: Callable[[TaskRecord], bool],
        now: Callable[[], float],
    ) -> None:
        self.workers = workers
        self._store = store
        self._lock = lock
        self._renderer = renderer
        self._is_current = is_current
        self._now = now
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emulator-render")
        #: Every render queued or running, including those of tasks a reset forgot.
        self._inflight: set[Future[None]] = set()

    def start(self, task: TaskRecord, plan: RenderPlan) -> None:
        """Queue the render of ``task`` (under the engine's lock)."""
        future = self._pool.submit(self._render, task, plan)
        task.future = future
        self._inflight.add(future)
        future.add_done_callback(self._done)

    def threads(self) -> int:
        """Encoder threads for a render starting now: the cores (at most 4) divided among
        the renders the pool holds (queued or running, this one included, up to its width).

        On its own a render finishes sooner with every core; once the pool runs one render
        per core, one thread each gives the most renders per second, as the extra threads
        of each would only compete for the same cores (``docs/performance.md``).
        """
        from videoedit_emulator.render import default_threads

        with self._lock:
            running = max(1, min(len(self._inflight), self.workers))
        return max(1, default_threads() // running)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no render is queued or running; ``False`` if ``timeout`` ran out."""
        with self._lock:
            futures = list(self._inflight)
        _, pending = wait(futures, timeout=timeout)
        return not pending

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def _render(self, task: TaskRecord, plan: RenderPlan) -> None:
        out = self._store.result_path(f"{task.task_id}.mp4")
        part = self._store.result_path(f"{task.task_id}.{task.generation}.part.mp4")
        try:
            result = self._renderer(plan.job, part)
            error = None
        except Exception as exc:  # the task must fail, whatever broke
            result, error = None, self._no_paths(f"{type(exc).__name__}: {exc}".strip())
        with self._lock:
            stale = not self._is_current(task)
            if not stale:
                if result is not None:
                    try:
                        os.replace(part, out)
                        result = dataclasses.replace(result, path=out)
                    except OSError as exc:
                        result, error = None, f"{type(exc).__name__}: {exc}"
                task.rendered, task.render_error = result, error
                task.rendered_at = self._now()
        if stale or result is None:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)

    def _no_paths(self, text: str) -> str:
        """``text`` (a render error, ffmpeg's last lines) with every path of the storage
        directory taken out: a task's message goes to its caller, the layout of this
        machine does not."""
        root = re.escape(str(self._store.root))
        return re.sub(root + r"[^\s'\"]*", "<emulator storage>", text)
