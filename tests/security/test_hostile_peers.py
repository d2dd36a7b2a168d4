"""Peers that try to make the emulator hold state without bound, or steer it from a page:
a client with a new key per query, a page of a site whose name was rebound to 127.0.0.1,
a third-party adapter that claims another's name."""

from __future__ import annotations

import copy
import json
import tracemalloc
from importlib.metadata import EntryPoint
from types import MappingProxyType
from typing import ClassVar

import anyio
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.errors import ApiError, Reason
from videoedit_emulator.engine.quotas import QueryQuota
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.app import create_app
from videoedit_emulator.web.discovery import (
    ADAPTER_GROUP,
    installed_adapters,
    load_adapters,
    provider_prefixes,
)
from videoedit_emulator.web.journal import Journal, JournalEntry


def test_a_new_key_on_every_query_does_not_grow_the_query_quota_for_ever() -> None:
    # With no keys configured any key is accepted: one deque per key was kept for ever,
    # its key whole (a header may hold 60 KiB), 10 000 keys a minute from one client.
    clock = ManualClock()
    quota = QueryQuota(20, clock.now)
    for n in range(10_000):
        quota.spend(f"sk-{n:05d}-" + "x" * 100)
        clock.advance(0.001)
    assert quota.accounts <= 1_001  # those of the last second

    clock.advance(2.0)
    quota.spend("sk-last")

    assert quota.accounts == 1


def test_an_account_forgotten_when_idle_still_gets_its_quota() -> None:
    clock = ManualClock()
    quota = QueryQuota(2, clock.now)
    quota.spend("a")
    quota.spend("a")
    clock.advance(5.0)
    quota.spend("b")  # "a" is forgotten here

    quota.spend("a")
    quota.spend("a")
    with pytest.raises(ApiError) as caught:
        quota.spend("a")

    assert caught.value.reason is Reason.RATE_QUOTA
    assert quota.accounts == 2


def test_bodies_that_cost_20_times_their_size_do_not_grow_the_journal_past_its_budget() -> None:
    # A 64 KiB body of empty lists, sent to a provider route with any key (no keys set), held
    # 1.4 MB as Python objects: the 10 000 entries the journal kept came to 14 GB.
    body = json.loads("[" + ",".join(["[]"] * 21_800) + "]")
    journal = Journal(max_bytes=8 * 1024 * 1024)
    tracemalloc.start()
    try:
        for n in range(30):
            entry = JournalEntry(n + 1, 0.0, "POST", "/api/v1/x", {}, None, "create", {})
            entry.body = copy.deepcopy(body)
            journal.record(entry)
            del entry
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    assert journal.held_bytes <= 8 * 1024 * 1024
    assert held < 2 * 8 * 1024 * 1024  # the estimate is near what Python holds
    assert journal.dropped == 30 - len(journal)
    assert [e.seq for e in journal.entries()][-1] == 30  # the newest are kept


def test_the_journal_keeps_its_entries_of_ordinary_size() -> None:
    journal = Journal(capacity=3)
    for n in range(5):
        journal.record(JournalEntry(n + 1, 0.0, "GET", "/x", {}, None, "status", {}))

    assert [e.seq for e in journal.entries()] == [3, 4, 5]
    assert journal.dropped == 2


# -- the control plane, from a browser ---------------------------------------------------------


def rebound(emulator: EmulatorServer) -> dict[str, str]:
    """What a browser sends from a page of evil.example after its name was rebound to
    127.0.0.1: the page is same-origin with the emulator, and says so."""
    name = f"evil.example:{emulator.port}"
    return {"Host": name, "Origin": f"http://{name}", "Sec-Fetch-Site": "same-origin"}


