"""The task lifecycle: six statuses every provider maps onto, and the task as last seen."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

__all__ = ["Task", "TaskPage", "TaskResult", "TaskStatus", "Usage"]


class TaskStatus(str, enum.Enum):
    """Where a task stands. DashScope's words; other providers' words are mapped onto these."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """True once the status can no longer change (UNKNOWN counts: the id is gone)."""
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.UNKNOWN}
)


@dataclass(frozen=True)
class Usage:
    """What the provider billed or reported, in seconds where it says seconds.

    Fields a provider does not report stay ``None``; everything it sent is kept in ``raw``.
    """

    input_seconds: float | None = None
    output_seconds: float | None = None
    total_seconds: float | None = None
    video_count: int | None = None
    short_side: int | None = None
    cost: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskResult:
    """The product of a SUCCEEDED task: where to fetch it, until when, and what it cost."""

    video_url: str
    expires_at: datetime | None = None
    usage: Usage = field(default_factory=Usage)
    duration: float | None = None
    metrics: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """A task as the provider last described it.

    Immutable: each poll yields a new ``Task``. ``task_id`` and ``provider`` are all that is
    needed to resume it from another process (``client.wait(task_id)``).
    ``progress`` is a fraction in [0, 1] where the provider reports one, else ``None``.
    """

    task_id: str
    provider: str
    status: TaskStatus
    request_id: str | None = None
    progress: float | None = None
    submitted_at: datetime | None = None
    scheduled_at: datetime | None = None
    ended_at: datetime | None = None
    result: TaskResult | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_done(self) -> bool:
        return self.status.is_terminal

    @property
    def video_url(self) -> str | None:
        return self.result.video_url if self.result else None

    def evolve(self, **changes: Any) -> Task:
        """A copy with some fields changed (used when merging a poll into what was known)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class TaskPage:
    """One page of a task listing."""

    tasks: tuple[Task, ...]
    page: int = 1
    page_size: int | None = None
    total: int | None = None
