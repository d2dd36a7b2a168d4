"""The ASGI application: every wire-format adapter and the control plane, over one engine.

The adapters are those of the ``videoedit_emulator.adapters`` entry-point group, the
emulator's own and other packages' alike ([`videoedit_emulator.web.discovery`][videoedit_emulator.web.discovery]);
to serve a new wire format, publish an [`Adapter`][videoedit_emulator.web.adapter.Adapter]
there. The app owns its fault plan and journal ([`WebState`][videoedit_emulator.web.state.WebState]).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.web import console, control
from videoedit_emulator.web.adapter import Adapter
from videoedit_emulator.web.adapter_set import AdapterSet
from videoedit_emulator.web.discovery import installed_adapters
from videoedit_emulator.web.faults import FaultPlan
from videoedit_emulator.web.middleware import EmulatorMiddleware, http_error_handler
from videoedit_emulator.web.state import WebState

__all__ = ["create_app"]


def create_app(engine: TaskEngine, *, adapters: Iterable[Adapter] | None = None) -> Starlette:
    """A Starlette app serving ``engine`` through ``adapters`` (default: every installed
    one), with its own fault plan and journal (``app.state.web``).

    A key of ``engine.config.keys`` bound to a realm no adapter serves is a ``ValueError``.
    """
    served = AdapterSet(installed_adapters() if adapters is None else adapters)
    served.check_keys(engine.config.keys)
    web = WebState(engine, served, FaultPlan(served.fault_targets()))

    async def index(request: Request) -> JSONResponse:
        root = str(request.url.replace(path="", query="")).rstrip("/")
        return JSONResponse(
            {
                "service": "videoedit-emulator",
                "base_urls": {pid: root + prefix for pid, prefix in served.prefixes().items()},
                "control": root + control.PREFIX,
                "models": engine.models.ids(),
            }
        )

    routes: list[BaseRoute] = [Route("/", index, methods=["GET"])]
    routes += console.routes()  # before the control plane's mount, which takes /_emulator/*
    routes += control.routes(web)
    routes += served.routes(engine)
    not_found = http_error_handler(web)  # in the format of the adapter of the path
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    # Journal and fault rules in front of every provider route (not the control plane).
    app.add_middleware(EmulatorMiddleware, web=web)
    app.state.engine = engine
    app.state.web = web
    return app
