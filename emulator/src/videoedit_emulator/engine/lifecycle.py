"""The task lifecycle, declared: its states, the moves between them, and how time moves a task.

The engine (``tasks.py``) decides no transition of its own. On every access it asks a task's
progression mode for a [`Reading`][videoedit_emulator.engine.lifecycle.Reading] (which phase
the task's clock is in, how far along, when it is due), turns that into an
[`Event`][videoedit_emulator.engine.lifecycle.Event] with
[`event_for`][videoedit_emulator.engine.lifecycle.event_for], and lets
[`fire`][videoedit_emulator.engine.lifecycle.fire] look the move up in `TRANSITIONS`. A move
the table does not hold raises `IllegalTransition`, naming the state and the event: a bug in
the engine, never an answer to a client (h11's ``_state.py`` and moto's ``ManagedState`` are
the models).

UNKNOWN is no state of a task: it is what an id reads that names no live task (unknown,
expired, of another realm), so no move leads to it or from it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from videoedit.task import TaskStatus
from videoedit_emulator.engine.config import Progression

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "AfterPolls",
    "AfterSeconds",
    "Clockwork",
    "Event",
    "IllegalTransition",
    "Immediate",
    "Mode",
    "Phase",
    "Reading",
    "allows",
    "event_for",
    "fire",
    "mode_of",
]

P, R, S, F, C = (
    TaskStatus.PENDING,
    TaskStatus.RUNNING,
    TaskStatus.SUCCEEDED,
    TaskStatus.FAILED,
    TaskStatus.CANCELED,
)


class Event(enum.Enum):
    """What happened to a task since it was last brought up to date."""

    WAITS = "wait"  # its processing has not begun (queued for a slot, or early in its progression)
    RUNS = "run"  # it is being processed: not due yet, or due with its MP4 still rendering
    SUCCEEDS = "succeed"  # due, its MP4 written
    FAILS = "fail"  # due, with a failure set (control plane, download, render)
    CANCEL = "cancel"  # a caller canceled it


#: Every allowed move: (state, event) -> the state it leads to. Ended states have none.
#: RUNNING -> PENDING happens only when a task's progression restarts (``set_progression``)
#: or the clock is set back: its clock then reads an earlier phase again.
TRANSITIONS: Mapping[tuple[TaskStatus, Event], TaskStatus] = {
    (P, Event.WAITS): P,
    (P, Event.RUNS): R,
    (P, Event.SUCCEEDS): S,  # due before anybody saw it run (``immediate``, ``polls=1``)
    (P, Event.FAILS): F,
    (P, Event.CANCEL): C,
    (R, Event.WAITS): P,
    (R, Event.RUNS): R,
    (R, Event.SUCCEEDS): S,
    (R, Event.FAILS): F,
}
#: The states no event leaves.
TERMINAL = frozenset({S, F, C})


class IllegalTransition(RuntimeError):
    """A move the lifecycle does not allow (an engine bug, never a client's error)."""

    def __init__(self, state: TaskStatus, event: Event) -> None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is state)
        if allowed:
            choices = " or ".join(filter(None, (", ".join(allowed[:-1]), allowed[-1])))
            may = f"from {state.value} it may only {choices}"
        else:
            may = f"no move leaves {state.value}"
        super().__init__(f"a {state.value} task cannot {event.value}: {may}")
        self.state, self.event = state, event


def fire(state: TaskStatus, event: Event) -> TaskStatus:
    """The state ``event`` leads to from ``state``; `IllegalTransition` if the table has no such move."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


def allows(state: TaskStatus, event: Event) -> bool:
    """Whether the table holds a move for ``event`` from ``state``."""
    return (state, event) in TRANSITIONS


class Phase(enum.Enum):
    """Where a task's progression stands (the render's readiness aside)."""

    PENDING = "pending"
    RUNNING = "running"
    DUE = "due"


class Clockwork(NamedTuple):
    """What a progression reads of a task: the instant it counts from, its status queries,
    and when it was first seen due (the end of a ``polls=N`` task, known only once seen)."""

    base_time: float
    polls: int = 0
    due_seen_at: float | None = None


class Reading(NamedTuple):
    """A progression's answer at one instant: the phase, the fraction done (in [0, 1]),
    when the task is due (``None``: not known yet) and when it left PENDING by the schedule.

    (Tuples, as `Clockwork`: one is made on every poll of a live task.)"""

    phase: Phase
    fraction: float
    due_at: float | None
    left_pending_at: float


class Mode(Protocol):
    def read(self, clock: Clockwork, now: float) -> Reading: ...


@dataclass(frozen=True)
class Immediate:
    """Never PENDING after creation: due at once (it still waits RUNNING for its MP4)."""

    def read(self, clock: Clockwork, now: float) -> Reading:
        return Reading(Phase.DUE, 0.5, clock.base_time, clock.base_time)


@dataclass(frozen=True)
class AfterPolls:
    """The N-th status query sees the end; the first ⌈(N−1)/2⌉ queries see PENDING, the rest RUNNING."""

    polls: int

    def read(self, clock: Clockwork, now: float) -> Reading:
        fraction = min(1.0, clock.polls / self.polls)
        if clock.polls >= self.polls:
            phase = Phase.DUE
        elif clock.polls <= math.ceil((self.polls - 1) / 2):
            phase = Phase.PENDING
        else:
            phase = Phase.RUNNING
        due = (
            clock.due_seen_at
            if clock.due_seen_at is not None
            else (now if phase is Phase.DUE else None)
        )
        return Reading(phase, fraction, due, now)


@dataclass(frozen=True)
class AfterSeconds:
    """PENDING for S/2 seconds from the task's base time, RUNNING until S, then due."""

    seconds: float

    def read(self, clock: Clockwork, now: float) -> Reading:
        elapsed = now - clock.base_time
        if elapsed >= self.seconds:
            phase = Phase.DUE
        else:
            phase = Phase.RUNNING if elapsed >= self.seconds / 2 else Phase.PENDING
        fraction = min(1.0, max(0.0, elapsed / self.seconds))
        return Reading(
            phase, fraction, clock.base_time + self.seconds, clock.base_time + self.seconds / 2
        )


def mode_of(progression: Progression) -> Mode:
    """The mode object that times a task of ``progression``."""
    if progression.mode == "polls":
        return AfterPolls(progression.polls)
    if progression.mode == "seconds":
        return AfterSeconds(progression.seconds)
    return Immediate()


def event_for(reading: Reading, *, ends_at: float | None, now: float, failing: bool) -> Event:
    """What a reading means for a task whose processing has begun.

    ``ends_at`` is when the task ends (when it is due, or when its MP4 was written if later;
    ``None`` while not known); ``failing`` says a failure is set for it.
    """
    if reading.phase is Phase.PENDING:
        return Event.WAITS
    if reading.phase is Phase.RUNNING or ends_at is None or ends_at > now:
        return Event.RUNS
    return Event.FAILS if failing else Event.SUCCEEDS
