"""The client's poll schedule against a loopback emulator (``PollSchedule.fast``).

Two costs pull against each other: a task that ends between two polls is seen late, and
every poll costs the client about a millisecond of CPU. The schedule grows each gap by a
fifth: the end of a task is seen at most about a fifth late, and the number of polls grows
with the logarithm of the wait, so hundreds of edits waiting on one emulator stay cheap.
"""

from __future__ import annotations

import itertools
import random

import pytest

from videoedit import PollSchedule


def poll_times(seconds: float, seed: int = 0) -> list[float]:
    """When a wait of ``seconds`` polls (the first poll right after submission)."""
    times, now = [0.0], 0.0
    for gap in PollSchedule.fast().gaps(random.Random(seed)):
        now += gap
        times.append(now)
        if now >= seconds:
            return times
    raise AssertionError("unreachable")


@pytest.mark.parametrize("ends_at", [0.05, 0.2, 0.45, 1.0, 3.0, 10.0, 30.0, 120.0])
def test_the_end_of_a_task_is_seen_at_most_a_fifth_late(ends_at: float) -> None:
    for seed in range(5):
        seen = poll_times(ends_at, seed)[-1]
        assert seen - ends_at <= 0.25 * ends_at + 0.012
        assert seen - ends_at <= 2.2


@pytest.mark.parametrize(("wait", "most"), [(0.5, 15), (5.0, 28), (60.0, 60), (600.0, 330)])
def test_polls_grow_with_the_logarithm_of_the_wait_then_every_two_seconds(
    wait: float, most: int
) -> None:
    assert len(poll_times(wait)) <= most


def test_gaps_are_jittered_so_many_waits_do_not_poll_in_step() -> None:
    a = list(itertools.islice(PollSchedule.fast().gaps(random.Random(1)), 30))
    b = list(itertools.islice(PollSchedule.fast().gaps(random.Random(2)), 30))
    assert a != b
    assert max(a) <= 2.0 * 1.1