def test_a_rebound_page_cannot_reset_the_emulator_or_plant_a_fault(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    # Was 200: the page reset the emulator, and armed a rule failing every creation.
    headers = rebound(emulator)
    for path, body in (("/reset", {}), ("/faults", {"spec": "create:status=503"})):
        answer = http.post(f"{emulator.url}/_emulator{path}", json=body, headers=headers)
        assert answer.status_code == 403, path
        error = answer.json()["error"]
        assert error["field"] == "host"
        assert "'evil.example:" in error["message"]
        assert "DNS rebinding" in error["message"]
    assert http.get(f"{emulator.url}/_emulator/faults").json()["faults"] == []


def test_a_rebound_page_cannot_read_the_journal(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    # Same-origin, the page could read every prompt and input URL of every test.
    headers = rebound(emulator)
    del headers["Origin"]  # a GET's fetch carries Sec-Fetch-Site only
    answer = http.get(f"{emulator.url}/_emulator/journal", headers=headers)

    assert answer.status_code == 403
    assert answer.json()["error"]["field"] == "host"


def test_a_client_that_is_no_browser_may_use_any_name(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    # A test on another machine reaching an emulator bound to 0.0.0.0 by its host name.
    answer = http.get(f"{emulator.url}/_emulator/health", headers={"Host": "ci-runner:8765"})
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_form_without_origin_cannot_advance_the_clock(
    emulator: EmulatorServer, http: httpx.Client, content_type: str
) -> None:
    # A browser that says neither Origin nor Sec-Fetch-Site still labels its form so;
    # `{"seconds": 1e9}` as a text/plain form was taken (200), and the clock jumped 31 years.
    answer = http.post(
        f"{emulator.url}/_emulator/clock/advance",
        content=b'{"seconds": 1e9}',
        headers={"Content-Type": content_type},
    )

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["field"] == "content-type"
    assert "the control plane reads JSON" in error["message"]
    assert "ManualClock" not in http.get(f"{emulator.url}/_emulator/health").json()["clock"]


def test_json_without_origin_still_steers_the_emulator(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    url = f"{emulator.url}/_emulator/progression"
    assert http.put(url, json={"progression": "polls=2"}).status_code == 200
    bare = http.put(url, content=b'{"progression": "polls=3"}')  # no Content-Type at all
    assert bare.json() == {"progression": "polls=3"}


def test_advances_that_add_up_past_year_9999_are_refused(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    # Each advance was bounded (100 years), their sum was not: 81 of them reached year
    # 10121, and the task listing answered 500 ("year 10121 is out of range") until reset.
    url = f"{emulator.url}/_emulator/clock/advance"
    try:
        answers = [http.post(url, json={"seconds": 100 * 365 * 86400}) for _ in range(81)]
        listing = http.get(
            f"{emulator.base_url('dashscope-singapore')}/tasks",
            headers={"Authorization": "Bearer sk-test"},
        )
    finally:
        emulator.reset()

    refused = [a for a in answers if a.status_code != 200]
    assert refused, "every advance was taken"
    assert {a.status_code for a in refused} == {400}
    error = refused[0].json()["error"]
    assert error["field"] == "seconds"
    assert "would move the clock past 9000-01-01" in error["message"]
    assert listing.status_code == 200


# -- third-party adapters ----------------------------------------------------------------------

#: The emulator's own adapters' names: what a journal or fault rule ``provider`` may give.
OWN_NAMES = [adapter.name for adapter in installed_adapters()]
OWN_IDS = provider_prefixes()


class ServesTheDashscopeGroup:
    """A provider id that is the built-in DashScope adapter's name."""

    providers: ClassVar[dict[str, str]] = {"dashscope": "/ds-mirror"}

    @staticmethod
    def routes(engine: TaskEngine) -> list[BaseRoute]:
        return []


class Plain:
    providers: ClassVar[dict[str, str]] = {"plain-cloud": "/plain"}

    @staticmethod
    def routes(engine: TaskEngine) -> list[BaseRoute]:
        return []


def here(name: str, target: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{target}", group=ADAPTER_GROUP)


def test_an_adapter_serving_a_provider_named_dashscope_is_skipped() -> None:
    # Was loaded: fault rules for "dashscope" then struck its routes and no longer both
    # regions' (the group was dropped for a provider of that id), and the journal's
    # provider=dashscope filter mixed its requests in.
    adapters, skipped = load_adapters(
        [here("mirror", "ServesTheDashscopeGroup")], OWN_IDS, OWN_NAMES
    )

    assert adapters == []
    assert skipped == ["'mirror' was skipped: provider 'dashscope' is the name of another adapter"]


@pytest.mark.parametrize("name", ["dashscope", "oss", "dashscope-singapore"])
def test_an_adapter_named_after_another_adapter_or_provider_is_skipped(name: str) -> None:
    # A module adapter is named by its entry point: "dashscope" took over the group's filter.
    adapters, skipped = load_adapters([here(name, "Plain")], OWN_IDS, OWN_NAMES)

    assert adapters == []
    assert skipped == [
        f"{name!r} was skipped: its name {name!r} is another adapter's or provider's"
    ]


def test_the_first_of_two_adapters_of_one_name_wins() -> None:
    adapters, skipped = load_adapters([here("twin", "Plain"), here("twin", "Valid2")], OWN_IDS)

    assert [dict(a.providers) for a in adapters] == [{"plain-cloud": "/plain"}]
    assert skipped == ["'twin' was skipped: its name 'twin' is another adapter's or provider's"]


class Valid2:
    providers: ClassVar[dict[str, str]] = {"other-cloud": "/other"}

    @staticmethod
    def routes(engine: TaskEngine) -> list[BaseRoute]:
        return []


# -- the journal's record of URLs ---------------------------------------------------------------

PRESIGNED = (
    "https://bucket.oss-cn-beijing.aliyuncs.com/in.mp4?OSSAccessKeyId=LTAI5tCanaryKeyId"
    "&Expires=1893456000&Signature=c2lnbmF0dXJlLWNhbmFyeQ%3D%3D"
)
S3_PRESIGNED = (
    "https://b.s3.amazonaws.com/ref.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIACANARY%2F20261203%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Signature=5ca1ab1ecafe&X-Amz-Security-Token=FwoGZXIvYXdzCanary&sig=azureCanary"
)
URL_SECRETS = (
    "LTAI5tCanaryKeyId",
    "c2lnbmF0dXJlLWNhbmFyeQ",
    "AKIACANARY",
    "5ca1ab1ecafe",
    "FwoGZXIvYXdzCanary",
    "azureCanary",
)


def test_a_presigned_input_url_is_journaled_without_its_signature(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    # Kept whole before: the journal (and the console's task page) handed anyone who read
    # them a link that opens the caller's object in their bucket.
    media = [{"type": "video", "url": PRESIGNED}, {"type": "reference_image", "url": S3_PRESIGNED}]
    created = http.post(
        f"{emulator.base_url('dashscope-singapore')}/services/aigc/video-generation/video-synthesis",
        json={
            "model": "wan2.7-videoedit",
            "input": {"prompt": "ink", "media": media},
            "parameters": {"resolution": "720P", "duration": 2},
        },
        headers={
            "Authorization": "Bearer sk-test",
            "X-DashScope-Async": "enable",
            "Referer": "https://console.example/run?token=refererCanary&page=2",
        },
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["output"]["task_id"]

    journal = http.get(f"{emulator.url}/_emulator/journal").text
    page = http.get(f"{emulator.url}/_emulator/ui/tasks/{task_id}").text

    for secret in (*URL_SECRETS, "refererCanary"):
        assert secret not in journal, secret
        assert secret not in page, secret
    [entry] = emulator.journal.entries(route="create")
    media = entry.body["input"]["media"]
    assert media[0]["url"] == (
        "https://bucket.oss-cn-beijing.aliyuncs.com/in.mp4?OSSAccessKeyId=***"
        "&Expires=1893456000&Signature=***"
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***" in media[1]["url"]
    assert entry.headers["referer"] == "https://console.example/run?token=***&page=2"


class SignsInItsAnswer(Adapter):
    """A wire format whose create answers with the result's signed link at once."""

    name = "sync-cloud"
    providers = MappingProxyType({"sync-cloud": "/sync"})
    operations = (Operation("create", "POST", "/jobs"),)
    task_id_at = ("job", "id")
    key_header = "X-Sync-Key"
    key_message = "send your key in X-Sync-Key"
    key_code = "no_key"

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        async def create(request: Request, request_id: str) -> Response:
            link = f"http://127.0.0.1:1/results/out.mp4?Expires=1&Signature=answerCanary{request_id[:4]}"
            return JSONResponse({"job": {"id": "job-1", "video_url": link}})

        guarded = self.guard(engine, create, realm="sync-cloud")
        return [Mount("/sync", routes=[Route("/jobs", guarded, methods=["POST"])])]


def test_a_signed_link_in_a_create_answer_is_journaled_without_its_signature() -> None:
    engine = TaskEngine()
    try:
        app = create_app(engine, adapters=[SignsInItsAnswer()])

        async def post() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.post("/sync/jobs", headers={"X-Sync-Key": "k"})

        answer = anyio.run(post)
    finally:
        engine.close()

    assert "Signature=answerCanary" in answer.json()["job"]["video_url"]  # the caller's
    [entry] = app.state.web.journal.entries(route="create")
    assert entry.task_id == "job-1"
    assert entry.answer == {
        "job": {
            "id": "job-1",
            "video_url": "http://127.0.0.1:1/results/out.mp4?Expires=1&Signature=***",
        }
    }
