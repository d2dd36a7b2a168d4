"""wan2.1-vace-plus quotas on the emulator: 2 task submissions per second, 2 tasks at once.

A waiting task takes a slot the instant one frees (a task ends on its own schedule, polled or
not), and reading the control plane changes nothing a client sees.
Time is a ManualClock, so nothing here waits: the clock is moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from emulator_wire import DashScopeWire
from render_media import tiny_png_uri

from videoedit import Client, RateLimitError, RetryPolicy, TaskStatus
from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import EmulatorConfig, Progression
from videoedit_emulator.engine.models import ModelRegistry
from videoedit_emulator.engine.models.vace import VaceLimits, VacePlus
from videoedit_emulator.engine.models.wan27 import Wan27VideoEdit
from videoedit_emulator.server import DEFAULT_API_KEY, EmulatorServer
from videoedit_vace import ImageReference

CREATE = "/services/aigc/video-generation/video-synthesis"
MODEL = {"dashscope-singapore": "wan2.1-vace-plus", "dashscope-beijing": "wanx2.1-vace-plus"}
PNG = tiny_png_uri()
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


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


BEIJING = body("dashscope-beijing")


def seconds_between(output: dict[str, Any], start: str, end: str) -> float:
    """Seconds from one of a query's wire times to another (both UTC+8, to the millisecond)."""
    first = datetime.strptime(output[start], TIME_FORMAT)
    return (datetime.strptime(output[end], TIME_FORMAT) - first).total_seconds()


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


def test_beijings_two_names_count_as_one_model(
    emulator: EmulatorServer, clock: ManualClock
) -> None:
    """Beijing answers to wan2.1-vace-plus (seed 004) and wanx2.1-vace-plus (seed 003) alike."""
    names = ("wan2.1-vace-plus", "wanx2.1-vace-plus", "wan2.1-vace-plus")
    payloads = [{**body("dashscope-beijing"), "model": name} for name in names]
    codes = [create(emulator, "dashscope-beijing", p).status_code for p in payloads]
    assert codes == [200, 200, 429]


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
    clock.advance(5)  # t=11: A and B ended at t=10, and C's processing began then
    assert [status(emulator, a), status(emulator, b)] == ["SUCCEEDED", "SUCCEEDED"]
    assert status(emulator, c) == "PENDING"
    clock.advance(5)
    assert status(emulator, c) == "RUNNING"
    clock.advance(5)
    assert status(emulator, c) == "SUCCEEDED"
    view = emulator.engine.get(c, poll=False)
    assert view.submitted_at is not None
    assert view.scheduled_at is not None
    # submitted at t=1, its slot at t=10, half its 10 s PENDING: it left PENDING at t=15
    assert view.scheduled_at - view.submitted_at == pytest.approx(14, abs=1e-6)


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


def test_a_third_task_waited_on_alone_starts_when_a_slot_frees(
    emulator_client: Callable[..., Client], clock: ManualClock
) -> None:
    """Submit three, wait on the third alone: nobody polls the first two, yet they end."""
    client = emulator_client("dashscope-singapore")
    request = ImageReference(ref_images_url=[PNG], obj_or_bg=["obj"], size="64*48")
    client.submit(request)
    client.submit(request)
    clock.advance(1)  # the next second takes two submissions again
    third = client.submit(request)
    assert third.status is TaskStatus.PENDING
    assert client.wait(third, timeout=120).status is TaskStatus.SUCCEEDED


def test_a_slot_frees_the_instant_its_task_ends_though_nobody_polls_it(
    emulator: EmulatorServer, wire: DashScopeWire, clock: ManualClock
) -> None:
    emulator.engine.set_default_progression("seconds=10")
    wire.submit(BEIJING)
    wire.submit(BEIJING)
    clock.advance(1)
    waiting = wire.submit(BEIJING)
    assert emulator.engine.drain(timeout=60)
    clock.advance(11)  # t=12: the first two ended at t=10, unseen; the third began then
    assert wire.output(waiting)["task_status"] == "PENDING"
    clock.advance(3)  # t=15: half its 10 s
    assert wire.output(waiting)["task_status"] == "RUNNING"
    clock.advance(5)  # t=20
    output = wire.output(waiting)
    assert output["task_status"] == "SUCCEEDED"
    assert seconds_between(output, "submit_time", "scheduled_time") == 14.0
    assert seconds_between(output, "submit_time", "end_time") == 19.0


def test_a_poll_of_the_last_task_moves_the_queue_first_come_first_served(
    emulator: EmulatorServer, wire: DashScopeWire, clock: ManualClock
) -> None:
    """Slots: A (10 s) and B (30 s) at t=0; C and D wait from t=1. A ends at 10 and C, the
    elder, takes its slot; C ends at 20 and D takes it. Only D is ever polled."""
    emulator.engine.set_default_progression("seconds=10")
    first = wire.submit(BEIJING)
    wire.submit(BEIJING, headers={"X-Emulator-Progression": "seconds=30"})
    clock.advance(1)
    elder, last = wire.submit(BEIJING), wire.submit(BEIJING)
    assert emulator.engine.drain(timeout=60)
    clock.advance(20)  # t=21
    assert wire.output(last)["task_status"] == "PENDING"  # in its slot since t=20
    clock.advance(5)  # t=26
    output = wire.output(last)
    assert output["task_status"] == "RUNNING"
    assert seconds_between(output, "submit_time", "scheduled_time") == 24.0
    elder_view = emulator.engine.get(elder, poll=False)
    first_view = emulator.engine.get(first, poll=False)
    assert elder_view.status is TaskStatus.SUCCEEDED
    assert first_view.ended_at is not None
    assert elder_view.scheduled_at is not None
    assert elder_view.scheduled_at - first_view.ended_at == 5.0  # began as A ended, + 5 s


def _queue_as_a_client_sees_it(
    emulator: EmulatorServer, wire: DashScopeWire, *, peek: bool
) -> list[dict[str, Any]]:
    """Four vace tasks, two slots, the client polling only the last; with ``peek``, every
    step also reads the whole control plane."""
    emulator.reset()
    clock = emulator.engine.use_clock(ManualClock(start=1_800_000_000.0))
    assert isinstance(clock, ManualClock)
    emulator.engine.set_default_progression("seconds=10")
    ids = [wire.submit(BEIJING), wire.submit(BEIJING)]
    clock.advance(1)
    ids += [wire.submit(BEIJING), wire.submit(BEIJING)]
    assert emulator.engine.drain(timeout=60)
    seen = []
    for _ in range(12):
        clock.advance(2.5)
        if peek:
            assert wire.http.get(emulator.url + "/_emulator/tasks").status_code == 200
            for task_id in ids:
                assert wire.http.get(f"{emulator.url}/_emulator/tasks/{task_id}").status_code == 200
            assert wire.http.get(emulator.url + "/_emulator/health").status_code == 200
        seen.append(wire.output(ids[-1]))
    outputs = seen + [wire.output(task_id) for task_id in ids]
    # Each run starts with a reset, and a reset signs links with a new secret: compare the
    # links without their signatures.
    return [
        {k: v.split("?")[0] if k == "video_url" else v for k, v in out.items()} for out in outputs
    ]


def test_reading_the_control_plane_changes_nothing_a_client_sees(
    emulator: EmulatorServer, wire: DashScopeWire
) -> None:
    unobserved = _queue_as_a_client_sees_it(emulator, wire, peek=False)
    observed = _queue_as_a_client_sees_it(emulator, wire, peek=True)
    assert observed == unobserved
    assert [o["task_status"] for o in unobserved[-4:]] == ["SUCCEEDED"] * 4


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
