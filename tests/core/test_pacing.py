"""``videoedit.pacing.Pacer``: a provider's quotas as turns and slots, on a fake clock."""

from __future__ import annotations

import itertools
import threading

import anyio
import pytest

from videoedit.pacing import Pacer
from videoedit.provider import Quotas

DASHSCOPE_LIKE = Quotas(
    queries_per_second=20,
    models={"wan2.1-vace-plus": Quotas(creates_per_second=2, running=2)},
)


class FakeClock:
    """A clock that moves only when told, and a sleep that moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def turn_instants(
    pacer: Pacer, clock: FakeClock, count: int, kind: str, model: str | None = None
) -> list[float]:
    """Reserve ``count`` turns at the clock's present instant; the instant each one comes."""
    return [clock.now + pacer.reserve(kind, model) for _ in range(count)]  # type: ignore[arg-type]


def most_in_any_window(instants: list[float], window: float) -> int:
    """The most instants inside any half-open window [t, t + window)."""
    return max(sum(1 for u in instants if t <= u < t + window) for t in instants)


def test_queries_come_at_most_twenty_in_any_second_margin_included() -> None:
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock, margin=0.05)
    instants = turn_instants(pacer, clock, 100, "query")
    assert most_in_any_window(instants, 1.05) == 20
    # spread evenly, not in bursts: a burst reaches the service spread out, beside the next
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(instants)}
    assert gaps == {0.0525}


def test_a_turn_counts_from_its_answers_arrival_when_that_comes_late() -> None:
    clock = FakeClock()
    pacer = Pacer(Quotas(queries_per_second=2), clock=clock, sleep=clock.sleep, margin=0.0)
    first, second = pacer.wait("query"), pacer.wait("query")
    clock.now += 3.0  # both answers took seconds to come back
    first.done()
    second.done()
    assert pacer.reserve("query") == pytest.approx(1.0)  # one second after those answers


def test_an_answer_that_comes_back_late_does_not_push_the_next_turn_back() -> None:
    """Turns are spaced from when they were given: spaced from their answers, every turn
    would also wait out a round trip, and a batch would fall short of its quota."""
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock, sleep=clock.sleep, margin=0.0)
    first = pacer.wait("query")
    clock.now += 0.03  # the answer's round trip
    first.done()
    assert clock.now + pacer.reserve("query") == pytest.approx(1000.05)


def test_turns_given_earlier_are_never_overtaken() -> None:
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock)
    instants = []
    for step in range(60):
        clock.now += 0.01 * (step % 3)  # callers arrive unevenly
        instants.append(clock.now + pacer.reserve("query"))
    assert instants == sorted(instants)


def test_a_model_with_its_own_quota_gets_two_creations_a_second() -> None:
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock, margin=0.0)
    instants = turn_instants(pacer, clock, 6, "create", "wan2.1-vace-plus")
    assert instants == [1000.0, 1000.5, 1001.0, 1001.5, 1002.0, 1002.5]


def test_a_model_without_a_quota_and_an_empty_quota_never_wait() -> None:
    clock = FakeClock()
    assert (
        turn_instants(Pacer(DASHSCOPE_LIKE, clock=clock), clock, 50, "create", "wan2.7-videoedit")
        == [1000.0] * 50
    )
    assert turn_instants(Pacer(Quotas(), clock=clock), clock, 50, "query") == [1000.0] * 50


def test_turns_freed_by_time_passing_are_given_at_once() -> None:
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock, margin=0.0)
    turn_instants(pacer, clock, 20, "query")
    clock.now += 1.0
    assert pacer.reserve("query") == 0.0


def test_wait_sleeps_exactly_until_the_turn_and_only_when_it_must() -> None:
    clock = FakeClock()
    pacer = Pacer(Quotas(queries_per_second=2), clock=clock, sleep=clock.sleep, margin=0.0)
    for _ in range(5):
        pacer.wait("query")
    assert clock.slept == [pytest.approx(0.5)] * 4
    assert clock.now == pytest.approx(1002.0)


def test_threads_reserving_at_once_never_pass_the_quota() -> None:
    clock = FakeClock()
    pacer = Pacer(DASHSCOPE_LIKE, clock=clock, margin=0.0)
    instants: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            at = clock.now + pacer.reserve("query")
            with lock:
                instants.append(at)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(instants) == 200
    assert most_in_any_window(sorted(instants), 1.0) == 20
    assert max(instants) == pytest.approx(1009.95)  # 200 turns, 20 a second: none lost


def test_running_slots_hold_at_most_the_models_quota_first_come_first_served() -> None:
    pacer = Pacer(DASHSCOPE_LIKE)
    holding: list[int] = []
    entered: list[int] = []
    peak = 0

    async def row(number: int, release: anyio.Event) -> None:
        nonlocal peak
        async with pacer.slot("wan2.1-vace-plus"):
            entered.append(number)
            holding.append(number)
            peak = max(peak, len(holding))
            await release.wait()
            holding.remove(number)

    async def main() -> None:
        releases = [anyio.Event() for _ in range(6)]
        async with anyio.create_task_group() as group:
            for number, release in enumerate(releases):
                group.start_soon(row, number, release)
                await anyio.sleep(0)  # each row asks in turn
            for number, release in enumerate(releases):
                while number not in entered:
                    await anyio.sleep(0)
                assert len(holding) <= 2
                release.set()

    anyio.run(main)
    assert peak == 2
    assert entered == [0, 1, 2, 3, 4, 5]


def test_a_model_without_a_running_quota_holds_no_slot() -> None:
    pacer = Pacer(DASHSCOPE_LIKE)
    inside = 0

    async def row() -> None:
        nonlocal inside
        async with pacer.slot("wan2.7-videoedit"):
            inside += 1
            await anyio.sleep(0)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(row)

    anyio.run(main)
    assert inside == 50


@pytest.mark.parametrize(
    ("field", "value"),
    [("queries_per_second", 0), ("creates_per_second", -1), ("running", 1.5), ("running", True)],
)
def test_a_quota_that_is_no_whole_number_is_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"Quotas.{field}: must be a whole number >= 1"):
        Quotas(**{field: value})  # type: ignore[arg-type]
