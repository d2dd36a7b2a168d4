"""A batch honours the account's quotas by itself: no 429 from an emulator that enforces them.

The emulator here enforces DashScope's 20 task queries a second per key; a dozen tasks that
each take a second, polled on the loopback schedule (up to 100 polls a second), would pass
that quota many times over. The journal is the witness: every request the batch made, and
the status it got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from videoedit import AsyncClient
from videoedit.batch import Batch
from videoedit.batch_report import RowState
from videoedit.manifest import read_manifest
from videoedit.pacing import Pacer
from videoedit.provider import Quotas
from videoedit_emulator.engine.config import Progression
from videoedit_emulator.server import EmulatorServer

PROVIDER = "dashscope-singapore"
ROWS = 12


@pytest.fixture(scope="module")
def quota_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        task_queries_per_second=20, progression=Progression.after_seconds(1)
    ) as server:
        yield server


@pytest.fixture
def server(quota_server: EmulatorServer) -> Iterator[EmulatorServer]:
    quota_server.reset()
    yield quota_server
    quota_server.reset()


def run_batch(server: EmulatorServer, folder: Path, pacer: Pacer | None) -> list[RowState]:
    manifest_path = folder / "edits.jsonl"
    manifest_path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"r{n}",
                    "video": "https://example.invalid/in.mp4",
                    "prompt": f"ink {n}",
                    "duration": 2,
                }
            )
            + "\n"
            for n in range(ROWS)
        )
    )
    manifest = read_manifest(manifest_path, provider=PROVIDER)
    client = AsyncClient(
        PROVIDER, base_url=server.base_url(PROVIDER), api_key="sk-quota", ledger=folder / "e.ledger"
    )
    try:
        report = Batch(client, manifest, concurrency=ROWS, pacer=pacer).run()
    finally:
        client._close_ledger()
    return [row.state for row in report.rows]


def statuses(server: EmulatorServer, route: str) -> list[int | None]:
    return [entry.status for entry in server.journal.entries(route=route)]


def test_a_batch_paced_by_the_providers_quotas_meets_no_429(
    server: EmulatorServer, tmp_path: Path
) -> None:
    states = run_batch(server, tmp_path, pacer=None)  # the default: Provider.quotas

    assert states == [RowState.SUCCEEDED] * ROWS
    polls = statuses(server, "status")
    assert len(polls) > ROWS  # tasks were polled while they ran, not once each at the end
    assert 429 not in polls
    assert statuses(server, "create") == [200] * ROWS


def test_the_same_batch_without_pacing_bounces_off_the_quota(
    server: EmulatorServer, tmp_path: Path
) -> None:
    """What the test above would see if the batch did not pace itself: the quota is real."""
    states = run_batch(server, tmp_path, pacer=Pacer(Quotas()))

    assert states == [RowState.SUCCEEDED] * ROWS  # the retry policy absorbs what comes
    assert 429 in statuses(server, "status")
