"""Acme Video Cloud's wire format on the videoedit emulator (entry point
``videoedit_emulator.adapters``), so that the contract kit runs against Acme offline.

The adapter only translates: Acme's JSON into the DashScope-shaped ``input`` and
``parameters`` of ``wan2.7-videoedit`` that the emulator's shared task engine validates and
renders, and the engine's task views and errors back into Acme's words. Every decision about
a task (progression, failure, cancel, expiry, the stand-in MP4) is the engine's, so the
emulator's control plane (``/_emulator/…``) steers Acme tasks like any other.

Served under ``/acme``: a client's base URL is the emulator's root URL + ``/acme``. The
adapter declares its routes by name (``create``, ``status``, ``cancel``), where a create
answer holds the edit's id, the header its keys travel in and its error body; with that, the
emulator journals Acme's requests, applies fault rules to them (``acme-cloud/create:status=503``)
in Acme's error body, and binds keys to the ``acme-cloud`` realm, with no code of Acme's.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine, TaskView
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.adapters import JSONResponse, own_netlocs, public_base, read_json
from videoedit_emulator.web.adapters.dashscope_errors import code_of, failure_of, message_of
from videoedit_emulator.web.control import directives

__all__ = ["ADAPTER", "MODEL", "PREFIX", "REALM", "AcmeAdapter", "edit_json", "to_engine"]

PREFIX = "/acme"
REALM = "acme-cloud"
#: The model Acme runs behind its API (the engine's rules and renderer for it apply).
MODEL = "wan2.7-videoedit"

_STATES = {
    TaskStatus.PENDING: "queued",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "done",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELED: "canceled",
}
_TYPES = {
    ErrorKind.INVALID_PARAMETER: ("invalid_request", 400),
    ErrorKind.TOO_LARGE: ("invalid_request", 413),
    ErrorKind.UNAUTHORIZED: ("authentication", 401),
    ErrorKind.FORBIDDEN: ("permission", 403),
    ErrorKind.NOT_FOUND: ("not_found", 404),
    ErrorKind.THROTTLED: ("rate_limit", 429),
    ErrorKind.UNSUPPORTED: ("conflict", 409),
    ErrorKind.INTERNAL: ("server", 500),
}
#: The code of a refusal of Acme's own that names none: its type.
_KIND_CODES = {kind: name for kind, (name, _) in _TYPES.items()}
#: The engine's (DashScope) field names -> Acme's, for the ``param`` of a refusal.
_PARAMS = {
    "input.media[0].url": "source.url",
    "input.prompt": "instruction",
    "input.negative_prompt": "avoid",
    "parameters.resolution": "output.height",
    "parameters.ratio": "output.aspect",
    "parameters.duration": "output.seconds",
    "parameters.audio_setting": "output.keep_audio",
    "parameters.watermark": "output.watermark",
    "parameters.prompt_extend": "rewrite_instruction",
    "parameters.seed": "seed",
}
_TOP = ("source", "instruction", "avoid", "style_refs", "output", "rewrite_instruction", "seed")
_OUTPUT = ("height", "aspect", "seconds", "keep_audio", "watermark")


def _acme_field(field: str | None) -> str | None:
    if field is None:
        return None
    if field.startswith("input.media[") and field not in _PARAMS:
        # Reference images follow the video in the engine's media list.
        index = int(field[len("input.media[") :].split("]")[0])
        return f"style_refs[{index - 1}]"
    return _PARAMS.get(field, field)


def _acme_message(message: str) -> str:
    for engine_name, acme_name in sorted(_PARAMS.items(), key=lambda kv: -len(kv[0])):
        message = message.replace(engine_name, acme_name)
    return message


def error_response(exc: ApiError, request_id: str) -> JSONResponse:
    """An ``ApiError`` in Acme's error body, with its status and ``Retry-After``."""
    kind, status = _TYPES[exc.kind]
    # The engine's refusals carry a neutral reason; Acme forwards the words of the service
    # behind it (DashScope's, as the gateways do). A service with codes of its own would
    # keep a table of its own, keyed by `Reason`.
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return JSONResponse(
        {
            "error": {
                "type": kind,
                "code": code_of(exc, _KIND_CODES),
                "message": _acme_message(message_of(exc)),
                "param": _acme_field(exc.field),
            },
            "request_id": request_id,
        },
        status_code=status,
        headers=headers,
    )


def _invalid(param: str, rule: str) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_PARAMETER, f"{param} {rule}", field=param, code="invalid_value"
    )


