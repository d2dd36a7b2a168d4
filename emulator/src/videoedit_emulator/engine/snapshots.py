"""What adapters see of a task: immutable snapshots, in no wire format.

Status as a [`TaskStatus`][videoedit.task.TaskStatus], times as epoch seconds, a progress
fraction in [0, 1], usage figures: adapters translate words, times and numbers into their
provider's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videoedit.task import TaskStatus
from videoedit_emulator.engine.errors import Reason

__all__ = ["ResultView", "TaskView", "UsageFigures"]


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
    """A task as an adapter sees it at one instant (immutable).

    A FAILED task's ``error_reason`` says why in no wire format's words (adapters word it;
    ``None`` when a caller chose the failure's code); ``error_code`` is the caller's code,
    else the reason's token (what the emulator's own pages show).
    """

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
    error_reason: Reason | None = None
    notes: tuple[str, ...] = ()
    result: ResultView | None = None
    usage: UsageFigures | None = None
    progression: str | None = None
    polls: int = 0
    output_extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def unknown(cls, task_id: str, realm: str, request_id: str) -> TaskView:
        return cls(task_id, request_id, realm, "", TaskStatus.UNKNOWN, None)
