"""The control plane: steer the emulator from a test, under the reserved prefix ``/_emulator/``.

Routes (JSON in, JSON out; errors are ``{"error": {"kind", "message", "field"}}``):

==========================================  ==============================================
``GET  /_emulator/health``                   liveness, seed, default progression, models
``POST /_emulator/reset``                    forget everything; optional ``{"seed": n}``
``POST /_emulator/seed``                     ``{"seed": n}``: restart the id sequences
``GET|PUT /_emulator/progression``           default progression, ``{"progression": "polls=3"}``
``GET  /_emulator/tasks``                    every live task, engine view
``GET  /_emulator/tasks/{id}``               one task, engine view (does not count as a poll)
``POST /_emulator/tasks/{id}/progression``   ``{"progression": "seconds=2"}``, counted from now
``POST /_emulator/tasks/{id}/fail``          ``{"code": "...", "message": "..."}``: end FAILED when due
``POST /_emulator/clock/advance``            ``{"seconds": n}``: switch to a manual clock, move it
``GET  /_emulator/faults``                   the fault rules, with what each has matched and hit
``POST /_emulator/faults``                   add one (its JSON, or ``{"spec": "create:status=503"}``)
``DELETE /_emulator/faults[/{id}]``          remove every rule, or one
``GET  /_emulator/journal``                  requests received, redacted (filters in the query)
``DELETE /_emulator/journal``                forget them
``GET  /_emulator/snapshots``                the saved snapshots (name, when, counts)
``POST /_emulator/snapshots``                ``{"name": "world"}``: save everything held now
``POST /_emulator/snapshots/{name}/load``    replace everything with that snapshot
==========================================  ==============================================

Snapshots (``engine/state.py``) are kept in the state directory, or without one in the
storage directory (gone with the emulator).

Fault rules and the journal are described in ``faults/`` and ``journal.py``; ``reset``
clears both. The journal filters are ``provider``, ``route``, ``method``, ``reached``
(``true``/``false``: got past the faults to the route), ``faulted`` and ``task_id``.

A call that changes something (any method but GET, HEAD, OPTIONS) that a browser sent from
another site's page is refused with 403, field ``origin`` (``browser_guard.py``): the console
sends these calls from the browser, and any other page could too, as a plain form. So is any
such call with a form's ``Content-Type`` (field ``content-type``: the control plane reads
JSON), and any call at all a browser sends under a ``Host`` that is no loopback name (field
``host``: a page whose name was rebound to 127.0.0.1 is same-origin with the emulator).

Per-request directives (any provider route that creates a task honours them):

- ``X-Emulator-Progression: polls=3`` (or ``immediate``, ``seconds=2.5``) for that task;
- ``X-Emulator-Fail: DataInspectionFailed[: message]`` makes that task end FAILED with that code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from videoedit_emulator.engine import TaskView
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import Progression
from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.state import snapshot_name
from videoedit_emulator.engine.text import NOT_TEXT, invalid_at
from videoedit_emulator.web.adapters import JSONResponse
from videoedit_emulator.web.browser_guard import (
    cross_site_refusal,
    form_refusal,
    rebinding_refusal,
)
from videoedit_emulator.web.console.wiring import engine_of
from videoedit_emulator.web.faults import FaultError, FaultRule
from videoedit_emulator.web.journal import QUERY_FILTERS, FilterError

if TYPE_CHECKING:
    from videoedit_emulator.web.state import WebState

__all__ = [
    "FAIL_HEADER",
    "PREFIX",
    "PROGRESSION_HEADER",
    "Directives",
    "directives",
    "routes",
    "task_json",
]

PREFIX = "/_emulator"
PROGRESSION_HEADER = "X-Emulator-Progression"
FAIL_HEADER = "X-Emulator-Fail"
_CODE = re.compile(r"^[A-Za-z][\w.]{0,63}$")
_CONTROL_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Directives:
    """What a request's ``X-Emulator-*`` headers ask of the task it creates."""

    progression: Progression | None = None
    fail: tuple[str, str] | None = None


def parse_fail(value: str, field: str = FAIL_HEADER) -> tuple[str, str]:
    code, _, message = value.partition(":")
    code, message = code.strip(), message.strip()
    if not _CODE.match(code):
        raise ApiError.invalid(
            field, f"must read <Code>[: message], e.g. DataInspectionFailed; got {value[:60]!r}"
        )
    return code, message or f"The emulator was told to fail this task with {code}."


def directives(headers: Mapping[str, str]) -> Directives:
    """Read the directive headers; a malformed one is a 400 naming the header."""
    progression = fail = None
    spec = headers.get(PROGRESSION_HEADER.lower()) or headers.get(PROGRESSION_HEADER)
    if spec:
        try:
            progression = Progression.parse(spec)
        except ValueError as exc:
            raise ApiError.invalid(PROGRESSION_HEADER, f"is invalid: {exc}") from None
    failure = headers.get(FAIL_HEADER.lower()) or headers.get(FAIL_HEADER)
    if failure:
        fail = parse_fail(failure)
    return Directives(progression, fail)