def to_engine(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Acme's create body as the engine's ``input`` and ``parameters`` (Acme's own rules first)."""
    if not isinstance(body, dict):
        raise _invalid("body", "must be a JSON object")
    for key in body:
        if key not in _TOP:
            raise _invalid(key, f"is not a field of an edit ({', '.join(_TOP)})")
    source = body.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("url"), str):
        raise _invalid("source.url", "is required: the URL of the video to edit")
    output = body.get("output", {})
    if not isinstance(output, dict):
        raise _invalid("output", "must be an object")
    for key in output:
        if key not in _OUTPUT:
            raise _invalid(f"output.{key}", f"is not an output setting ({', '.join(_OUTPUT)})")
    height = output.get("height", 1080)
    if height not in (720, 1080) or isinstance(height, bool):
        raise _invalid("output.height", "must be 720 or 1080")
    media: list[dict[str, Any]] = [{"type": "video", "url": source["url"]}]
    refs = body.get("style_refs", [])
    if not isinstance(refs, list):
        raise _invalid("style_refs", "must be a list of image URLs")
    media += [{"type": "reference_image", "url": url} for url in refs]
    input_: dict[str, Any] = {"media": media}
    for acme, engine_name in (("instruction", "prompt"), ("avoid", "negative_prompt")):
        if acme in body:
            input_[engine_name] = body[acme]
    keep_audio = output.get("keep_audio", False)
    if not isinstance(keep_audio, bool):
        raise _invalid("output.keep_audio", "must be true or false")
    parameters: dict[str, Any] = {
        "resolution": f"{height}P",
        "duration": output.get("seconds", 0),
        "audio_setting": "origin" if keep_audio else "auto",
        "watermark": output.get("watermark", False),
        "prompt_extend": body.get("rewrite_instruction", True),
    }
    if "aspect" in output:
        parameters["ratio"] = output["aspect"]
    if "seed" in body:
        parameters["seed"] = body["seed"]
    return input_, parameters


def edit_json(engine: TaskEngine, view: TaskView, base: str) -> dict[str, Any]:
    """A task as Acme's ``edit`` object."""
    done = view.status is TaskStatus.SUCCEEDED
    edit: dict[str, Any] = {
        "id": view.task_id,
        "state": _STATES.get(view.status, "processing"),
        "percent": 100 if done else round((view.progress or 0.0) * 100),
        "created": None if view.submitted_at is None else int(view.submitted_at),
        "finished": None if view.ended_at is None else int(view.ended_at),
        "output": None,
        "failure": None,
    }
    url = engine.result_url(view, base)
    if url is not None and view.result is not None:
        edit["output"] = {
            "url": url,
            "expires": int(view.result.expires_at),
            "seconds": round(view.result.duration, 2),
            "width": view.result.width,
            "height": view.result.height,
        }
    if view.status is TaskStatus.FAILED:
        code, message = failure_of(view)
        edit["failure"] = {"reason": code or "failed", "detail": message or ""}
    if view.notes:
        edit["emulator_notes"] = list(view.notes)
    return edit


# --8<-- [start:providers]
class AcmeAdapter(Adapter):
    """Acme Video Cloud on the emulator: where it is served, its routes by name, its keys."""

    name = REALM
    providers = MappingProxyType({REALM: PREFIX})
    operations = (
        Operation("create", "POST", "/v2/edits"),
        Operation("status", "GET", "/v2/edits/{task_id}"),
        Operation("cancel", "POST", "/v2/edits/{task_id}/cancel"),
    )
    task_id_at = ("edit", "id")  # a create answers {"edit": {"id": ...}}
    key_header = "X-Acme-Key"
    key_message = "invalid or missing API key: send it in the X-Acme-Key header"
    key_code = "invalid_api_key"

    def error_response(self, error: ApiError, request_id: str) -> Response:
        return error_response(error, request_id)

    # --8<-- [end:providers]
    # --8<-- [start:routes]
    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        """Acme's routes under ``PREFIX``, over the emulator's shared engine."""
        config = engine.config

        def view_of(request: Request, *, poll: bool = True) -> TaskView:
            task_id = request.path_params["task_id"]
            view = engine.get(task_id, REALM, poll=poll)
            if view.status is TaskStatus.UNKNOWN:
                raise ApiError(
                    ErrorKind.NOT_FOUND,
                    f"edit {task_id} does not exist (edits are kept 24 hours)",
                    code="edit_not_found",
                )
            return view

        def answer(
            view: TaskView, request: Request, request_id: str, status: int = 200
        ) -> Response:
            base = public_base(request, config.public_url)
            return JSONResponse(
                {"edit": edit_json(engine, view, base), "request_id": request_id},
                status_code=status,
            )

        async def create(request: Request, request_id: str) -> Response:
            input_, parameters = to_engine(await read_json(request, config.max_body_bytes))
            wanted = directives(request.headers)
            view = await engine.submit(
                realm=REALM,
                model=MODEL,
                input=input_,
                parameters=parameters,
                request_id=request_id,
                progression=wanted.progression,
                fail=wanted.fail,
                allow_oss=False,
                own_netlocs=own_netlocs(request, config.public_url),
            )
            return answer(view, request, request_id, status=202)

        async def get(request: Request, request_id: str) -> Response:
            return answer(view_of(request), request, request_id)

        async def cancel(request: Request, request_id: str) -> Response:
            view = view_of(request, poll=False)  # a cancel is not a status query
            if view.status is not TaskStatus.PENDING:
                raise ApiError(
                    ErrorKind.UNSUPPORTED,
                    f"edit {view.task_id} is {_STATES.get(view.status, view.status.value)}: "
                    "only a queued edit can be canceled",
                    code="edit_not_cancelable",
                )
            return answer(engine.cancel(view.task_id, REALM), request, request_id)

        async def unknown(request: Request, request_id: str) -> Response:
            raise ApiError(ErrorKind.NOT_FOUND, f"no route {request.method} {request.url.path}")

        # Every route behind Acme's key check and error body (the Adapter's guard).
        guard = self.guard
        return [
            Mount(
                PREFIX,
                routes=[
                    Route("/v2/edits", guard(engine, create, realm=REALM), methods=["POST"]),
                    Route("/v2/edits/{task_id}", guard(engine, get, realm=REALM), methods=["GET"]),
                    Route(
                        "/v2/edits/{task_id}/cancel",
                        guard(engine, cancel, realm=REALM),
                        methods=["POST"],
                    ),
                    Route(
                        "/{path:path}",
                        guard(engine, unknown, realm=REALM),
                        methods=["GET", "POST", "PUT", "DELETE"],
                    ),
                ],
            )
        ]

    # --8<-- [end:routes]


#: What the ``videoedit_emulator.adapters`` entry point names.
ADAPTER = AcmeAdapter()
