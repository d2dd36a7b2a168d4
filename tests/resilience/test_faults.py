"""Fault rules on the wire: each kind, in each provider's own error format, where and how
often the rule says, through the control plane and the Python fixture alike."""

from __future__ import annotations

import httpx
import pytest
from resilience_wire import (
    PROVIDERS,
    Control,
    create,
    create_body,
    engine_id,
    error_of,
    status,
    task_id_of,
    task_state,
)

from videoedit_emulator.server import EmulatorServer

#: What a ``status`` fault of 503 looks like in each provider's words.
UNAVAILABLE = {
    "dashscope-beijing": (503, "InternalError"),
    "dashscope-singapore": (503, "InternalError"),
    "vtrix": (503, "internal_error"),
    "apimart": (503, "internal_error"),
}
THROTTLED = {
    "dashscope-beijing": "Throttling.RateQuota",
    "dashscope-singapore": "Throttling.RateQuota",
    "vtrix": "rate_limit_exceeded",
    "apimart": "rate_limit_exceeded",
}


def finished_result_url(http: httpx.Client, emulator: EmulatorServer) -> str:
    """A SUCCEEDED DashScope task's signed result link (for the OSS route's faults)."""
    task_id = task_id_of("dashscope-beijing", create(http, emulator, "dashscope-beijing"))
    assert emulator.engine.drain(60)
    body = status(http, emulator, "dashscope-beijing", task_id).json()
    assert body["output"]["task_status"] == "SUCCEEDED"
    return str(body["output"]["video_url"])


# -- each kind, in each provider's format ----------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_status_fault_answers_in_the_providers_own_error_format(
    emulator: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    emulator.faults.add("status", provider=provider, route="create", status=503)
    response = create(http, emulator, provider)
    code, word, message = error_of(provider, response)
    assert (code, word) == UNAVAILABLE[provider]
    assert message == (
        "Service temporarily unavailable, please try again later. [emulator fault fault-1]"
    )
    assert "retry-after" not in response.headers
    assert emulator.engine.all_tasks() == []  # struck before the engine: nothing was made


