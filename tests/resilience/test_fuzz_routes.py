"""Property: whatever a client sends to any provider route, the emulator answers a 2xx or a
4xx in that provider's own error format: never a 500, never a hang (every request has a
15 s timeout).

Fuzzed, for DashScope (both regions), Vtrix, APIMart and OSS: JSON bodies of any shape and
valid bodies with one part replaced, raw bytes (truncated JSON, invalid UTF-8, NaN, integers
of thousands of digits, deep nesting), media URLs and data URIs of every form, task ids,
query parameters, directive headers, unknown routes and methods, multipart uploads, result
links, and bodies beyond the size limit (with and without ``Content-Length``). The control
plane is fuzzed too (its own ``{"error"}`` format).

The server here has a stub renderer (a render is not what is under test) and a 64 KiB body
limit. The emulator publishes no OpenAPI description, so there is nothing for schemathesis
to read; these strategies stand in for it.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fuzzing import FUZZ, TALLY
from hypothesis import given
from hypothesis import strategies as st
from resilience_wire import (
    PROVIDERS,
    auth,
    create_body,
    create_url,
    error_of,
    status_url,
    stub_renderer,
)

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.server import EmulatorServer

LIMIT = 64 * 1024
OSS_UPLOAD = "/oss/dashscope-file-mgr"
OSS_RESULT = "/oss/dashscope-result/"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(max_body_bytes=LIMIT, fetch_timeout=2.0, render_cache_bytes=0)
    with EmulatorServer(engine=TaskEngine(config, renderer=stub_renderer)) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def _report(report_figures: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    yield
    routes = {k.removeprefix("route:"): v for k, v in TALLY.items() if k.startswith("route:")}
    statuses = {k.removeprefix("status:"): v for k, v in TALLY.items() if k.startswith("status:")}
    report_figures(
        "fuzz-routes",
        {
            "requests_by_target": dict(sorted(routes.items())),
            "requests": sum(routes.values()),
            "answers_by_status": dict(sorted(statuses.items())),
            "answers_5xx": sum(v for k, v in statuses.items() if k.startswith("5")),
            "hangs": 0,
        },
    )


def check(provider: str, target: str, response: httpx.Response) -> None:
    """A success, or a refusal (4xx) in the provider's own error format; never a 5xx."""
    TALLY[f"route:{provider} {target}"] += 1
    TALLY[f"status:{response.status_code}"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:400])
    if response.status_code >= 400:
        error_of(provider, response)


# -- strategies -----------------------------------------------------------------------------
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "x" * 6000, "720P", "16:9", "wan2.7-videoedit", "video"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

MEDIA_URLS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "https://example.invalid/clip.mp4",
            "http://127.0.0.1:1/closed.mp4",
            "http://localhost:1/closed.mp4",
            "http://127.0.0.1\\@example.com/x.mp4",
            "http://[::1",
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            "http://169.254.169.254/latest/meta-data",
            "http://2130706433/x.mp4",
            "file:///etc/passwd",
            "oss://",
            "oss://../../etc/passwd",
            "oss://dashscope-instant/nothing/here.mp4",
            "data:",
            "data:image/png;base64,",
            "data:image/png;base64,@@@",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:text/html;base64,PGgxPmhpPC9oMT4=",
            "data:video/mp4;base64,AAAA",
            "javascript:alert(1)",
            "https://" + "a" * 5000 + ".com/x.mp4",
        ]
    ),
    st.builds(
        lambda mime, payload: f"data:{mime};base64,{payload}",
        st.sampled_from(["image/png", "image/jpeg", "image/webp", "image/gif", "IMAGE/PNG"]),
        st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=20),
    ),
    st.builds(lambda p: "oss://" + p, st.text(max_size=40)),
    st.builds(lambda p: "http://127.0.0.1:1/" + urllib.parse.quote(p), st.text(max_size=20)),
)


