"""The declared lifecycle (``engine/lifecycle.py``): its moves, the ones it refuses, and how
each progression mode reads a task's clock. Pure functions: no engine, no clock, no render."""

from __future__ import annotations

import itertools

import pytest

from videoedit.task import TaskStatus
from videoedit_emulator.engine.config import Progression
from videoedit_emulator.engine.lifecycle import (
    TERMINAL,
    TRANSITIONS,
    AfterPolls,
    AfterSeconds,
    Clockwork,
    Event,
    IllegalTransition,
    Immediate,
    Phase,
    Reading,
    event_for,
    fire,
    mode_of,
)

P, R, S, F, C = (
    TaskStatus.PENDING,
    TaskStatus.RUNNING,
    TaskStatus.SUCCEEDED,
    TaskStatus.FAILED,
    TaskStatus.CANCELED,
)
ALLOWED = {
    (P, Event.WAITS): P,
    (P, Event.RUNS): R,
    (P, Event.SUCCEEDS): S,
    (P, Event.FAILS): F,
    (P, Event.CANCEL): C,
    (R, Event.WAITS): P,
    (R, Event.RUNS): R,
    (R, Event.SUCCEEDS): S,
    (R, Event.FAILS): F,
}
FORBIDDEN = [
    (state, event)
    for state, event in itertools.product((P, R, S, F, C, TaskStatus.UNKNOWN), Event)
    if (state, event) not in ALLOWED
]


def test_the_table_holds_exactly_the_documented_moves() -> None:
    assert dict(TRANSITIONS) == ALLOWED


@pytest.mark.parametrize(("move", "target"), ALLOWED.items(), ids=lambda v: str(v))
def test_every_allowed_move_leads_where_the_table_says(
    move: tuple[TaskStatus, Event], target: TaskStatus
) -> None:
    state, event = move
    assert fire(state, event) is target


@pytest.mark.parametrize(("state", "event"), FORBIDDEN, ids=lambda v: str(v))
def test_every_other_move_is_refused(state: TaskStatus, event: Event) -> None:
    with pytest.raises(IllegalTransition) as caught:
        fire(state, event)
    assert (caught.value.state, caught.value.event) == (state, event)


def test_a_running_task_cannot_be_canceled_and_the_error_says_what_it_may_do() -> None:
    with pytest.raises(IllegalTransition) as caught:
        fire(R, Event.CANCEL)
    expected = "a RUNNING task cannot cancel: from RUNNING it may only fail, run, succeed or wait"
    assert str(caught.value) == expected


@pytest.mark.parametrize("state", sorted(TERMINAL, key=lambda s: s.value))
def test_an_ended_task_has_no_move_left(state: TaskStatus) -> None:
    with pytest.raises(IllegalTransition) as caught:
        fire(state, Event.RUNS)
    assert str(caught.value) == f"a {state.value} task cannot run: no move leaves {state.value}"


def test_immediate_is_due_at_once_and_left_pending_when_created() -> None:
    reading = Immediate().read(Clockwork(base_time=100.0), now=100.0)
    assert reading == Reading(Phase.DUE, 0.5, due_at=100.0, left_pending_at=100.0)


@pytest.mark.parametrize(
    ("n", "phases"),
    [
        (1, [Phase.PENDING, Phase.DUE]),
        (3, [Phase.PENDING, Phase.PENDING, Phase.RUNNING, Phase.DUE]),
        (5, [Phase.PENDING] * 3 + [Phase.RUNNING] * 2 + [Phase.DUE]),
    ],
)
def test_after_polls_reads_pending_for_the_first_half_of_the_queries_then_running(
    n: int, phases: list[Phase]
) -> None:
    """Index = queries counted so far (0: not queried yet): ``polls=3`` is P, R, S."""
    mode = AfterPolls(n)
    assert [mode.read(Clockwork(0.0, polls=k), now=9.0).phase for k in range(n + 1)] == phases


def test_after_polls_is_due_when_the_nth_query_came_and_stays_so() -> None:
    mode = AfterPolls(2)
    assert mode.read(Clockwork(0.0, polls=1), now=5.0).due_at is None
    assert mode.read(Clockwork(0.0, polls=2), now=5.0) == Reading(Phase.DUE, 1.0, 5.0, 5.0)
    later = mode.read(Clockwork(0.0, polls=2, due_seen_at=5.0), now=60.0)
    assert (later.due_at, later.left_pending_at) == (5.0, 60.0)


@pytest.mark.parametrize(
    ("elapsed", "phase", "fraction"),
    [
        (0.0, Phase.PENDING, 0.0),
        (1.9, Phase.PENDING, 0.475),
        (2.0, Phase.RUNNING, 0.5),
        (3.0, Phase.RUNNING, 0.75),
        (4.0, Phase.DUE, 1.0),
        (40.0, Phase.DUE, 1.0),
    ],
)
def test_after_seconds_reads_pending_for_half_the_time_then_running_then_due(
    elapsed: float, phase: Phase, fraction: float
) -> None:
    reading = AfterSeconds(4.0).read(Clockwork(base_time=10.0), now=10.0 + elapsed)
    assert (reading.phase, reading.fraction) == (phase, pytest.approx(fraction))
    assert (reading.due_at, reading.left_pending_at) == (14.0, 12.0)


def test_a_clock_set_back_before_the_base_time_reads_pending_at_no_progress() -> None:
    reading = AfterSeconds(4.0).read(Clockwork(base_time=10.0), now=5.0)
    assert (reading.phase, reading.fraction) == (Phase.PENDING, 0.0)


@pytest.mark.parametrize(
    ("spec", "mode"),
    [("immediate", Immediate()), ("polls=3", AfterPolls(3)), ("seconds=2.5", AfterSeconds(2.5))],
)
def test_each_progression_is_timed_by_its_mode(spec: str, mode: object) -> None:
    assert mode_of(Progression.parse(spec)) == mode


def _reading(phase: Phase) -> Reading:
    return Reading(phase, 0.5, due_at=1.0, left_pending_at=0.0)


def test_a_task_early_in_its_progression_waits() -> None:
    assert event_for(_reading(Phase.PENDING), ends_at=None, now=5.0, failing=True) is Event.WAITS


def test_a_task_mid_progression_runs_even_if_a_failure_is_set() -> None:
    assert event_for(_reading(Phase.RUNNING), ends_at=1.0, now=5.0, failing=True) is Event.RUNS


def test_a_due_task_runs_on_while_its_end_is_unknown_or_ahead() -> None:
    assert event_for(_reading(Phase.DUE), ends_at=None, now=5.0, failing=False) is Event.RUNS
    assert event_for(_reading(Phase.DUE), ends_at=6.0, now=5.0, failing=False) is Event.RUNS


def test_a_due_task_past_its_end_succeeds_or_fails() -> None:
    assert event_for(_reading(Phase.DUE), ends_at=5.0, now=5.0, failing=False) is Event.SUCCEEDS
    assert event_for(_reading(Phase.DUE), ends_at=5.0, now=5.0, failing=True) is Event.FAILS
