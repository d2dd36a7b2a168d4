"""The task engine: one state machine behind every wire format (the facade of ``engine/``).

A task moves PENDING -> RUNNING -> SUCCEEDED | FAILED; it can be CANCELED only while
PENDING; an unknown or expired id reads UNKNOWN. Which moves exist, and how a task's
[`Progression`][videoedit_emulator.engine.config.Progression] (immediate, after N polls,
after S seconds; set for the engine and per task) times them, is declared in
``lifecycle.py``: this facade applies that table and decides no transition of its own. Its
MP4 is rendered from submission on (``render_pool.py``), so the event loop never waits on
ffmpeg; a task reports SUCCEEDED only once its file exists.

The engine speaks no wire format. It hands adapters `TaskView` snapshots (``snapshots.py``) and
raises `ApiError`; adapters translate words, times and numbers into their provider's JSON.

What it composes, each in a module of its own: the quotas a model declares (``quotas.py``:
creations beyond a rate are refused, ``Reason.RATE_QUOTA``) and the concurrency
slots under them (``scheduler.py``, ``slots.py``: tasks beyond the limit wait PENDING,
first come first served; since the queue depends only on the tasks' own instants, reading,
the control plane included, changes nothing); ids from a seeded generator (``ids.py``: the
same calls yield the same ids in every run); the inputs of a creation, fetched without
waiting on other creations' downloads (``downloads.py``); the store of uploads and results
(``store.py``) and its signed links (``links.py``); the engine's record of a task
(``record.py``); what survives a restart (``state.py``).

Why it is a little over 500 lines: it is the one place where those parts meet under the
engine's lock, and every public call (submit, get, cancel, list, the control plane's) is a
short method here; what is left of ``submit`` is the order of its checks, which reads best
in one piece.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from videoedit.task import TaskStatus
from videoedit_emulator.engine import lifecycle
from videoedit_emulator.engine.clock import Clock
from videoedit_emulator.engine.config import EmulatorConfig, Progression
from videoedit_emulator.engine.downloads import DOWNLOAD_SLOTS, Downloads
from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.ids import SeededIds
from videoedit_emulator.engine.lifecycle import TERMINAL, Event
from videoedit_emulator.engine.links import ResultLinks
from videoedit_emulator.engine.models import ModelRegistry, default_registry
from videoedit_emulator.engine.models.base import check_type
from videoedit_emulator.engine.quotas import QueryQuota, SubmissionRates, group_of, quotas_of
from videoedit_emulator.engine.record import TaskFailure, TaskRecord
from videoedit_emulator.engine.render_pool import Renderer, RenderPool
from videoedit_emulator.engine.scheduler import SlotScheduler
from videoedit_emulator.engine.snapshots import ResultView, TaskView, UsageFigures
from videoedit_emulator.engine.sources import SourceContext, check_oss_allowed
from videoedit_emulator.engine.state import Persistence
from videoedit_emulator.engine.store import Store
from videoedit_emulator.engine.text import NOT_TEXT, invalid_at

if TYPE_CHECKING:
    from pathlib import Path

    from videoedit_emulator.render import RenderJob, RenderResult
    from videoedit_emulator.render.cache import RenderCache

# The snapshots, the renderer type and the download bound are re-exported: adapters and tests
# import them from here.
__all__ = ["DOWNLOAD_SLOTS", "Renderer", "ResultView", "TaskEngine", "TaskView", "UsageFigures"]

#: Progress shown while a due task still waits for its MP4.
_ALMOST = 0.99


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
    task_type = TaskRecord

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
        self._tasks: dict[str, TaskRecord] = {}
        self._rates = SubmissionRates()
        self._slots = SlotScheduler()
        self._renders = RenderPool(
            self.config.workers,
            store=self.store,
            lock=self._lock,
            renderer=lambda job, path: self.renderer(job, path),
            is_current=self._is_current,
            now=lambda: self.clock.now(),
        )
        self._downloads = Downloads(self.config.workers)
        self._generation = 0
        self._closed = False
        self._links = ResultLinks(self.store)
        self.seed = self.config.seed
        self.progression = self.config.progression
        self._reseed(self.seed)
        #: Task queries per account (``config.task_queries_per_second``; ``quotas.py``).
        self.query_quota = QueryQuota(self.config.task_queries_per_second, lambda: self.clock.now())
        #: The state directory (``config.state_dir``) and the snapshots: ``state.py``. The
        #: web wing's fault plan and journal join it when the app is composed (``keep``).
        self.persistence = Persistence.attach(self, state_dir)

    # -- lifecycle ------------------------------------------------------------------------------
    def _reseed(self, seed: int) -> None:
        self.seed = seed
        self._ids = SeededIds(seed)

    def reset(self, *, seed: int | None = None) -> None:
        """Forget every task, upload and result; re-seed ids; restore the configured
        progression and clock. Renders in flight finish into the void. (The web app's fault
        rules and journal are its own: `WebState.reset` clears them with this.)"""
        with self._lock:
            self._generation += 1
            for task in self._tasks.values():
                if task.future is not None:
                    task.future.cancel()
            self._tasks.clear()
            self._rates.clear()
            self._slots.clear()
            self.query_quota.clear()
            self.progression = self.config.progression
            self.clock = self.config.clock
            self._reseed(self.config.seed if seed is None else seed)
        self.store.reset()  # a new signing secret: links from before open nothing
        self._links.clear()
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
        self._renders.shutdown()
        self.persistence.close()
        self.store.close()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no render is queued or running (those of forgotten tasks included);
        ``False`` if ``timeout`` ran out."""
        return self._renders.drain(timeout)

    # -- ids ----------------------------------------------------------------------------------
    def new_request_id(self) -> str:
        with self._lock:
            return self._ids.request_id()

    def upload_token(self) -> str:
        """A fresh, seeded token for an upload directory."""
        with self._lock:
            return self._ids.upload_token()

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
                "model is required",
                reason=Reason.EMPTY_MODEL,
                field="model",
            )
        model = check_type("model", model, str)
        handler = self.models.lookup(model, region)
        if input is None:
            raise ApiError(
                ErrorKind.INVALID_PARAMETER,
                "input is required",
                reason=Reason.EMPTY_INPUT,
                field="input",
            )
        if not isinstance(input, dict):
            raise ApiError.invalid("input", "must be an object")
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise ApiError.invalid("parameters", "must be an object")
        plan = handler.validate(model, input, parameters, region)
        limits = quotas_of(handler)
        group = group_of(realm, handler)
        if limits is not None and limits.submissions_per_second is not None:
            with self._lock:
                self._rates.count(group, limits.submissions_per_second, self.clock.now())
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
        resolved, download_failure = await self._downloads.resolve(realm, plan, context)
        render_plan = None
        if download_failure is None:
            render_plan = handler.prepare(plan, resolved)
        notes = render_plan.notes if render_plan else ()
        with self._lock:
            if self._closed:
                raise ApiError(
                    ErrorKind.INTERNAL,
                    "the emulator is shutting down",
                    reason=Reason.SHUTTING_DOWN,
                )
            now = self.clock.now()
            task = TaskRecord(
                task_id=self._ids.task_id(self._tasks),
                request_id=request_id or self.new_request_id(),
                realm=realm,
                model=model,
                plan=plan,
                render_plan=render_plan,
                progression=progression or self.progression,
                submitted_at=now,
                base_time=now,
                generation=self._generation,
                failure=TaskFailure.given(*fail)
                if fail
                else (
                    TaskFailure(Reason.DOWNLOAD_FAILED, str(download_failure))
                    if download_failure
                    else None
                ),
                notes=notes,
                group=group,
                concurrent=None if limits is None else limits.concurrent,
            )
            self._tasks[task.task_id] = task
            self._slots.admit(task, now, self._tasks.values())
            if render_plan is not None and fail is None:
                self._renders.start(task, render_plan)
            return self._view(task)

    def _adopt(self, tasks: list[TaskRecord]) -> None:
        """Take over the tasks of an earlier run (``state.py``): queue those that waited for
        a slot, and render again those whose MP4 was not written yet."""
        with self._lock:
            for task in sorted(tasks, key=lambda t: t.submitted_at):
                task.generation = self._generation
                self._tasks[task.task_id] = task
                if task.queued:
                    self._slots.requeue(task)
                plan = task.render_plan
                unrendered = task.rendered is None and task.render_error is None
                if task.status not in TERMINAL and task.failure is None and unrendered and plan:
                    self._renders.start(task, plan)

    def _is_current(self, task: TaskRecord) -> bool:
        """Whether a render's task is still the engine's own (not forgotten by a reset, not
        canceled): only then does its MP4 take the task's place."""
        return task.generation == self._generation and task.status is not TaskStatus.CANCELED

    def _render_with_cache(self, job: RenderJob, out_path: Path) -> RenderResult:
        from videoedit_emulator.render import render

        return render(job, out_path, cache=self._cache, threads=self.render_threads())

    def render_threads(self) -> int:
        """Encoder threads for a render starting now (``RenderPool.threads``)."""
        return self._renders.threads()

    # -- the state machine (declared in lifecycle.py) --------------------------------------------
    def _advance(self, task: TaskRecord, *, poll: bool) -> None:
        """Bring a task's status up to date (under the lock); ``poll`` counts a status query.

        Idempotent in time: what it sets depends on the clock and the task's own instants
        (and on the status queries counted), never on when or how often it runs.
        """
        if task.status in TERMINAL:
            return
        now = self.clock.now()
        if task.concurrent is not None:
            self._slots.schedule(task.group, now, self._tasks.values())
        if task.queued:  # its processing has not begun: queries made now do not count
            self._move(task, Event.WAITS)
            return
        if poll:
            task.polls += 1
        reading = task.read(now)
        if reading.phase is lifecycle.Phase.DUE and task.due_seen_at is None:
            task.due_seen_at = now
        failing = task.failure is not None or task.render_error is not None
        ends_at = task.ends_at(now) if reading.phase is lifecycle.Phase.DUE else None
        event = lifecycle.event_for(reading, ends_at=ends_at, now=now, failing=failing)
        if event is Event.WAITS:
            self._move(task, event)
            return
        if task.scheduled_at is None:
            # When it left PENDING: by the schedule where there is one, else when seen to.
            task.scheduled_at = reading.left_pending_at
        task.progress = min(_ALMOST, max(task.progress, reading.fraction))
        self._move(task, event)
        if event is Event.RUNS:  # not due yet, or due with its MP4 still rendering
            return
        task.ended_at = ends_at
        if event is Event.SUCCEEDS:
            task.progress = 1.0
        elif task.failure is not None:
            task.drop_render()
        else:
            task.failure = TaskFailure(
                Reason.RENDER_FAILED,
                f"The emulator failed to render the stand-in video: {task.render_error}",
            )

    @staticmethod
    def _move(task: TaskRecord, event: Event) -> None:
        """Apply ``event`` to ``task`` through the lifecycle's table (which raises on a move it
        does not hold)."""
        task.status = lifecycle.fire(task.status, event)
        if task.status is TaskStatus.PENDING:
            task.progress = 0.0

    def _expired(self, task: TaskRecord) -> bool:
        return self.clock.now() >= task.submitted_at + self.config.task_ttl

    def _lookup(self, task_id: str, realm: str | None) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        if task is None or (realm is not None and task.realm != realm):
            return None
        if self._expired(task):
            self._forget(task)
            return None
        return task

    def _forget(self, task: TaskRecord) -> None:
        self.persistence.task_forgotten(task.task_id)
        self._tasks.pop(task.task_id, None)
        self._slots.unqueue(task)
        task.drop_render()
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
        """Cancel a PENDING task; anything else is refused (``Reason.NOT_CANCELABLE``)."""
        with self._lock:
            task = self._lookup(task_id, realm)
            status = TaskStatus.UNKNOWN
            if task is not None:
                self._advance(task, poll=False)
                status = task.status
            if task is None or not lifecycle.allows(task.status, Event.CANCEL):
                raise ApiError(
                    ErrorKind.UNSUPPORTED,
                    f"task {task_id} is {status.value}",
                    reason=Reason.NOT_CANCELABLE,
                    field="task_id",
                )
            self._move(task, Event.CANCEL)
            task.ended_at = self.clock.now()
            self._slots.unqueue(task)
            task.drop_render()
            return self._view(task)

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
            task.due_seen_at = None
            task.base_time = self.clock.now()
            return self._view(task)

    def fail(self, task_id: str, code: str, message: str) -> TaskView:
        """Make a live task end FAILED with ``code`` and ``message`` when it is due."""
        with self._lock:
            task = self._require_live(task_id)
            task.failure = TaskFailure.given(code, message)
            task.drop_render()
            return self._view(task)

    def _require_live(self, task_id: str) -> TaskRecord:
        task = self._lookup(task_id, None)
        if task is None:
            raise ApiError(
                ErrorKind.NOT_FOUND,
                f"task_id {task_id!r} is unknown or expired",
                reason=Reason.UNKNOWN_TASK,
                field="task_id",
            )
        self._advance(task, poll=False)
        if task.status in TERMINAL:
            raise ApiError(
                ErrorKind.UNSUPPORTED,
                f"task_id {task_id!r} has already ended ({task.status.value}); only a live task can change",
                reason=Reason.TASK_ENDED,
                field="task_id",
            )
        return task

    # -- snapshots ------------------------------------------------------------------------------------
    def _view(self, task: TaskRecord) -> TaskView:
        if task.final is not None:
            return task.final
        view = task.view(result_ttl=self.config.result_ttl)
        if view.status in TERMINAL:
            task.final = view
        self.persistence.task_changed(task)  # before anyone is told
        return view

    def result_url(self, view: TaskView, base_url: str) -> str | None:
        """The signed link to a SUCCEEDED task's MP4, as seen from ``base_url`` (memoized,
        ``links.py``)."""
        if view.result is None:
            return None
        return self._links.url(view.result.key, base_url, view.result.expires_at)
