"""Every API route refuses a request without a valid key, before doing anything.

The routes are read from the application itself (built-in adapters, adapter plugins, the
control plane), so a route added later is covered without touching this test. Outside the
key rule, on purpose: the control plane and the index (the emulator's own steering, as
documented), the OSS upload host and result links (authorised by a signed policy or a signed
link instead: refused without one), and the catch-all routes that only answer "no such URL".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from resilience_wire import create_body, create_url, error_of
from starlette.routing import BaseRoute, Mount, Route

from videoedit_emulator.server import EmulatorServer

SAMPLE = {"task_id": "3f1c0e1e-0000-4000-8000-000000000001", "fault_id": "fault-1"}
PROVIDERS_BY_PREFIX = {
    "/api/v1": "dashscope-beijing",
    "/intl/api/v1": "dashscope-singapore",
    "/vtrix": "vtrix",
    "/apimart": "apimart",
}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(method, path template)`` of every route, mounts unfolded."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                yield method, prefix + route.path


def concrete(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        return SAMPLE.get(name, "some/thing.mp4" if match[2] == "path" else "x1")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, template)


def provider_of(path: str) -> str | None:
    for prefix, provider in sorted(PROVIDERS_BY_PREFIX.items(), key=lambda kv: -len(kv[0])):
        if path.startswith(prefix + "/"):
            return provider
    return None


def kind_of(method: str, template: str) -> str:
    if template.startswith("/_emulator") or template == "/":
        return "control"
    if template.startswith("/oss/"):
        return "signed"
    if template.endswith("/{path:path}"):
        return "catch-all"
    return "api"


@pytest.fixture
def routes(emulator: EmulatorServer) -> list[tuple[str, str]]:
    return [(m, t) for m, t in walk(list(emulator.app.routes)) if m != "HEAD"]


def body_for(path: str) -> bytes:
    provider = provider_of(path)
    return httpx.Request("POST", "/", json=create_body(provider or "dashscope-beijing")).content


@pytest.mark.parametrize("authorization", [None, "", "Bearer"], ids=["absent", "empty", "bare"])
def test_every_api_route_refuses_a_request_without_a_key(
    emulator: EmulatorServer,
    http: httpx.Client,
    routes: list[tuple[str, str]],
    authorization: str | None,
) -> None:
    headers = {"X-DashScope-Async": "enable", "Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    checked = []
    for method, template in routes:
        if kind_of(method, template) != "api":
            continue
        path = concrete(template)
        content = body_for(path) if method == "POST" else None
        response = http.request(method, emulator.url + path, headers=headers, content=content)
        assert response.status_code == 401, (method, template, response.text)
        provider = provider_of(path)
        if provider is not None:
            error_of(provider, response)  # in the provider's own words
        checked.append((method, template))
    assert emulator.engine.all_tasks() == []  # nothing was done on a refused call
    # Each create route reached its adapter once (and its key check refused it there); the
    # adapters say which routes are creates (the worked example's /acme/v2/edits is one).
    creates = emulator.web.adapters
    assert emulator.journal.count(route="create", reached_app=True) == sum(
        1 for m, t in checked if creates.classify(m, concrete(t))[1].route == "create"
    )
    # The built-in API routes are all there (a route lost from the walk would go unchecked).
    expected = {
        ("POST", "/api/v1/services/aigc/video-generation/video-synthesis"),
        ("GET", "/api/v1/tasks/{task_id}"),
        ("GET", "/api/v1/tasks/{task_id}/"),
        ("POST", "/api/v1/tasks/{task_id}/cancel"),
        ("POST", "/api/v1/tasks/{task_id}/cancel/"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/uploads"),
        ("POST", "/vtrix/model/v1/generation"),
        ("GET", "/vtrix/model/v1/generation/task/{task_id}"),
        ("POST", "/apimart/v1/videos/generations"),
        ("GET", "/apimart/v1/tasks/{task_id}"),
    }
    assert expected <= set(checked)
    assert {(m, t.replace("/intl", "", 1)) for m, t in checked if t.startswith("/intl")} == {
        (m, t) for m, t in expected if t.startswith("/api/v1")
    }


def test_the_routes_outside_the_key_rule_are_exactly_the_documented_ones(
    routes: list[tuple[str, str]],
) -> None:
    outside = sorted({(kind_of(m, t), t) for m, t in routes if kind_of(m, t) != "api"})
    signed = [t for kind, t in outside if kind == "signed"]
    assert signed == [
        "/oss/dashscope-file-mgr",
        "/oss/dashscope-file-mgr/",
        "/oss/dashscope-result/{key:path}",
    ]
    catch_alls = [t for kind, t in outside if kind == "catch-all"]
    assert {"/api/v1/{path:path}", "/vtrix/{path:path}", "/apimart/{path:path}"} <= set(catch_alls)
    control = [t for kind, t in outside if kind == "control"]
    assert all(t == "/" or t.startswith("/_emulator/") for t in control)


def test_catch_all_routes_answer_not_found_without_doing_anything(
    emulator: EmulatorServer, http: httpx.Client, routes: list[tuple[str, str]]
) -> None:
    for method, template in routes:
        if kind_of(method, template) != "catch-all":
            continue
        path = concrete(template)
        response = http.request(method, emulator.url + path, content=b"{}")
        provider = provider_of(path)
        if provider is not None:
            assert response.status_code == 404, (method, template)
            error_of(provider, response)
        else:  # an adapter plugin's: it may ask for its key first
            assert response.status_code in (401, 404), (method, template)
    assert emulator.engine.all_tasks() == []


def test_the_upload_host_refuses_a_form_without_a_signed_policy(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    response = http.post(
        emulator.url + "/oss/dashscope-file-mgr",
        data={"key": "dashscope-instant/x/clip.mp4"},
        files={"file": ("clip.mp4", b"\x00" * 64)},
    )
    assert error_of("oss", response)[:2] == (403, "AccessDenied")
    assert emulator.engine.store.objects() == []


def test_a_result_link_without_its_signature_is_refused(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    response = http.get(emulator.url + "/oss/dashscope-result/" + SAMPLE["task_id"] + ".mp4")
    assert error_of("oss", response)[:2] == (403, "AccessDenied")


@pytest.mark.parametrize("provider", list(PROVIDERS_BY_PREFIX.values()))
def test_a_key_bound_elsewhere_or_unknown_is_refused_when_keys_are_configured(
    http: httpx.Client, provider: str
) -> None:
    keys = {"sk-beijing-only": "dashscope-beijing", "sk-vtrix-only": "vtrix"}
    accepted_keys = {
        "dashscope-beijing": "sk-beijing-only",
        "vtrix": "sk-vtrix-only",
        # Realms with no key bound take any key that is not bound elsewhere.
        "dashscope-singapore": "sk-unknown",
        "apimart": "sk-unknown",
    }
    with EmulatorServer(keys=keys) as server:
        for key in ("sk-unknown", "sk-beijing-only", "sk-vtrix-only"):
            response = http.post(
                create_url(server, provider),
                json=create_body(provider),
                headers={"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"},
            )
            accepted = key == accepted_keys[provider]
            assert (response.status_code == 200) is accepted, (provider, key, response.text)
            if not accepted:
                assert error_of(provider, response)[0] == 401
