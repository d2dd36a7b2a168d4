"""The client's poll schedule against a loopback emulator (``PollSchedule.fast``).

Two costs pull against each other: a task that ends between two polls is seen late, and
every poll costs the client about a millisecond of CPU. The schedule grows each gap by a
fifth: the end of a task is seen at most about a fifth late, and the number of polls grows
with the logarithm of the wait, so hundreds of edits waiting on one emulator stay cheap.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import anyio
import httpx
import pytest

from videoedit import AsyncClient, PollSchedule


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


TASK = {"request_id": "r", "output": {"task_id": "t", "task_status": "RUNNING"}}


def running_transport(ready: Callable[[], bool]) -> httpx.MockTransport:
    """Every task RUNNING for ever; no answer leaves before ``ready()`` (so that every wait
    can be under way before any of them sleeps)."""

    async def answer(request: httpx.Request) -> httpx.Response:
        while not ready():
            await anyio.sleep(0)
        task_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json={**TASK, "output": {**TASK["output"], "task_id": task_id}})

    return httpx.MockTransport(answer)


def client_recording_sleeps(gaps: list[float], waits: int = 1) -> AsyncClient:
    """An AsyncClient whose waits never finish and whose sleeps are recorded, not slept;
    its first answers wait until ``waits`` waits are under way."""
    client: AsyncClient = AsyncClient(
        "dashscope-beijing",
        api_key="sk-test",
        base_url="http://127.0.0.1:9/api/v1",
        transport=running_transport(lambda: client._ops._waits >= waits),
    )
    client._ops.rng = random.Random(0)

    async def sleep(seconds: float) -> None:
        gaps.append(seconds)
        await anyio.sleep(0)

    client._sleep = sleep  # type: ignore[method-assign]
    return client


@pytest.mark.anyio
async def test_a_single_wait_polls_on_the_schedule_itself() -> None:
    gaps: list[float] = []
    async with client_recording_sleeps(gaps) as client:
        with anyio.move_on_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(client.wait, "task-0")
                while len(gaps) < 10:
                    await anyio.sleep(0)
                group.cancel_scope.cancel()
    expected = list(itertools.islice(PollSchedule.fast().gaps(random.Random(0)), 10))
    assert gaps[:10] == pytest.approx(expected)


@pytest.mark.anyio
async def test_fifty_waits_on_one_client_poll_a_hundred_times_a_second_in_all() -> None:
    gaps: list[float] = []
    async with client_recording_sleeps(gaps, waits=50) as client:
        with anyio.move_on_after(5):
            async with anyio.create_task_group() as group:
                for i in range(50):
                    group.start_soon(client.wait, f"task-{i}")
                while len(gaps) < 50 * 6:
                    await anyio.sleep(0)
                group.cancel_scope.cancel()
    # all fifty wait at once: each sleeps at least 50 / 100 s between its polls
    assert len(gaps) >= 50 * 6
    assert min(gaps) >= 0.5
    assert PollSchedule.fast().per_second == 100


def test_a_cap_that_is_not_positive_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="per_second must be > 0"):
        PollSchedule(per_second=0)
