"""Task events, delivered to observer plugins and to per-call callbacks alike."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from videoedit.task import Task

__all__ = ["EventKind", "TaskEvent"]


class EventKind(str, enum.Enum):
    UPLOADED = "uploaded"  # a local input was uploaded; ``detail`` is its remote URL
    SUBMITTED = "submitted"  # the task exists; its id is known from here on
    POLLED = "polled"  # a poll answered; ``task`` is the new state
    STATUS_CHANGED = "status_changed"  # a poll saw a new status
    RETRYING = "retrying"  # a call failed and will be tried again after ``delay`` seconds
    FINISHED = "finished"  # the task reached a terminal status
    SAVED = "saved"  # the result was written; ``detail`` is the path

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TaskEvent:
    """One thing that happened to a task, for progress bars, logs and metrics.

    ``elapsed`` is seconds since the wait (or the call) began; ``attempt`` and ``delay`` are set
    on RETRYING; ``error`` names the error class that caused a retry.
    """

    kind: EventKind
    provider: str
    task: Task | None = None
    elapsed: float | None = None
    attempt: int | None = None
    delay: float | None = None
    error: str | None = None
    detail: str | None = None
