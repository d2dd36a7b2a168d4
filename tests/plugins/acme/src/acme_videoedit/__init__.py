"""A tiny third-party provider, as an outside author would publish one.

Its service ("Acme") takes ``{"clip": url, "instruction": prompt}`` at ``POST /jobs`` and
answers ``{"job": id, "state": "queued"|"working"|"done"|"error", "output": url}`` at
``GET /jobs/{id}``. It imports nothing from videoedit but the public API (the package and
its ``provider`` contract module).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

import videoedit
from videoedit import EditRequest, Provider, Task, TaskResult, TaskStatus, VideoEdit
from videoedit.provider import quote_task_id

STATES = {
    "queued": TaskStatus.PENDING,
    "working": TaskStatus.RUNNING,
    "done": TaskStatus.SUCCEEDED,
    "error": TaskStatus.FAILED,
}


class AcmeProvider(Provider):
    id: ClassVar[str] = "acme"
    default_base_url: ClassVar[str] = "https://api.acme.invalid"
    api_key_env: ClassVar[tuple[str, ...]] = ("ACME_API_KEY",)
    description: ClassVar[str] = "Acme Video (test plugin)"
    dialect: ClassVar[str] = "acme"

    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        return httpx.Request(
            "POST", f"{self.base_url}/jobs", json=body, headers=self.auth_headers()
        )

    def parse_create(self, response: httpx.Response) -> Task:
        return self._task(response.json())

    def build_status(self, task_id: str) -> httpx.Request:
        return httpx.Request(
            "GET", f"{self.base_url}/jobs/{quote_task_id(task_id)}", headers=self.auth_headers()
        )

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        return self._task(response.json())

    def _task(self, body: dict[str, Any]) -> Task:
        status = STATES.get(body.get("state", ""), TaskStatus.UNKNOWN)
        result = TaskResult(video_url=body["output"]) if status is TaskStatus.SUCCEEDED else None
        return Task(task_id=body["job"], provider=self.id, status=status, result=result, raw=body)


@videoedit.hookimpl
def register_providers(register: Any) -> None:
    register(AcmeProvider, aliases=("acme-video",))


@videoedit.hookimpl
def encode_request(request: EditRequest, context: videoedit.EncodeContext) -> dict[str, Any] | None:
    if context.dialect == "acme" and isinstance(request, VideoEdit):
        return {"clip": request.video, "instruction": request.prompt or ""}
    return None


__all__ = ["AcmeProvider"]