def task_json(view: TaskView) -> dict[str, Any]:
    """The engine's view of a task, wire-neutral (epoch seconds, fractions, file facts)."""
    out: dict[str, Any] = {
        "task_id": view.task_id,
        "realm": view.realm,
        "model": view.model,
        "status": view.status.value,
        "progress": view.progress,
        "progression": view.progression,
        "polls": view.polls,
        "submitted_at": view.submitted_at,
        "scheduled_at": view.scheduled_at,
        "ended_at": view.ended_at,
        "error_code": view.error_code,
        "error_message": view.error_message,
        "notes": list(view.notes),
        "parameters": dict(view.parameters),
    }
    if view.result is not None:
        r = view.result
        out["result"] = {
            "key": r.key,
            "expires_at": r.expires_at,
            "width": r.width,
            "height": r.height,
            "duration": r.duration,
            "fps": r.fps,
            "has_audio": r.has_audio,
            "size_bytes": r.size_bytes,
        }
    if view.usage is not None:
        u = view.usage
        out["usage"] = {
            "input_seconds": u.input_seconds,
            "output_seconds": u.output_seconds,
            "total_seconds": u.total_seconds,
            "video_count": u.video_count,
            "short_side": u.short_side,
        }
    return out


#: The control plane's own status for a reason whose kind's usual one does not fit: a task
#: that has ended conflicts with a change to it.
_STATUS = {Reason.TASK_ENDED: 409}


def _error(exc: ApiError) -> JSONResponse:
    status = _STATUS.get(exc.reason, exc.status) if exc.reason else exc.status
    return JSONResponse(
        {"error": {"kind": exc.kind.value, "message": exc.detail, "field": exc.field}},
        status_code=status,
    )


