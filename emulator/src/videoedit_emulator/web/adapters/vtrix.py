"""Vtrix's wire format: the DashScope body in Vtrix's generation envelope (API-FACTS §4).

==================================================  ==========================================
route (under ``/vtrix``)                             real endpoint it stands for
==================================================  ==========================================
``POST /model/v1/generation``                        ``https://cloud.vtrix.ai/model/v1/generation``
``GET  /model/v1/generation/task/{id}``              ``…/model/v1/generation/task/{id}``
==================================================  ==========================================

The create body is ``{"model": "wan27_videoedit", "input": [{"params": {"input": {…},
"parameters": {…}}}]}``. The adapter maps the Vtrix model id to its upstream id
(`VTRIX_MODELS`), unwraps ``input[0].params`` and hands it to the engine, so the very
wan2.7 rules the DashScope routes apply apply here; a refusal comes back with DashScope's
message (Vtrix forwards it), in Vtrix's error body.

Answers: create ``{"id", "status": "in_progress", "model"}``; poll ``{"id", "status",
"model", "created_at", "progress", "output"?, "usage"?, "error"?}``. Status words: a queued
or running task is ``in_progress`` (the word the create answer uses), then ``completed`` or
``failed``; ``progress`` is a fraction 0.0–1.0 that moves with the engine's. ``created_at``
is epoch seconds. An unknown or expired id is a 404.

Errors: the HTTP status of the error kind (401 key, 403, 404, 413, 429 with ``Retry-After``
when the raiser gave one, 500) and ``{"error": {"code", "message"}}``.
``usage`` is ``{"cost", "quantity", "unit_price"}``: ``quantity`` is the billed seconds
(input + output, as DashScope bills) and ``unit_price`` the emulator's own made-up figure
(`UNIT_PRICE`); Vtrix's real prices are not documented.
"""

from __future__ import annotations

import logging
import math
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
    "PREFIX",
    "REALM",
    "UNIT_PRICE",
    "VTRIX_MODELS",
    "VtrixAdapter",
    "error_response",
    "routes",
    "task_json",
]

log = logging.getLogger(__name__)

PREFIX = "/vtrix"
REALM = "vtrix"
CREATE_PATH = "/model/v1/generation"
#: Vtrix model id -> the upstream (DashScope) model id it forwards to. Documented:
#: ``wan27_videoedit`` maps to ``wan2.7-videoedit``. No Vtrix id for wan2.1-vace is known.
VTRIX_MODELS: Mapping[str, str] = {"wan27_videoedit": "wan2.7-videoedit"}
_UPSTREAM = {upstream: vtrix_id for vtrix_id, upstream in VTRIX_MODELS.items()}
#: The emulator's made-up price per billed second (Vtrix's prices are not documented).
UNIT_PRICE = 0.01

#: Vtrix-style codes for the kinds of its own refusals. The engine's reasons are worded as
#: DashScope words them (``dashscope_errors.py``): Vtrix forwards the upstream's refusal.
_CODES = {
    ErrorKind.INVALID_PARAMETER: "invalid_request",
    ErrorKind.UNAUTHORIZED: "invalid_api_key",
    ErrorKind.FORBIDDEN: "permission_denied",
    ErrorKind.NOT_FOUND: "not_found",
    ErrorKind.THROTTLED: "rate_limit_exceeded",
    ErrorKind.UNSUPPORTED: "unsupported_operation",
    ErrorKind.TOO_LARGE: "request_too_large",
    ErrorKind.INTERNAL: "internal_error",
}
_STATUS_WORDS = {
    TaskStatus.PENDING: "in_progress",
    TaskStatus.RUNNING: "in_progress",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELED: "cancelled",
}
_BODY_KEYS = ("model", "input")
_PARAMS_KEYS = ("input", "parameters")


def error_response(exc: ApiError) -> JSONResponse:
    """An `ApiError` as Vtrix answers errors: status, ``Retry-After``, ``{"error"}``."""
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return JSONResponse(
        {"error": {"code": code_of(exc, _CODES), "message": message_of(exc)}},
        status_code=exc.status,
        headers=headers,
    )


def _epoch(value: float | None) -> int | None:
    return None if value is None else int(value)


def task_json(engine: TaskEngine, view: TaskView, base: str, model: str) -> dict[str, Any]:
    """A poll answer for ``view``, whose Vtrix model id is ``model``."""
    status = _STATUS_WORDS.get(view.status, "in_progress")
    progress = view.progress if view.progress is not None else 0.0
    if view.status is TaskStatus.SUCCEEDED:
        progress = 1.0
    body: dict[str, Any] = {
        "id": view.task_id,
        "status": status,
        "model": model,
        "created_at": _epoch(view.submitted_at),
        "progress": round(progress, 4),
    }
    url = engine.result_url(view, base)
    if url is not None and view.result is not None:
        body["output"] = [
            {"content": [{"type": "video", "url": url, "duration": round(view.result.duration, 2)}]}
        ]
    if view.usage is not None:
        quantity = view.usage.total_seconds
        body["usage"] = {
            "cost": round(quantity * UNIT_PRICE, 4),
            "quantity": quantity,
            "unit_price": UNIT_PRICE,
        }
    if view.status in (TaskStatus.FAILED, TaskStatus.CANCELED):
        code, message = failure_of(view)
        body["error"] = {
            "code": code or ("Canceled" if view.status is TaskStatus.CANCELED else "Failed"),
            "message": message or f"the task was {view.status.value.lower()}",
        }
    if view.notes:
        body["emulator_note"] = " ".join(view.notes)
    return body


