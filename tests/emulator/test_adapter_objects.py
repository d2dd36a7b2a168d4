"""Adapter objects: what one declares is what the web app does for its wire format."""

from __future__ import annotations

from collections.abc import Iterator
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
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.app import create_app
from videoedit_emulator.web.discovery import ADAPTER_GROUP, load_adapters
from videoedit_emulator.web.faults import FaultError


class Zeta(Adapter):
    """A wire format that declares its routes and where a create answer holds the id."""

    name = "zeta"
    providers = MappingProxyType({"zeta-cloud": "/zeta"})
    operations = (
        Operation("create", "POST", "/jobs"),
        Operation("status", "GET", "/jobs/{job_id}"),
        Operation("download", "GET", "/files/{name:path}"),
    )
    task_id_at = ("job", "id")
    key_header = "X-Zeta-Key"
    key_message = "send your key in X-Zeta-Key"
    key_code = "no_key"

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        async def create(request: Request, request_id: str) -> Response:
            return JSONResponse({"job": {"id": "job-7"}, "rid": request_id})

        return [
            Mount(
                "/zeta",
                routes=[
                    Route("/jobs", self.guard(engine, create, realm="zeta-cloud"), methods=["POST"])
                ],
            )
        ]


class Legacy:
    """The older form: providers and routes(engine), nothing else."""

    providers: ClassVar[dict[str, str]] = {"zeta-cloud": "/zeta"}

    @staticmethod
    def routes(engine: TaskEngine) -> list[BaseRoute]:
        async def hello(request: Request) -> Response:
            return JSONResponse({"seed": engine.seed, "path": request.url.path})

        return [Mount("/zeta", routes=[Route("/hello", hello)])]


def call(app: object, method: str, path: str, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            return await client.request(method, path, **kwargs)

    return anyio.run(go)


@pytest.fixture
def engine() -> Iterator[TaskEngine]:
    engine = TaskEngine()
    yield engine
    engine.close()


def test_an_operation_takes_one_segment_per_name_and_the_rest_for_a_path() -> None:
    status = Operation("status", "GET", "/jobs/{job_id}")
    files = Operation("download", "GET", "/files/{name:path}")

    assert status.matches("GET", "/jobs/7")
    assert status.matches("HEAD", "/jobs/7")  # GET takes HEAD, as Starlette's routes do
    assert not status.matches("GET", "/jobs/7/log")
    assert not status.matches("POST", "/jobs/7")
    assert files.matches("GET", "/files/a/b/c.mp4")


def test_requests_are_classified_by_the_operations_the_adapter_declares() -> None:
    zeta = Zeta()

    assert zeta.classify("POST", "/zeta/jobs") is not None
    assert [
        zeta.classify(m, p).route
        for m, p in [
            ("POST", "/zeta/jobs"),
            ("GET", "/zeta/jobs/1"),
            ("GET", "/zeta/files/x/y"),
            ("DELETE", "/zeta/jobs/1"),
        ]
    ] == ["create", "status", "download", "other"]
    assert zeta.classify("GET", "/zetas/jobs") is None


def test_a_fault_rule_on_a_declared_route_strikes_in_the_adapters_error_body(
    engine: TaskEngine,
) -> None:
    app = create_app(engine, adapters=[Zeta()])
    app.state.web.faults.add("status", provider="zeta", route="create", status=503)

    answer = call(app, "POST", "/zeta/jobs", headers={"X-Zeta-Key": "k"})

    assert answer.status_code == 503
    body = answer.json()
    assert body["error"] == {
        "code": "internal",
        "message": "Service temporarily unavailable, please try again later. [emulator fault fault-1]",
    }
    assert isinstance(body["request_id"], str)
    [entry] = app.state.web.journal.entries(provider="zeta")
    assert (entry.provider, entry.route, entry.reached_app) == ("zeta-cloud", "create", False)


def test_a_create_is_journaled_with_the_task_id_where_the_adapter_says(engine: TaskEngine) -> None:
    app = create_app(engine, adapters=[Zeta()])

    answer = call(app, "POST", "/zeta/jobs", headers={"X-Zeta-Key": "k"})

    assert answer.status_code == 200
    [entry] = app.state.web.journal.entries(route="create")
    assert (entry.provider, entry.task_id, entry.status) == ("zeta-cloud", "job-7", 200)


def test_the_guard_reads_the_key_where_the_adapter_says_and_words_the_refusal(
    engine: TaskEngine,
) -> None:
    app = create_app(engine, adapters=[Zeta()])

    refused = call(app, "POST", "/zeta/jobs", headers={"Authorization": "Bearer k"})

    assert refused.status_code == 401
    assert refused.json()["error"] == {"code": "no_key", "message": "send your key in X-Zeta-Key"}


def test_a_rule_naming_a_route_no_adapter_has_is_refused_with_the_routes_there_are(
    engine: TaskEngine,
) -> None:
    app = create_app(engine, adapters=[Zeta()])

    with pytest.raises(FaultError) as caught:
        app.state.web.faults.add("status", provider="zeta-cloud", route="cancel", status=500)

    assert caught.value.field == "route"
    assert str(caught.value) == (
        "route must be * or one of create, download, other, status, got 'cancel'"
    )


def test_keys_may_be_bound_to_the_realms_the_adapters_declare() -> None:
    from videoedit_emulator.engine.config import EmulatorConfig

    bound = TaskEngine(EmulatorConfig(keys={"zk": "zeta-cloud"}))
    try:
        app = create_app(bound, adapters=[Zeta()])
        accepted = call(app, "POST", "/zeta/jobs", headers={"X-Zeta-Key": "zk"})
        refused = call(app, "POST", "/zeta/jobs", headers={"X-Zeta-Key": "other"})
        with pytest.raises(ValueError, match="realm 'zeta-cloud' must be one of dashscope"):
            create_app(bound, adapters=_builtins())
    finally:
        bound.close()

    assert (accepted.status_code, refused.status_code) == (200, 401)


def _builtins() -> list[Adapter]:
    from videoedit_emulator.web.discovery import discovered_adapters, installed_adapters

    return [a for a in installed_adapters() if a not in discovered_adapters()]


def test_an_adapter_of_the_older_form_is_journaled_and_faulted_as_other(
    engine: TaskEngine,
) -> None:
    [legacy], skipped = load_adapters(
        [EntryPoint(name="zeta", value=f"{__name__}:Legacy", group=ADAPTER_GROUP)]
    )
    app = create_app(engine, adapters=[legacy])
    app.state.web.faults.add("status", provider="zeta-cloud", status=502, times=1)

    struck = call(app, "GET", "/zeta/hello")
    passed = call(app, "GET", "/zeta/hello")

    assert skipped == []
    assert (struck.status_code, struck.json()["error"]["code"]) == (502, "internal")
    assert passed.json() == {"seed": engine.seed, "path": "/zeta/hello"}
    assert [(e.route, e.status) for e in app.state.web.journal.entries(provider="zeta")] == [
        ("other", 502),
        ("other", 200),
    ]
