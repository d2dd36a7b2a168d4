"""One wire format, declared once: everything the web app knows of a provider.

An [`Adapter`][videoedit_emulator.web.adapter.Adapter] says where its providers are served,
which routes it mounts on the shared engine, how the journal and fault rules name each of
them, how an `ApiError` becomes its service's error body, and which realms its keys are
bound to. The web app only loops over adapters (routing, realms, fault matching, journal
classification, error rendering, its own 404 and 405): no module outside an adapter names a
provider. The built-in adapters come through the ``videoedit_emulator.adapters``
entry-point group, like those of other packages ([`videoedit_emulator.web.discovery`][videoedit_emulator.web.discovery]).

Routes are declared the way moto's ``urls.py`` declares a service's: a table of
[`Operation`][videoedit_emulator.web.adapter.Operation]s, paths relative to each prefix, with
``{name}`` for one path segment and ``{name:path}`` for the rest of the path::

    class AcmeAdapter(Adapter):
        name = "acme-cloud"
        providers = MappingProxyType({"acme-cloud": "/acme"})
        operations = (
            Operation("create", "POST", "/v2/edits"),
            Operation("status", "GET", "/v2/edits/{id}"),
        )
        task_id_at = ("edit", "id")

        def routes(self, engine): ...

The older form, any object with ``providers`` and ``routes(engine)``, still works: it is
wrapped in a [`ModuleAdapter`][videoedit_emulator.web.adapter.ModuleAdapter], whose requests
are all journaled and faulted as route ``other``, with a plain JSON error body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.web.adapters import Endpoint, JSONResponse, bearer_token, guarded
from videoedit_emulator.web.adapters.dashscope_errors import code_of, message_of
from videoedit_emulator.web.faults import FaultRule, RouteInfo, fault_error

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from videoedit_emulator.engine import TaskEngine

__all__ = ["Adapter", "Handler", "ModuleAdapter", "Operation"]

#: The default error body's code for a refusal with neither a code nor a reason: its kind.
_KIND_WORDS = MappingProxyType({kind: kind.value for kind in ErrorKind})
_PARAM = re.compile(r"\{([A-Za-z_]\w*)(:path)?\}")

#: A route's handler behind `Adapter.guard`: the request and the request id drawn for it.
Handler = Callable[[Request, str], Awaitable[Response]]


class Operation:
    """One route of a wire format, by the name the journal and fault rules give it.

    ``name`` is the operation (``create``, ``status``, ``cancel``, ``list``, ``upload``,
    ``download``… as the service's calls go), ``method`` its HTTP method (``GET`` takes
    ``HEAD`` too), ``paths`` its paths under each of the adapter's prefixes.
    """

    __slots__ = ("_patterns", "method", "name", "paths")

    def __init__(self, name: str, method: str, *paths: str) -> None:
        if not paths or not all(p.startswith("/") for p in paths):
            raise ValueError(f"operation {name!r}: give at least one path, each starting with '/'")
        self.name = name
        self.method = method.upper()
        self.paths = paths
        self._patterns = tuple(re.compile(_pattern(p)) for p in paths)

    def matches(self, method: str, rest: str) -> bool:
        """Whether ``method rest`` (the path under a prefix) is this operation."""
        methods = (self.method, "HEAD") if self.method == "GET" else (self.method,)
        return method in methods and any(p.fullmatch(rest) for p in self._patterns)

    def __repr__(self) -> str:
        return f"Operation({self.name!r}, {self.method!r}, {', '.join(map(repr, self.paths))})"


def _pattern(path: str) -> str:
    """A path template as a regular expression (``{id}``: one segment; ``{rest:path}``: any)."""
    out, end = [], 0
    for match in _PARAM.finditer(path):
        out.append(re.escape(path[end : match.start()]))
        out.append(".*" if match.group(2) else "[^/]+")
        end = match.end()
    out.append(re.escape(path[end:]))
    return "".join(out)


class Adapter:
    """A wire format on the emulator. Subclass it, set the attributes, write `routes`.

    Required: ``name`` (a word for the adapter; fault rules and journal filters may give
    it to mean all its providers, as ``dashscope`` means both regions), ``providers``
    (provider id -> URL prefix under the emulator's root) and `routes`. Everything else
    has a default that fits a JSON API with ``Authorization: Bearer`` keys.
    """

    name: str
    providers: Mapping[str, str]
    #: Its routes by the names the journal and fault rules use; a request under one of its
    #: prefixes that none matches is ``other``.
    operations: Sequence[Operation] = ()
    #: Where the answer of a ``create`` holds the task id, as keys and list indexes
    #: (``("output", "task_id")``); the journal records it. Empty: none is read.
    task_id_at: tuple[str | int, ...] = ()
    #: Whether its answers are JSON (a ``malformed`` fault garbles JSON only).
    speaks_json: bool = True
    #: Whether clients are configured with its providers' base URLs (the index, ``serve``,
    #: `EmulatorServer.base_url`); OSS is only reached through links other adapters hand out.
    listed: bool = True
    #: Where it stands among adapters (lower first; then by entry-point name): the order of
    #: the index, ``serve``'s banner, fault-rule and realm listings. The emulator's own
    #: adapters are 10 to 40, which come before other packages' whatever their order.
    order: int = 100
    #: Whether its answers carry a request id (`request_id` draws one from the engine).
    request_ids: bool = True
    #: The header its keys travel in (``Authorization`` is read as ``Bearer <key>``), and
    #: what a missing or foreign key is told (`guard`).
    key_header: str = "Authorization"
    key_message: str = "invalid or missing API key"
    key_code: str | None = None

    @property
    def realms(self) -> tuple[str, ...]:
        """The realms its keys are bound to (``EmulatorConfig.keys``): by default one per
        provider id. A service without keys (OSS) has none."""
        return tuple(self.providers)

    # -- what a subclass writes -------------------------------------------------------------------
    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        """Its Starlette routes, full paths (prefixes included), over the shared ``engine``."""
        raise NotImplementedError(f"adapter {self.name!r} declares no routes")

    def error_response(self, error: ApiError, request_id: str) -> Response:
        """``error`` in its service's error body, with its status (and ``Retry-After``).

        The default: ``{"error": {"code", "message"}, "request_id"}``, with the adapter's own
        code, else DashScope's words for the engine's reason (the models served are
        DashScope's, and a gateway forwards its refusals), else the kind.
        """
        body: dict[str, Any] = {
            "error": {"code": code_of(error, _KIND_WORDS), "message": message_of(error)}
        }
        if request_id:
            body["request_id"] = request_id
        return JSONResponse(body, status_code=error.status, headers=_retry_after(error))

    def request_id(self, engine: TaskEngine) -> str:
        """The request id of one answer (``""`` for a service whose answers carry none)."""
        return engine.new_request_id() if self.request_ids else ""

    def route_not_found(self, method: str, path: str, status: int) -> ApiError:
        """What a path under its prefixes that no route takes (404), or a method a route
        does not take (405), answers."""
        return ApiError(
            ErrorKind.NOT_FOUND, f"no such route: {method} {path[:200]!r}", status=status
        )

    def fault_error(self, rule: FaultRule) -> ApiError:
        """The error a ``status`` or ``rate_limit`` rule answers with on its routes."""
        return fault_error(rule)

    # -- what the web app asks ----------------------------------------------------------------
    def classify(self, method: str, path: str) -> RouteInfo | None:
        """The provider and route name of ``method path``, or ``None`` if not under its prefixes."""
        for provider, prefix in self.providers.items():
            if path == prefix:
                rest = ""
            elif path.startswith(prefix + "/"):
                rest = path[len(prefix) :]
            else:
                continue
            route = next(
                (op.name for op in self.operations if op.matches(method.upper(), rest)), "other"
            )
            return RouteInfo(provider, route, group=self.name, speaks_json=self.speaks_json)
        return None

    def route_names(self) -> tuple[str, ...]:
        """The route names fault rules may give for its providers (``other`` last)."""
        names = dict.fromkeys(op.name for op in self.operations)
        names["other"] = None
        return tuple(names)

    def created_task_id(self, body: bytes) -> str | None:
        """The task id a ``create`` answer hands out, as the wire shows it (`task_id_at`)."""
        if not self.task_id_at:
            return None
        try:
            found: Any = json.loads(body)
        except (ValueError, RecursionError):
            return None
        for step in self.task_id_at:
            if (
                isinstance(step, int)
                and isinstance(found, list)
                and -len(found) <= step < len(found)
            ):
                found = found[step]
            elif isinstance(step, str) and isinstance(found, dict):
                found = found.get(step)
            else:
                return None
        return found if isinstance(found, str) else None

    def render(self, error: ApiError, engine: TaskEngine) -> Response:
        """``error`` as its service answers it, with a fresh request id."""
        return self.error_response(error, self.request_id(engine))

    # -- a helper for routes ----------------------------------------------------------------------
    def api_key(self, request: Request) -> str:
        """The key ``request`` carries in `key_header` (``""`` if none)."""
        if self.key_header.lower() == "authorization":
            return bearer_token(request)
        return request.headers.get(self.key_header, "").strip()

    def guard(self, engine: TaskEngine, handler: Handler, *, realm: str | None) -> Endpoint:
        """``handler`` behind the key check of ``realm`` (``None``: no key needed) and this
        adapter's error rendering: every `ApiError` in its error body, never a bare 500.
        The request id drawn for the request goes to the handler and to any error body."""
        config = engine.config

        def accepts(key: str) -> bool:
            return realm is None or config.accepts_key(key, realm)

        async def endpoint(request: Request) -> Response:
            request_id = self.request_id(engine)

            async def handle(request: Request) -> Response:
                return await handler(request, request_id)

            inner = guarded(
                handle,
                accepts_key=None if realm is None else accepts,
                key_message=self.key_message,
                key_code=self.key_code,
                key_of=self.api_key,
                error_response=lambda error: self.error_response(error, request_id),
            )
            return await inner(request)

        return endpoint

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {', '.join(self.providers)}>"


def _retry_after(error: ApiError) -> dict[str, str]:
    if error.retry_after is None:
        return {}
    return {"Retry-After": str(math.ceil(error.retry_after))}


class ModuleAdapter(Adapter):
    """An adapter in the older form (an object with ``providers`` and ``routes(engine)``),
    with the defaults: every request is route ``other``, errors in the default JSON body."""

    def __init__(
        self,
        name: str,
        providers: Mapping[str, str],
        routes: Callable[[TaskEngine], list[BaseRoute]],
    ) -> None:
        self.name = name
        self.providers = MappingProxyType(dict(providers))
        self._routes = routes

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        return self._routes(engine)
