"""The task engine: one state machine behind every wire format.

A task moves PENDING -> RUNNING -> SUCCEEDED | FAILED; it can be CANCELED only while
PENDING; an unknown or expired id reads UNKNOWN. How fast it moves is its
[`Progression`][videoedit_emulator.engine.config.Progression] (immediate, after N polls, after S seconds),
set for the engine and per task. Its MP4 is rendered from submission on, in a thread pool
bounded by the cores, so the event loop never waits on ffmpeg; a task reports SUCCEEDED only
once its file exists.

The engine speaks no wire format. It hands adapters `TaskView` snapshots (status as
a [`TaskStatus`][videoedit.task.TaskStatus], times as epoch seconds, a progress fraction in
[0, 1], usage figures) and raises `ApiError`; adapters
translate words, times and numbers into their provider's JSON.

A model handler may declare quotas (a ``limits`` attribute, see `Quotas`): creations
beyond its rate are refused with ``Throttling.RateQuota``, and tasks beyond its concurrency
wait PENDING, first come first served (wan2.1-vace-plus: 2 per second, 2 at once). A slot
frees the instant its task ends, on that task's own schedule, whoever polls what
(``slots.py``); every access to the engine brings the queue up to date, and since the answer
depends only on the tasks' own instants, reading (the control plane included) changes nothing.

Ids are drawn from a generator seeded with ``config.seed``, so the same sequence of calls
yields the same task ids, request ids and upload directories in every run.

Creations never wait on one another's downloads. A creation whose inputs are on a server of
this machine takes one of its realm's `DOWNLOAD_SLOTS`; one that downloads nothing
(an upload, a data URI, a link to a result, a URL elsewhere) takes none, so neither a slow
server nor another realm's downloads hold it up. ``fetch_timeout`` bounds the whole of a
creation's downloads, counted from its arrival (the wait for a slot included): past it the
task is made FAILED with ``Failed to download …``, as the service reports an input it could
not get, and the creation is answered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread

from videoedit.task import TaskStatus
from videoedit_emulator.engine.clock import Clock
from videoedit_emulator.engine.config import EmulatorConfig, Progression
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.models import ModelRegistry, default_registry
from videoedit_emulator.engine.models.base import JobPlan, RenderPlan, ResolvedMedia, check_type
from videoedit_emulator.engine.slots import Span, next_start
from videoedit_emulator.engine.sources import (
    DownloadFailed,
    SourceContext,
    check_oss_allowed,
    needs_fetch,
    resolve,
)
from videoedit_emulator.engine.state import Persistence
from videoedit_emulator.engine.store import Store
from videoedit_emulator.engine.text import NOT_TEXT, invalid_at
from videoedit_emulator.web.faults import FaultPlan
from videoedit_emulator.web.journal import Journal

if TYPE_CHECKING:
    from videoedit_emulator.render import RenderJob, RenderResult
    from videoedit_emulator.render.cache import RenderCache

__all__ = ["DOWNLOAD_SLOTS", "Renderer", "ResultView", "TaskEngine", "TaskView", "UsageFigures"]

#: Renders a job to a path; the default is `videoedit_emulator.render.render`.
Renderer = Callable[["RenderJob", Path], "RenderResult"]

_TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED})
#: Progress shown while a due task still waits for its MP4.
_ALMOST = 0.99
#: Signed result links remembered (each a few hundred bytes); the memo restarts when full.
_URL_MEMO = 4096
#: Creations of one realm that may download inputs from this machine at once.
DOWNLOAD_SLOTS = 4
#: Threads that downloads may use in all (each realm's are bounded by its slots).
_DOWNLOAD_THREADS = 64


@dataclass(frozen=True)
class UsageFigures:
    """What a SUCCEEDED task is billed on; adapters shape it per ``style``."""

    style: str
    input_seconds: float | None
    output_seconds: float
    video_count: int
    short_side: int

    @property
    def total_seconds(self) -> float:
        return round((self.input_seconds or 0.0) + self.output_seconds, 2)


@dataclass(frozen=True)
class ResultView:
    """The MP4 of a SUCCEEDED task: its store key (for a signed link) and what it holds."""

    key: str
    path: Path
    expires_at: float
    width: int
    height: int
    duration: float
    fps: int
    has_audio: bool
    size_bytes: int


@dataclass(frozen=True)
class TaskView:
    """A task as an adapter sees it at one instant (immutable)."""

    task_id: str
    request_id: str
    realm: str
    model: str
    status: TaskStatus
    progress: float | None
    submitted_at: float | None = None
    scheduled_at: float | None = None
    ended_at: float | None = None
    prompt: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    notes: tuple[str, ...] = ()
    result: ResultView | None = None
    usage: UsageFigures | None = None
    progression: str | None = None
    polls: int = 0
    output_extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def unknown(cls, task_id: str, realm: str, request_id: str) -> TaskView:
        return cls(task_id, request_id, realm, "", TaskStatus.UNKNOWN, None)


class Quotas(Protocol):
    """A model handler's optional ``limits`` attribute (e.g. wan2.1-vace-plus: 2 and 2).

    ``submissions_per_second``: task creations beyond it within one second (per realm and
    model family) are answered 429 ``Throttling.RateQuota`` with a ``Retry-After``.
    ``concurrent``: tasks beyond it wait PENDING, first come first served, until one ends;
    a task's progression starts the instant it leaves that queue. ``None`` lifts a limit.
    """

    @property
    def submissions_per_second(self) -> int | None: ...

    @property
    def concurrent(self) -> int | None: ...


@dataclass
class _Task:
    """The engine's own, mutable record of a task (guarded by the engine's lock)."""

    task_id: str
    request_id: str
    realm: str
    model: str
    plan: JobPlan
    render_plan: RenderPlan | None
    progression: Progression
    submitted_at: float
    base_time: float
    generation: int
    status: TaskStatus = TaskStatus.PENDING
    polls: int = 0
    scheduled_at: float | None = None
    ended_at: float | None = None
    progress: float = 0.0
    failure: tuple[str, str] | None = None
    notes: tuple[str, ...] = ()
    future: Future[None] | None = None
    rendered: RenderResult | None = None
    rendered_at: float | None = None
    render_error: str | None = None
    #: The quota group (realm, model family) and its concurrency limit, if the model has one.
    group: tuple[str, str] = ("", "")
    concurrent: int | None = None
    #: Set while the task waits for a slot under ``concurrent``.
    queued: bool = False
    #: When it took its slot (``None`` while queued): when its processing began.
    slot_at: float | None = None
    #: ``polls=N`` progression: when the N-th status query came (the task is due from then).
    polled_due_at: float | None = None
    #: The view of an ended task, built once: nothing about it changes any more, and polls
    #: of finished tasks are the commonest query there is.
    final: TaskView | None = None


class TaskEngine:
    """Tasks, uploads and results of one emulator (thread-safe; see the module docstring).

    With ``config.state_dir`` everything it holds is kept there as it changes and read back
    when an engine starts on the same directory (``state.py``).

    ``registry`` and ``renderer`` are injectable for tests and for new model families. The
    default renderer keeps a content-addressed cache shared by every emulator on the machine
    (``EmulatorConfig.render_cache_location``; it survives
    [`reset`][videoedit_emulator.engine.tasks.TaskEngine.reset] and the process), so an
    identical job is rendered once.
    """

    #: The record of a task (``state.py`` rebuilds tasks from their stored fields).
    task_type = _Task

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        registry: ModelRegistry | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.models = registry or default_registry()
        self.clock: Clock = self.config.clock
        state_dir = self.config.state_dir
        self.store = Store(
            self.config.storage_dir or (state_dir / "storage" if state_dir else None),
            lambda: self.clock.now(),
            upload_ttl=self.config.upload_ttl,
            max_upload_bytes=self.config.max_body_bytes,
        )
        self.renderer: Renderer = renderer or self._render_with_cache
        self._cache: RenderCache | None = None
        cache_dir = self.config.render_cache_location()
        if cache_dir is not None:
            from videoedit_emulator.render.cache import RenderCache

            self._cache = RenderCache(cache_dir, max_bytes=self.config.render_cache_bytes)
        self._lock = threading.RLock()
        self._tasks: dict[str, _Task] = {}
        self._submissions: dict[tuple[str, str], deque[float]] = {}
        #: Per quota group, the tasks waiting for a slot, oldest first.
        self._waiting: dict[tuple[str, str], deque[_Task]] = {}
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.workers, thread_name_prefix="emulator-render"
        )
        self._io_limiter = anyio.CapacityLimiter(max(4, self.config.workers * 2))
        self._download_threads = anyio.CapacityLimiter(_DOWNLOAD_THREADS)
        self._download_slots: dict[str, anyio.Semaphore] = {}
        self._generation = 0
        self._closed = False
        self._urls: dict[tuple[str, str, int], str] = {}
        #: Every render queued or running, including those of tasks a reset forgot.
        self._inflight: set[Future[None]] = set()
        self.seed = self.config.seed
        self.progression = self.config.progression
        self._reseed(self.seed)
        #: Fault rules and the request journal (applied and written by ``web/middleware.py``).
        self.faults = FaultPlan()
        self.journal = Journal()
        #: The state directory (``config.state_dir``) and the snapshots: ``state.py``.
        self.persistence = Persistence.attach(self, state_dir)

    # -- lifecycle ------------------------------------------------------------------------------
    def _reseed(self, seed: int) -> None:
        self.seed = seed
        self._ids = random.Random(f"task:{seed}")
        self._request_ids = random.Random(f"request:{seed}")
        self._tokens = random.Random(f"upload:{seed}")

    def reset(self, *, seed: int | None = None) -> None:
        """Forget every task, upload, result, fault rule and journal entry; re-seed ids;
        restore the configured progression and clock. Renders in flight finish into the void."""
        with self._lock:
            self._generation += 1
            for task in self._tasks.values():
                if task.future is not None:
                    task.future.cancel()
            self._tasks.clear()
            self._submissions.clear()
            self._waiting.clear()
            self.progression = self.config.progression
            self.clock = self.config.clock
            self._reseed(self.config.seed if seed is None else seed)
        self.faults.clear()
        self.journal.clear()
        self.store.reset()  # a new signing secret: links from before open nothing
        self._urls.clear()
        self.persistence.was_reset()

    def reseed(self, seed: int) -> None:
        """Restart the id sequences from ``seed`` (tasks already made keep their ids)."""
        with self._lock:
            self._reseed(seed)
            self.persistence.settings_changed()

    def use_clock(self, clock: Clock) -> Clock:
        """Swap the clock (e.g. for a `ManualClock`) until reset."""
        with self._lock:
            self.clock = clock
        return clock

    def set_default_progression(self, progression: Progression | str) -> Progression:
        """The progression of tasks created from now on (until reset)."""
        prog = Progression.parse(progression) if isinstance(progression, str) else progression
        with self._lock:
            self.progression = prog
            self.persistence.settings_changed()
        return prog

    def close(self) -> None:
        """Stop the render pool and delete the storage directory (if the engine made it)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._generation += 1
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.persistence.close()
        self.store.close()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no render is queued or running (those of forgotten tasks included);
        ``False`` if ``timeout`` ran out."""
        with self._lock:
            futures = list(self._inflight)
        from concurrent.futures import wait

        _, pending = wait(futures, timeout=timeout)
        return not pending

    # -- ids ----------------------------------------------------------------------------------
    def new_request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._request_ids.getrandbits(128), version=4))

    def _new_task_id(self) -> str:
        while True:
            candidate = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
            if candidate not in self._tasks:
                return candidate

    def upload_token(self) -> str:
        """A fresh, seeded token for an upload directory."""
        with self._lock:
            return uuid.UUID(int=self._tokens.getrandbits(128), version=4).hex

    # -- submission -----------------------------------------------------------------------------
    async def submit(
        self,
        *,
        realm: str,
        model: Any,
        input: Any,
        parameters: Any,
        region: str | None = None,
        request_id: str | None = None,
        progression: Progression | None = None,
        fail: tuple[str, str] | None = None,
        allow_oss: bool = True,
        own_netlocs: frozenset[str] = frozenset(),
    ) -> TaskView:
        """Validate a request, resolve its media (off the event loop), create the task and
        start its render. Raises ApiError for a request the service would answer with 4xx.

        ``fail`` makes the task end FAILED with that (code, message) when it is due.
        """
        arrived = time.monotonic()
        for name, value in (("model", model), ("input", input), ("parameters", parameters)):
            where = invalid_at(value, name)
            if where is not None:  # stored, it would break every answer that shows it
                raise ApiError.invalid(where, NOT_TEXT)
        if model is None or (isinstance(model, str) and not model.strip()):
            raise ApiError(
                ErrorKind.INVALID_PARAMETER,
                'Required parameter "model" missing from request.',
                field="model",
                code="BadRequest.EmptyModel",
            )
        model = check_type("model", model, str)
        handler = self.models.lookup(model, region)
        if input is None:
            raise ApiError(
                ErrorKind.INVALID_PARAMETER,
                'Required parameter "input" missing from request.',
                field="input",
                code="BadRequest.EmptyInput",
            )
        if not isinstance(input, dict):
            raise ApiError.invalid("input", "must be an object")
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise ApiError.invalid("parameters", "must be an object")
        plan = handler.validate(model, input, parameters, region)
        limits: Quotas | None = getattr(handler, "limits", None)
        group = (realm, type(handler).__name__)
        if limits is not None and limits.submissions_per_second is not None:
            with self._lock:
                self._count_submission(group, limits.submissions_per_second)
        if not allow_oss:
            check_oss_allowed(plan.media, None)
        context = SourceContext(
            store=self.store,
            model=model,
            own_netlocs=own_netlocs,
            max_bytes=self.config.max_fetch_bytes,
            timeout=self.config.fetch_timeout,
            deadline=arrived + self.config.fetch_timeout,
        )
        downloads = [item for item in plan.media if needs_fetch(item, context)]
        if downloads:
            resolved, download_failure = await self._resolve_downloading(
                realm, plan, context, downloads[0].field, downloads[0].url
            )
        else:
            resolved, download_failure = await anyio.to_thread.run_sync(
                self._resolve_all, plan, context, limiter=self._io_limiter
            )
        render_plan = None
        if download_failure is None:
            render_plan = handler.prepare(plan, resolved)
        notes = render_plan.notes if render_plan else ()
        with self._lock:
            if self._closed:
                raise ApiError(
                    ErrorKind.INTERNAL, "the emulator is shutting down", code="InternalError"
                )
            now = self.clock.now()
            task = _Task(
                task_id=self._new_task_id(),
                request_id=request_id or self.new_request_id(),
                realm=realm,
                model=model,
                plan=plan,
                render_plan=render_plan,
                progression=progression or self.progression,
                submitted_at=now,
                base_time=now,
                generation=self._generation,
                failure=fail
                or (("InvalidParameter", str(download_failure)) if download_failure else None),
                notes=notes,
                group=group,
                concurrent=None if limits is None else limits.concurrent,
            )
            self._tasks[task.task_id] = task
            if task.concurrent is None:
                task.slot_at = now
            else:  # it joins the queue, and leaves it at once if a slot is free
                task.queued = True
                self._waiting.setdefault(group, deque()).append(task)
                self._schedule(group, now)
            if render_plan is not None and fail is None:
                self._start_render(task, render_plan)
            return self._view(task)

    def _start_render(self, task: _Task, plan: RenderPlan) -> None:
        future = self._pool.submit(self._render, task, plan)
        task.future = future
        self._inflight.add(future)
        future.add_done_callback(self._render_done)

    def _adopt(self, tasks: list[_Task]) -> None:
        """Take over the tasks of an earlier run (``state.py``): queue those that waited for
        a slot, and render again those whose MP4 was not written yet."""
        with self._lock:
            for task in sorted(tasks, key=lambda t: t.submitted_at):
                task.generation = self._generation
                self._tasks[task.task_id] = task
                if task.queued:
                    self._waiting.setdefault(task.group, deque()).append(task)
                plan = task.render_plan
                unrendered = task.rendered is None and task.render_error is None
                if task.status not in _TERMINAL and task.failure is None and unrendered and plan:
                    self._start_render(task, plan)

    def _count_submission(self, group: tuple[str, str], per_second: int) -> None:
        """Record a creation, or refuse it when ``per_second`` were made in the last second."""
        now = self.clock.now()
        window = self._submissions.setdefault(group, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= per_second:
            raise ApiError(
                ErrorKind.THROTTLED,
                "Requests rate limit exceeded, please try again later.",
                code="Throttling.RateQuota",
                retry_after=max(0.0, window[0] + 1.0 - now),
            )
        window.append(now)

    def _schedule(self, group: tuple[str, str], now: float) -> None:
        """Give the slots that freed up to ``now`` to the group's waiting tasks, in order, each
        at the instant its slot freed (see ``slots.py``): its progression counts from there."""
        waiting = self._waiting.get(group)
        if not waiting:
            return
        spans = [
            Span(t.slot_at, self._end_time(t))
            for t in self._tasks.values()
            if t.group == group and t.slot_at is not None
        ]
        not_before = max((s.start for s in spans), default=-math.inf)
        while waiting:
            task = waiting[0]
            assert task.concurrent is not None
            start = next_start(
                spans,
                arrival=task.submitted_at,
                limit=task.concurrent,
                now=now,
                not_before=not_before,
            )
            if start is None:
                return
            waiting.popleft()
            task.queued = False
            task.slot_at = task.base_time = not_before = start
            task.polls = 0
            spans.append(Span(start, self._end_time(task)))

    def _render_with_cache(self, job: RenderJob, out_path: Path) -> RenderResult:
        from videoedit_emulator.render import render

        return render(job, out_path, cache=self._cache, threads=self.render_threads())

    def render_threads(self) -> int:
        """Encoder threads for a render starting now: the cores (at most 4) divided among
        the renders the pool holds (queued or running, this one included, up to its width).

        On its own a render finishes sooner with every core; once the pool runs one render
        per core, one thread each gives the most renders per second, as the extra threads
        of each would only compete for the same cores (``docs/performance.md``).
        """
        from videoedit_emulator.render import default_threads

        with self._lock:
            running = max(1, min(len(self._inflight), self.config.workers))
        return max(1, default_threads() // running)

    async def _resolve_downloading(
        self, realm: str, plan: JobPlan, context: SourceContext, field: str, url: str
    ) -> tuple[dict[str, ResolvedMedia], DownloadFailed | None]:
        """Resolve a plan that downloads from this machine, in one of the realm's slots and
        by the context's deadline (a creation still waiting for a slot then gives up)."""
        assert context.deadline is not None
        with self._lock:
            slots = self._download_slots.setdefault(realm, anyio.Semaphore(DOWNLOAD_SLOTS))
        with anyio.move_on_after(max(0.0, context.deadline - time.monotonic())) as waiting:
            await slots.acquire()
        if waiting.cancelled_caught:
            reason = (
                f"the {DOWNLOAD_SLOTS} downloads this account may run at once held every slot "
                f"for {context.timeout:g} s (the emulator's fetch_timeout)"
            )
            return {}, DownloadFailed(field, url, reason)
        try:
            return await anyio.to_thread.run_sync(
                self._resolve_all, plan, context, limiter=self._download_threads
            )
        finally:
            slots.release()

    @staticmethod
    def _resolve_all(
        plan: JobPlan, context: SourceContext
    ) -> tuple[dict[str, ResolvedMedia], DownloadFailed | None]:
        resolved: dict[str, ResolvedMedia] = {}
        for item in plan.media:
            try:
                resolved[item.field] = resolve(item, context)
            except DownloadFailed as exc:
                return resolved, exc
        return resolved, None

    def _render_done(self, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def _render(self, task: _Task, plan: RenderPlan) -> None:
        out = self.store.result_path(f"{task.task_id}.mp4")
        # Rendered under a name of its own and moved into place only while the task is
        # current: after a reset the same seeded id comes back, and the render of the
        # forgotten task must neither overwrite nor delete the new task's file.
        part = self.store.result_path(f"{task.task_id}.{task.generation}.part.mp4")
        try:
            result = self.renderer(plan.job, part)
            error = None
        except Exception as exc:  # the task must fail, whatever broke
            result, error = None, self._no_paths(f"{type(exc).__name__}: {exc}".strip())
        with self._lock:
            stale = task.generation != self._generation or task.status is TaskStatus.CANCELED
            if not stale:
                if result is not None:
                    try:
                        os.replace(part, out)
                        result = dataclasses.replace(result, path=out)
                    except OSError as exc:
                        result, error = None, f"{type(exc).__name__}: {exc}"
                task.rendered, task.render_error = result, error
                task.rendered_at = self.clock.now()
        if stale or result is None:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)

    def _no_paths(self, text: str) -> str:
        """``text`` (a render error, ffmpeg's last lines) with every path of the storage
        directory taken out: a task's message goes to its caller, the layout of this
        machine does not."""
        return re.sub(re.escape(str(self.store.root)) + r"[^\s'\"]*", "<emulator storage>", text)

    # -- the state machine ------------------------------------------------------------------------
    def _phase(self, task: _Task, now: float) -> str:
        prog = task.progression
        if prog.mode == "immediate":
            return "due"
        if prog.mode == "polls":
            if task.polls >= prog.polls:
                return "due"
            if task.polls <= math.ceil((prog.polls - 1) / 2):
                return "pending"
            return "running"
        elapsed = now - task.base_time
        if elapsed >= prog.seconds:
            return "due"
        return "running" if elapsed >= prog.seconds / 2 else "pending"

    def _fraction(self, task: _Task, now: float) -> float:
        prog = task.progression
        if prog.mode == "polls":
            return min(1.0, task.polls / prog.polls)
        if prog.mode == "seconds":
            return min(1.0, max(0.0, (now - task.base_time) / prog.seconds))
        return 0.5

    def _due_time(self, task: _Task) -> float | None:
        """When the task's progression reaches its end (``None``: not yet known)."""
        prog = task.progression
        if prog.mode == "immediate":
            return task.base_time
        if prog.mode == "seconds":
            return task.base_time + prog.seconds
        return task.polled_due_at

    def _end_time(self, task: _Task) -> float | None:
        """When a task that holds a slot ends, as soon as that can be known: when it is due,
        or when its MP4 is written if that is later. ``None`` while it cannot be known yet."""
        if task.status in _TERMINAL:
            return task.ended_at
        if task.queued:
            return None
        due = self._due_time(task)
        if due is None:
            return None
        if task.failure is not None:
            return due
        if task.rendered_at is None:
            return None
        return max(due, task.rendered_at)

    def _advance(self, task: _Task, *, poll: bool) -> None:
        """Bring a task's status up to date (under the lock); ``poll`` counts a status query.

        Idempotent in time: what it sets depends on the clock and the task's own instants
        (and on the status queries counted), never on when or how often it runs.
        """
        if task.status in _TERMINAL:
            return
        now = self.clock.now()
        if task.concurrent is not None:
            self._schedule(task.group, now)
        if task.queued:  # its processing has not begun: queries made now do not count
            task.status = TaskStatus.PENDING
            task.progress = 0.0
            return
        prog = task.progression
        if poll:
            task.polls += 1
            if prog.mode == "polls" and task.polls >= prog.polls and task.polled_due_at is None:
                task.polled_due_at = now
        phase = self._phase(task, now)
        if phase == "pending":
            task.status = TaskStatus.PENDING
            task.progress = 0.0
            return
        if task.scheduled_at is None:
            # When it left PENDING: by the schedule where there is one, else when seen to.
            task.scheduled_at = {
                "immediate": task.base_time,
                "seconds": task.base_time + prog.seconds / 2,
            }.get(prog.mode, now)
        task.progress = min(_ALMOST, max(task.progress, self._fraction(task, now)))
        end = self._end_time(task) if phase == "due" else None
        if end is None or end > now:
            task.status = TaskStatus.RUNNING  # not due yet, or due with its MP4 still rendering
            return
        task.ended_at = end
        if task.failure is not None:
            task.status = TaskStatus.FAILED
            _cancel(task)
        elif task.render_error is not None:
            task.status = TaskStatus.FAILED
            task.failure = (
                "InternalError",
                f"The emulator failed to render the stand-in video: {task.render_error}",
            )
        else:
            task.status = TaskStatus.SUCCEEDED
            task.progress = 1.0

    def _expired(self, task: _Task) -> bool:
        return self.clock.now() >= task.submitted_at + self.config.task_ttl

    def _lookup(self, task_id: str, realm: str | None) -> _Task | None:
        task = self._tasks.get(task_id)
        if task is None or (realm is not None and task.realm != realm):
            return None
        if self._expired(task):
            self._forget(task)
            return None
        return task

    def _forget(self, task: _Task) -> None:
        self.persistence.task_forgotten(task.task_id)
        self._tasks.pop(task.task_id, None)
        self._unqueue(task)
        _cancel(task)
        self.store.remove_result(f"{task.task_id}.mp4")

    # -- queries ----------------------------------------------------------------------------------
    def get(self, task_id: str, realm: str | None = None, *, poll: bool = True) -> TaskView:
        """The task now; UNKNOWN when the id is unknown, expired or of another realm.

        ``poll`` counts this as a status query (what ``polls=N`` progression counts)."""
        with self._lock:
            task = self._lookup(task_id, realm)
            if task is None:
                return TaskView.unknown(task_id, realm or "", self.new_request_id())
            self._advance(task, poll=poll)
            return self._view(task)

    def cancel(self, task_id: str, realm: str | None = None) -> TaskView:
        """Cancel a PENDING task; anything else is an ``UnsupportedOperation`` error."""
        with self._lock:
            task = self._lookup(task_id, realm)
            status = TaskStatus.UNKNOWN
            if task is not None:
                self._advance(task, poll=False)
                status = task.status
            if task is None or task.status is not TaskStatus.PENDING:
                raise ApiError(
                    ErrorKind.UNSUPPORTED,
                    "Failed to cancel the task, please confirm if the task is in PENDING status. "
                    f"(task {task_id} is {status.value})",
                    field="task_id",
                    code="UnsupportedOperation",
                )
            task.status = TaskStatus.CANCELED
            task.ended_at = self.clock.now()
            self._unqueue(task)
            _cancel(task)
            return self._view(task)

    def _unqueue(self, task: _Task) -> None:
        """Take a task out of its group's queue (it is canceled or forgotten)."""
        waiting = self._waiting.get(task.group)
        if task.queued and waiting:
            # By identity: tasks are dataclasses, and == would compare every field.
            self._waiting[task.group] = deque(t for t in waiting if t is not task)

    def list_tasks(
        self,
        realm: str | None,
        *,
        page_no: int = 1,
        page_size: int = 10,
        start: float | None = None,
        end: float | None = None,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> tuple[list[TaskView], int]:
        """One page of tasks, newest first, and the total that matched the filters."""
        with self._lock:
            for task in list(self._tasks.values()):
                if self._expired(task):
                    self._forget(task)
            matched = []
            for task in sorted(self._tasks.values(), key=lambda t: t.submitted_at, reverse=True):
                if realm is not None and task.realm != realm:
                    continue
                if model is not None and task.model != model:
                    continue
                if start is not None and task.submitted_at < start:
                    continue
                if end is not None and task.submitted_at > end:
                    continue
                self._advance(task, poll=False)
                if status is not None and task.status is not status:
                    continue
                matched.append(task)
            first = (page_no - 1) * page_size
            return [self._view(t) for t in matched[first : first + page_size]], len(matched)

    def all_tasks(self) -> list[TaskView]:
        """Every live task of every realm (for the control plane), oldest first."""
        return list(reversed(self.list_tasks(None, page_size=10**9)[0]))

    # -- control ------------------------------------------------------------------------------------
    def set_progression(self, task_id: str, progression: Progression | str) -> TaskView:
        """Give a live task a new progression, counted from now (polls and seconds restart)."""
        prog = Progression.parse(progression) if isinstance(progression, str) else progression
        with self._lock:
            task = self._require_live(task_id)
            task.progression = prog
            task.polls = 0
            task.polled_due_at = None
            task.base_time = self.clock.now()
            return self._view(task)

    def fail(self, task_id: str, code: str, message: str) -> TaskView:
        """Make a live task end FAILED with ``code`` and ``message`` when it is due."""
        with self._lock:
            task = self._require_live(task_id)
            task.failure = (code, message)
            _cancel(task)
            return self._view(task)

    def _require_live(self, task_id: str) -> _Task:
        task = self._lookup(task_id, None)
        if task is None:
            raise ApiError(
                ErrorKind.NOT_FOUND, f"task_id {task_id!r} is unknown or expired", field="task_id"
            )
        self._advance(task, poll=False)
        if task.status in _TERMINAL:
            raise ApiError(
                ErrorKind.UNSUPPORTED,
                f"task_id {task_id!r} has already ended ({task.status.value}); only a live task can change",
                field="task_id",
                status=409,
            )
        return task

    # -- snapshots ------------------------------------------------------------------------------------
    def _view(self, task: _Task) -> TaskView:
        if task.final is not None:
            return task.final
        view = self._build_view(task)
        if view.status in _TERMINAL:
            task.final = view
        self.persistence.task_changed(task)  # before anyone is told
        return view

    def _build_view(self, task: _Task) -> TaskView:
        result = usage = None
        code = message = None
        extras: dict[str, Any] = {}
        if task.status is TaskStatus.SUCCEEDED and task.rendered is not None:
            rendered = task.rendered
            assert task.render_plan is not None
            assert task.ended_at is not None
            result = ResultView(
                key=f"{task.task_id}.mp4",
                path=rendered.path,
                expires_at=task.ended_at + self.config.result_ttl,
                width=rendered.width,
                height=rendered.height,
                duration=rendered.duration,
                fps=rendered.fps,
                has_audio=rendered.has_audio,
                size_bytes=rendered.size_bytes,
            )
            extras = dict(task.render_plan.output_extras)
            usage = UsageFigures(
                style=task.render_plan.usage_style,
                input_seconds=task.render_plan.input_seconds,
                output_seconds=round(rendered.duration, 2),
                video_count=1,
                short_side=task.render_plan.short_side,
            )
        if task.status is TaskStatus.FAILED and task.failure is not None:
            code, message = task.failure
        return TaskView(
            task_id=task.task_id,
            request_id=task.request_id,
            realm=task.realm,
            model=task.model,
            status=task.status,
            progress=task.progress,
            submitted_at=task.submitted_at,
            scheduled_at=task.scheduled_at,
            ended_at=task.ended_at,
            prompt=task.plan.prompt,
            parameters=dict(task.plan.parameters),
            error_code=code,
            error_message=message,
            notes=task.notes,
            result=result,
            usage=usage,
            progression=str(task.progression),
            polls=task.polls,
            output_extras=extras,
        )

    def result_url(self, view: TaskView, base_url: str) -> str | None:
        """The signed link to a SUCCEEDED task's MP4, as seen from ``base_url``.

        Memoized: a link is a pure function of (key, base, expiry) and the store's secret,
        and signing and quoting it was a third of the cost of answering a poll.
        """
        if view.result is None:
            return None
        memo = (view.result.key, base_url, int(view.result.expires_at))
        url = self._urls.get(memo)
        if url is None:
            if len(self._urls) >= _URL_MEMO:
                self._urls.clear()
            url = self._urls[memo] = self.store.result_url(*memo)
        return url


def _cancel(task: _Task) -> None:
    """Drop a task's render: unqueue it if it has not started (a running one finishes)."""
    if task.future is not None:
        task.future.cancel()
        task.future = None