Handler = Callable[[Request], Awaitable[Any]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # A browser is a client too (browser_guard.py): refused, with the header to blame.
        public_url = engine_of(request).config.public_url
        for field, refusal in (
            ("host", rebinding_refusal(request, public_url)),
            ("origin", cross_site_refusal(request)),
            ("content-type", form_refusal(request)),
        ):
            if refusal is not None:
                return _error(ApiError(ErrorKind.FORBIDDEN, refusal, field=field, status=403))
        try:
            return JSONResponse(await handler(request))
        except ApiError as exc:
            return _error(exc)

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _CONTROL_BODY_LIMIT:
        raise ApiError(ErrorKind.TOO_LARGE, "control request body is too large", field="body")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError.invalid("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError.invalid("body", "must be a JSON object")
    where = invalid_at(body)
    if where is not None:
        raise ApiError.invalid(where, NOT_TEXT)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _int(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
        raise ApiError.invalid(name, "must be an integer (64-bit)")
    return value


#: The longest jump of the clock: far past every lifetime, and still a valid date.
_MAX_ADVANCE = 100 * 365 * 86400.0
#: The latest the manual clock may read: 9000-01-01 UTC. Every date the wire shows is a
#: ``datetime``, which ends with year 9999; the margin leaves room for what is dated after
#: now (result links, task and upload lifetimes). Advances add up, so each one is checked.
_LATEST_CLOCK = 221845392000.0


def _progression(body: Mapping[str, Any]) -> Progression:
    spec = body.get("progression")
    if not isinstance(spec, str):
        raise ApiError.invalid("progression", "must be a string: immediate, polls=N or seconds=S")
    try:
        return Progression.parse(spec)
    except ValueError as exc:
        raise ApiError.invalid("progression", f"is invalid: {exc}") from None


def routes(web: WebState) -> list[BaseRoute]:
    """The control plane's routes, mounted at ``/_emulator``, over one web app's state."""
    engine = web.engine

    async def health(request: Request) -> dict[str, Any]:
        return {
            "status": "ok",
            "seed": engine.seed,
            "progression": str(engine.progression),
            "tasks": len(engine.all_tasks()),
            "models": engine.models.ids(),
            "clock": repr(engine.clock),
            "faults": len(web.faults),
            "journal": len(web.journal),
        }

    async def reset(request: Request) -> dict[str, Any]:
        body = await _body(request)
        web.reset(seed=_int(body, "seed") if "seed" in body else None)
        return {"status": "reset", "seed": engine.seed}

    async def seed(request: Request) -> dict[str, Any]:
        engine.reseed(_int(await _body(request), "seed"))
        return {"seed": engine.seed}

    async def progression(request: Request) -> dict[str, Any]:
        if request.method in ("PUT", "POST"):
            engine.set_default_progression(_progression(await _body(request)))
        return {"progression": str(engine.progression)}

    async def list_tasks(request: Request) -> dict[str, Any]:
        return {"tasks": [task_json(v) for v in engine.all_tasks()]}

    async def get_task(request: Request) -> dict[str, Any]:
        task_id = request.path_params["task_id"]
        view = engine.get(task_id, poll=False)
        return task_json(view)

    async def task_progression(request: Request) -> dict[str, Any]:
        prog = _progression(await _body(request))
        return task_json(engine.set_progression(request.path_params["task_id"], prog))

    async def task_fail(request: Request) -> dict[str, Any]:
        body = await _body(request)
        code = body.get("code")
        if not isinstance(code, str):
            raise ApiError.invalid("code", "must be a string such as DataInspectionFailed")
        message = body.get("message", "")
        if not isinstance(message, str):
            raise ApiError.invalid("message", "must be a string")
        code, message = parse_fail(f"{code}: {message}" if message else code, "code")
        return task_json(engine.fail(request.path_params["task_id"], code, message))

    async def advance(request: Request) -> dict[str, Any]:
        body = await _body(request)
        seconds = body.get("seconds")
        if (
            not isinstance(seconds, (int, float))
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= _MAX_ADVANCE
        ):
            raise ApiError.invalid("seconds", f"must be a number from 0 to {_MAX_ADVANCE:.0f}")
        if engine.clock.now() + seconds > _LATEST_CLOCK:
            raise ApiError.invalid(
                "seconds",
                f"would move the clock past 9000-01-01 (it reads {engine.clock.now():.0f}); "
                "dates on the wire end with year 9999",
            )
        clock = engine.clock
        if not isinstance(clock, ManualClock):
            clock = engine.use_clock(ManualClock(engine.clock.now()))
        assert isinstance(clock, ManualClock)
        return {"now": clock.advance(float(seconds))}

    async def faults(request: Request) -> dict[str, Any]:
        if request.method == "POST":
            body = await _body(request)
            try:
                return web.faults.add_rule(FaultRule.from_json(body)).to_json()
            except FaultError as exc:
                raise ApiError.invalid(exc.field, exc.rule) from None
        if request.method == "DELETE":
            return {"removed": web.faults.clear()}
        return {"faults": [rule.to_json() for rule in web.faults.rules()]}

    async def fault(request: Request) -> dict[str, Any]:
        rule_id = request.path_params["fault_id"]
        if request.method == "DELETE":
            if not web.faults.remove(rule_id):
                raise ApiError(ErrorKind.NOT_FOUND, f"fault {rule_id!r} is unknown", field="id")
            return {"removed": 1}
        rule = web.faults.get(rule_id)
        if rule is None:
            raise ApiError(ErrorKind.NOT_FOUND, f"fault {rule_id!r} is unknown", field="id")
        return rule.to_json()

    async def journal(request: Request) -> dict[str, Any]:
        if request.method == "DELETE":
            return {"cleared": web.journal.clear()}
        query = request.query_params
        for name in query:
            if name not in QUERY_FILTERS:
                raise ApiError.invalid(
                    name[:40], f"is not a journal filter ({', '.join(QUERY_FILTERS)})"
                )
        try:
            entries = web.journal.select(query)
        except FilterError as bad:
            raise ApiError.invalid(bad.field, bad.rule) from None
        return {
            "entries": [entry.to_json() for entry in entries],
            "total": len(entries),
            "dropped": web.journal.dropped,
        }

    async def snapshots(request: Request) -> dict[str, Any]:
        if request.method == "POST":
            try:
                name = snapshot_name((await _body(request)).get("name"))
            except ValueError as exc:
                raise ApiError.invalid("name", str(exc).removeprefix("name: ")) from None
            return await anyio.to_thread.run_sync(engine.persistence.save_snapshot, name)
        return {"snapshots": engine.persistence.snapshots()}

    async def load_snapshot(request: Request) -> dict[str, Any]:
        name = request.path_params["name"]
        try:
            snapshot_name(name)
            info: dict[str, Any] = await anyio.to_thread.run_sync(
                engine.persistence.load_snapshot, name
            )
        except ValueError as exc:
            raise ApiError.invalid("name", str(exc).removeprefix("name: ")) from None
        except KeyError:
            raise ApiError(
                ErrorKind.NOT_FOUND, f"snapshot {name!r} is not saved", field="name"
            ) from None
        return {"loaded": info}

    return [
        Mount(
            PREFIX,
            routes=[
                Route("/health", _endpoint(health), methods=["GET"]),
                Route("/reset", _endpoint(reset), methods=["POST"]),
                Route("/seed", _endpoint(seed), methods=["POST"]),
                Route("/progression", _endpoint(progression), methods=["GET", "PUT", "POST"]),
                Route("/tasks", _endpoint(list_tasks), methods=["GET"]),
                Route("/tasks/{task_id}", _endpoint(get_task), methods=["GET"]),
                Route(
                    "/tasks/{task_id}/progression", _endpoint(task_progression), methods=["POST"]
                ),
                Route("/tasks/{task_id}/fail", _endpoint(task_fail), methods=["POST"]),
                Route("/clock/advance", _endpoint(advance), methods=["POST"]),
                Route("/faults", _endpoint(faults), methods=["GET", "POST", "DELETE"]),
                Route("/faults/{fault_id}", _endpoint(fault), methods=["GET", "DELETE"]),
                Route("/journal", _endpoint(journal), methods=["GET", "DELETE"]),
                Route("/snapshots", _endpoint(snapshots), methods=["GET", "POST"]),
                Route("/snapshots/{name}/load", _endpoint(load_snapshot), methods=["POST"]),
            ],
        )
    ]
