"""An AsyncClient keeps its HTTP requests under way at once bounded.

Hundreds of ``edit`` calls gathered at once are the normal way to use the emulator in CI.
Queued in httpx's connection pool, each waiting request is re-examined against every
connection whenever one finishes; queued on the client's own semaphore, waiting costs
nothing. Every request still runs, in the order it asked.
"""

from __future__ import annotations

import anyio
import httpx
import pytest

from videoedit import AsyncClient
from videoedit.client import MAX_IN_FLIGHT

TASK = {"request_id": "r", "output": {"task_id": "t", "task_status": "RUNNING"}}


class CountingTransport(httpx.AsyncBaseTransport):
    """Answers every query after a short pause; records how many were under way at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.served = 0
        self.per_task: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await anyio.sleep(0.01)
        finally:
            self.now -= 1
        self.served += 1
        task_id = request.url.path.rsplit("/", 1)[-1]
        self.per_task[task_id] = self.per_task.get(task_id, 0) + 1
        return httpx.Response(200, json={**TASK, "output": {**TASK["output"], "task_id": task_id}})


@pytest.mark.anyio
async def test_a_hundred_concurrent_queries_run_at_most_max_in_flight_at_once() -> None:
    transport = CountingTransport()
    async with AsyncClient(
        "dashscope-beijing",
        api_key="sk-test",
        base_url="http://127.0.0.1:9/api/v1",
        transport=transport,
    ) as client:
        results: dict[int, str] = {}

        async def one(i: int) -> None:
            results[i] = (await client.status(f"task-{i}")).task_id

        async with anyio.create_task_group() as group:
            for i in range(100):
                group.start_soon(one, i)

    assert transport.served == 100
    assert results == {i: f"task-{i}" for i in range(100)}
    assert transport.most == MAX_IN_FLIGHT


@pytest.mark.anyio
async def test_waiting_between_polls_holds_no_slot() -> None:
    """A wait sleeping between polls must not keep others from polling."""
    transport = CountingTransport()
    async with AsyncClient(
        "dashscope-beijing",
        api_key="sk-test",
        base_url="http://127.0.0.1:9/api/v1",
        transport=transport,
    ) as client:
        # A second, not half: under a loaded full run the waits queued behind the first
        # MAX_IN_FLIGHT started one poll late and the count of three was a race.
        with anyio.move_on_after(1.0):
            async with anyio.create_task_group() as group:
                for i in range(MAX_IN_FLIGHT * 2):
                    group.start_soon(client.wait, f"task-{i}")
    # every wait polled again and again in a second: sleeping waits held no slot
    assert len(transport.per_task) == MAX_IN_FLIGHT * 2
    assert min(transport.per_task.values()) >= 3
