"""The console's routes: HTML pages, the fragments they refresh, and the media they play.

Every page is rendered on the server from the engine's views and the journal; the browser
only refreshes fragments (``console.js`` polls them once a second) and sends the control
plane's own JSON calls. Nothing is built from strings in the browser, so the one place where
text becomes HTML is Jinja2, with autoescape on for every template.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import jinja2
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskEngine, TaskView
from videoedit_emulator.web.browser_guard import cross_site_refusal, loopback_refusal
from videoedit_emulator.web.console.rows import (
    clock_time,
    concerns,
    media_links,
    pretty_json,
    task_row,
    timeline,
)
from videoedit_emulator.web.console.wiring import (
    engine_of,
    faults_of,
    journal_of,
    journal_sources_of,
    providers_of,
)
from videoedit_emulator.web.journal import QUERY_FILTERS, FilterError

__all__ = ["PREFIX", "routes"]

#: Where the console lives (under the control plane's reserved prefix).
PREFIX = "/_emulator/ui"
_HERE = Path(__file__).parent
#: Rows per page of the task table and the journal: a first paint that stays fast with
#: thousands of tasks, whatever the machine.
PAGE_SIZE = 50
_MAX_PAGE_SIZE = 500
#: The control plane's journal filters, and two of the console's own: ``concerning`` (every
#: request about a task: its create, polls, cancel, downloads) and ``seq`` (one entry).
_JOURNAL_FILTERS = QUERY_FILTERS
_CONSOLE_FILTERS = ("concerning", "seq")
#: The style sheet, inlined in every page: a first visit then paints after one request,
#: not two (the script is deferred and does not hold the paint back).
_CSS = (_HERE / "static" / "console.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
#: No inline script, no inline style but the sheet above (by its hash), media only from here
#: and other loopback servers (the files a test serves), images also as data: URIs (requests
#: may carry them), no framing.
_CSP = (
    f"default-src 'self'; script-src 'self'; style-src 'sha256-{_CSS_HASH}'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "img-src 'self' data: http://127.0.0.1:* http://localhost:*; "
    "media-src 'self' http://127.0.0.1:* http://localhost:*"
)

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["clock"] = clock_time
_templates.filters["pretty"] = pretty_json


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    html = _templates.get_template(template).render(prefix=PREFIX, css=_CSS, **context)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"},
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    """Loopback clients under a loopback name only (``web/browser_guard.py``), pages or not."""

    async def guarded(request: Request) -> Response:
        refusal = loopback_refusal(request) or cross_site_refusal(request)
        if refusal is not None:
            return PlainTextResponse(f"403 Forbidden: {refusal}", status_code=403)
        return await endpoint(request)

    return guarded


def _count(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= high:
        raise FilterError(name, f"must be an integer from 1 to {high}, got {raw[:20]!r}")
    return int(raw)


def _status(request: Request) -> TaskStatus | None:
    raw = request.query_params.get("status") or None
    if raw is None:
        return None
    try:
        return TaskStatus(raw.upper())
    except ValueError:
        names = ", ".join(s.value for s in TaskStatus)
        raise FilterError("status", f"must be one of {names}, got {raw[:20]!r}") from None


def _task_table(request: Request) -> dict[str, Any]:
    """The context of the task table: one page of rows, newest first, and the totals."""
    engine = engine_of(request)
    size = _count(request, "size", PAGE_SIZE, _MAX_PAGE_SIZE)
    number = _count(request, "page", 1, 10**6)
    status = _status(request)
    provider = request.query_params.get("provider") or None
    views, total = engine.list_tasks(provider, page_no=number, page_size=size, status=status)
    pages = max(1, math.ceil(total / size))
    query = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return {
        "rows": [task_row(v) for v in views],
        "total": total,
        "page": number,
        "pages": pages,
        "size": size,
        "status": status.value if status else "",
        "provider": provider or "",
        "query": query,
        "statuses": [s.value for s in TaskStatus if s is not TaskStatus.UNKNOWN],
        "providers": sorted({*providers_of(request), *([provider] if provider else [])}),
    }


async def tasks_page(request: Request) -> Response:
    try:
        return _page(request, "tasks.html", **_task_table(request))
    except FilterError as exc:
        return _page(request, "error.html", 400, message=f"{exc}")


async def task_rows(request: Request) -> Response:
    try:
        return _page(request, "task_rows.html", **_task_table(request))
    except FilterError as exc:
        return PlainTextResponse(f"{exc}", status_code=400)


def _task_context(request: Request) -> dict[str, Any] | None:
    engine = engine_of(request)
    view = _find_task(engine, request.path_params["task_id"])
    if view is None:
        return None
    task_id = view.task_id
    entries = journal_of(request).entries()
    create = next((e for e in entries if e.route == "create" and concerns(e, task_id)), None)
    root = str(request.url.replace(path="", query="")).rstrip("/")
    return {
        "view": view,
        "row": task_row(view),
        "moments": timeline(view, entries),
        "create": create,
        "inputs": media_links(create.body, f"{PREFIX}/uploads/") if create else [],
        "result_src": f"{PREFIX}/tasks/{task_id}/result.mp4" if view.result else None,
        "result_link": engine.result_url(view, root),
        "engine_view": f"/_emulator/tasks/{task_id}",
        "live": view.status.value in ("PENDING", "RUNNING"),
    }


def _find_task(engine: TaskEngine, wanted: str) -> TaskView | None:
    """The live task of this id, or of the id its wire shows (APIMart's ``task_<id>``: the
    journal's links carry what the wire said)."""
    view = engine.get(wanted, poll=False)
    if view.status is not TaskStatus.UNKNOWN:
        return view
    return next((v for v in engine.all_tasks() if v.task_id in wanted), None)


async def task_page(request: Request) -> Response:
    context = _task_context(request)
    if context is None:
        task_id = request.path_params["task_id"]
        return _page(
            request, "error.html", 404, message=f"task {task_id} is unknown or has expired"
        )
    return _page(request, "task.html", **context)


async def task_live(request: Request) -> Response:
    context = _task_context(request)
    if context is None:
        return PlainTextResponse("unknown task", status_code=404)
    return _page(request, "task_live.html", **context)


async def task_result(request: Request) -> Response:
    view = engine_of(request).get(request.path_params["task_id"], poll=False)
    if view.result is None or not view.result.path.is_file():
        return PlainTextResponse("this task has no stand-in (yet)", status_code=404)
    return FileResponse(view.result.path, media_type="video/mp4")


async def upload(request: Request) -> Response:
    key = request.path_params["key"]
    engine = engine_of(request)
    now = engine.clock.now()
    for stored in engine.store.objects():
        if stored.key == key and stored.expires_at > now and stored.path.is_file():
            return FileResponse(stored.path, media_type=stored.content_type)
    return PlainTextResponse("no such upload (or it expired)", status_code=404)


async def journal_page(request: Request) -> Response:
    journal = journal_of(request)
    try:
        for name in request.query_params:
            if name not in (*_JOURNAL_FILTERS, *_CONSOLE_FILTERS, "page"):
                known = ", ".join((*_JOURNAL_FILTERS, *_CONSOLE_FILTERS))
                raise FilterError(name[:40], f"is not a filter ({known})")
        query = request.query_params
        entries = journal.select(query, unset=("", "any"))
        number = _count(request, "page", 1, 10**6)
    except FilterError as exc:
        return _page(request, "error.html", 400, message=f"{exc}")
    concerning = query.get("concerning") or None
    if concerning is not None:
        entries = [e for e in entries if concerns(e, concerning)]
    if query.get("seq"):
        seq = _count(request, "seq", 1, 10**9)
        entries = [e for e in entries if e.seq == seq]
    entries.reverse()  # newest first
    first = (number - 1) * PAGE_SIZE
    return _page(
        request,
        "journal.html",
        entries=entries[first : first + PAGE_SIZE],
        total=len(entries),
        dropped=journal.dropped,
        page=number,
        pages=max(1, math.ceil(len(entries) / PAGE_SIZE)),
        filters={name: query.get(name, "") for name in (*_JOURNAL_FILTERS, *_CONSOLE_FILTERS)},
        query={k: v for k, v in query.items() if k != "page" and v},
        sources=journal_sources_of(request),
    )


async def controls_page(request: Request) -> Response:
    engine = engine_of(request)
    snapshots = await anyio.to_thread.run_sync(engine.persistence.snapshots)  # reads files
    return _page(
        request,
        "controls.html",
        snapshots=snapshots,
        state_dir=engine.config.state_dir,
        rules=[{**rule.to_json(), "spec": rule.to_spec()} for rule in faults_of(request).rules()],
        progression=str(engine.progression),
        clock=repr(engine.clock),
        now=engine.clock.now(),
        seed=engine.seed,
    )


def routes() -> list[BaseRoute]:
    """The console's routes, mounted at `PREFIX` (before the control plane's own mount)."""
    pages: list[BaseRoute] = [
        Route("/", _guarded(tasks_page), methods=["GET"]),
        Route("/tasks/rows", _guarded(task_rows), methods=["GET"]),
        Route("/tasks/{task_id}", _guarded(task_page), methods=["GET"]),
        Route("/tasks/{task_id}/live", _guarded(task_live), methods=["GET"]),
        Route("/tasks/{task_id}/result.mp4", _guarded(task_result), methods=["GET"]),
        Route("/uploads/{key:path}", _guarded(upload), methods=["GET"]),
        Route("/journal", _guarded(journal_page), methods=["GET"]),
        Route("/controls", _guarded(controls_page), methods=["GET"]),
        Mount("/static", app=_GuardedStatic(StaticFiles(directory=_HERE / "static"))),
    ]
    return [Route(PREFIX, _guarded(tasks_page), methods=["GET"]), Mount(PREFIX, routes=pages)]


class _GuardedStatic:
    """The package's own JS and CSS, under the same loopback rule as the pages."""

    def __init__(self, app: StaticFiles) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        refusal = loopback_refusal(request)
        if refusal is not None:
            await PlainTextResponse(f"403 Forbidden: {refusal}", status_code=403)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)
