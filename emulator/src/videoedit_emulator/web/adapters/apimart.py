"""The APIMart-format gateway's wire format: a flat schema over the same engine (API-FACTS §5).

=====================================  ===================================================
route (under ``/apimart``)              real endpoint it stands for
=====================================  ===================================================
``POST /v1/videos/generations``         ``https://api.apimart.ai/v1/videos/generations``
``GET  /v1/tasks/{task_id}``            ``…/v1/tasks/{task_id}?language=en``
=====================================  ===================================================

The flat body (``model``, ``video_urls``, ``prompt``, ``negative_prompt``, ``image_urls``,
``resolution``, ``ratio``, ``duration``, ``audio_setting``, ``prompt_extend``, ``watermark``,
``seed``) is translated into the DashScope ``input``/``parameters`` of the same model and
checked by the same wan2.7 rules the DashScope routes apply; a refusal names the flat field
(``video_urls[0]``, ``image_urls[1]``, ``duration``). Only the first of ``video_urls`` is
used, as the gateway documents. Names the gateway page does not print are accepted in both
spellings seen (`ALIASES`: ``size`` for ``ratio``); any other unknown field is refused,
so a client's misspelling shows up in tests.

Answers are wrapped in ``{"code": 200, "data": …}``: create ``data: [{"status": "submitted",
"task_id"}]``; poll ``data: {"id", "status", "progress" (0–100), "created", "completed",
"actual_time", "result": {"videos": [{"url": [link], "expires_at"}]}, "error"}``. Status words:
``pending``, ``processing``, ``completed``, ``failed``, ``cancelled``. Task ids are the engine's
with the gateway's ``task_`` prefix.

Errors carry the error kind's HTTP status and repeat it in the body:
``{"code": 401, "error": {"code", "message", "type"}}`` (``Retry-After`` on a 429 when the
raiser gave one). An unknown or expired task id is a 404.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine, TaskView
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.adapters import (
    Endpoint,
    JSONResponse,
    guarded,
    own_netlocs,
    public_base,
    read_json,
)
from videoedit_emulator.web.adapters.dashscope_errors import code_of, failure_of, message_of
from videoedit_emulator.web.control import directives

__all__ = [
    "ADAPTER",
    "ALIASES",
    "FIELDS",
    "PREFIX",
    "REALM",
    "TASK_PREFIX",
    "ApimartAdapter",
    "error_response",
    "flat_field",
    "task_json",
    "to_dashscope",
]

log = logging.getLogger(__name__)

PREFIX = "/apimart"
REALM = "apimart"
TASK_PREFIX = "task_"
CREATE_PATH = "/v1/videos/generations"
TASK_PATH = "/v1/tasks/{task_id}"
#: The flat fields and where each goes in the DashScope body.
FIELDS: Mapping[str, str] = {
    "model": "model",
    "video_urls": "input.media",
    "image_urls": "input.media",
    "prompt": "input.prompt",
    "negative_prompt": "input.negative_prompt",
    "resolution": "parameters.resolution",
    "ratio": "parameters.ratio",
    "duration": "parameters.duration",
    "audio_setting": "parameters.audio_setting",
    "prompt_extend": "parameters.prompt_extend",
    "watermark": "parameters.watermark",
    "seed": "parameters.seed",
}
#: Unconfirmed names accepted in place of ours (the value is the same).
ALIASES: Mapping[str, str] = {"size": "ratio"}

_KINDS = {
    ErrorKind.INVALID_PARAMETER: ("invalid_request", "invalid_request_error"),
    ErrorKind.UNAUTHORIZED: ("invalid_api_key", "authentication_error"),
    ErrorKind.FORBIDDEN: ("permission_denied", "permission_error"),
    ErrorKind.NOT_FOUND: ("not_found", "not_found_error"),
    ErrorKind.THROTTLED: ("rate_limit_exceeded", "rate_limit_error"),
    ErrorKind.UNSUPPORTED: ("unsupported", "invalid_request_error"),
    ErrorKind.TOO_LARGE: ("request_too_large", "invalid_request_error"),
    ErrorKind.INTERNAL: ("internal_error", "server_error"),
}
#: The codes of its own refusals, by kind (the engine's reasons are worded as DashScope
#: words them, ``dashscope_errors.py``: the gateway forwards the upstream's refusal).
_CODES = {kind: code for kind, (code, _) in _KINDS.items()}
_STATUS_WORDS = {
    TaskStatus.PENDING: "pending",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELED: "cancelled",
}
_MEDIA_URL = re.compile(r"\binput\.media\[(\d+)\]\.url\b")
_PARAMETER = re.compile(r"\b(?:input|parameters)\.([a-z_]+)\b")


def flat_field(text: str, names: Mapping[str, str] | None = None) -> str:
    """``text`` with DashScope field paths turned into the flat ones the caller sent.

    ``input.media[0].url`` is ``video_urls[0]``; ``input.media[k].url`` is ``image_urls[k-1]``
    (the translation puts the one video first); ``input.media`` alone concerns the reference
    images; ``parameters.ratio`` is whatever name the caller used (``names``).
    """
    names = names or {}

    def media(match: re.Match[str]) -> str:
        index = int(match[1])
        return "video_urls[0]" if index == 0 else f"image_urls[{index - 1}]"

    def field(match: re.Match[str]) -> str:
        return names.get(match[1], match[1])

    text = _MEDIA_URL.sub(media, text)
    text = re.sub(r"\binput\.media\b", "image_urls", text)
    return _PARAMETER.sub(field, text)


def _flat_error(exc: ApiError, names: Mapping[str, str]) -> ApiError:
    return ApiError(
        exc.kind,
        flat_field(exc.detail, names),
        reason=exc.reason,
        field=flat_field(exc.field, names) if exc.field else None,
        code=exc.code,
        retry_after=exc.retry_after,
        status=exc.status,
    )


def error_response(exc: ApiError) -> JSONResponse:
    """An `ApiError` as the gateway answers: its status, repeated as the body's code."""
    kind = _KINDS[exc.kind][1]
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return JSONResponse(
        {
            "code": exc.status,
            "error": {"code": code_of(exc, _CODES), "message": message_of(exc), "type": kind},
        },
        status_code=exc.status,
        headers=headers,
    )


