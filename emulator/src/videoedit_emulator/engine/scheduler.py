"""The concurrency quota: tasks beyond a model's ``concurrent`` limit wait PENDING for a slot.

A task of a model with a concurrency quota joins its group's queue at creation and leaves it
the instant a slot frees (``slots.py`` says when), first come first served; its progression
then counts from that instant. The engine brings the queue up to date on every access, and
since the answer depends only on the tasks' own instants, reading changes nothing.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from videoedit_emulator.engine.quotas import QuotaGroup
from videoedit_emulator.engine.record import TaskRecord
from videoedit_emulator.engine.slots import Span, next_start

__all__ = ["SlotScheduler"]


class SlotScheduler:
    """Per quota group, the tasks waiting for a slot, oldest first (the engine's lock guards it)."""

    def __init__(self) -> None:
        self._waiting: dict[QuotaGroup, deque[TaskRecord]] = {}

    def clear(self) -> None:
        self._waiting.clear()

    def admit(self, task: TaskRecord, now: float, tasks: Iterable[TaskRecord]) -> None:
        """A new task takes a slot at once, or (under a concurrency quota) joins its group's
        queue and leaves it at once if a slot is free. ``tasks`` are every live task."""
        if task.concurrent is None:
            task.slot_at = now
            return
        task.queued = True
        self._waiting.setdefault(task.group, deque()).append(task)
        self.schedule(task.group, now, tasks)

    def requeue(self, task: TaskRecord) -> None:
        """Put back a task that was waiting when an earlier run stopped (``state.py``: tasks
        are adopted oldest first, so the queue keeps its order)."""
        task.queued = True
        self._waiting.setdefault(task.group, deque()).append(task)

    def schedule(self, group: QuotaGroup, now: float, tasks: Iterable[TaskRecord]) -> None:
        """Give the slots that freed up to ``now`` to the group's waiting tasks, in order, each
        at the instant its slot freed (see ``slots.py``): its progression counts from there."""
        waiting = self._waiting.get(group)
        if not waiting:
            return
        spans = [
            Span(t.slot_at, t.ends_at(now))
            for t in tasks
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
            spans.append(Span(start, task.ends_at(now)))

    def unqueue(self, task: TaskRecord) -> None:
        """Take a task out of its group's queue (it is canceled or forgotten)."""
        waiting = self._waiting.get(task.group)
        if task.queued and waiting:
            # By identity: tasks are dataclasses, and == would compare every field.
            self._waiting[task.group] = deque(t for t in waiting if t is not task)
