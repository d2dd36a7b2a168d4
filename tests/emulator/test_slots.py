"""When a waiting task takes a slot (``slots.next_start``): a pure function of instants."""

from __future__ import annotations

from videoedit_emulator.engine.slots import Span, next_start


def test_a_free_slot_is_taken_on_arrival() -> None:
    assert next_start([Span(0, None)], arrival=3, limit=2, now=5) == 3


def test_with_every_slot_taken_the_task_starts_as_the_first_holder_ends() -> None:
    holders = [Span(0, 10), Span(0, 30)]
    assert next_start(holders, arrival=1, limit=2, now=12) == 10


def test_a_slot_that_frees_after_now_is_not_taken_yet() -> None:
    assert next_start([Span(0, 10), Span(0, 10)], arrival=1, limit=2, now=9.5) is None


def test_a_holder_whose_end_is_unknown_holds_on() -> None:
    assert next_start([Span(0, None), Span(0, None)], arrival=1, limit=2, now=1e9) is None


def test_the_task_ahead_in_the_queue_starts_first() -> None:
    """FCFS: behind a task that started at 10, this one cannot start before 10."""
    holders = [Span(0, 4), Span(10, 20)]
    assert next_start(holders, arrival=1, limit=2, now=12, not_before=10) == 10


def test_a_canceled_holder_frees_its_slot_when_canceled() -> None:
    holders = [Span(0, 2.5), Span(0, None)]
    assert next_start(holders, arrival=1, limit=2, now=3) == 2.5
