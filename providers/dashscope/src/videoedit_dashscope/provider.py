"""The DashScope providers (sans-I/O): Beijing and Singapore, one class each.

Both speak the same wire format; they differ in base URL, in the key that works there, and
in the model ids some request types use (the ``region`` the encoding hook sees).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx

from videoedit.errors import InvalidRequestError, ServiceError, VideoEditError
from videoedit.provider import (
    ListQuery,
    Provider,
    ProviderConfig,
    Quotas,
    Uploader,
    json_body,
    quote_task_id,
)
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskPage, TaskResult, TaskStatus, Usage
from videoedit.wire import as_integer, as_number, url_expiry
from videoedit_dashscope.errors import parse_dashscope_error
from videoedit_dashscope.upload import DashScopeUploader

__all__ = ["DashScopeBeijing", "DashScopeProvider", "DashScopeSingapore", "parse_task"]

CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
#: DashScope prints times as Beijing/Singapore wall-clock time (both UTC+8) without a zone.
SERVICE_TZ = timezone(timedelta(hours=8))
#: Task ids and result links live this long (documented).
RESULT_LIFETIME = timedelta(hours=24)

_WORKSPACE_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

_STATUS = {
    "PENDING": TaskStatus.PENDING,
    "SUSPENDED": TaskStatus.PENDING,
    "RUNNING": TaskStatus.RUNNING,
    "SUCCEEDED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "CANCELED": TaskStatus.CANCELED,
    "UNKNOWN": TaskStatus.UNKNOWN,
}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=SERVICE_TZ)
        except ValueError:
            continue
    return None


def _url_expiry(url: str, ended: datetime | None) -> datetime | None:
    """The link's own ``Expires=`` (epoch seconds, OSS-style), else 24 h after the task ended."""
    signed = url_expiry(url)
    if signed is not None:
        return signed
    return ended + RESULT_LIFETIME if ended else None


def parse_usage(raw: Mapping[str, Any]) -> Usage:
    """wan2.7 reports input/output/total seconds and ``SR``; vace reports ``video_duration``."""
    return Usage(
        input_seconds=as_number(raw.get("input_video_duration")),
        output_seconds=as_number(raw.get("output_video_duration", raw.get("video_duration"))),
        total_seconds=as_number(raw.get("duration")),
        video_count=as_integer(raw.get("video_count")),
        short_side=as_integer(raw.get("SR")),
        raw=dict(raw),
    )


def parse_task(provider_id: str, body: Any, task_id: str | None = None) -> Task:
    """A DashScope task body (``{"request_id", "output": {...}, "usage": {...}}``) as a Task."""
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, dict):
        raise ServiceError(
            "DashScope answered without an 'output' object",
            provider=provider_id,
            code="MalformedResponse",
            body=body,
        )
    found_id = output.get("task_id") or task_id
    # The task listing names the status ``status``; task bodies name it ``task_status``.
    status_word = output.get("task_status", output.get("status"))
    if not isinstance(found_id, str) or not isinstance(status_word, str):
        raise ServiceError(
            "DashScope answered without output.task_id and output.task_status",
            provider=provider_id,
            code="MalformedResponse",
            task_id=task_id,
            body=body,
        )
    status = _STATUS.get(status_word.strip().upper())
    if status is None:
        # Not UNKNOWN: that word means "no such task", and would send the caller astray.
        raise ServiceError(
            f"DashScope answered an unrecognised task_status {status_word!r}",
            provider=provider_id,
            code="MalformedResponse",
            task_id=found_id,
            body=body,
        )
    ended = _time(output.get("end_time"))
    result = None
    video_url = output.get("video_url")
    if status is TaskStatus.SUCCEEDED and isinstance(video_url, str):
        usage = body.get("usage")
        metrics = output.get("task_metrics")
        result = TaskResult(
            video_url=video_url,
            expires_at=_url_expiry(video_url, ended),
            usage=parse_usage(usage if isinstance(usage, dict) else {}),
            metrics={k: v for k, v in metrics.items() if isinstance(v, int)}
            if isinstance(metrics, dict)
            else {},
        )
        if result.usage.output_seconds is not None:
            result = replace(result, duration=result.usage.output_seconds)
    request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    return Task(
        task_id=found_id,
        provider=provider_id,
        status=status,
        request_id=request_id,
        submitted_at=_time(output.get("submit_time")),
        scheduled_at=_time(output.get("scheduled_time")),
        ended_at=ended,
        result=result,
        error_code=output.get("code") if isinstance(output.get("code"), str) else None,
        error_message=output.get("message") if isinstance(output.get("message"), str) else None,
        raw=body,
    )


def _uses_oss(body: Any) -> bool:
    """Whether any string in the body is an ``oss://`` URL (then the resolve header is due)."""
    if isinstance(body, str):
        return body.startswith("oss://")
    if isinstance(body, dict):
        return any(_uses_oss(v) for v in body.values())
    if isinstance(body, list):
        return any(_uses_oss(v) for v in body)
    return False


#: wan2.1-vace-plus's own quotas, under either of its ids (Beijing answers to both).
_VACE_QUOTAS = Quotas(creates_per_second=2, running=2)

#: DashScope's documented quotas: 20 task queries a second per account (the query page:
#: "Query rate limit: 20 requests/s per account"); wan2.1-vace-plus adds 2 task submissions a
#: second and 2 tasks at once. wan2.7-videoedit documents no creation or concurrency quota.
QUOTAS = Quotas(
    queries_per_second=20,
    models={"wan2.1-vace-plus": _VACE_QUOTAS, "wanx2.1-vace-plus": _VACE_QUOTAS},
    source="Model Studio: query a task (20 requests/s per account); wan2.1-vace-plus limits",
)


