"""DashScope's wire format, both regions in one process.

=====================  ==================  ======================================
realm                  path prefix         real base URL it stands for
=====================  ==================  ======================================
``dashscope-beijing``    ``/api/v1``         ``https://dashscope.aliyuncs.com/api/v1``
``dashscope-singapore``  ``/intl/api/v1``    ``https://dashscope-intl.aliyuncs.com/api/v1``
=====================  ==================  ======================================

Under each prefix: ``POST /services/aigc/video-generation/video-synthesis`` (create),
``GET /tasks/{id}`` (query), ``POST /tasks/{id}/cancel``, ``GET /tasks`` (list) and
``GET /uploads?action=getPolicy&model=…`` (temporary upload; the form goes to the OSS adapter).
The two task routes also answer with a trailing slash, as the SDK's asyncio client sends them.
So ``DASHSCOPE_HTTP_BASE_URL=http://127.0.0.1:PORT/api/v1`` points the official SDK here.

Errors are DashScope's: an HTTP status and ``{"request_id", "code", "message"}``, the engine's
reasons worded by the table in ``dashscope_errors.py``. The order of
checks follows the service: key (401), async header (403), body size (413), JSON, then the
model's rules (400). Times are printed as the service prints them: UTC+8 wall-clock time
with milliseconds, no zone (``2026-04-03 00:08:03.576``).
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine, TaskView
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.sources import OSS_HEADER
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.adapters import (
    JSONResponse,
    bearer_token,
    own_netlocs,
    public_base,
    read_json,
)
from videoedit_emulator.web.adapters.dashscope_errors import code_of, failure_of, message_of
from videoedit_emulator.web.adapters.oss import upload_host
from videoedit_emulator.web.control import directives

__all__ = [
    "ADAPTER",
    "REGIONS",
    "DashScopeAdapter",
    "Region",
    "format_time",
    "routes",
    "task_output",
]

log = logging.getLogger(__name__)

CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
#: DashScope prints times as Beijing/Singapore wall-clock time (both UTC+8), without a zone.
SERVICE_TZ = timezone(timedelta(hours=8))
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Region:
    realm: str  # the provider id, and the realm keys are bound to
    prefix: str
    region: str  # what model handlers see
    region_id: str  # what the task listing prints


REGIONS = (
    Region("dashscope-beijing", "/api/v1", "beijing", "cn-beijing"),
    Region("dashscope-singapore", "/intl/api/v1", "singapore", "ap-southeast-1"),
)

_STATUS_WORDS = {s.value for s in TaskStatus}
_TIME_FORMAT = "%Y%m%d%H%M%S"
_INTEGER = re.compile(r"^-?[0-9]{1,12}$")


@functools.lru_cache(maxsize=8192)
def format_time(epoch: float | None) -> str | None:
    """``2026-04-03 00:08:03.576``: UTC+8 wall-clock time to the millisecond.

    Memoized: a task's times never change once set, and every poll prints them again.
    """
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, SERVICE_TZ)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def error_response(exc: ApiError, request_id: str) -> JSONResponse:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return JSONResponse(
        {"request_id": request_id, "code": code_of(exc), "message": message_of(exc)},
        status_code=exc.status,
        headers=headers,
    )


def task_output(engine: TaskEngine, view: TaskView, base: str) -> dict[str, Any]:
    """The ``output`` object of a query answer for ``view``."""
    output: dict[str, Any] = {"task_id": view.task_id, "task_status": view.status.value}
    if view.status is TaskStatus.UNKNOWN:
        return output
    for name, value in (
        ("submit_time", view.submitted_at),
        ("scheduled_time", view.scheduled_at),
        ("end_time", view.ended_at),
    ):
        if value is not None:
            output[name] = format_time(value)
    if view.prompt:
        output["orig_prompt"] = view.prompt
    url = engine.result_url(view, base)
    if url is not None:
        output["video_url"] = url
    output.update(view.output_extras)
    if view.status is TaskStatus.FAILED:
        output["code"], output["message"] = failure_of(view)
    if view.notes:
        output["emulator_note"] = " ".join(view.notes)
    return output


def usage_json(view: TaskView) -> dict[str, Any] | None:
    """``usage`` of a SUCCEEDED task, in the shape its model reports."""
    usage = view.usage
    if usage is None:
        return None
    if usage.style == "wan27":
        return {
            "duration": usage.total_seconds,
            "input_video_duration": usage.input_seconds,
            "output_video_duration": usage.output_seconds,
            "video_count": usage.video_count,
            "SR": usage.short_side,
        }
    return {"video_count": usage.video_count, "video_duration": usage.output_seconds}


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.match(raw.strip()):  # ASCII digits: "²" is a digit to str.isdigit()
        raise ApiError.invalid(name, f"must be an integer, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError.invalid(name, f"must be in [{low}, {high}], got {value}")
    return value


def _query_time(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.strptime(raw, _TIME_FORMAT).replace(tzinfo=SERVICE_TZ)
    except ValueError:
        raise ApiError.invalid(
            name, f"must be a time formatted YYYYMMDDhhmmss (UTC+8), got {raw!r}"
        ) from None
    if len(raw) != 14:
        raise ApiError.invalid(
            name, f"must be a time formatted YYYYMMDDhhmmss (UTC+8), got {raw!r}"
        )
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):  # 00010101000000 is before the epoch can say
        raise ApiError.invalid(name, f"is out of range, got {raw!r}") from None


Endpoint = Callable[[Request, str], Awaitable[Response]]


def routes(engine: TaskEngine) -> list[BaseRoute]:
    """Both regions' routes (see the module docstring)."""
    return [Mount(region.prefix, routes=_region_routes(engine, region)) for region in REGIONS]


