"""wan2.1-vace-plus quotas on the emulator: 2 task submissions per second, 2 tasks at once.

Time is a ManualClock, so nothing here waits: the clock is moved by hand.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from videoedit import RateLimitError, RetryPolicy, TaskStatus
from videoedit_emulator.clock import ManualClock
from videoedit_emulator.config import EmulatorConfig, Progression
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.models import ModelRegistry
from videoedit_emulator.models.vace import VaceLimits, VacePlus
from videoedit_emulator.models.wan27 import Wan27VideoEdit
from videoedit_emulator.server import DEFAULT_API_KEY, EmulatorServer
from videoedit_vace import ImageReference

CREATE = "/services/aigc/video-generation/video-synthesis"
MODEL = {"dashscope-singapore": "wan2.1-vace-plus", "dashscope-beijing": "wanx2.1-vace-plus"}


def _tiny_png() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    rows = (b"\x00" + b"\xe0\x60\x20" * 16) * 16
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    png += chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


PNG = _tiny_png()


def body(provider: str = "dashscope-singapore") -> dict[str, Any]:
    """A cheap task: one inline image, a 64×48 output."""
    return {
        "model": MODEL[provider],
        "input": {"function": "image_reference", "ref_images_url": [PNG]},
        "parameters": {"obj_or_bg": ["obj"], "size": "64*48"},
    }


def create(
    server: EmulatorServer,
    provider: str = "dashscope-singapore",
    payload: dict[str, Any] | None = None,
    progression: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}", "X-DashScope-Async": "enable"}
    if progression:
        headers["X-Emulator-Progression"] = progression
    return httpx.post(
        server.base_url(provider) + CREATE,
        json=payload or body(provider),
        headers=headers,
        trust_env=False,
    )


def status(server: EmulatorServer, task_id: str) -> str:
    response = httpx.get(
        f"{server.base_url('dashscope-singapore')}/tasks/{task_id}",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        trust_env=False,
    )
    return str(response.json()["output"]["task_status"])


@pytest.fixture
def clock(emulator: EmulatorServer) -> ManualClock:
    """The shared emulator on a clock that moves only when told (reset puts the real one back)."""
    return emulator.engine.use_clock(ManualClock())  # type: ignore[return-value]


# -- 2 submissions per second ------------------------------------------------------------------
def test_a_third_submission_within_a_second_is_throttled(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    first, second, third = (create(emulator) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert third.json()["code"] == "Throttling.RateQuota"
    assert third.json()["message"] == "Requests rate limit exceeded, please try again later."
    assert third.headers["Retry-After"] == "1"


def test_the_next_second_takes_submissions_again(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    assert [create(emulator).status_code for _ in range(3)] == [200, 200, 429]
    clock.advance(0.5)
    assert create(emulator).status_code == 429
    clock.advance(0.5)
    assert [create(emulator).status_code for _ in range(3)] == [200, 200, 429]


def test_each_region_counts_its_own_submissions(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    codes = [create(emulator, p).status_code for p in MODEL for _ in range(2)]
    assert codes == [200, 200, 200, 200]


def test_a_refused_request_is_not_a_submission(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    bad = {**body(), "parameters": {"obj_or_bg": ["obj"], "size": "huge"}}
    assert [create(emulator, payload=bad).status_code for _ in range(3)] == [400, 400, 400]
    assert [create(emulator).status_code for _ in range(2)] == [200, 200]


def test_wan27_has_no_such_quota(emulator: EmulatorServer, clock: ManualClock) -> None:
    wan27 = {
        "model": "wan2.7-videoedit",
        "input": {"media": [{"type": "video", "url": "https://example.com/in.mp4"}]},
        "parameters": {"resolution": "720P", "duration": 2},
    }
    codes = [create(emulator, payload=wan27).status_code for _ in range(3)]
    assert codes == [200, 200, 200]


def test_our_client_reports_the_throttle_with_its_retry_after(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    client = emulator.client("dashscope-singapore", retry=RetryPolicy(max_attempts=1))
    request = ImageReference(ref_images_url=[PNG], obj_or_bg=["obj"], size="64*48")
    with client:
        client.submit(request)
        client.submit(request)
        with pytest.raises(RateLimitError) as exc:
            client.submit(request)
    assert exc.value.code == "Throttling.RateQuota"
    assert exc.value.retry_after == 1.0


# -- 2 tasks at once ---------------------------------------------------------------------------
def test_a_third_task_waits_pending_until_a_running_one_ends(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    emulator.engine.set_default_progression(Progression.after_seconds(10))
    a, b = (create(emulator).json()["output"]["task_id"] for _ in range(2))
    clock.advance(1)
    c = create(emulator).json()["output"]["task_id"]
    assert emulator.engine.drain(timeout=60)

    clock.advance(5)  # t=6: A and B are half way; C would be too, but has no slot
    assert status(emulator, c) == "PENDING"
    assert [status(emulator, a), status(emulator, b)] == ["RUNNING", "RUNNING"]
    clock.advance(5)  # t=11: A and B are done; C's processing starts now
    assert [status(emulator, a), status(emulator, b)] == ["SUCCEEDED", "SUCCEEDED"]
    assert status(emulator, c) == "PENDING"
    clock.advance(5)
    assert status(emulator, c) == "RUNNING"
    clock.advance(5)
    assert status(emulator, c) == "SUCCEEDED"
    view = emulator.engine.get(c, poll=False)
    assert view.scheduled_at == pytest.approx(view.submitted_at + 10 + 5)


def test_a_waiting_task_can_be_canceled(emulator: EmulatorServer, clock: ManualClock) -> None:
    emulator.engine.set_default_progression(Progression.after_seconds(10))
    for _ in range(2):
        create(emulator)
    clock.advance(1)
    waiting = create(emulator).json()["output"]["task_id"]
    clock.advance(6)
    assert status(emulator, waiting) == "PENDING"
    canceled = emulator.engine.cancel(waiting, "dashscope-singapore")
    assert canceled.status is TaskStatus.CANCELED


@pytest.fixture
def unthrottled() -> Iterator[EmulatorServer]:
    """An emulator whose vace handler has no submission rate and 2 slots (the knob)."""
    handler = VacePlus(limits=VaceLimits(submissions_per_second=None, concurrent=2))
    engine = TaskEngine(
        EmulatorConfig(clock=ManualClock(), progression=Progression.after_seconds(10)),
        registry=ModelRegistry([Wan27VideoEdit(), handler]),
    )
    with EmulatorServer(engine=engine) as server:
        yield server


def test_waiting_tasks_start_first_come_first_served(unthrottled: EmulatorServer) -> None:
    clock = unthrottled.engine.clock
    assert isinstance(clock, ManualClock)
    quick = create(unthrottled).json()["output"]["task_id"]
    slow = create(unthrottled, progression="seconds=30").json()["output"]["task_id"]
    third, fourth = (create(unthrottled).json()["output"]["task_id"] for _ in range(2))
    assert unthrottled.engine.drain(timeout=60)
    clock.advance(10)  # the quick one ends, the slow one runs on: one slot is free
    assert status(unthrottled, quick) == "SUCCEEDED"
    assert status(unthrottled, fourth) == "PENDING"  # asked first, but queued behind the third
    assert status(unthrottled, third) == "PENDING"  # its processing starts now
    clock.advance(6)
    assert [status(unthrottled, third), status(unthrottled, fourth)] == ["RUNNING", "PENDING"]
    assert status(unthrottled, slow) == "RUNNING"


def test_limits_can_be_lifted(unthrottled: EmulatorServer) -> None:
    """With no submission rate configured, a burst of creations is taken."""
    codes = [create(unthrottled).status_code for _ in range(5)]
    assert codes == [200] * 5
