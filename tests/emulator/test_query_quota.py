"""DashScope's task-query quota on the emulator: 20 queries a second per account (per key).

Time is a ManualClock, so nothing here waits: the clock is moved by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.server import DEFAULT_API_KEY, EmulatorServer

SINGAPORE = "dashscope-singapore"


@pytest.fixture(scope="module")
def quota_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(task_queries_per_second=20) as server:
        yield server


@pytest.fixture
def clock(quota_server: EmulatorServer) -> Iterator[ManualClock]:
    quota_server.reset()
    yield quota_server.engine.use_clock(ManualClock())  # type: ignore[misc]
    quota_server.reset()


def query(
    server: EmulatorServer, task_id: str = "no-such-task", key: str = DEFAULT_API_KEY
) -> httpx.Response:
    return httpx.get(
        f"{server.base_url(SINGAPORE)}/tasks/{task_id}",
        headers={"Authorization": f"Bearer {key}"},
        trust_env=False,
    )


def test_the_21st_query_in_a_second_gets_dashscopes_429(
    quota_server: EmulatorServer, clock: ManualClock
) -> None:
    answers = [query(quota_server) for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [200] * 20
    refused = answers[20]
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"request_id", "code", "message"}
    assert body["code"] == "Throttling.RateQuota"
    assert body["message"] == "Requests rate limit exceeded, please try again later."
    assert refused.headers["Retry-After"] == "1"


def test_queries_come_back_once_their_second_has_passed(
    quota_server: EmulatorServer, clock: ManualClock
) -> None:
    assert [query(quota_server).status_code for _ in range(21)][-1] == 429
    clock.advance(0.5)
    assert query(quota_server).status_code == 429
    clock.advance(0.5)
    assert [query(quota_server).status_code for _ in range(21)] == [200] * 20 + [429]


def test_each_key_is_an_account_of_its_own(
    quota_server: EmulatorServer, clock: ManualClock
) -> None:
    codes = [
        query(quota_server, key=key).status_code for key in ("key-a", "key-b") for _ in range(20)
    ]
    assert codes == [200] * 40


def test_creations_are_not_task_queries(quota_server: EmulatorServer, clock: ManualClock) -> None:
    for _ in range(20):
        query(quota_server)
    created = httpx.post(
        quota_server.base_url(SINGAPORE) + "/services/aigc/video-generation/video-synthesis",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "X-DashScope-Async": "enable"},
        json={
            "model": "wan2.7-videoedit",
            "input": {"media": [{"type": "video", "url": "https://example.com/in.mp4"}]},
            "parameters": {"resolution": "720P", "duration": 2},
        },
        trust_env=False,
    )
    assert created.status_code == 200


def test_the_quota_is_off_unless_configured(emulator: EmulatorServer) -> None:
    assert EmulatorConfig().task_queries_per_second is None
    codes = {query(emulator).status_code for _ in range(30)}
    assert codes == {200}


def test_a_quota_that_is_no_positive_integer_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="task_queries_per_second: must be an integer >= 1"):
        EmulatorConfig(task_queries_per_second=0)
