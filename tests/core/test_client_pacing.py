"""A client with a pacer spends a turn on each creation and each poll, where it sends them.

The pacer runs on a fake clock whose sleep moves it, so the turns waited for are read back
as the sleeps they took; the requests themselves go to the emulator.
"""

from __future__ import annotations

import anyio

import videoedit
from videoedit.pacing import Pacer
from videoedit.provider import Quotas
from videoedit_emulator.server import EmulatorServer

PROVIDER = "dashscope-singapore"
EDIT = videoedit.VideoEdit(video="https://example.invalid/a.mp4", prompt="ink", duration=2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def paced_client(emulator: EmulatorServer, quotas: Quotas, clock: FakeClock) -> videoedit.Client:
    pacer = Pacer(quotas, clock=clock, sleep=clock.sleep, margin=0.0)
    return videoedit.Client(
        PROVIDER, base_url=emulator.base_url(PROVIDER), api_key="sk-pace", pacer=pacer
    )


def test_each_poll_waits_for_a_query_turn(emulator: EmulatorServer) -> None:
    clock = FakeClock()
    with paced_client(emulator, Quotas(queries_per_second=2), clock) as client:
        task = client.submit(EDIT)
        for _ in range(4):
            client.status(task)
    assert clock.slept == [0.5, 0.5, 0.5]  # four queries at two a second: three waits
    assert len(emulator.journal.entries(route="status")) == 4


def test_a_creation_waits_for_its_models_creation_turn(emulator: EmulatorServer) -> None:
    clock = FakeClock()
    quotas = Quotas(models={"wan2.7-videoedit": Quotas(creates_per_second=1)})
    with paced_client(emulator, quotas, clock) as client:
        for prompt in ("ink", "clay", "oil"):
            client.submit(EDIT.model_copy(update={"prompt": prompt}))
            client.status(client.list().tasks[0])  # polls and listings: no query quota here
    assert clock.slept == [1.0, 1.0]
    assert len(emulator.journal.entries(route="create")) == 3


def test_a_429_that_still_comes_is_retried_by_the_retry_policy_and_spends_another_turn(
    emulator: EmulatorServer,
) -> None:
    clock = FakeClock()
    emulator.faults.add_spec("dashscope-singapore/status:rate_limit=0,times=1")
    with paced_client(emulator, Quotas(queries_per_second=1), clock) as client:
        task = client.submit(EDIT)
        assert client.status(task).task_id == task.task_id
    statuses = [e.status for e in emulator.journal.entries(route="status")]
    assert statuses == [429, 200]
    assert clock.slept == [1.0]  # the repeat took a turn of its own


def test_the_async_client_takes_the_same_turns(emulator: EmulatorServer) -> None:
    clock = FakeClock()  # it stands still: the client's awaited sleeps are real ones
    pacer = Pacer(Quotas(queries_per_second=2), clock=clock, margin=0.0)

    async def main() -> float:
        async with videoedit.AsyncClient(
            PROVIDER, base_url=emulator.base_url(PROVIDER), api_key="sk-pace", pacer=pacer
        ) as client:
            task = await client.submit(EDIT)
            for _ in range(3):
                await client.status(task)
        return pacer.reserve("query")

    # three turns were taken (at 0, 0.5 and 1 s): the fourth comes half a second after
    assert anyio.run(main) == 1.5
    assert len(emulator.journal.entries(route="status")) == 3