def _urls(body: Mapping[str, Any], name: str, *, required: bool) -> list[str]:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError.invalid(name, "is required: an array of URLs (only the first is used)")
        return []
    if not isinstance(value, list):
        raise ApiError.invalid(name, f"must be an array of URL strings, got {type(value).__name__}")
    if required and not value:
        raise ApiError.invalid(name, "must hold at least one URL")
    for i, url in enumerate(value):
        if not isinstance(url, str):
            raise ApiError.invalid(
                f"{name}[{i}]", f"must be a URL string, got {type(url).__name__}"
            )
    return list(value)


def to_dashscope(body: Any) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, str]]:
    """The flat body as ``(model, input, parameters, names)``, where ``names`` maps our
    parameter names to the ones the caller used (for error messages)."""
    if not isinstance(body, dict):
        raise ApiError.invalid("body", "must be a JSON object")
    names: dict[str, str] = {}
    flat: dict[str, Any] = {}
    for key, value in body.items():
        ours = ALIASES.get(key, key)
        if ours not in FIELDS:
            accepted = ", ".join([*FIELDS, *ALIASES])
            raise ApiError.invalid(key, f"is not a field of this API (accepted: {accepted})")
        if ours in flat:
            raise ApiError.invalid(key, f"repeats {names.get(ours, ours)!r}: send one of them")
        flat[ours] = value
        if ours != key:
            names[ours] = key
    videos = _urls(flat, "video_urls", required=True)
    images = _urls(flat, "image_urls", required=False)
    media = [{"type": "video", "url": videos[0]}]
    media += [{"type": "reference_image", "url": url} for url in images]
    input_: dict[str, Any] = {"media": media}
    parameters: dict[str, Any] = {}
    for ours, value in flat.items():
        where = FIELDS[ours]
        if where.startswith("input.") and where != "input.media":
            input_[where.removeprefix("input.")] = value
        elif where.startswith("parameters."):
            parameters[where.removeprefix("parameters.")] = value
    return flat.get("model"), input_, parameters, names


def _refuse_oss(input_: Mapping[str, Any], names: Mapping[str, str]) -> None:
    for i, item in enumerate(input_["media"]):
        url = item["url"]
        if isinstance(url, str) and url.strip().lower().startswith("oss://"):
            raise _flat_error(
                ApiError.invalid(
                    f"input.media[{i}].url",
                    "is an oss:// URL from a DashScope temporary upload, which the gateway "
                    "cannot read: pass an http(s) URL",
                ),
                names,
            )


