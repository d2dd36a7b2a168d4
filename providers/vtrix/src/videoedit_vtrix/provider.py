"""The Vtrix provider (sans-I/O): the DashScope body, wrapped in Vtrix's generation envelope.

Vtrix forwards ``input[0].params`` to DashScope unchanged, so the body inside the envelope is
produced by the very hook the DashScope routes use (dialect ``"dashscope"``): any request type
a plugin teaches the DashScope format travels through Vtrix too, once ``model_map`` names the
Vtrix id of its upstream model.

Create: ``POST {base}/model/v1/generation`` with
``{"model": "wan27_videoedit", "input": [{"params": {"input": {…}, "parameters": {…}}}]}``,
answered by ``{"id", "status": "in_progress", "model"}``.
Poll: ``GET {base}/model/v1/generation/task/{id}``. There is no cancel call and no listing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx

from videoedit.errors import (
    InvalidRequestError,
    ServiceError,
    UnsupportedOperationError,
    VideoEditError,
)
from videoedit.provider import (
    ListQuery,
    Provider,
    ProviderConfig,
    Quotas,
    json_body,
    quote_task_id,
)
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskResult, TaskStatus, Usage
from videoedit.wire import (
    as_number,
    epoch_to_datetime,
    progress_fraction,
    status_from,
    url_expiry,
)
from videoedit_vtrix.errors import error_fields, parse_vtrix_error

__all__ = [
    "CREATE_PATH",
    "DEFAULT_MODEL_MAP",
    "RESULT_LIFETIME",
    "VtrixProvider",
    "parse_task",
]

CREATE_PATH = "/model/v1/generation"
TASK_PATH = "/model/v1/generation/task/"
#: Upstream (DashScope) model id -> Vtrix model id. Documented: wan2.7-videoedit is wan27_videoedit.
DEFAULT_MODEL_MAP: Mapping[str, str] = {"wan2.7-videoedit": "wan27_videoedit"}
#: "The task ID and result URL are valid for 24 hours" (Vtrix's model page).
RESULT_LIFETIME = timedelta(hours=24)

#: Vtrix's status words. Its pages document ``in_progress``, ``completed`` and ``failed`` (one
#: also lists ``pending`` and ``processing``); anything else is read as still running, except
#: a cancel word, undocumented but terminal: reading it as running would only spin ``wait``.
_STATUS = {
    "pending": TaskStatus.PENDING,
    "completed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELED,
    "canceled": TaskStatus.CANCELED,
}


def map_status(word: Any) -> TaskStatus:
    """A Vtrix status word as one of the six; unknown words mean the task is still running."""
    return status_from(word, _STATUS)


def parse_time(value: Any) -> datetime | None:
    """A timestamp given as epoch seconds (or milliseconds) or as ISO 8601; naive means UTC."""
    if as_number(value) is not None:
        return epoch_to_datetime(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_progress(value: Any, status: TaskStatus) -> float | None:
    """Vtrix's ``progress`` (a fraction 0..1) clamped to [0, 1]; 1.0 once completed.

    A figure above 1 is read as a percentage, in case a page reports 0–100.
    """
    return progress_fraction(value, done=status is TaskStatus.SUCCEEDED)


def _video_content(output: Any) -> Mapping[str, Any] | None:
    """The first video item of ``output[*].content[*]`` (or the first item with a URL)."""
    if not isinstance(output, list):
        return None
    items = [
        item
        for entry in output
        if isinstance(entry, Mapping) and isinstance(entry.get("content"), list)
        for item in entry["content"]
        if isinstance(item, Mapping) and isinstance(item.get("url"), str) and item["url"]
    ]
    videos = [item for item in items if item.get("type") == "video"]
    chosen = videos or items
    return chosen[0] if chosen else None


def parse_usage(raw: Any) -> Usage:
    """Vtrix bills money, not seconds: ``cost`` is kept; ``quantity`` and ``unit_price`` stay raw."""
    if not isinstance(raw, Mapping):
        return Usage()
    return Usage(cost=as_number(raw.get("cost")), raw=dict(raw))


def parse_task(provider_id: str, body: Any, task_id: str | None = None) -> Task:
    """A Vtrix task body (create answer or poll answer) as a [`Task`][videoedit_vtrix.provider.Task]."""
    if not isinstance(body, dict):
        raise ServiceError(
            "Vtrix answered something that is not a JSON object",
            provider=provider_id,
            code="MalformedResponse",
            body=body,
            task_id=task_id,
        )
    found_id = body.get("id") or task_id
    if not isinstance(found_id, str) or not found_id:
        code, message = error_fields(body.get("error"))
        said = f": {message or code}" if message or code else ""
        raise ServiceError(
            f"Vtrix answered without the task's 'id'{said}",
            provider=provider_id,
            code=code or "MalformedResponse",
            body=body,
        )
    status = map_status(body.get("status"))
    created = parse_time(body.get("created_at"))
    ended = parse_time(body.get("completed_at") or body.get("finished_at"))
    error_code, error_message = error_fields(body.get("error"))
    result = None
    content = _video_content(body.get("output"))
    if status is TaskStatus.SUCCEEDED:
        if content is None:
            raise ServiceError(
                f"Vtrix reports task {found_id} completed but gives no output[0].content[0].url",
                provider=provider_id,
                code="MalformedResponse",
                task_id=found_id,
                body=body,
            )
        url = str(content["url"])
        anchor = ended or created
        result = TaskResult(
            video_url=url,
            expires_at=url_expiry(url) or (anchor + RESULT_LIFETIME if anchor else None),
            usage=parse_usage(body.get("usage")),
            duration=as_number(content.get("duration")),
        )
    return Task(
        task_id=found_id,
        provider=provider_id,
        status=status,
        progress=parse_progress(body.get("progress"), status),
        submitted_at=created,
        ended_at=ended,
        result=result,
        error_code=error_code,
        error_message=error_message,
        raw=body,
    )


def _model_map(options: Mapping[str, Any]) -> dict[str, str]:
    given = options.get("model_map", {})
    if not isinstance(given, Mapping) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
        for k, v in given.items()
    ):
        raise InvalidRequestError(
            "options.model_map: must map upstream model ids to Vtrix model ids, both "
            "non-empty strings (e.g. {'wan2.7-videoedit': 'wan27_videoedit'})",
            field="options.model_map",
            rule="a mapping of non-empty strings",
        )
    return {**DEFAULT_MODEL_MAP, **{k.strip(): v.strip() for k, v in given.items()}}


class VtrixProvider(Provider):
    """Vtrix's generation API, carrying DashScope bodies.

    Options: ``model_map`` (upstream model id -> Vtrix model id), merged over
    `DEFAULT_MODEL_MAP`.
    """

    id: ClassVar[str] = "vtrix"
    default_base_url: ClassVar[str] = "https://cloud.vtrix.ai"
    api_key_env: ClassVar[tuple[str, ...]] = ("VTRIX_API_KEY",)
    description: ClassVar[str] = "Vtrix (DashScope bodies in the Vtrix generation envelope)"
    dialect: ClassVar[str] = "dashscope"
    known_options: ClassVar[frozenset[str]] = frozenset({"model_map"})
    #: Vtrix documents a 429 for "rate limit" but no figure: nothing to pace by (a user who
    #: learns the account's figures passes its own `videoedit.pacing.Pacer`).
    quotas: ClassVar[Quotas] = Quotas(source="none documented (Vtrix answers 429 with no figure)")

    def __init__(self, config: ProviderConfig) -> None:
        self.model_map = _model_map(config.options)
        super().__init__(config)

    def _headers(self) -> dict[str, str]:
        return {**self.auth_headers(), "Content-Type": "application/json"}

    def vtrix_model(self, upstream: str) -> str:
        """The Vtrix id of an upstream model; an id that already is a Vtrix id passes as is."""
        if upstream in self.model_map:
            return self.model_map[upstream]
        if upstream in self.model_map.values():
            return upstream
        known = ", ".join(f"{k} -> {v}" for k, v in sorted(self.model_map.items()))
        raise InvalidRequestError(
            f"model: Vtrix has no model id for upstream model {upstream!r} (known: {known}). "
            f"If Vtrix offers it, name its Vtrix id in the provider option 'model_map', e.g. "
            f"options={{'model_map': {{{upstream!r}: '<vtrix model id>'}}}}",
            field="model",
            rule="upstream model must be in the provider option model_map",
            provider=self.id,
        )

    def envelope(self, request: EditRequest, body: Mapping[str, Any]) -> dict[str, Any]:
        """The create body: the DashScope ``body``, without ``model``, under ``input[0].params``."""
        params = dict(body)
        upstream = params.pop("model", None) or request.model
        return {"model": self.vtrix_model(str(upstream)), "input": [{"params": params}]}

    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.base_url + CREATE_PATH,
            headers=self._headers(),
            content=json.dumps(self.envelope(request, body), ensure_ascii=False).encode(),
        )

    def parse_create(self, response: httpx.Response) -> Task:
        return parse_task(self.id, json_body(response))

    def build_status(self, task_id: str) -> httpx.Request:
        return httpx.Request(
            "GET", self.base_url + TASK_PATH + quote_task_id(task_id), headers=self._headers()
        )

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        return parse_task(self.id, json_body(response), task_id)

    def build_cancel(self, task_id: str) -> httpx.Request:
        raise UnsupportedOperationError(
            "Vtrix has no cancel call: a submitted task runs to its end (its id and result "
            "stay valid for 24 hours)",
            provider=self.id,
            task_id=task_id,
            code="UnsupportedOperation",
        )

    def build_list(self, query: ListQuery) -> httpx.Request:
        raise UnsupportedOperationError(
            "Vtrix has no task listing: keep the ids that submit() returns to resume tasks",
            provider=self.id,
            code="UnsupportedOperation",
        )

    def parse_error(self, response: httpx.Response) -> VideoEditError:
        return parse_vtrix_error(self.id, response)