def _vtrix_model(value: Any) -> tuple[str, str]:
    """``(vtrix id, upstream id)`` of the body's ``model``; a 400 naming the served ids."""
    served = ", ".join(sorted(VTRIX_MODELS))
    if not isinstance(value, str) or not value.strip():
        raise ApiError.invalid("model", f"is required: a Vtrix model id ({served})")
    upstream = VTRIX_MODELS.get(value.strip())
    if upstream is None:
        raise ApiError(
            ErrorKind.INVALID_PARAMETER,
            f"model {value!r} is not available (served: {served})",
            field="model",
            code="model_not_found",
        )
    return value.strip(), upstream


def _params(body: Any) -> dict[str, Any]:
    """``input[0].params`` of the envelope, checked for the envelope's own rules."""
    if not isinstance(body, dict):
        raise ApiError.invalid("body", "must be a JSON object with model and input")
    for key in body:
        if key not in _BODY_KEYS:
            raise ApiError.invalid(
                key, f"is not a field of the request body ({', '.join(_BODY_KEYS)})"
            )
    envelope = body.get("input")
    if not isinstance(envelope, list) or not envelope:
        raise ApiError.invalid(
            "input",
            "must be an array: the Vtrix generation API takes the model parameters "
            "under input[0].params",
        )
    first = envelope[0]
    if not isinstance(first, dict) or not isinstance(first.get("params"), dict):
        raise ApiError.invalid(
            "input[0].params", "is required: an object holding the DashScope input and parameters"
        )
    params: dict[str, Any] = first["params"]
    for key in params:
        if key not in _PARAMS_KEYS:
            hint = " (the model goes in the top-level 'model')" if key == "model" else ""
            raise ApiError.invalid(
                f"input[0].params.{key}",
                f"is not accepted: params holds the DashScope body without model "
                f"({', '.join(_PARAMS_KEYS)}){hint}",
            )
    return params


def _refuse_oss(params: Mapping[str, Any]) -> None:
    """``oss://`` inputs belong to a DashScope account; Vtrix calls DashScope with its own."""
    inner = params.get("input")
    media = inner.get("media") if isinstance(inner, dict) else None
    for i, item in enumerate(media if isinstance(media, list) else []):
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.strip().lower().startswith("oss://"):
            raise ApiError.invalid(
                f"input.media[{i}].url",
                "is an oss:// URL from a DashScope temporary upload, which Vtrix cannot "
                "read: pass an http(s) URL",
            )


def routes(engine: TaskEngine) -> list[BaseRoute]:
    """Vtrix's routes, mounted at `PREFIX`."""
    config = engine.config

    def endpoint(handler: Endpoint, *, auth: bool = True) -> Endpoint:
        return guarded(
            handler,
            accepts_key=(lambda key: config.accepts_key(key, REALM)) if auth else None,
            key_message="Invalid API key: authenticate with Authorization: Bearer <Vtrix key>",
            error_response=error_response,
        )

    async def create(request: Request) -> Response:
        body = await read_json(request, config.max_body_bytes)
        params = _params(body)
        vtrix_id, upstream = _vtrix_model(body.get("model"))
        _refuse_oss(params)
        wanted = directives(request.headers)
        view = await engine.submit(
            realm=REALM,
            model=upstream,
            input=params.get("input"),
            parameters=params.get("parameters"),
            progression=wanted.progression,
            fail=wanted.fail,
            allow_oss=False,
            own_netlocs=own_netlocs(request, config.public_url),
        )
        return JSONResponse({"id": view.task_id, "status": "in_progress", "model": vtrix_id})

    async def query(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        view = engine.get(task_id, REALM)
        if view.status is TaskStatus.UNKNOWN:
            raise ApiError(
                ErrorKind.NOT_FOUND,
                f"task {task_id} not found (task ids are valid for 24 hours)",
                code="task_not_found",
            )
        base = public_base(request, config.public_url)
        return JSONResponse(task_json(engine, view, base, _UPSTREAM.get(view.model, view.model)))

    async def not_found(request: Request) -> Response:
        raise ApiError(ErrorKind.NOT_FOUND, f"no such route: {request.method} {request.url.path}")

    return [
        Mount(
            PREFIX,
            routes=[
                Route(CREATE_PATH, endpoint(create), methods=["POST"]),
                Route(CREATE_PATH + "/task/{task_id}", endpoint(query), methods=["GET"]),
                Route(
                    "/{path:path}",
                    endpoint(not_found, auth=False),
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                ),
            ],
        )
    ]


class VtrixAdapter(Adapter):
    """Vtrix's generation envelope (its answers carry no request id)."""

    name = "vtrix"
    order = 20
    providers = MappingProxyType({REALM: PREFIX})
    operations = (
        Operation("create", "POST", CREATE_PATH),
        Operation("status", "GET", CREATE_PATH + "/task/{task_id}"),
    )
    request_ids = False
    task_id_at = ("id",)

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        return routes(engine)

    def error_response(self, error: ApiError, request_id: str) -> Response:
        return error_response(error)


#: What the ``videoedit_emulator.adapters`` entry point ``vtrix`` names.
ADAPTER = VtrixAdapter()