def test_a_status_fault_keeps_the_code_and_message_it_is_given(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add(
        "status", route="create", status=400, code="Arrearage", message="Access denied, overdue."
    )
    response = create(http, emulator, "dashscope-singapore")
    assert error_of("dashscope-singapore", response) == (
        400,
        "Arrearage",
        "Access denied, overdue. [emulator fault fault-1]",
    )


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("retry_after", [None, 2.0], ids=["without-retry-after", "retry-after"])
def test_a_rate_limit_says_retry_after_only_when_told(
    emulator: EmulatorServer, http: httpx.Client, provider: str, retry_after: float | None
) -> None:
    emulator.faults.add("rate_limit", route="status", retry_after=retry_after)
    task_id = task_id_of(provider, create(http, emulator, provider))
    response = status(http, emulator, provider, task_id)
    code, word, message = error_of(provider, response)
    assert (code, word) == (429, THROTTLED[provider])
    assert message.startswith("Requests rate limit exceeded, please try again later.")
    assert response.headers.get("retry-after") == (None if retry_after is None else "2")


def test_oss_throttles_with_503_slowdown_and_a_status_fault_in_oss_xml(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    url = finished_result_url(http, emulator)
    emulator.faults.add("rate_limit", provider="oss", route="download", retry_after=1, times=1)
    emulator.faults.add("status", provider="oss", route="download", status=500, times=1)
    assert error_of("oss", http.get(url)) == (
        503,
        "SlowDown",
        "Please reduce your request rate. [emulator fault fault-1]",
    )
    assert error_of("oss", http.get(url)) == (
        500,
        "InternalError",
        "An internal error has occured, please try again later or contact service support. "
        "[emulator fault fault-2]",
    )
    assert http.get(url).status_code == 200  # both rules are spent


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_reset_drops_the_connection_without_an_answer(
    emulator: EmulatorServer, http: httpx.Client, when: str
) -> None:
    emulator.faults.add("reset", route="create", when=when, times=1)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        create(http, emulator, "dashscope-beijing")
    [entry] = emulator.journal.entries(route="create")
    assert entry.status is None
    assert entry.reached_app is (when == "after")
    # After the work, the answer is lost but the task exists: the case clients must flag.
    made = [view.task_id for view in emulator.engine.all_tasks()]
    assert made == ([entry.task_id] if when == "after" else [])
    assert create(http, emulator, "dashscope-beijing").status_code == 200  # the line recovers


def test_a_reset_after_the_work_cuts_a_download_short(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    url = finished_result_url(http, emulator)
    emulator.faults.add("reset", provider="oss", route="download", when="after", times=1)
    with pytest.raises(httpx.TransportError):
        http.get(url)
    whole = http.get(url)
    assert whole.status_code == 200
    assert len(whole.content) == int(whole.headers["content-length"]) > 1000


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_json_before_the_work_is_cut_off_mid_object(
    emulator: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    emulator.faults.add("malformed", route="create")
    response = create(http, emulator, provider)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"request_id": "emulator-fault", "output": {"task_id": '
    with pytest.raises(ValueError):
        response.json()
    assert emulator.engine.all_tasks() == []


def test_malformed_json_after_the_work_is_the_real_answer_cut_in_half(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("malformed", route="create", when="after", status=502, times=1)
    response = create(http, emulator, "dashscope-beijing")
    assert response.status_code == 502
    [entry] = emulator.journal.entries(route="create")
    assert entry.task_id is not None
    whole = b'{"request_id":"%s","output":{"task_id":"%s","task_status":"PENDING"}}' % (
        emulator.engine.get(entry.task_id, poll=False).request_id.encode(),
        entry.task_id.encode(),
    )
    assert response.content == whole[: len(whole) // 2]


def test_latency_delays_the_answer_and_changes_nothing_else(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("latency", route="create", seconds=0.3)
    response = create(http, emulator, "vtrix")
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    [entry] = emulator.journal.entries(route="create")
    assert entry.duration >= 0.3  # a lower bound: a slow machine only adds to it


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("DataInspectionFailed", "Input data may contain inappropriate content."),
        (
            "InvalidParameter",
            "Failed to download input.media[0].url: the emulator was told to fail this download.",
        ),
    ],
)
def test_a_task_failure_fault_fails_the_task_with_the_chosen_code(
    emulator: EmulatorServer, http: httpx.Client, provider: str, code: str, message: str
) -> None:
    emulator.faults.add("task_failure", code=code)
    created = create(http, emulator, provider)
    assert created.status_code == 200  # the create call itself succeeds
    word, got_code, got_message = task_state(
        provider, status(http, emulator, provider, task_id_of(provider, created))
    )
    assert word == "FAILED" if provider.startswith("dashscope") else word == "failed"
    assert got_code == code
    # APIMart names the flat field the caller sent (video_urls[0], not input.media[0].url).
    expected = message.replace("input.media[0].url", "video_urls[0]")
    assert got_message == (expected if provider == "apimart" else message)


def test_a_status_fault_after_the_work_replaces_an_answer_whose_task_exists(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("status", route="create", status=504, when="after")
    response = create(http, emulator, "apimart")
    assert error_of("apimart", response)[:2] == (504, "internal_error")
    [entry] = emulator.journal.entries(route="create")
    assert (entry.status, entry.app_status, entry.reached_app) == (504, 200, True)
    assert [v.task_id for v in emulator.engine.all_tasks()] == [
        engine_id("apimart", entry.task_id or "")
    ]


# -- which requests a rule takes -------------------------------------------------------------
def test_fail_the_next_n_then_answer_normally(emulator: EmulatorServer, http: httpx.Client) -> None:
    rule = emulator.faults.add("status", route="create", status=500, times=2)
    codes = [create(http, emulator, "dashscope-beijing").status_code for _ in range(4)]
    assert codes == [500, 500, 200, 200]
    [after] = emulator.faults.rules()
    assert (after.id, after.matched, after.applied, after.spent) == (rule.id, 2, 2, True)


def test_skip_lets_the_first_requests_through(emulator: EmulatorServer, http: httpx.Client) -> None:
    emulator.faults.add("status", route="create", status=500, skip=2, times=1)
    codes = [create(http, emulator, "vtrix").status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]


def test_a_probability_with_a_seed_strikes_the_same_requests_every_run(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    def run(seed: int) -> list[int]:
        emulator.reset()
        emulator.faults.add("status", route="create", status=503, probability=0.3, seed=seed)
        return [create(http, emulator, "apimart").status_code for _ in range(30)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 0 < first.count(503) < 30
    assert set(first) == {200, 503}


def test_rules_are_scoped_by_provider_and_route(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("status", provider="vtrix", route="status", status=500)
    emulator.faults.add("status", provider="dashscope", route="create", status=502)
    assert create(http, emulator, "vtrix").status_code == 200
    assert create(http, emulator, "apimart").status_code == 200
    assert create(http, emulator, "dashscope-beijing").status_code == 502
    assert create(http, emulator, "dashscope-singapore").status_code == 502
    vtrix_id = task_id_of("vtrix", create(http, emulator, "vtrix"))
    assert status(http, emulator, "vtrix", vtrix_id).status_code == 500


def test_latency_and_a_task_failure_combine_with_the_answer(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("latency", route="create", seconds=0.05)
    emulator.faults.add("task_failure", code="DataInspectionFailed")
    created = create(http, emulator, "dashscope-beijing")
    assert created.status_code == 200
    [entry] = emulator.journal.entries(route="create")
    assert [f["kind"] for f in entry.faults] == ["latency", "task_failure"]
    assert task_state(
        "dashscope-beijing", status(http, emulator, "dashscope-beijing", entry.task_id or "")
    )[:2] == (
        "FAILED",
        "DataInspectionFailed",
    )


def test_the_first_rule_that_strikes_decides_and_later_ones_keep_their_turn(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add("status", route="create", status=500, times=1)
    emulator.faults.add("status", route="create", status=503, times=1)
    codes = [create(http, emulator, "dashscope-beijing").status_code for _ in range(3)]
    assert codes == [500, 503, 200]


def test_the_control_plane_and_the_index_are_never_faulted(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    emulator.faults.add("status", status=500)
    emulator.faults.add("reset")
    assert control.get("/health").status_code == 200
    assert http.get(emulator.url + "/").status_code == 200
    assert [r.matched for r in emulator.faults.rules()] == [0, 0]


# -- the control plane -----------------------------------------------------------------------
def test_faults_are_added_listed_and_removed_through_the_control_plane(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    added = control.add_fault({"kind": "status", "route": "create", "status": 503, "times": 1})
    assert added == {
        "id": "fault-1",
        "kind": "status",
        "provider": "*",
        "route": "create",
        "when": "before",
        "status": 503,
        "times": 1,
        "skip": 0,
        "probability": 1.0,
        "seed": 0,
        "matched": 0,
        "applied": 0,
        "spent": False,
    }
    spec = control.add_fault({"spec": "vtrix/status:rate_limit=3,probability=0.5,seed=4"})
    assert (spec["id"], spec["provider"], spec["route"], spec["retry_after"]) == (
        "fault-2",
        "vtrix",
        "status",
        3.0,
    )
    assert create(http, emulator, "dashscope-beijing").status_code == 503
    listed = control.get("/faults").json()["faults"]
    assert [(f["id"], f["applied"], f["spent"]) for f in listed] == [
        ("fault-1", 1, True),
        ("fault-2", 0, False),
    ]
    assert control.get("/faults/fault-2").json()["seed"] == 4
    assert control.delete("/faults/fault-2").json() == {"removed": 1}
    assert control.delete("/faults/fault-2").status_code == 404
    assert control.delete("/faults").json() == {"removed": 1}
    assert control.get("/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("rule", "field", "words"),
    [
        ({"kind": "explode"}, "kind", "must be one of status, rate_limit"),
        ({"route": "create"}, "kind", "is required"),
        ({"kind": "status"}, "status", "is required for a status fault"),
        ({"kind": "status", "status": 200}, "status", "must be an integer in [400, 599]"),
        ({"kind": "status", "status": "503"}, "status", "must be an integer"),
        ({"kind": "latency"}, "seconds", "is required for a latency fault"),
        ({"kind": "reset", "probability": 1.5}, "probability", "must be a number in [0, 1]"),
        ({"kind": "reset", "times": 0}, "times", "must be an integer in [1,"),
        ({"kind": "reset", "when": "during"}, "when", "must be before or after"),
        ({"kind": "reset", "provider": "aws"}, "provider", "must be *, dashscope or one of"),
        (
            {"kind": "reset", "provider": "vtrix", "route": "cancel"},
            "route",
            "is not a route of vtrix",
        ),
        ({"kind": "task_failure"}, "code", "is required for a task_failure"),
        ({"kind": "task_failure", "code": "X", "route": "status"}, "route", "must be create"),
        ({"kind": "task_failure", "code": "Bad Code"}, "code", "must be a word"),
        ({"kind": "task_failure", "code": "X", "message": "two\nlines"}, "message", "on one line"),
        ({"kind": "reset", "retry_after": 1}, "retry_after", "does not apply to a reset fault"),
        ({"kind": "reset", "colour": "red"}, "colour", "is not a field of a fault"),
        ({"spec": "create"}, "spec", "must read [provider/]route:kind"),
        ({"spec": "create:status=abc"}, "status", "must be an integer"),
        ([1, 2], "body", "must be a JSON object"),
    ],
)
def test_a_bad_fault_rule_is_a_400_naming_the_field(
    control: Control, rule: object, field: str, words: str
) -> None:
    response = control.post("/faults", rule)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(f"{field} ")
    assert words in error["message"]


def test_reset_forgets_fault_rules_and_the_journal(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    control.add_fault({"spec": "create:status=500"})
    create(http, emulator, "vtrix")
    assert control.get("/health").json()["faults"] == 1
    assert len(control.journal()) == 1
    control.post("/reset")
    assert control.get("/faults").json() == {"faults": []}
    assert control.journal() == []
    assert create(http, emulator, "vtrix").status_code == 200


def test_the_fixture_helpers_add_rules_and_specs(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    emulator.faults.add_spec("apimart/create:status=429,retry_after=5,times=1")
    response = create(http, emulator, "apimart", create_body("apimart"))
    assert error_of("apimart", response)[:2] == (429, "rate_limit_exceeded")
    assert response.headers["retry-after"] == "5"
    assert len(emulator.faults) == 1
    emulator.faults.clear()
    assert len(emulator.faults) == 0