def task_json(engine: TaskEngine, view: TaskView, base: str) -> dict[str, Any]:
    """The ``data`` object of a poll answer for ``view``."""
    progress = view.progress if view.progress is not None else 0.0
    if view.status is TaskStatus.SUCCEEDED:
        progress = 1.0
    data: dict[str, Any] = {
        "id": TASK_PREFIX + view.task_id,
        "status": _STATUS_WORDS.get(view.status, "processing"),
        "progress": int(progress * 100),
        "created": None if view.submitted_at is None else int(view.submitted_at),
    }
    if view.ended_at is not None:
        data["completed"] = int(view.ended_at)
        if data["created"] is not None:
            data["actual_time"] = data["completed"] - data["created"]
    url = engine.result_url(view, base)
    if url is not None and view.result is not None:
        data["result"] = {"videos": [{"url": [url], "expires_at": int(view.result.expires_at)}]}
    if view.status in (TaskStatus.FAILED, TaskStatus.CANCELED):
        code, message = failure_of(view)
        data["error"] = {
            "code": code or ("cancelled" if view.status is TaskStatus.CANCELED else "failed"),
            "message": flat_field(message or f"the task was {view.status.value.lower()}"),
            "type": "task_error",
        }
    if view.notes:
        data["emulator_note"] = flat_field(" ".join(view.notes))
    return data


def routes(engine: TaskEngine) -> list[BaseRoute]:
    """The gateway's routes, mounted at `PREFIX`."""
    config = engine.config

    def endpoint(handler: Endpoint, *, auth: bool = True) -> Endpoint:
        return guarded(
            handler,
            accepts_key=(lambda key: config.accepts_key(key, REALM)) if auth else None,
            key_message="Invalid API key: authenticate with Authorization: Bearer <key>",
            error_response=error_response,
        )

    async def create(request: Request) -> Response:
        body = await read_json(request, config.max_body_bytes)
        model, input_, parameters, names = to_dashscope(body)
        _refuse_oss(input_, names)
        wanted = directives(request.headers)
        try:
            view = await engine.submit(
                realm=REALM,
                model=model,
                input=input_,
                parameters=parameters,
                progression=wanted.progression,
                fail=wanted.fail,
                allow_oss=False,
                own_netlocs=own_netlocs(request, config.public_url),
            )
        except ApiError as exc:
            raise _flat_error(exc, names) from None
        return JSONResponse(
            {"code": 200, "data": [{"status": "submitted", "task_id": TASK_PREFIX + view.task_id}]}
        )

    async def query(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        view = None
        if task_id.startswith(TASK_PREFIX):
            view = engine.get(task_id.removeprefix(TASK_PREFIX), REALM)
        if view is None or view.status is TaskStatus.UNKNOWN:
            raise ApiError(
                ErrorKind.NOT_FOUND,
                f"task {task_id} not found or expired",
                code="task_not_found",
            )
        base = public_base(request, config.public_url)
        return JSONResponse({"code": 200, "data": task_json(engine, view, base)})

    async def not_found(request: Request) -> Response:
        raise ApiError(ErrorKind.NOT_FOUND, f"no such route: {request.method} {request.url.path}")

    return [
        Mount(
            PREFIX,
            routes=[
                Route(CREATE_PATH, endpoint(create), methods=["POST"]),
                Route(TASK_PATH, endpoint(query), methods=["GET"]),
                Route(
                    "/{path:path}",
                    endpoint(not_found, auth=False),
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                ),
            ],
        )
    ]


class ApimartAdapter(Adapter):
    """The APIMart-format gateway's flat schema (its answers carry no request id)."""

    name = "apimart"
    order = 30
    providers = MappingProxyType({REALM: PREFIX})
    operations = (
        Operation("create", "POST", CREATE_PATH),
        Operation("status", "GET", TASK_PATH),
    )
    request_ids = False
    task_id_at = ("data", 0, "task_id")

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        return routes(engine)

    def error_response(self, error: ApiError, request_id: str) -> Response:
        return error_response(error)


#: What the ``videoedit_emulator.adapters`` entry point ``apimart`` names.
ADAPTER = ApimartAdapter()
