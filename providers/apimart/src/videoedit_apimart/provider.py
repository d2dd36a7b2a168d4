"""The APIMart-format gateway provider (sans-I/O).

Several white-label hosts serve the same API, so only the base URL differs between them.

Create: ``POST {base}/v1/videos/generations`` with the flat body of
`videoedit_apimart.encoding`, answered by
``{"code": 200, "data": [{"status": "submitted", "task_id": "task_…"}]}``.
Poll: ``GET {base}/v1/tasks/{task_id}?language=en``, answered by
``{"code": 200, "data": {"id", "status", "progress": 0–100, "result": {"videos": [{"url", "expires_at"}]},
"created", "completed", "error": {"code", "message", "type"}}}``.
A body whose ``code`` is not 200 is an error even when the HTTP status is 200.
No cancel call and no listing are documented.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from videoedit.errors import ServiceError, UnsupportedOperationError, VideoEditError
from videoedit.provider import (
    ListQuery,
    Provider,
    ProviderConfig,
    Quotas,
    json_body,
    quote_task_id,
)
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskResult, TaskStatus
from videoedit.wire import (
    as_number,
    epoch_to_datetime,
    progress_fraction,
    status_from,
    url_expiry,
)
from videoedit_apimart.encoding import DIALECT, ApimartOptions
from videoedit_apimart.errors import api_error, body_code, error_fields, parse_apimart_error

__all__ = ["CREATE_PATH", "TASK_PATH", "ApimartProvider", "map_status", "parse_task"]

CREATE_PATH = "/v1/videos/generations"
TASK_PATH = "/v1/tasks/"

#: The gateway's status words; an unlisted word is read as still running.
_STATUS = {
    "pending": TaskStatus.PENDING,
    "submitted": TaskStatus.PENDING,
    "queued": TaskStatus.PENDING,
    "processing": TaskStatus.RUNNING,
    "completed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELED,
    "canceled": TaskStatus.CANCELED,
}


def map_status(word: Any) -> TaskStatus:
    """A gateway status word as one of the six."""
    return status_from(word, _STATUS)


def parse_progress(value: Any, status: TaskStatus) -> float | None:
    """The gateway's percentage (0–100) as a fraction in [0, 1]; 1.0 once completed."""
    return progress_fraction(value, done=status is TaskStatus.SUCCEEDED, scale=100)


def _first_url(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list):
        return next((item for item in value if isinstance(item, str) and item), None)
    return None


def _result(data: Mapping[str, Any]) -> TaskResult | None:
    """``result.videos[0]``: its URL (a string or a list of them) and its ``expires_at``."""
    result = data.get("result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    if not isinstance(videos, list):
        return None
    for video in videos:
        if not isinstance(video, Mapping):
            continue
        url = _first_url(video.get("url"))
        if url:
            return TaskResult(
                video_url=url,
                expires_at=epoch_to_datetime(video.get("expires_at")) or url_expiry(url),
                duration=as_number(video.get("duration")),
            )
    return None


def parse_task(provider_id: str, data: Any, task_id: str | None = None) -> Task:
    """One task object (``data`` of a poll answer, or ``data[0]`` of a create answer)."""
    if not isinstance(data, Mapping):
        raise ServiceError(
            "the gateway answered without a 'data' object",
            provider=provider_id,
            code="MalformedResponse",
            task_id=task_id,
            body=data,
        )
    found_id = data.get("task_id") or data.get("id") or task_id
    if not isinstance(found_id, str) or not found_id:
        raise ServiceError(
            "the gateway answered without the task's id (data.task_id or data.id)",
            provider=provider_id,
            code="MalformedResponse",
            body=data,
        )
    status = map_status(data.get("status"))
    error_code, error_message, _ = error_fields(data.get("error"))
    result = None
    if status is TaskStatus.SUCCEEDED:
        result = _result(data)
        if result is None:
            raise ServiceError(
                f"the gateway reports task {found_id} completed but gives no result.videos[0].url",
                provider=provider_id,
                code="MalformedResponse",
                task_id=found_id,
                body=data,
            )
    return Task(
        task_id=found_id,
        provider=provider_id,
        status=status,
        progress=parse_progress(data.get("progress"), status),
        submitted_at=epoch_to_datetime(data.get("created")),
        ended_at=epoch_to_datetime(data.get("completed")),
        result=result,
        error_code=error_code,
        error_message=error_message,
        raw=dict(data),
    )


class ApimartProvider(Provider):
    """An APIMart-format gateway. Options (see `ApimartOptions`):
    ``field_names``, ``max_reference_images``, ``language``.
    """

    id: ClassVar[str] = "apimart"
    default_base_url: ClassVar[str] = "https://api.apimart.ai"
    api_key_env: ClassVar[tuple[str, ...]] = ("APIMART_API_KEY",)
    description: ClassVar[str] = (
        "APIMart-format gateway (/v1/videos/generations; white-label hosts)"
    )
    dialect: ClassVar[str] = DIALECT
    known_options: ClassVar[frozenset[str]] = ApimartOptions.KNOWN
    #: The gateway's page documents no rate or concurrency figure: nothing to pace by.
    quotas: ClassVar[Quotas] = Quotas(source="none documented on the APIMart-format page")

    def __init__(self, config: ProviderConfig) -> None:
        self.options = ApimartOptions.from_options(config.options)
        super().__init__(config)

    def _headers(self) -> dict[str, str]:
        return {**self.auth_headers(), "Content-Type": "application/json"}

    def _body(self, response: httpx.Response, task_id: str | None = None) -> Mapping[str, Any]:
        """The answer's JSON object; a ``code`` other than 200 inside it raises its error."""
        body = json_body(response)
        if not isinstance(body, dict):
            raise ServiceError(
                "the gateway answered something that is not a JSON object",
                provider=self.id,
                code="MalformedResponse",
                status_code=response.status_code,
                task_id=task_id,
                body=body,
            )
        code = body_code(body)
        if "code" in body and code != 200:
            raise api_error(
                self.id,
                response.status_code,
                body,
                retry_after=response.headers.get("Retry-After"),
                field_names=self.options.field_names,
                task_id=task_id,
            )
        return body

    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.base_url + CREATE_PATH,
            headers=self._headers(),
            content=json.dumps(body, ensure_ascii=False).encode(),
        )

    def parse_create(self, response: httpx.Response) -> Task:
        body = self._body(response)
        data = body.get("data")
        first = data[0] if isinstance(data, list) and data else data
        return parse_task(self.id, first)

    def build_status(self, task_id: str) -> httpx.Request:
        params = {"language": self.options.language} if self.options.language else None
        return httpx.Request(
            "GET",
            self.base_url + TASK_PATH + quote_task_id(task_id),
            params=params,
            headers=self._headers(),
        )

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        return parse_task(self.id, self._body(response, task_id).get("data"), task_id)

    def build_cancel(self, task_id: str) -> httpx.Request:
        raise UnsupportedOperationError(
            "the APIMart gateway documents no cancel call (its 'cancelled' status is reported, "
            "not requested): a submitted task runs to its end",
            provider=self.id,
            task_id=task_id,
            code="UnsupportedOperation",
        )

    def build_list(self, query: ListQuery) -> httpx.Request:
        raise UnsupportedOperationError(
            "the APIMart gateway documents no task listing: keep the ids that submit() "
            "returns to resume tasks",
            provider=self.id,
            code="UnsupportedOperation",
        )

    def parse_error(self, response: httpx.Response) -> VideoEditError:
        return parse_apimart_error(self.id, response, self.options.field_names)