@st.composite
def mutated(draw: st.DrawFn, body: Any) -> Any:
    """``body`` with one part replaced, removed, or joined by a stray key."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(body, ())
    path = draw(st.sampled_from(paths))
    copy = json.loads(json.dumps(body))
    if not path:
        return draw(JSON)
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    operation = draw(st.sampled_from(["replace", "delete", "add"]))
    if operation == "replace" or (operation == "delete" and isinstance(parent, list)):
        parent[path[-1]] = draw(JSON | MEDIA_URLS)
    elif operation == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = draw(JSON)
    else:
        parent.append(draw(JSON))
    return copy


def with_media(provider: str, url: str) -> Any:
    body = create_body(provider, video="https://example.invalid/clip.mp4")
    if provider == "apimart":
        body["image_urls"] = [url]
        return body
    inner = body["input"][0]["params"]["input"] if provider == "vtrix" else body["input"]
    inner["media"].append({"type": "reference_image", "url": url})
    return body


def raw_bodies(provider: str) -> st.SearchStrategy[bytes]:
    valid = json.dumps(create_body(provider)).encode()
    return st.one_of(
        st.binary(max_size=200),
        st.integers(min_value=0, max_value=len(valid) - 1).map(lambda n: valid[:n]),
        st.sampled_from(
            [
                b"",
                b"   ",
                b"\xff\xfe{}",
                b'{"model": NaN}',
                b'{"model": Infinity}',
                b'{"input": 1e999}',
                b'{"parameters": {"seed": ' + b"9" * 5000 + b"}}",
                b"[" * 50_000 + b"]" * 50_000,
                b'{"a":' * 40 + b"1" + b"}" * 40,
                b"null",
                b"[]",
                b'"text"',
                b'{"model": "wan2.7-videoedit", "model": 1}',
            ]
        ),
        st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


# -- provider routes ----------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_json_body_to_create_is_accepted_or_refused_in_the_providers_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(body=JSON | mutated(create_body(provider)))
    def property_(body: Any) -> None:
        response = http.post(
            create_url(server, provider),
            content=json.dumps(body).encode(),
            headers={**auth(), "Content-Type": "application/json"},
        )
        check(provider, "create json", response)

    property_()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_bytes_to_create_are_refused_in_the_providers_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(raw=raw_bodies(provider))
    def property_(raw: bytes) -> None:
        response = http.post(
            create_url(server, provider),
            content=raw,
            headers={**auth(), "Content-Type": "application/json"},
        )
        check(provider, "create bytes", response)
        assert 400 <= response.status_code < 500

    property_()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_media_url_is_accepted_or_refused_in_the_providers_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(url=MEDIA_URLS)
    def property_(url: str) -> None:
        response = http.post(
            create_url(server, provider), json=with_media(provider, url), headers=auth()
        )
        check(provider, "create media url", response)

    property_()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_task_id_is_answered_in_the_providers_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(task_id=st.text(min_size=1, max_size=80))
    def property_(task_id: str) -> None:
        url = status_url(server, provider, urllib.parse.quote(task_id, safe=""))
        response = http.get(url, headers=auth())
        check(provider, "status", response)

    property_()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_directive_header_is_obeyed_or_refused(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    latin1 = st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
        max_size=40,
    )

    @FUZZ
    @given(progression=latin1, fail=latin1)
    def property_(progression: str, fail: str) -> None:
        headers: dict[str, str | bytes] = {
            **auth(),
            "Content-Type": "application/json",
            "X-Emulator-Progression": (progression.strip() or "x").encode("latin-1"),
            "X-Emulator-Fail": (fail.strip() or "x").encode("latin-1"),
        }
        response = http.post(
            create_url(server, provider),
            content=json.dumps(create_body(provider)).encode(),
            headers=headers,  # type: ignore[arg-type]
        )
        check(provider, "create directives", response)

    property_()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_path_and_method_under_a_provider_prefix_is_answered_in_its_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(
        path=st.lists(st.text(min_size=1, max_size=12), max_size=4),
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    )
    def property_(path: list[str], method: str) -> None:
        url = (
            server.base_url(provider) + "/" + "/".join(urllib.parse.quote(p, safe="") for p in path)
        )
        response = http.request(method, url, headers=auth(), content=b"{}")
        check(provider, "any path", response)

    property_()


QUERY_TEXT = st.text(max_size=20) | st.sampled_from(
    ["", "0", "-1", "101", "1" * 30, "²", "١٢", "00010101000000", "99991231235959", "1e3", "NaN"]
)


@pytest.mark.parametrize("region", ["dashscope-beijing", "dashscope-singapore"])
def test_any_listing_query_is_answered_in_dashscopes_format(
    server: EmulatorServer, http: httpx.Client, region: str
) -> None:
    names = ["page_no", "page_size", "start_time", "end_time", "status", "model_name", "region"]

    @FUZZ
    @given(
        query=st.dictionaries(st.sampled_from(names) | st.text(max_size=8), QUERY_TEXT, max_size=5)
    )
    def property_(query: dict[str, str]) -> None:
        response = http.get(server.base_url(region) + "/tasks", params=query, headers=auth())
        check(region, "list query", response)

    property_()


@pytest.mark.parametrize("region", ["dashscope-beijing", "dashscope-singapore"])
def test_any_upload_policy_query_is_answered_in_dashscopes_format(
    server: EmulatorServer, http: httpx.Client, region: str
) -> None:
    @FUZZ
    @given(
        action=QUERY_TEXT | st.just("getPolicy"),
        model=QUERY_TEXT | st.sampled_from(["wan2.7-videoedit", "wan2.1-vace-plus"]),
    )
    def property_(action: str, model: str) -> None:
        response = http.get(
            server.base_url(region) + "/uploads",
            params={"action": action, "model": model},
            headers=auth(),
        )
        check(region, "upload policy", response)

    property_()


# -- OSS: uploads and result links ----------------------------------------------------------------
FORM_NAMES = [
    "OSSAccessKeyId",
    "Signature",
    "policy",
    "key",
    "x-oss-object-acl",
    "x-oss-forbid-overwrite",
    "success_action_status",
    "x-oss-content-type",
    "file",
]


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(FORM_NAMES) | st.text(max_size=10), st.text(max_size=30), max_size=8
    ),
    files=st.dictionaries(
        st.sampled_from(["file", "key", "other"]), st.binary(max_size=100), max_size=2
    ),
    use_policy=st.booleans(),
)
def test_any_upload_form_is_accepted_or_refused_in_oss_xml(
    server: EmulatorServer,
    http: httpx.Client,
    fields: dict[str, str],
    files: dict[str, bytes],
    use_policy: bool,
) -> None:
    if use_policy:  # a real policy, so that the checks past the signature are reached too
        data = http.get(
            server.base_url("dashscope-beijing") + "/uploads",
            params={"action": "getPolicy", "model": "wan2.7-videoedit"},
            headers=auth(),
        ).json()["data"]
        fields = {
            "OSSAccessKeyId": data["oss_access_key_id"],
            "Signature": data["signature"],
            "policy": data["policy"],
            "key": data["upload_dir"] + "/clip.mp4",
            "x-oss-object-acl": "private",
            **fields,
        }
    response = http.post(
        server.url + OSS_UPLOAD,
        data=fields,
        files={name: (name, body) for name, body in files.items()} or None,
    )
    check("oss", "upload form", response)


@FUZZ
@given(
    raw=st.binary(max_size=300)
    | st.sampled_from([b"--x\r\n", b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"]),
    ctype=st.sampled_from(
        [
            "multipart/form-data; boundary=b",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "application/x-www-form-urlencoded",
            "application/json",
            "text/plain",
        ]
    ),
)
def test_any_bytes_to_the_upload_host_are_refused_in_oss_xml(
    server: EmulatorServer, http: httpx.Client, raw: bytes, ctype: str
) -> None:
    response = http.post(server.url + OSS_UPLOAD, content=raw, headers={"Content-Type": ctype})
    check("oss", "upload bytes", response)
    assert response.status_code >= 400


@FUZZ
@given(
    key=st.text(min_size=1, max_size=60)
    | st.sampled_from(["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%00.mp4", "a/../b.mp4"]),
    query=st.dictionaries(
        st.sampled_from(["Expires", "OSSAccessKeyId", "Signature"]) | st.text(max_size=8),
        QUERY_TEXT,
        max_size=4,
    ),
)
def test_any_result_link_is_served_or_refused_in_oss_xml(
    server: EmulatorServer, http: httpx.Client, key: str, query: dict[str, str]
) -> None:
    response = http.get(server.url + OSS_RESULT + urllib.parse.quote(key, safe="/%"), params=query)
    if response.request.url.path.startswith("/oss/"):
        check("oss", "result link", response)
    else:  # httpx removed the dot segments: the path left the OSS routes (no provider's)
        assert response.status_code == 404


# -- sizes ----------------------------------------------------------------------------------------
def _chunks(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        piece = min(16 * 1024, size - sent)
        sent += piece
        yield b" " * piece


@pytest.mark.parametrize("provider", [*PROVIDERS, "oss"])
def test_a_body_beyond_the_limit_is_refused_in_the_providers_format(
    server: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    @FUZZ
    @given(extra=st.integers(min_value=1, max_value=4 * LIMIT), chunked=st.booleans())
    def property_(extra: int, chunked: bool) -> None:
        size = LIMIT + 64 * 1024 + extra if provider == "oss" else LIMIT + extra
        url = server.url + OSS_UPLOAD if provider == "oss" else create_url(server, provider)
        content: Any = _chunks(size) if chunked else b" " * size
        ctype = "multipart/form-data; boundary=b" if provider == "oss" else "application/json"
        response = http.post(url, content=content, headers={**auth(), "Content-Type": ctype})
        check(provider, "oversized body", response)
        assert response.status_code == (400 if provider == "oss" else 413)

    property_()


# -- the control plane ----------------------------------------------------------------------------
CONTROL_POSTS = [
    "/reset",
    "/seed",
    "/progression",
    "/faults",
    "/clock/advance",
    "/tasks/x/fail",
    "/tasks/x/progression",
]


@FUZZ
@given(path=st.sampled_from(CONTROL_POSTS), body=JSON | raw_bodies("dashscope-beijing"))
def test_any_body_to_the_control_plane_is_obeyed_or_refused_in_its_format(
    server: EmulatorServer, http: httpx.Client, path: str, body: Any
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        response = http.post(server.url + "/_emulator" + path, content=content)
        TALLY["route:control " + path] += 1
        TALLY[f"status:{response.status_code}"] += 1
        assert response.status_code < 500, response.text[:300]
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}
            assert set(response.json()["error"]) == {"kind", "message", "field"}
    finally:
        server.reset()  # a fault rule or a clock jump must not leak into other examples
