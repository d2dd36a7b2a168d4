"""The task lifecycle on the DashScope routes: query, progression, cancel, list, expiry.

Progression modes are driven through the per-request header ``X-Emulator-Progression`` and the
control plane; time through a ManualClock swapped into the engine, so nothing here sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_wire import OSS, TIME, DashScopeWire, error_of, wan27_body

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.server import EmulatorServer

UTC8 = timezone(timedelta(hours=8))
POLLS = "X-Emulator-Progression"


def statuses(
    wire: DashScopeWire, task_id: str, n: int, before_last: Callable[[], Any] | None = None
) -> list[str]:
    seen = []
    for i in range(n):
        if i == n - 1 and before_last is not None:
            before_last()
        seen.append(wire.output(task_id)["task_status"])
    return seen


# -- query ----------------------------------------------------------------------------------------
def test_a_succeeded_task_answers_every_documented_field(wire: DashScopeWire) -> None:
    task_id = wire.submit(wan27_body(prompt="claymation"))
    body = wire.finished(task_id)
    assert set(body) == {"request_id", "output", "usage"}
    output = body["output"]
    assert set(output) == {
        "task_id", "task_status", "submit_time", "scheduled_time", "end_time", "orig_prompt",
        "video_url", "emulator_note",
    }  # fmt: skip
    assert output["task_id"] == task_id
    assert output["task_status"] == "SUCCEEDED"
    assert output["orig_prompt"] == "claymation"
    for name in ("submit_time", "scheduled_time", "end_time"):
        assert TIME.match(output[name]), output[name]
    assert output["submit_time"] <= output["scheduled_time"] <= output["end_time"]
    assert re.match(
        rf"^{re.escape(wire.server.url)}/oss/dashscope-result/{task_id}\.mp4\?Expires=\d+&OSSAccessKeyId=\w+&Signature=\S+$",
        output["video_url"],
    )
    assert body["usage"] == {
        "duration": 4.0,
        "input_video_duration": 2.0,
        "output_video_duration": 2.0,
        "video_count": 1,
        "SR": 720,
    }


def test_timestamps_are_utc_plus_8_wall_time_with_milliseconds(wire: DashScopeWire) -> None:
    moment = datetime(2026, 4, 3, 0, 8, 3, 576000, tzinfo=UTC8)
    wire.server.engine.use_clock(ManualClock(moment.timestamp()))
    task_id = wire.submit()
    assert wire.output(task_id)["submit_time"] == "2026-04-03 00:08:03.576"


def test_the_result_link_expires_when_the_task_ends_plus_24_hours(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(ManualClock(1_800_000_000.25))
    task_id = wire.submit()
    url = wire.finished(task_id)["output"]["video_url"]
    expires = int(httpx.URL(url).params["Expires"])
    assert expires == int(clock.now() + 24 * 3600)


def test_an_unknown_id_is_status_unknown(wire: DashScopeWire) -> None:
    response = wire.query("no-such-task")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "output"}
    assert body["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"}


def test_a_task_is_unknown_in_the_other_region(wire: DashScopeWire, sg_wire: DashScopeWire) -> None:
    task_id = wire.submit()
    assert sg_wire.output(task_id) == {"task_id": task_id, "task_status": "UNKNOWN"}
    assert wire.output(task_id)["task_status"] in ("RUNNING", "SUCCEEDED")


def test_query_needs_a_key(wire: DashScopeWire) -> None:
    task_id = wire.submit()
    assert error_of(wire.query(task_id, key=""))[:2] == (401, "InvalidApiKey")


def test_a_remote_input_is_not_fetched_and_the_output_says_so(wire: DashScopeWire) -> None:
    task_id = wire.submit(wan27_body("https://example.invalid/clip.mp4", duration=0))
    body = wire.finished(task_id)
    assert body["output"]["task_status"] == "SUCCEEDED"
    assert body["output"]["emulator_note"] == (
        "input.media[0].url was not fetched: example.invalid is not on this machine and the "
        "emulator never uses the internet; a test pattern stands in for it"
    )
    # duration 0 of an unknown input: the test pattern's 5 s
    assert body["usage"]["input_video_duration"] == 5.0
    assert body["usage"]["output_video_duration"] == 5.0


# -- progression --------------------------------------------------------------------------------------
def test_immediate_progression_is_never_seen_pending(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "immediate"})
    assert wire.output(task_id)["task_status"] in ("RUNNING", "SUCCEEDED")
    assert wire.finished(task_id)["output"]["task_status"] == "SUCCEEDED"


def test_polls_3_answers_pending_running_succeeded(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=3"})
    drain = lambda: wire.server.engine.drain(timeout=60)  # noqa: E731
    assert statuses(wire, task_id, 3, before_last=drain) == ["PENDING", "RUNNING", "SUCCEEDED"]


def test_polls_1_ends_on_the_first_query(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=1"})
    wire.server.engine.drain(timeout=60)
    assert wire.output(task_id)["task_status"] == "SUCCEEDED"


def test_polls_5_is_pending_twice_then_running_twice(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=5"})
    drain = lambda: wire.server.engine.drain(timeout=60)  # noqa: E731
    assert statuses(wire, task_id, 5, before_last=drain) == [
        "PENDING", "PENDING", "RUNNING", "RUNNING", "SUCCEEDED",
    ]  # fmt: skip


def test_a_due_task_stays_running_until_its_mp4_exists(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    import threading

    gate = threading.Event()
    engine = emulator.engine
    real = engine.renderer

    def slow(job: Any, out: Path) -> Any:
        gate.wait(30)
        return real(job, out)

    engine.renderer = slow
    try:
        wire = DashScopeWire(emulator, http=http)
        task_id = wire.submit(headers={POLLS: "polls=1"})
        first = wire.output(task_id)
        assert first["task_status"] == "RUNNING"
        assert "end_time" not in first
        gate.set()
        assert wire.finished(task_id)["output"]["task_status"] == "SUCCEEDED"
    finally:
        gate.set()
        engine.renderer = real


def test_seconds_progression_follows_the_clock(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(ManualClock(1_800_000_000.0))
    task_id = wire.submit(headers={POLLS: "seconds=10"})
    assert wire.output(task_id)["task_status"] == "PENDING"
    clock.advance(4.9)
    assert wire.output(task_id)["task_status"] == "PENDING"
    clock.advance(0.1)
    running = wire.output(task_id)
    assert running["task_status"] == "RUNNING"
    clock.advance(5)
    done = wire.finished(task_id)["output"]
    assert done["task_status"] == "SUCCEEDED"
    start = datetime.fromtimestamp(1_800_000_000.0, UTC8)
    assert done["scheduled_time"] == (start + timedelta(seconds=5)).strftime(
        "%Y-%m-%d %H:%M:%S.000"
    )
    assert done["end_time"] == (start + timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M:%S.000")


def test_the_default_progression_is_set_on_the_control_plane(wire: DashScopeWire) -> None:
    response = wire.http.put(
        wire.server.url + "/_emulator/progression", json={"progression": "polls=2"}
    )
    assert response.json() == {"progression": "polls=2"}
    task_id = wire.submit()
    wire.server.engine.drain(timeout=60)
    assert statuses(wire, task_id, 2) == ["PENDING", "SUCCEEDED"]


def test_a_tasks_progression_is_set_on_the_control_plane(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=100"})
    assert wire.output(task_id)["task_status"] == "PENDING"
    response = wire.http.post(
        f"{wire.server.url}/_emulator/tasks/{task_id}/progression", json={"progression": "polls=1"}
    )
    assert response.status_code == 200
    assert response.json()["progression"] == "polls=1"
    wire.server.engine.drain(timeout=60)
    assert wire.output(task_id)["task_status"] == "SUCCEEDED"


@pytest.mark.parametrize("spec", ["polls=0", "polls", "seconds=-1", "sometimes", "immediate=3"])
def test_a_malformed_progression_header_is_a_400_naming_it(wire: DashScopeWire, spec: str) -> None:
    status, code, message = error_of(wire.create(wan27_body(), headers={POLLS: spec}))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("X-Emulator-Progression is invalid: progression")


# -- failures -------------------------------------------------------------------------------------------
def test_the_fail_header_ends_the_task_failed_with_that_code(wire: DashScopeWire) -> None:
    headers = {
        "X-Emulator-Fail": "DataInspectionFailed: Input data may contain inappropriate content."
    }
    task_id = wire.submit(headers=headers)
    body = wire.query(task_id).json()
    assert set(body) == {"request_id", "output"}  # no usage: failed tasks are free
    output = body["output"]
    assert output["task_status"] == "FAILED"
    assert output["code"] == "DataInspectionFailed"
    assert output["message"] == "Input data may contain inappropriate content."
    assert "video_url" not in output
    assert TIME.match(output["end_time"])


def test_a_task_made_to_fail_on_the_control_plane_fails_when_due(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=2"})
    response = wire.http.post(
        f"{wire.server.url}/_emulator/tasks/{task_id}/fail",
        json={"code": "Arrearage", "message": "overdue"},
    )
    assert response.status_code == 200
    assert statuses(wire, task_id, 2) == ["PENDING", "FAILED"]
    assert wire.output(task_id)["code"] == "Arrearage"


def test_an_unknown_oss_key_fails_the_task_like_a_failed_download(wire: DashScopeWire) -> None:
    url = "oss://dashscope-instant/abc/2026-04-03/0000/clip.mp4"
    task_id = wire.submit(wan27_body(url), headers=OSS)
    output = wire.output(task_id)
    assert output["task_status"] == "FAILED"
    assert output["code"] == "InvalidParameter"
    assert output["message"] == (
        f"Failed to download input.media[0].url ({url}): {url} is not a file uploaded to this emulator"
    )


def test_a_render_error_fails_the_task_with_internal_error(http: httpx.Client) -> None:
    def broken(job: Any, out: Path) -> Any:
        raise RuntimeError("ffmpeg exploded")

    with EmulatorServer(engine=TaskEngine(renderer=broken)) as server:
        wire = DashScopeWire(server, http=http)
        task_id = wire.submit()
        output = wire.finished(task_id)["output"]
        assert output["task_status"] == "FAILED"
        assert output["code"] == "InternalError"
        assert output["message"] == (
            "The emulator failed to render the stand-in video: RuntimeError: ffmpeg exploded"
        )


# -- cancel -----------------------------------------------------------------------------------------------
def test_a_pending_task_can_be_canceled(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=3"})
    response = wire.cancel(task_id)
    assert response.status_code == 200
    assert set(response.json()) == {"request_id"}
    output = wire.output(task_id)
    assert output["task_status"] == "CANCELED"
    assert TIME.match(output["end_time"])
    assert "video_url" not in output


CANCEL_REFUSED = "Failed to cancel the task, please confirm if the task is in PENDING status."


@pytest.mark.parametrize(("polls", "queries", "status"), [(3, 2, "RUNNING"), (1, 1, "SUCCEEDED")])
def test_only_a_pending_task_can_be_canceled(
    wire: DashScopeWire, polls: int, queries: int, status: str
) -> None:
    task_id = wire.submit(headers={POLLS: f"polls={polls}"})
    wire.server.engine.drain(timeout=60)
    for _ in range(queries):
        wire.output(task_id)
    assert error_of(wire.cancel(task_id)) == (
        400,
        "UnsupportedOperation",
        f"{CANCEL_REFUSED} (task {task_id} is {status})",
    )
    assert wire.server.engine.get(task_id, poll=False).status.value == status


def test_a_canceled_task_cannot_be_canceled_again(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=3"})
    assert wire.cancel(task_id).status_code == 200
    assert error_of(wire.cancel(task_id))[:2] == (400, "UnsupportedOperation")


def test_canceling_an_unknown_task_is_refused(wire: DashScopeWire) -> None:
    assert error_of(wire.cancel("nope")) == (
        400,
        "UnsupportedOperation",
        f"{CANCEL_REFUSED} (task nope is UNKNOWN)",
    )


# -- expiry ------------------------------------------------------------------------------------------------
def test_a_task_is_unknown_after_24_hours_and_its_link_is_refused(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(ManualClock())
    task_id = wire.submit()
    url = wire.finished(task_id)["output"]["video_url"]
    assert wire.http.get(url).status_code == 200
    clock.advance(24 * 3600 - 1)
    assert wire.output(task_id)["task_status"] == "SUCCEEDED"
    clock.advance(2)
    assert wire.output(task_id) == {"task_id": task_id, "task_status": "UNKNOWN"}
    expired = wire.http.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text
    assert "<Message>Request has expired.</Message>" in expired.text


def test_task_lifetime_is_configurable(http: httpx.Client) -> None:
    clock = ManualClock()
    with EmulatorServer(task_ttl=60, clock=clock) as server:
        wire = DashScopeWire(server, http=http)
        task_id = wire.submit(headers={POLLS: "polls=5"})
        clock.advance(59)
        assert wire.output(task_id)["task_status"] == "PENDING"
        clock.advance(1)
        assert wire.output(task_id)["task_status"] == "UNKNOWN"
        assert wire.list().json()["total"] == 0


# -- list --------------------------------------------------------------------------------------------------
def test_list_pages_newest_first_with_totals(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(ManualClock(1_800_000_000.0))
    ids = []
    for _ in range(5):
        ids.append(wire.submit(headers={POLLS: "polls=9"}))
        clock.advance(1)
    body = wire.list(page_no=2, page_size=2).json()
    assert set(body) == {"request_id", "data", "total", "total_page", "page_no", "page_size"}
    assert (body["total"], body["total_page"], body["page_no"], body["page_size"]) == (5, 3, 2, 2)
    assert [item["task_id"] for item in body["data"]] == [ids[2], ids[1]]
    item = body["data"][0]
    assert item["task_status"] == item["status"] == "PENDING"
    assert item["model_name"] == "wan2.7-videoedit"
    assert item["region"] == "cn-beijing"
    assert item["gmt_create"] == round((1_800_000_000.0 + 2) * 1000)
    assert TIME.match(item["submit_time"])


def test_listing_does_not_count_as_a_poll(wire: DashScopeWire) -> None:
    task_id = wire.submit(headers={POLLS: "polls=2"})
    for _ in range(3):
        wire.list()
    assert wire.output(task_id)["task_status"] == "PENDING"


def test_list_filters_by_status_model_and_time(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(
        ManualClock(datetime(2026, 4, 3, 10, 0, tzinfo=UTC8).timestamp())
    )
    early = wire.submit(headers={POLLS: "polls=9"})
    clock.advance(3600)
    late = wire.submit(headers={"X-Emulator-Fail": "InternalError"})
    wire.output(late)

    def ids(**params: Any) -> list[str]:
        response = wire.list(**params)
        assert response.status_code == 200, response.text
        return [item["task_id"] for item in response.json()["data"]]

    assert ids(status="PENDING") == [early]
    assert ids(status="failed") == [late]
    assert ids(model_name="wan2.7-videoedit") == [late, early]
    assert ids(model_name="wan2.1-vace-plus") == []
    assert ids(start_time="20260403103000") == [late]
    assert ids(end_time="20260403103000") == [early]
    assert ids(start_time="20260403090000", end_time="20260403120000") == [late, early]


def test_list_shows_only_this_regions_tasks(wire: DashScopeWire, sg_wire: DashScopeWire) -> None:
    beijing = wire.submit()
    singapore = sg_wire.submit()
    assert [i["task_id"] for i in wire.list().json()["data"]] == [beijing]
    singapore_items = sg_wire.list().json()["data"]
    assert [i["task_id"] for i in singapore_items] == [singapore]
    assert singapore_items[0]["region"] == "ap-southeast-1"


@pytest.mark.parametrize(
    ("params", "message_start"),
    [
        ({"page_no": 0}, "page_no must be in [1, 1000000], got 0"),
        ({"page_size": 101}, "page_size must be in [1, 100], got 101"),
        ({"page_size": "ten"}, "page_size must be an integer, got 'ten'"),
        (
            {"start_time": "2026-04-03"},
            "start_time must be a time formatted YYYYMMDDhhmmss (UTC+8), got '2026-04-03'",
        ),
        (
            {"end_time": "202604031200"},
            "end_time must be a time formatted YYYYMMDDhhmmss (UTC+8), got '202604031200'",
        ),
        (
            {"start_time": "20260404000000", "end_time": "20260403000000"},
            "start_time must not be after end_time",
        ),
        (
            {"status": "DONE"},
            "status must be one of CANCELED, FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN, got 'DONE'",
        ),
    ],
)
def test_bad_list_parameters_are_400s_naming_them(
    wire: DashScopeWire, params: dict[str, Any], message_start: str
) -> None:
    status, code, message = error_of(wire.list(**params))
    assert (status, code) == (400, "InvalidParameter")
    assert message == message_start


def test_an_unknown_path_answers_invalid_url(wire: DashScopeWire) -> None:
    response = wire.http.get(wire.base + "/services/aigc/text-generation/generation")
    assert error_of(response) == (404, "InvalidURL", "url error, please check url!")
