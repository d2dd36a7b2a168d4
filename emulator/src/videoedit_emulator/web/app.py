"""The ASGI application: every wire-format adapter and the control plane, over one engine.

To serve a new wire format, write ``adapters/<name>.py`` with ``routes(engine)`` and add it
to `ADAPTERS`. Adapters published by other packages under the entry-point group
``videoedit_emulator.adapters`` are mounted beside them ([`videoedit_emulator.web.discovery`][videoedit_emulator.web.discovery]).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.web import console, control
from videoedit_emulator.web.adapters import apimart, dashscope, oss, vtrix
from videoedit_emulator.web.discovery import discovered_adapters, provider_prefixes
from videoedit_emulator.web.middleware import EmulatorMiddleware, http_error_handler

__all__ = ["ADAPTERS", "PROVIDER_PREFIXES", "Adapter", "create_app"]

Adapter = Callable[[TaskEngine], list[BaseRoute]]

#: Every wire format the emulator speaks. Registration point for new adapters.
ADAPTERS: list[Adapter] = [dashscope.routes, oss.routes, vtrix.routes, apimart.routes]

#: Where each provider's routes live, relative to the emulator's root URL (its base URL is
#: root + prefix). Adapters that add a provider add it here too.
PROVIDER_PREFIXES: dict[str, str] = {
    "dashscope-beijing": "/api/v1",
    "dashscope-singapore": "/intl/api/v1",
    "vtrix": "/vtrix",
    "apimart": "/apimart",
}


def create_app(engine: TaskEngine) -> Starlette:
    """A Starlette app serving ``engine`` through every adapter in `ADAPTERS`."""

    async def index(request: Request) -> JSONResponse:
        root = str(request.url.replace(path="", query="")).rstrip("/")
        return JSONResponse(
            {
                "service": "videoedit-emulator",
                "base_urls": {pid: root + prefix for pid, prefix in provider_prefixes().items()},
                "control": root + control.PREFIX,
                "models": engine.models.ids(),
            }
        )

    routes: list[BaseRoute] = [Route("/", index, methods=["GET"])]
    routes += console.routes()  # before the control plane's mount, which takes /_emulator/*
    routes += control.routes(engine)
    for adapter in ADAPTERS:
        routes += adapter(engine)
    for plugin in discovered_adapters():
        routes += plugin.routes(engine)
    not_found = http_error_handler(engine)  # in the format of the provider of the path
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    # Journal and fault rules in front of every provider route (not the control plane).
    app.add_middleware(EmulatorMiddleware, engine=engine)
    app.state.engine = engine
    return app
