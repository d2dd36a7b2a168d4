"""The engine's own, mutable record of a task, and what its instants say about its end.

Every field is guarded by the engine's lock. Adapters never see a record: they get the
immutable `TaskView` built from it (``snapshots.py``).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from videoedit.task import TaskStatus
from videoedit_emulator.engine.config import Progression
from videoedit_emulator.engine.errors import Reason
from videoedit_emulator.engine.lifecycle import TERMINAL, Clockwork, Mode, Reading, mode_of
from videoedit_emulator.engine.models.base import JobPlan, RenderPlan
from videoedit_emulator.engine.quotas import QuotaGroup
from videoedit_emulator.engine.snapshots import ResultView, TaskView, UsageFigures

if TYPE_CHECKING:
    from videoedit_emulator.render import RenderResult

__all__ = ["TaskFailure", "TaskRecord"]


@dataclass(frozen=True)
class TaskFailure:
    """How a task will end FAILED: the engine's ``reason`` or a caller's wire ``code``, and
    the detail. The engine never chooses a code: adapters word the reason (the failure of a
    task is shown on every wire format, each in its service's words)."""

    reason: Reason | None
    detail: str
    code: str | None = None

    @classmethod
    def given(cls, code: str, detail: str) -> TaskFailure:
        """A failure a caller asked for (control plane, ``fail`` directive), in its words."""
        return cls(None, detail, code)


@dataclass
class TaskRecord:
    """A task as the engine keeps it (guarded by the engine's lock)."""

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
    failure: TaskFailure | None = None
    notes: tuple[str, ...] = ()
    future: Future[None] | None = None
    rendered: RenderResult | None = None
    rendered_at: float | None = None
    render_error: str | None = None
    #: The quota group (realm, model family) and its concurrency limit, if the model has one.
    group: QuotaGroup = ("", "")
    concurrent: int | None = None
    #: Set while the task waits for a slot under ``concurrent``.
    queued: bool = False
    #: When it took its slot (``None`` while queued): when its processing began.
    slot_at: float | None = None
    #: When it was first seen due (for ``polls=N``: when the N-th status query came; the
    #: task is due from then).
    due_seen_at: float | None = None
    #: The view of an ended task, built once: nothing about it changes any more, and polls
    #: of finished tasks are the commonest query there is.
    final: TaskView | None = None

    #: The mode that times ``progression`` (``lifecycle.py``), and the progression it was made
    #: for: made again only when the progression changes, as it is read on every poll.
    timing: tuple[Progression, Mode] | None = None

    def read(self, now: float) -> Reading:
        """What the task's progression says at ``now`` (``lifecycle.py``)."""
        timing = self.timing
        if timing is None or timing[0] is not self.progression:
            timing = self.timing = (self.progression, mode_of(self.progression))
        return timing[1].read(Clockwork(self.base_time, self.polls, self.due_seen_at), now)

    def ends_at(self, now: float) -> float | None:
        """When a task that holds a slot ends, as soon as that can be known: when it is due,
        or when its MP4 is written if that is later. ``None`` while it cannot be known yet."""
        if self.status in TERMINAL:
            return self.ended_at
        if self.queued:
            return None
        due = self.read(now).due_at
        if due is None:
            return None
        if self.failure is not None:
            return due
        if self.rendered_at is None:
            return None
        return max(due, self.rendered_at)

    def drop_render(self) -> None:
        """Drop the task's render: unqueue it if it has not started (a running one finishes)."""
        if self.future is not None:
            self.future.cancel()
            self.future = None

    def view(self, *, result_ttl: float) -> TaskView:
        """The snapshot of the task now; its result link expires ``result_ttl`` after it ended."""
        result = usage = None
        code = message = None
        reason: Reason | None = None
        extras: dict[str, Any] = {}
        if self.status is TaskStatus.SUCCEEDED and self.rendered is not None:
            rendered = self.rendered
            assert self.render_plan is not None
            assert self.ended_at is not None
            result = ResultView(
                key=f"{self.task_id}.mp4",
                path=rendered.path,
                expires_at=self.ended_at + result_ttl,
                width=rendered.width,
                height=rendered.height,
                duration=rendered.duration,
                fps=rendered.fps,
                has_audio=rendered.has_audio,
                size_bytes=rendered.size_bytes,
            )
            extras = dict(self.render_plan.output_extras)
            usage = UsageFigures(
                style=self.render_plan.usage_style,
                input_seconds=self.render_plan.input_seconds,
                output_seconds=round(rendered.duration, 2),
                video_count=1,
                short_side=self.render_plan.short_side,
            )
        if self.status is TaskStatus.FAILED and self.failure is not None:
            reason, message = self.failure.reason, self.failure.detail
            code = self.failure.code or (reason.value if reason else None)
        return TaskView(
            task_id=self.task_id,
            request_id=self.request_id,
            realm=self.realm,
            model=self.model,
            status=self.status,
            progress=self.progress,
            submitted_at=self.submitted_at,
            scheduled_at=self.scheduled_at,
            ended_at=self.ended_at,
            prompt=self.plan.prompt,
            parameters=dict(self.plan.parameters),
            error_code=code,
            error_message=message,
            error_reason=reason,
            notes=self.notes,
            result=result,
            usage=usage,
            progression=str(self.progression),
            polls=self.polls,
            output_extras=extras,
        )
