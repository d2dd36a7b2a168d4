"""The request journal: what reached the emulator, with every secret taken out, queryable
through the control plane (so that tests can count creates) and in Python."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from resilience_wire import (
    KEY,
    Control,
    auth,
    create,
    create_body,
    create_url,
    status,
    task_id_of,
)

from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.journal import Journal, JournalEntry

CANARY = "sk-canary-journal-7f3a9c1e5b"


def test_a_create_is_journaled_with_its_route_body_answer_and_task(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    created = create(http, emulator, "dashscope-singapore")
    [entry] = control.journal()
    assert entry["seq"] == 1
    assert (entry["method"], entry["path"]) == (
        "POST",
        "/intl/api/v1/services/aigc/video-generation/video-synthesis",
    )
    assert (entry["provider"], entry["route"]) == ("dashscope-singapore", "create")
    assert entry["body"] == create_body("dashscope-singapore")
    assert entry["body_bytes"] == len(created.request.content)
    assert (entry["status"], entry["app_status"], entry["reached_app"]) == (200, 200, True)
    assert entry["task_id"] == task_id_of("dashscope-singapore", created)
    assert entry["faults"] == []
    assert entry["headers"]["authorization"] == "Bearer ***"
    assert entry["headers"]["x-dashscope-async"] == "enable"
    assert entry["answer"] == created.json()  # what the caller was answered


def test_only_a_creates_answer_is_kept(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    created = create(http, emulator, "vtrix")
    status(http, emulator, "vtrix", task_id_of("vtrix", created))
    answers = [(e["route"], e["answer"]) for e in control.journal()]
    assert answers == [("create", created.json()), ("status", None)]


@pytest.mark.parametrize(
    ("provider", "route", "path"),
    [
        ("vtrix", "create", "/vtrix/model/v1/generation"),
        ("apimart", "create", "/apimart/v1/videos/generations"),
    ],
)
def test_each_gateway_create_names_its_task_as_its_wire_does(
    emulator: EmulatorServer, http: httpx.Client, provider: str, route: str, path: str
) -> None:
    wire_id = task_id_of(provider, create(http, emulator, provider))
    [entry] = emulator.journal.entries(provider=provider)
    assert (entry.route, entry.path, entry.task_id) == (route, path, wire_id)


def test_the_journal_counts_the_creates_that_reached_the_engine(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    emulator.faults.add("status", route="create", status=503, times=2)
    for provider in ("dashscope-beijing", "vtrix", "apimart", "dashscope-beijing"):
        create(http, emulator, provider)
    reached = control.journal(route="create", reached="true")
    refused = control.journal(route="create", reached="false")
    assert [e["provider"] for e in reached] == ["apimart", "dashscope-beijing"]
    assert [e["status"] for e in refused] == [503, 503]
    assert all(e["faults"][0]["kind"] == "status" for e in refused)
    assert len(reached) == len(emulator.engine.all_tasks()) == 2
    assert len(control.journal(faulted="true")) == 2
    assert [e["task_id"] for e in control.journal(task_id=reached[0]["task_id"])] == [
        reached[0]["task_id"]
    ]
    assert len(control.journal(provider="dashscope")) == 2


def test_polls_and_downloads_are_journaled_too(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    task_id = task_id_of("dashscope-beijing", create(http, emulator, "dashscope-beijing"))
    assert emulator.engine.drain(60)
    body = http.get(emulator.base_url("dashscope-beijing") + f"/tasks/{task_id}", headers=auth())
    http.get(body.json()["output"]["video_url"])
    routes = [(e["provider"], e["route"], e["status"]) for e in control.journal()]
    assert routes == [
        ("dashscope-beijing", "create", 200),
        ("dashscope-beijing", "status", 200),
        ("oss", "download", 200),
    ]
    download = control.journal(route="download")[0]
    assert download["query"]["Signature"] == "***"  # an OSS signature is a credential
    assert download["query"]["Expires"].isdigit()


def test_the_control_plane_itself_is_not_journaled(
    emulator: EmulatorServer, control: Control
) -> None:
    control.get("/health")
    control.journal()
    assert control.journal() == []


def test_keys_are_redacted_wherever_a_client_put_them(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    body = create_body("dashscope-beijing")
    body["input"]["prompt"] = f"my key is {CANARY}"  # a client that echoed its key
    http.post(
        create_url(emulator, "dashscope-beijing") + f"?api_key={CANARY}&token={CANARY}&x=1",
        json=body,
        headers={
            **auth(CANARY),
            "X-Api-Key": CANARY,
            "X-Acme-Key": CANARY,  # an adapter plugin's own key header
            "Cookie": f"session={CANARY}",
            "X-Echo": f"prefix-{CANARY}",
        },
    )
    http.get(emulator.base_url("vtrix") + f"/{CANARY}/x", headers=auth(CANARY))
    dumped = control.get("/journal").text
    assert CANARY not in dumped
    first = control.journal()[0]
    assert first["query"] == {"api_key": "***", "token": "***", "x": "1"}
    assert first["headers"]["authorization"] == "Bearer ***"
    assert first["headers"]["x-api-key"] == "***"
    assert first["headers"]["x-acme-key"] == "***"
    assert first["headers"]["cookie"] == "***"
    assert first["headers"]["x-echo"] == "prefix-***"
    assert first["body"]["input"]["prompt"] == "my key is ***"
    assert control.journal(provider="vtrix")[0]["path"] == "/vtrix/***/x"
    python_side = repr([e.to_json() for e in emulator.journal.entries()])
    assert CANARY not in python_side


def test_configured_keys_are_scrubbed_even_from_requests_that_do_not_carry_them(
    http: httpx.Client,
) -> None:
    with EmulatorServer(keys={CANARY: "vtrix"}) as server:
        http.post(
            create_url(server, "vtrix"),
            json={"model": "wan27_videoedit", "input": [{"params": {"input": {"prompt": CANARY}}}]},
            headers=auth("sk-other-key"),
        )
        assert CANARY not in json.dumps([e.to_json() for e in server.journal.entries()])


def test_upload_bodies_are_counted_never_stored(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    http.post(
        emulator.url + "/oss/dashscope-file-mgr",
        data={"key": "a/b.mp4", "Signature": CANARY},
        files={"file": ("b.mp4", b"\x00" * 1000)},
    )
    [entry] = control.journal(route="upload")
    assert entry["body"] is None
    assert entry["body_bytes"] > 1000
    assert CANARY not in json.dumps(entry)


def test_bad_journal_filters_are_a_400_naming_them(control: Control) -> None:
    response = control.get("/journal", colour="red")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "colour"
    response = control.get("/journal", reached="maybe")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "reached must be true or false, got 'maybe'"


def test_the_journal_is_cleared_on_request(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    create(http, emulator, "vtrix", key=KEY)
    assert control.delete("/journal").json() == {"cleared": 1}
    assert control.journal() == []
    create(http, emulator, "vtrix", key=KEY)
    assert [e["seq"] for e in control.journal()] == [1]


def test_an_answer_leaving_after_a_reset_is_not_journaled_in_the_world_after_it(
    emulator: EmulatorServer, http: httpx.Client, control: Control
) -> None:
    control.add_fault({"kind": "latency", "route": "create", "when": "after", "seconds": 1.5})
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(create, http, emulator, "vtrix", key=KEY)
        deadline = time.monotonic() + 10
        while not emulator.engine.all_tasks() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert control.post("/reset", {}).status_code == 200  # while the answer is held
        assert held.result(timeout=10).status_code == 200
    assert control.journal() == []
    create(http, emulator, "vtrix", key=KEY)
    assert [(e["seq"], e["route"]) for e in control.journal()] == [(1, "create")]


def test_the_journal_keeps_the_last_entries_and_says_how_many_it_dropped() -> None:
    journal = Journal(capacity=3)
    for _ in range(5):
        journal.record(JournalEntry(journal.next_seq(), 0.0, "GET", "/", {}, None, "index", {}))
    assert [e.seq for e in journal.entries()] == [3, 4, 5]
    assert journal.dropped == 2
    with pytest.raises(ValueError, match="capacity"):
        Journal(capacity=0)