def _region_routes(engine: TaskEngine, region: Region) -> list[BaseRoute]:
    config = engine.config

    def endpoint(
        handler: Endpoint, *, auth: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            request_id = engine.new_request_id()
            try:
                if auth:
                    key = bearer_token(request)
                    if not key or not config.accepts_key(key, region.realm):
                        raise ApiError(
                            ErrorKind.UNAUTHORIZED,
                            "Invalid API-key provided.",
                            code="InvalidApiKey",
                        )
                return await handler(request, request_id)
            except ApiError as exc:
                return error_response(exc, request_id)
            except Exception:  # never a bare 500 page: the SDK needs code and message
                log.exception(
                    "emulator: unexpected error on %s %s", request.method, request.url.path
                )
                return error_response(
                    ApiError(
                        ErrorKind.INTERNAL,
                        "An internal error has occured, please try again later or contact service support.",
                        code="InternalError",
                    ),
                    request_id,
                )

        return wrapped

    async def create(request: Request, request_id: str) -> Response:
        if request.headers.get("x-dashscope-async", "").strip().lower() != "enable":
            raise ApiError(
                ErrorKind.FORBIDDEN,
                "current user api does not support synchronous calls",
                code="AccessDenied",
            )
        body = await read_json(request, config.max_body_bytes)
        if not isinstance(body, dict):
            raise ApiError.invalid("body", "must be a JSON object with model, input and parameters")
        for key in body:
            if key not in ("model", "input", "parameters"):
                raise ApiError.invalid(
                    key, "is not a field of the request body (model, input, parameters)"
                )
        wanted = directives(request.headers)
        view = await engine.submit(
            realm=region.realm,
            region=region.region,
            model=body.get("model"),
            input=body.get("input"),
            parameters=body.get("parameters"),
            request_id=request_id,
            progression=wanted.progression,
            fail=wanted.fail,
            allow_oss=request.headers.get(OSS_HEADER, "").strip().lower() == "enable",
            own_netlocs=own_netlocs(request, config.public_url),
        )
        return JSONResponse(
            {
                "request_id": request_id,
                "output": {"task_id": view.task_id, "task_status": view.status.value},
            }
        )

    async def query(request: Request, request_id: str) -> Response:
        engine.query_quota.spend(bearer_token(request))  # 20 a second per account, when on
        view = engine.get(request.path_params["task_id"], region.realm)
        body: dict[str, Any] = {
            "request_id": request_id,
            "output": task_output(engine, view, public_base(request, config.public_url)),
        }
        usage = usage_json(view)
        if usage is not None:
            body["usage"] = usage
        return JSONResponse(body)

    async def cancel(request: Request, request_id: str) -> Response:
        engine.cancel(request.path_params["task_id"], region.realm)
        return JSONResponse({"request_id": request_id})

    async def listing(request: Request, request_id: str) -> Response:
        page_no = _query_int(request, "page_no", 1, 1, 10**6)
        page_size = _query_int(request, "page_size", 10, 1, MAX_PAGE_SIZE)
        start = _query_time(request, "start_time")
        end = _query_time(request, "end_time")
        if start is not None and end is not None and start > end:
            raise ApiError.invalid("start_time", "must not be after end_time")
        status_word = request.query_params.get("status") or None
        if status_word is not None and status_word.upper() not in _STATUS_WORDS:
            raise ApiError.invalid(
                "status", f"must be one of {', '.join(sorted(_STATUS_WORDS))}, got {status_word!r}"
            )
        views, total = engine.list_tasks(
            region.realm,
            page_no=page_no,
            page_size=page_size,
            start=start,
            end=end,
            model=request.query_params.get("model_name") or None,
            status=TaskStatus(status_word.upper()) if status_word else None,
        )
        base = public_base(request, config.public_url)
        data = []
        for view in views:
            item = task_output(engine, view, base)
            item.update(
                {
                    "request_id": view.request_id,
                    "model_name": view.model,
                    "status": view.status.value,
                    "region": region.region_id,
                    "gmt_create": round((view.submitted_at or 0) * 1000),
                }
            )
            data.append(item)
        return JSONResponse(
            {
                "request_id": request_id,
                "data": data,
                "total": total,
                "total_page": max(1, math.ceil(total / page_size)),
                "page_no": page_no,
                "page_size": page_size,
            }
        )

    async def get_policy(request: Request, request_id: str) -> Response:
        action = request.query_params.get("action")
        if action != "getPolicy":
            raise ApiError.invalid("action", f"must be getPolicy, got {action!r}")
        model = request.query_params.get("model")
        if not model:
            raise ApiError.invalid("model", "is required: the model the file will be used with")
        engine.models.lookup(model, region.region)
        policy = engine.store.issue_policy(model, region.realm, engine.upload_token())
        base = public_base(request, config.public_url)
        return JSONResponse({"request_id": request_id, "data": policy.data(upload_host(base))})

    async def not_found(request: Request, request_id: str) -> Response:
        raise ApiError(ErrorKind.NOT_FOUND, "url error, please check url!", code="InvalidURL")

    return [
        Route(CREATE_PATH, endpoint(create), methods=["POST"]),
        Route("/tasks", endpoint(listing), methods=["GET"]),
        Route("/tasks/{task_id}", endpoint(query), methods=["GET"]),
        Route("/tasks/{task_id}/cancel", endpoint(cancel), methods=["POST"]),
        # The official SDK's asyncio client (AioVideoSynthesis) adds a trailing slash:
        # GET /tasks/{id}/ (with the create's parameters as a query string, ignored) and
        # POST /tasks/{id}/cancel/ (with a placeholder JSON body, ignored).
        Route("/tasks/{task_id}/", endpoint(query), methods=["GET"]),
        Route("/tasks/{task_id}/cancel/", endpoint(cancel), methods=["POST"]),
        Route("/uploads", endpoint(get_policy), methods=["GET"]),
        Route(
            "/{path:path}",
            endpoint(not_found, auth=False),
            methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
        ),
    ]


class DashScopeAdapter(Adapter):
    """Both regions of DashScope, as one adapter (fault rules and journal filters may say
    ``dashscope`` for both)."""

    name = "dashscope"
    order = 10
    providers = MappingProxyType({region.realm: region.prefix for region in REGIONS})
    operations = (
        Operation("create", "POST", CREATE_PATH),
        Operation("list", "GET", "/tasks"),
        Operation("status", "GET", "/tasks/{task_id}", "/tasks/{task_id}/"),
        Operation("cancel", "POST", "/tasks/{task_id}/cancel", "/tasks/{task_id}/cancel/"),
        Operation("upload_policy", "GET", "/uploads"),
    )
    task_id_at = ("output", "task_id")

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        return routes(engine)

    def error_response(self, error: ApiError, request_id: str) -> Response:
        return error_response(error, request_id)

    def route_not_found(self, method: str, path: str, status: int) -> ApiError:
        return ApiError(
            ErrorKind.NOT_FOUND, "url error, please check url!", code="InvalidURL", status=404
        )


#: What the ``videoedit_emulator.adapters`` entry point ``dashscope`` names.
ADAPTER = DashScopeAdapter()
