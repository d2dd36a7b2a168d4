"""Acme Video Cloud's wire format, sans-I/O: requests are built, answers parsed, nothing sent.

==============================================  =============================================
call                                            answer
==============================================  =============================================
``POST {base}/v2/edits`` (the body: plugin.py)  202 ``{"edit": {…}, "request_id"}``
``GET  {base}/v2/edits/{id}``                   200 ``{"edit": {…}, "request_id"}``
``POST {base}/v2/edits/{id}/cancel``            200 ``{"edit": {…}}``; 409 once it left the queue
==============================================  =============================================

An edit is ``{"id", "state", "percent", "created", "finished", "output", "failure"}`` with
``state`` one of ``queued``, ``processing``, ``done``, ``failed``, ``canceled``; ``percent``
0 to 100; times in epoch seconds; ``output`` ``{"url", "expires", "seconds", "width",
"height"}`` once done; ``failure`` ``{"reason", "detail"}`` once failed. Errors are
``{"error": {"type", "code", "message", "param"}, "request_id"}`` with the HTTP status (429
with ``Retry-After``). The key goes in ``X-Acme-Key``. There is no listing and no upload API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from videoedit import (
    AuthenticationError,
    EditRequest,
    InvalidRequestError,
    PermissionDeniedError,
    Provider,
    RateLimitError,
    ServiceError,
    Task,
    TaskNotFoundError,
    TaskResult,
    TaskStatus,
    UnsupportedOperationError,
    VideoEditError,
)
from videoedit.provider import error_for_status, json_body, parse_retry_after, quote_task_id
from videoedit.wire import as_number, epoch_to_datetime

__all__ = ["DIALECT", "FIELDS", "PROVIDER_ID", "STATES", "AcmeVideoProvider", "parse_edit"]

PROVIDER_ID = "acme-cloud"
#: The body format Acme's create call speaks; ``acme_video.plugin`` encodes requests in it.
DIALECT = "acme-video"

STATES: Mapping[str, TaskStatus] = {
    "queued": TaskStatus.PENDING,
    "processing": TaskStatus.RUNNING,
    "done": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    "canceled": TaskStatus.CANCELED,
}

#: Acme's name of a field (its ``param``) -> the request field a user knows.
FIELDS: Mapping[str, str] = {
    "source.url": "video",
    "instruction": "prompt",
    "avoid": "negative_prompt",
    "style_refs": "reference_images",
    "output.height": "resolution",
    "output.aspect": "ratio",
    "output.seconds": "duration",
    "output.keep_audio": "audio_setting",
    "output.watermark": "watermark",
    "rewrite_instruction": "prompt_extend",
    "seed": "seed",
}


def _malformed(provider: str, what: str, body: Any, task_id: str | None = None) -> ServiceError:
    return ServiceError(
        f"Acme answered {what}",
        provider=provider,
        code="MalformedResponse",
        body=body,
        task_id=task_id,
    )


# --8<-- [start:parse]
def parse_edit(provider: str, body: Any, task_id: str | None = None) -> Task:
    """An answer holding ``{"edit": {…}, "request_id"}`` as a ``Task``."""
    edit = body.get("edit") if isinstance(body, dict) else None
    if not isinstance(edit, dict):
        raise _malformed(provider, "without an 'edit' object", body, task_id)
    found = edit.get("id") or task_id
    state = STATES.get(str(edit.get("state", "")).lower())
    if not isinstance(found, str) or state is None:
        raise _malformed(
            provider, f"an edit without an id or a known state: {edit!r}", body, task_id
        )
    percent = as_number(edit.get("percent"))
    result = None
    output = edit.get("output")
    if state is TaskStatus.SUCCEEDED:
        if not isinstance(output, dict) or not isinstance(output.get("url"), str):
            raise _malformed(provider, f"edit {found} done without output.url", body, found)
        result = TaskResult(
            video_url=output["url"],
            expires_at=epoch_to_datetime(output.get("expires")),
            duration=as_number(output.get("seconds")),
        )
    failure = edit.get("failure")
    reason = failure.get("reason") if isinstance(failure, dict) else None
    detail = failure.get("detail") if isinstance(failure, dict) else None
    request_id = body.get("request_id")
    return Task(
        task_id=found,
        provider=provider,
        status=state,
        request_id=request_id if isinstance(request_id, str) else None,
        progress=None if percent is None else min(1.0, max(0.0, percent / 100)),
        submitted_at=epoch_to_datetime(edit.get("created")),
        ended_at=epoch_to_datetime(edit.get("finished")),
        result=result,
        error_code=reason if isinstance(reason, str) else None,
        error_message=detail if isinstance(detail, str) else None,
        raw=body,
    )


# --8<-- [end:parse]


# --8<-- [start:provider]
class AcmeVideoProvider(Provider):
    """Acme Video Cloud (``acme-cloud``). Options: none."""

    id: ClassVar[str] = PROVIDER_ID
    default_base_url: ClassVar[str] = "https://api.acme-video.example"
    api_key_env: ClassVar[tuple[str, ...]] = ("ACME_VIDEO_API_KEY",)
    description: ClassVar[str] = "Acme Video Cloud (the worked example of a third-party plugin)"
    dialect: ClassVar[str] = DIALECT

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key is not None:
            headers["X-Acme-Key"] = self.config.api_key.reveal()
        return headers

    def _edit_url(self, task_id: str, suffix: str = "") -> str:
        return f"{self.base_url}/v2/edits/{quote_task_id(task_id)}{suffix}"

    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        # ``body`` is the request in the "acme-video" dialect, from the encode_request hook.
        return httpx.Request(
            "POST",
            f"{self.base_url}/v2/edits",
            headers=self._headers(),
            content=json.dumps(body, ensure_ascii=False).encode(),
        )

    def parse_create(self, response: httpx.Response) -> Task:
        return parse_edit(self.id, json_body(response))

    def build_status(self, task_id: str) -> httpx.Request:
        return httpx.Request("GET", self._edit_url(task_id), headers=self._headers())

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        return parse_edit(self.id, json_body(response), task_id)

    def build_cancel(self, task_id: str) -> httpx.Request:
        return httpx.Request("POST", self._edit_url(task_id, "/cancel"), headers=self._headers())

    def parse_cancel(self, task_id: str, response: httpx.Response) -> Task | None:
        return parse_edit(self.id, json_body(response), task_id)

    def parse_error(self, response: httpx.Response) -> VideoEditError:
        """``{"error": {"type", "code", "message", "param"}, "request_id"}`` onto the taxonomy."""
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return error_for_status(
                response.status_code,
                response.text[:300] or response.reason_phrase,
                provider=self.id,
                body=body,
            )
        kind = error.get("type")
        message = str(error.get("message") or response.reason_phrase)
        request_id = body.get("request_id") if isinstance(body, dict) else None
        common: dict[str, Any] = {
            "code": error.get("code") if isinstance(error.get("code"), str) else None,
            "provider": self.id,
            "request_id": request_id if isinstance(request_id, str) else None,
            "status_code": response.status_code,
            "body": body,
        }
        if kind == "invalid_request":
            param = error.get("param") if isinstance(error.get("param"), str) else None
            field = FIELDS.get(param, param) if param else None
            return InvalidRequestError(message, field=field, rule=message, **common)
        if kind == "authentication":
            return AuthenticationError(message, **common)
        if kind == "permission":
            return PermissionDeniedError(message, **common)
        if kind == "rate_limit":
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimitError(message, retry_after=retry_after, **common)
        if kind == "not_found":
            return TaskNotFoundError(message, **common)
        if kind == "conflict":
            return UnsupportedOperationError(message, **common)
        if kind == "server":
            return ServiceError(message, **common)
        return error_for_status(response.status_code, message, **common)


# --8<-- [end:provider]
