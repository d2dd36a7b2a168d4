"""The control plane under /_emulator/: reset, seed, progression, failures, the clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_wire import DashScopeWire, wan27_body

from videoedit_emulator.server import EmulatorServer


class Control:
    """Calls under /_emulator of the test's emulator, on the session's HTTP client."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http, self.base = http, base

    def get(self, path: str) -> httpx.Response:
        return self.http.get(self.base + path)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(self.base + path, **kwargs)


@pytest.fixture
def control(emulator: EmulatorServer, http: httpx.Client) -> Control:
    return Control(http, emulator.url + "/_emulator")


def test_health_reports_the_state(emulator: EmulatorServer, control: Control) -> None:
    body = control.get("/health").json()
    assert body["status"] == "ok"
    assert (body["seed"], body["progression"], body["tasks"]) == (0, "immediate", 0)
    assert "wan2.7-videoedit" in body["models"]


def test_the_root_lists_every_providers_base_url(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    body = http.get(emulator.url + "/").json()
    assert body["base_urls"]["dashscope-beijing"] == emulator.url + "/api/v1"
    assert body["base_urls"]["dashscope-singapore"] == emulator.url + "/intl/api/v1"


def test_reset_forgets_tasks_and_reseeds(wire: DashScopeWire, control: Control) -> None:
    first = wire.submit()
    assert control.post("/reset", json={"seed": 0}).json() == {"status": "reset", "seed": 0}
    assert wire.output(first)["task_status"] == "UNKNOWN"
    assert wire.submit() == first


def test_seed_restarts_the_id_sequence(wire: DashScopeWire, control: Control) -> None:
    control.post("/seed", json={"seed": 5})
    a = wire.submit()
    control.post("/seed", json={"seed": 5})
    assert wire.submit() != a  # same id is taken: the next one is drawn
    control.post("/reset", json={"seed": 5})
    assert wire.submit() == a


def test_tasks_lists_the_engine_view(wire: DashScopeWire, control: Control) -> None:
    task_id = wire.submit(headers={"X-Emulator-Progression": "polls=4"})
    (task,) = control.get("/tasks").json()["tasks"]
    assert task["task_id"] == task_id
    assert (task["realm"], task["status"], task["progression"], task["polls"]) == (
        "dashscope-beijing", "PENDING", "polls=4", 0,
    )  # fmt: skip
    assert control.get(f"/tasks/{task_id}").json()["polls"] == 0  # reading it is no poll


def test_the_engine_view_has_the_file_facts_once_done(
    wire: DashScopeWire, control: Control
) -> None:
    task_id = wire.submit()
    wire.finished(task_id)
    task = control.get(f"/tasks/{task_id}").json()
    assert task["status"] == "SUCCEEDED"
    assert task["progress"] == 1.0
    assert {k: task["result"][k] for k in ("width", "height", "duration", "fps")} == {
        "width": 1280, "height": 720, "duration": 2.0, "fps": 30,
    }  # fmt: skip
    assert task["usage"]["total_seconds"] == 4.0


def test_progress_is_a_fraction_that_moves(wire: DashScopeWire, control: Control) -> None:
    task_id = wire.submit(headers={"X-Emulator-Progression": "polls=4"})
    seen = []
    for _ in range(3):
        wire.output(task_id)
        seen.append(control.get(f"/tasks/{task_id}").json()["progress"])
    assert seen == [0.0, 0.0, 0.75]


def test_failing_an_ended_task_is_a_conflict(wire: DashScopeWire, control: Control) -> None:
    task_id = wire.submit()
    wire.finished(task_id)
    response = control.post(f"/tasks/{task_id}/fail", json={"code": "InternalError"})
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith(
        f"task_id '{task_id}' has already ended (SUCCEEDED)"
    )


def test_control_on_an_unknown_task_is_404(control: Control) -> None:
    response = control.post("/tasks/nope/progression", json={"progression": "immediate"})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "kind": "not_found",
        "message": "task_id 'nope' is unknown or expired",
        "field": "task_id",
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/progression", {"progression": "soon"}, "progression"),
        ("/seed", {"seed": "one"}, "seed"),
        ("/clock/advance", {"seconds": -1}, "seconds"),
    ],
)
def test_bad_control_requests_name_the_field(
    control: Control, path: str, body: dict[str, object], field: str
) -> None:
    response = control.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_advancing_the_clock_expires_tasks_over_http(wire: DashScopeWire, control: Control) -> None:
    task_id = wire.submit(wan27_body(), headers={"X-Emulator-Progression": "polls=9"})
    control.post("/clock/advance", json={"seconds": 24 * 3600})
    assert wire.output(task_id)["task_status"] == "UNKNOWN"
