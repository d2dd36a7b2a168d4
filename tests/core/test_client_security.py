"""The key never shows (repr, str, logs, pickles); TLS verification cannot be switched off."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import ssl
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import httpx
import pytest
from boxed_mp4 import boxed_mp4

from videoedit import (
    ApiKey,
    AuthenticationError,
    Client,
    InvalidRequestError,
    RetryPolicy,
    VideoEdit,
    VideoEditError,
)
from videoedit.plugins import PluginHost

pytestmark = pytest.mark.anyio

EDIT = VideoEdit(video="https://cdn.example.com/in.mp4")


def shows_no_key(text: str, key: str) -> bool:
    return key not in text and key[3:15] not in text


def everything_about(error: BaseException) -> str:
    """All an application could print or log of an error, its causes included."""
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), repr(vars(error))]
    )


async def test_reprs_never_show_the_key(client, service) -> None:
    for thing in (client.inner, client.inner.provider, client.inner.provider.config):
        assert shows_no_key(repr(thing), service.key)
        assert shows_no_key(str(thing), service.key)
    assert repr(ApiKey(service.key)) == "ApiKey('***')"
    assert str(ApiKey(service.key)) == "ApiKey('***')"
    assert f"{ApiKey(service.key)}" == "ApiKey('***')"


async def test_errors_never_show_the_key(make_client, service, tmp_path: Path) -> None:
    """Every kind of failure the client raises, the key included in what the service said."""
    client = make_client(retry=RetryPolicy(max_attempts=1))
    echo = f"Invalid API-key provided: Bearer {service.key}"
    service.script("create", service.error(401, "InvalidApiKey", echo))
    service.script("create", httpx.ReadTimeout("timed out"))
    service.script("status", service.error(429, "Throttling", f"slow down {service.key}"))
    service.script("status", httpx.ConnectError("refused"))
    service.script("status", service.task("FAILED", code="InternalError", message="x"))
    service.script("status", service.task("UNKNOWN"))
    service.script("status", httpx.Response(502, text=f"<pre>Authorization: Bearer {service.key}"))
    service.script("download", httpx.Response(403))
    calls = [
        lambda: client.submit(EDIT),
        lambda: client.submit(EDIT),
        lambda: client.wait(service.task_id),
        lambda: client.wait(service.task_id),
        lambda: client.wait(service.task_id),
        lambda: client.wait(service.task_id),
        lambda: client.wait(service.task_id),
        lambda: client.edit(EDIT, tmp_path / "out.mp4"),
    ]
    errors: list[VideoEditError] = []
    for call in calls:
        with pytest.raises(VideoEditError) as caught:
            await call()
        errors.append(caught.value)
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError",
        "TransportError",
        "RateLimitError",
        "TransportError",
        "TaskFailedError",
        "TaskNotFoundError",
        "ServiceError",
        "DownloadError",
    ]
    for error in errors:
        assert shows_no_key(everything_about(error), service.key), type(error)
        assert shows_no_key(json.dumps(error.body, default=str), service.key)
    assert "Bearer ***" in str(errors[0])  # scrubbed, not dropped


def test_an_api_key_refuses_to_be_pickled_or_copied() -> None:
    key = ApiKey("sk-never-on-disk-0123456789")
    with pytest.raises(TypeError, match="cannot be pickled") as caught:
        pickle.dumps(key)
    assert "sk-never" not in str(caught.value)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


@pytest.mark.parametrize("kind", ["sync"])
async def test_a_provider_holding_a_key_cannot_be_pickled(client, service) -> None:
    with pytest.raises(TypeError) as caught:
        pickle.dumps(client.inner.provider.config.api_key)
    assert shows_no_key(str(caught.value), service.key)


def test_keys_compare_by_value_without_showing_it() -> None:
    assert ApiKey(" sk-1 ") == ApiKey("sk-1")
    assert ApiKey("sk-1") != ApiKey("sk-2")
    assert len({ApiKey("sk-1"), ApiKey("sk-1")}) == 1
    with pytest.raises(ValueError, match="api_key: must be a non-empty string"):
        ApiKey("   ")


# -- logs, through a real socket so that httpx and httpcore log what they log --------------
class _DashScopeHandler(BaseHTTPRequestHandler):
    key = ""
    video = boxed_mp4(b"\x01" * 4000)

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != f"Bearer {self.key}":
            self._send(401, b'{"code":"InvalidApiKey","message":"Invalid API-key provided."}')
            return
        self._send(200, b'{"request_id":"r1","output":{"task_id":"t1","task_status":"PENDING"}}')

    def do_GET(self) -> None:
        if self.path.startswith("/result.mp4"):
            self._send(200, self.video, "video/mp4")
            return
        host = self.headers["Host"]
        body = {
            "request_id": "r2",
            "output": {
                "task_id": "t1",
                "task_status": "SUCCEEDED",
                "video_url": f"http://{host}/result.mp4?Expires=4102444800",
            },
        }
        self._send(200, json.dumps(body).encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_dashscope() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DashScopeHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_debug_logs_never_show_the_key(
    local_dashscope: str,
    plugins: PluginHost,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-canary-in-the-logs-5d1e9a7c3b"
    monkeypatch.setattr(_DashScopeHandler, "key", key)
    caplog.set_level(logging.DEBUG)
    with Client("dashscope-beijing", api_key=key, base_url=local_dashscope, plugins=plugins) as c:
        c.edit(EDIT, tmp_path / "out.mp4")
    with (
        Client(
            "dashscope-beijing", api_key="sk-wrong", base_url=local_dashscope, plugins=plugins
        ) as c,
        pytest.raises(AuthenticationError),
    ):
        c.submit(EDIT)
    assert (tmp_path / "out.mp4").read_bytes() == _DashScopeHandler.video
    loggers = {r.name.split(".")[0] for r in caplog.records}
    assert {"httpx", "httpcore"} <= loggers  # they did log, at DEBUG, and still:
    for record in caplog.records:
        assert shows_no_key(record.getMessage(), key), record.name
        assert shows_no_key(repr(record.args), key), record.name
    assert shows_no_key(caplog.text, key)


# -- where the key comes from ----------------------------------------------------------------
def test_without_a_key_the_error_names_the_variable(
    plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(AuthenticationError) as caught:
        Client("dashscope-singapore", plugins=plugins)
    assert caught.value.code == "MissingApiKey"
    assert "pass api_key=... or set DASHSCOPE_API_KEY" in str(caught.value)


def test_the_key_comes_from_the_environment_when_not_given(
    plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-from-the-env")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"output": {"task_id": "t", "task_status": "RUNNING"}})

    with Client(
        "dashscope-singapore", plugins=plugins, transport=httpx.MockTransport(handler)
    ) as c:
        c.status("t")
    assert seen == ["Bearer sk-from-the-env"]


def test_an_explicit_key_wins_over_the_environment(
    plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-from-the-env")
    with Client("dashscope-singapore", api_key="sk-explicit", plugins=plugins) as c:
        assert c.provider.config.api_key == ApiKey("sk-explicit")


# -- TLS -----------------------------------------------------------------------------------
@pytest.mark.parametrize("verify", [False, 0, "", ssl.CERT_NONE])
def test_tls_verification_cannot_be_turned_off(plugins: PluginHost, verify: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Client("dashscope-beijing", api_key="k", plugins=plugins, verify=verify)  # type: ignore[arg-type]
    assert caught.value.field == "verify"


def test_a_non_verifying_ssl_context_is_refused(plugins: PluginHost) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(InvalidRequestError, match="must require certificates"):
        Client("dashscope-beijing", api_key="k", plugins=plugins, verify=context)


@pytest.mark.parametrize(
    "verify",
    [None, True, certifi.where(), Path(certifi.where()), ssl.create_default_context()],
    ids=["default", "true", "ca-path", "ca-pathlib", "context"],
)
def test_a_ca_bundle_or_context_is_accepted(plugins: PluginHost, verify: object) -> None:
    with Client("dashscope-beijing", api_key="k", plugins=plugins, verify=verify) as c:  # type: ignore[arg-type]
        assert c.provider_id == "dashscope-beijing"


def test_a_missing_ca_bundle_is_named(plugins: PluginHost, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match=r"CA bundle .* does not exist") as caught:
        Client("dashscope-beijing", api_key="k", plugins=plugins, verify=tmp_path / "ca.pem")
    assert caught.value.field == "verify"


def test_a_file_without_certificates_is_refused(plugins: PluginHost, tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(InvalidRequestError, match="no usable CA certificate"):
        Client("dashscope-beijing", api_key="k", plugins=plugins, verify=bogus)
