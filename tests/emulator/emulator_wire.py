"""Raw DashScope wire calls against an emulator, for the emulator's tests.

What any client sends, spelled out with httpx, so that tests can assert the exact answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from videoedit_emulator.render import OutputInfo, probe_output
from videoedit_emulator.server import EmulatorServer

MODEL = "wan2.7-videoedit"
#: A URL on a host that is not this machine: never fetched, a test pattern stands in.
REMOTE_VIDEO = "https://example.invalid/clip.mp4"
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")


def wan27_body(
    video: str = REMOTE_VIDEO,
    *,
    prompt: str | None = "claymation",
    images: tuple[str, ...] = (),
    **parameters: Any,
) -> dict[str, Any]:
    """A create body; 720P and 2 s by default, to keep renders cheap."""
    media = [{"type": "video", "url": video}] + [
        {"type": "reference_image", "url": url} for url in images
    ]
    input_: dict[str, Any] = {"media": media}
    if prompt is not None:
        input_["prompt"] = prompt
    params = {"resolution": "720P", "duration": 2, **parameters}
    return {
        "model": MODEL,
        "input": input_,
        "parameters": {k: v for k, v in params.items() if v is not None},
    }


class DashScopeWire:
    """Raw HTTP against one DashScope region of an emulator: what any client sends."""

    def __init__(
        self,
        server: EmulatorServer,
        region: str = "dashscope-beijing",
        key: str = "sk-test",
        http: httpx.Client | None = None,
    ) -> None:
        self.server = server
        self.base = server.base_url(region)
        self.key = key
        self._owns_http = http is None
        self.http = http or httpx.Client(timeout=60)

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        value = f"Bearer {self.key if key is None else key}".strip()
        return {"Authorization": value, **extra}

    def create(
        self,
        body: Any = None,
        *,
        key: str | None = None,
        asynchronous: bool = True,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        sent = self.headers(key)
        if asynchronous:
            sent["X-DashScope-Async"] = "enable"
        sent.update(headers or {})
        url = self.base + "/services/aigc/video-generation/video-synthesis"
        if content is not None:
            return self.http.post(
                url, content=content, headers={**sent, "Content-Type": "application/json"}
            )
        return self.http.post(url, json=wan27_body() if body is None else body, headers=sent)

    def submit(self, body: Any = None, **kwargs: Any) -> str:
        """Create and return the task id (asserting the documented success answer)."""
        response = self.create(body, **kwargs)
        assert response.status_code == 200, response.text
        return str(response.json()["output"]["task_id"])

    def query(self, task_id: str, *, key: str | None = None) -> httpx.Response:
        return self.http.get(f"{self.base}/tasks/{task_id}", headers=self.headers(key))

    def output(self, task_id: str) -> dict[str, Any]:
        response = self.query(task_id)
        assert response.status_code == 200, response.text
        return dict(response.json()["output"])

    def finished(self, task_id: str) -> dict[str, Any]:
        """The whole query answer once the render is done (immediate progression)."""
        assert self.server.engine.drain(timeout=60)
        response = self.query(task_id)
        assert response.status_code == 200
        return dict(response.json())

    def cancel(self, task_id: str, *, key: str | None = None) -> httpx.Response:
        return self.http.post(f"{self.base}/tasks/{task_id}/cancel", headers=self.headers(key))

    def list(self, **params: Any) -> httpx.Response:
        return self.http.get(f"{self.base}/tasks", params=params, headers=self.headers())

    def policy(
        self, model: str = MODEL, *, key: str | None = None, **params: str
    ) -> httpx.Response:
        query = {"action": "getPolicy", "model": model, **params}
        return self.http.get(f"{self.base}/uploads", params=query, headers=self.headers(key))

    def upload_form(self, data: Mapping[str, Any], name: str = "clip.mp4") -> dict[str, str]:
        """The PostObject form fields the SDK sends for a file called ``name``."""
        return {
            "OSSAccessKeyId": data["oss_access_key_id"],
            "Signature": data["signature"],
            "policy": data["policy"],
            "key": f"{data['upload_dir']}/{name}",
            "x-oss-object-acl": data["x_oss_object_acl"],
            "x-oss-forbid-overwrite": data["x_oss_forbid_overwrite"],
            "success_action_status": "200",
            "x-oss-content-type": "video/mp4",
        }

    def post_form(
        self, host: str, form: Mapping[str, str], payload: bytes, name: str = "clip.mp4"
    ) -> httpx.Response:
        return self.http.post(host, data=dict(form), files={"file": (name, payload, "video/mp4")})

    def upload(self, path: Path, model: str = MODEL) -> str:
        """The whole temporary-upload flow; returns the oss:// URL."""
        data = self.policy(model).json()["data"]
        form = self.upload_form(data, path.name)
        response = self.post_form(data["upload_host"], form, path.read_bytes(), path.name)
        assert response.status_code == 200, response.text
        return f"oss://{form['key']}"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


OSS = {"X-DashScope-OssResourceResolve": "enable"}


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of a DashScope error answer, checking its shape."""
    body = response.json()
    assert set(body) == {"request_id", "code", "message"}, body
    return response.status_code, body["code"], body["message"]


def rendered(
    wire: DashScopeWire, body: dict[str, Any], tmp_path: Path, name: str = "out.mp4"
) -> tuple[OutputInfo, httpx.Response]:
    """Create ``body`` (with the oss:// resolve header), let it finish, download its MP4 the
    way any client would and probe it."""
    body_json = wire.finished(wire.submit(body, headers=OSS))
    assert body_json["output"]["task_status"] == "SUCCEEDED", body_json
    response = wire.http.get(body_json["output"]["video_url"])
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(response.content)
    return probe_output(path), response
