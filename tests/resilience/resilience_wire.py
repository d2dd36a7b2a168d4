"""Raw calls to every provider route of an emulator, and their error formats, for the
resilience and security tests (what any client sends, spelled out with httpx)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from boxed_mp4 import boxed_mp4

from videoedit_emulator.render import RenderJob, RenderResult
from videoedit_emulator.server import EmulatorServer

#: The providers whose create route the emulator serves.
PROVIDERS = ("dashscope-beijing", "dashscope-singapore", "vtrix", "apimart")
#: A video on a host that is not this machine: never fetched, a test pattern stands in.
REMOTE_VIDEO = "https://example.invalid/clip.mp4"
KEY = "sk-resilience"


def stub_renderer(job: RenderJob, out: Path) -> RenderResult:
    """For servers whose tests are about the wire, not the picture: a few KB shaped like
    an MP4 (its top-level boxes, which ``save`` checks), written at once."""
    data = boxed_mp4(bytes(4096))
    out.write_bytes(data)
    return RenderResult(out, job.width, job.height, 2.0, 30, 60, False, len(data), False)


def dashscope_body(video: str = REMOTE_VIDEO, **parameters: Any) -> dict[str, Any]:
    params = {"resolution": "720P", "duration": 2, **parameters}
    return {
        "model": "wan2.7-videoedit",
        "input": {"prompt": "claymation", "media": [{"type": "video", "url": video}]},
        "parameters": params,
    }


def create_body(provider: str, video: str = REMOTE_VIDEO, **parameters: Any) -> dict[str, Any]:
    """A valid create body in ``provider``'s own shape (720P, 2 s: cheap to render)."""
    inner = dashscope_body(video, **parameters)
    if provider == "vtrix":
        return {
            "model": "wan27_videoedit",
            "input": [{"params": {"input": inner["input"], "parameters": inner["parameters"]}}],
        }
    if provider == "apimart":
        return {
            "model": "wan2.7-videoedit",
            "video_urls": [video],
            "prompt": "claymation",
            **inner["parameters"],
        }
    return inner


def create_url(server: EmulatorServer, provider: str) -> str:
    path = {
        "vtrix": "/model/v1/generation",
        "apimart": "/v1/videos/generations",
    }.get(provider, "/services/aigc/video-generation/video-synthesis")
    return server.base_url(provider) + path


def status_url(server: EmulatorServer, provider: str, task_id: str) -> str:
    path = {"vtrix": "/model/v1/generation/task/", "apimart": "/v1/tasks/"}.get(provider, "/tasks/")
    return server.base_url(provider) + path + task_id


def auth(key: str = KEY, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable", **extra}


def create(
    http: httpx.Client,
    server: EmulatorServer,
    provider: str,
    body: Any = None,
    *,
    key: str = KEY,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    return http.post(
        create_url(server, provider),
        json=create_body(provider) if body is None else body,
        headers={**auth(key), **(headers or {})},
    )


def task_id_of(provider: str, response: httpx.Response) -> str:
    """The task id a create answer hands out, as the wire shows it."""
    body = response.json()
    if provider == "vtrix":
        return str(body["id"])
    if provider == "apimart":
        return str(body["data"][0]["task_id"])
    return str(body["output"]["task_id"])


def engine_id(provider: str, wire_id: str) -> str:
    """The engine's id of a task (APIMart's wire id carries a ``task_`` prefix)."""
    return wire_id.removeprefix("task_") if provider == "apimart" else wire_id


def status(
    http: httpx.Client, server: EmulatorServer, provider: str, task_id: str, key: str = KEY
) -> httpx.Response:
    return http.get(status_url(server, provider, task_id), headers=auth(key))


def task_state(provider: str, response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(status word, error code, error message) of a poll answer."""
    body = response.json()
    if provider == "vtrix":
        error = body.get("error") or {}
        return body["status"], error.get("code"), error.get("message")
    if provider == "apimart":
        data = body["data"]
        error = data.get("error") or {}
        return data["status"], error.get("code"), error.get("message")
    output = body["output"]
    return output["task_status"], output.get("code"), output.get("message")


def error_of(provider: str, response: httpx.Response) -> tuple[int, str, str]:
    """(HTTP status, code, message) of an error answer, checked to be in ``provider``'s own
    format: DashScope ``{"request_id", "code", "message"}``; Vtrix ``{"error": {"code",
    "message"}}``; APIMart ``{"code": <status>, "error": {"code", "message", "type"}}``; OSS
    ``<Error><Code/><Message/><RequestId/><HostId/></Error>``."""
    if provider == "oss":
        assert response.headers["content-type"].startswith("application/xml"), response.text
        root = ET.fromstring(response.text)
        assert root.tag == "Error"
        assert [child.tag for child in root] == ["Code", "Message", "RequestId", "HostId"]
        return response.status_code, root.findtext("Code") or "", root.findtext("Message") or ""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    if provider == "vtrix":
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message"}, body
        return response.status_code, body["error"]["code"], body["error"]["message"]
    if provider == "apimart":
        assert set(body) == {"code", "error"}, body
        assert body["code"] == response.status_code
        assert set(body["error"]) == {"code", "message", "type"}, body
        return response.status_code, body["error"]["code"], body["error"]["message"]
    assert set(body) == {"request_id", "code", "message"}, body
    assert isinstance(body["request_id"], str)
    assert body["request_id"]
    return response.status_code, body["code"], body["message"]


class Control:
    """The control plane of the test's emulator (``/_emulator``)."""

    def __init__(self, http: httpx.Client, server: EmulatorServer) -> None:
        self.http, self.base = http, server.url + "/_emulator"

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(self.base + path, params=params)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(self.base + path, json=body)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(self.base + path)

    def add_fault(self, rule: Any) -> dict[str, Any]:
        response = self.post("/faults", rule)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def journal(self, **filters: str) -> list[dict[str, Any]]:
        response = self.get("/journal", **filters)
        assert response.status_code == 200, response.text
        return list(response.json()["entries"])
