"""Emulator adapters as other packages would publish them, for the discovery tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from videoedit_emulator.engine import TaskEngine


def _routes(prefix: str) -> Callable[[TaskEngine], list[BaseRoute]]:
    def routes(engine: TaskEngine) -> list[BaseRoute]:
        async def hello(request: Request) -> Response:
            return JSONResponse({"seed": engine.seed, "path": request.url.path})

        return [Mount(prefix, routes=[Route("/hello", hello)])]

    return routes


class Valid:
    providers: ClassVar[dict[str, str]] = {"zeta-cloud": "/zeta"}
    routes = staticmethod(_routes("/zeta"))


class TakesABuiltinId:
    providers: ClassVar[dict[str, str]] = {"vtrix": "/vtrix2"}
    routes = staticmethod(_routes("/vtrix2"))


class InsideABuiltinPrefix:
    providers: ClassVar[dict[str, str]] = {"nested": "/api/v1/nested"}
    routes = staticmethod(_routes("/api/v1/nested"))


class OnTheControlPlane:
    providers: ClassVar[dict[str, str]] = {"sneaky": "/_emulator"}
    routes = staticmethod(_routes("/_emulator"))


class NoRoutes:
    providers: ClassVar[dict[str, str]] = {"half": "/half"}


class BadPrefix:
    providers: ClassVar[dict[str, str]] = {"slashless": "slashless"}
    routes = staticmethod(_routes("/slashless"))


class SameIdAsValid:
    providers: ClassVar[dict[str, str]] = {"zeta-cloud": "/zeta-two"}
    routes = staticmethod(_routes("/zeta-two"))