class DashScopeProvider(Provider):
    """Shared wire format of both regions (Model Studio's video-synthesis task API).

    Options: ``workspace`` (sent as ``X-DashScope-WorkSpace``); ``vace_model``, the id of
    wan2.1-vace-plus to send (read by the ``videoedit-vace`` plugin, which checks it: Beijing
    answers to both ``wanx2.1-vace-plus``, the default there, and ``wan2.1-vace-plus``).
    """

    dialect: ClassVar[str] = "dashscope"
    api_key_env: ClassVar[tuple[str, ...]] = ("DASHSCOPE_API_KEY",)
    known_options: ClassVar[frozenset[str]] = frozenset({"workspace", "vace_model"})
    quotas: ClassVar[Quotas] = QUOTAS

    def request_headers(self, **extra: str) -> dict[str, str]:
        """Key, JSON content type and the optional workspace, on every call to DashScope."""
        headers = {**self.auth_headers(), "Content-Type": "application/json", **extra}
        workspace = self.config.options.get("workspace")
        if workspace:
            headers["X-DashScope-WorkSpace"] = str(workspace)
        return headers

    def uploader(self) -> Uploader:
        return DashScopeUploader(self)

    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        headers = self.request_headers(**{"X-DashScope-Async": "enable"})
        if _uses_oss(body):
            headers["X-DashScope-OssResourceResolve"] = "enable"
        return httpx.Request(
            "POST",
            self.base_url + CREATE_PATH,
            headers=headers,
            content=json.dumps(body, ensure_ascii=False).encode(),
        )

    def parse_create(self, response: httpx.Response) -> Task:
        return parse_task(self.id, json_body(response))

    def build_status(self, task_id: str) -> httpx.Request:
        return httpx.Request(
            "GET", f"{self.base_url}/tasks/{quote_task_id(task_id)}", headers=self.request_headers()
        )

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        return parse_task(self.id, json_body(response), task_id)

    def build_cancel(self, task_id: str) -> httpx.Request:
        return httpx.Request(
            "POST",
            f"{self.base_url}/tasks/{quote_task_id(task_id)}/cancel",
            headers=self.request_headers(),
        )

    def build_list(self, query: ListQuery) -> httpx.Request:
        params: dict[str, str | int] = {"page_no": query.page, "page_size": query.page_size}
        if query.status:
            params["status"] = query.status
        if query.model:
            params["model_name"] = query.model
        for name, when in (("start_time", query.start_time), ("end_time", query.end_time)):
            if when is not None:
                local = when.astimezone(SERVICE_TZ) if when.tzinfo else when
                params[name] = local.strftime("%Y%m%d%H%M%S")
        return httpx.Request(
            "GET", f"{self.base_url}/tasks", params=params, headers=self.request_headers()
        )

    def parse_list(self, response: httpx.Response) -> TaskPage:
        body = json_body(response)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ServiceError(
                "DashScope's task listing has no 'data' list",
                provider=self.id,
                code="MalformedResponse",
                body=body,
            )
        tasks = tuple(
            parse_task(self.id, {"output": item}) for item in items if isinstance(item, dict)
        )
        assert isinstance(body, dict)
        return TaskPage(
            tasks=tasks,
            page=as_integer(body.get("page_no")) or 1,
            page_size=as_integer(body.get("page_size")),
            total=as_integer(body.get("total")),
        )

    def parse_error(self, response: httpx.Response) -> VideoEditError:
        return parse_dashscope_error(self.id, response)


class DashScopeBeijing(DashScopeProvider):
    id: ClassVar[str] = "dashscope-beijing"
    region: ClassVar[str | None] = "beijing"
    default_base_url: ClassVar[str] = "https://dashscope.aliyuncs.com/api/v1"
    description: ClassVar[str] = "Alibaba Cloud Model Studio, China (Beijing)"


class DashScopeSingapore(DashScopeProvider):
    """Singapore. Option ``workspace_id`` selects the per-workspace endpoint
    ``https://{workspace_id}.ap-southeast-1.maas.aliyuncs.com/api/v1`` when no base URL is given.
    """

    id: ClassVar[str] = "dashscope-singapore"
    region: ClassVar[str | None] = "singapore"
    default_base_url: ClassVar[str] = "https://dashscope-intl.aliyuncs.com/api/v1"
    description: ClassVar[str] = "Alibaba Cloud Model Studio, international (Singapore)"
    known_options: ClassVar[frozenset[str]] = frozenset({"workspace", "workspace_id", "vace_model"})

    def __init__(self, config: ProviderConfig) -> None:
        workspace_id = config.options.get("workspace_id")
        if workspace_id is not None and (
            not isinstance(workspace_id, str) or not _WORKSPACE_ID.fullmatch(workspace_id)
        ):
            raise InvalidRequestError(
                "options.workspace_id: must be letters, digits and dashes "
                "(the id of a Model Studio workspace)",
                field="options.workspace_id",
                rule="a Model Studio workspace id",
            )
        # An explicit base URL (argument or VIDEOEDIT_DASHSCOPE_SINGAPORE_BASE_URL) wins.
        if workspace_id and config.base_url.rstrip("/") == self.default_base_url:
            config = replace(
                config, base_url=f"https://{workspace_id}.ap-southeast-1.maas.aliyuncs.com/api/v1"
            )
        super().__init__(config)
