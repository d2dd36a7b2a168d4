"""The ASGI layer in front of the adapters: journal every request, and apply the fault rules.

Each request is classified by the adapter whose prefix it is under
([`AdapterSet.classify`][videoedit_emulator.web.adapter_set.AdapterSet.classify]), checked
against the web app's `FaultPlan`, served (or not), and written to its `Journal`, redacted.
The control plane under ``/_emulator/`` passes straight through, unjournaled and never faulted.

How each fault is carried out:

- ``status`` and ``rate_limit``: the adapter's ``fault_error`` says what the error is, and its
  own ``error_response`` writes it, so the body is what that provider would send.
- ``task_failure``: the request goes on with an ``X-Emulator-Fail`` header added, the
  directive every create route already honours.
- ``reset``: ASGI has no way to abort a connection, so the layer reaches the server's
  transport through the ``receive`` callable uvicorn hands the application (its request
  cycle object holds the transport), sets ``SO_LINGER`` to zero and aborts: the kernel sends
  a TCP RST, and the client sees "connection reset" or "server disconnected without sending
  a response". Outside uvicorn (Starlette's ``TestClient``) the layer raises
  `ConnectionDropped` instead, which the test client passes to the caller.
- ``when="after"``: the route runs with its answer captured; the answer is then delayed,
  replaced, truncated, or half sent and cut off.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videoedit_emulator.web.control import FAIL_HEADER, PREFIX
from videoedit_emulator.web.faults import Decision, FaultKind, FaultRule, RouteInfo
from videoedit_emulator.web.journal import (
    BODY_LIMIT,
    JournalEntry,
    redact_headers,
    redact_json,
    redact_query,
    redact_text,
    secrets_in,
)

if TYPE_CHECKING:
    from videoedit_emulator.web.adapter import Adapter
    from videoedit_emulator.web.state import WebState

__all__ = ["ConnectionDropped", "EmulatorMiddleware", "http_error_handler"]

#: What a ``malformed`` fault before the route answers: JSON cut off mid-object.
_GARBLED = b'{"request_id": "emulator-fault", "output": {"task_id": '


class ConnectionDropped(ConnectionResetError):
    """A ``reset`` fault where no server transport can be aborted (e.g. ``TestClient``)."""


class _Tap:
    """Passes the request body on, counting it and keeping its first bytes for the journal."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.total = 0
        self.prefix = bytearray()
        self.complete = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            self.total += len(body)
            room = BODY_LIMIT + 1 - len(self.prefix)
            if room > 0:
                self.prefix += body[:room]
            if not message.get("more_body", False):
                self.complete = True
        return message

    async def drain(self) -> None:
        """Read what a journal entry can hold of a body the route will never read."""
        while not self.complete and self.total <= BODY_LIMIT:
            if (await self.receive())["type"] == "http.disconnect":
                return


class _Answer:
    """Records an answer going out (``forward``) or holds it back whole (no ``forward``).

    ``before_last`` runs just before the last part of a forwarded answer leaves: the journal
    entry is written then, so that a caller holding its answer always finds it journaled.
    """

    def __init__(
        self, forward: Send | None, keep: bool, before_last: Callable[[], None] | None = None
    ) -> None:
        self.forward = forward
        self.keep = keep or forward is None
        self.before_last = before_last
        self.status: int | None = None
        self.messages: list[Message] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        last = False
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body":
            last = not message.get("more_body", False)
            if self.keep and (self.forward is None or len(self.body) <= BODY_LIMIT):
                self.body += message.get("body", b"")
        if self.forward is None:
            self.messages.append(message)
            return
        if last and self.before_last is not None:
            # Dropped once called: the callback holds this answer, and the cycle would keep
            # every request's objects (its body included) alive until a full collection.
            before_last, self.before_last = self.before_last, None
            before_last()
        await self.forward(message)

    def head(self) -> Message | None:
        return next((m for m in self.messages if m["type"] == "http.response.start"), None)

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)

    async def replay_half(self, send: Send) -> None:
        """The head and the first half of the body, with more announced."""
        head = self.head()
        if head is None:
            return
        await send(head)
        await send(
            {
                "type": "http.response.body",
                "body": bytes(self.body[: len(self.body) // 2]),
                "more_body": True,
            }
        )


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def _with_header(scope: Scope, name: str, value: str) -> Scope:
    raw = name.lower().encode("latin-1")
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != raw]
    headers.append((raw, value.encode("latin-1")))
    return {**scope, "headers": headers}


def _json_body(tap: _Tap, headers: Iterable[tuple[str, str]], secrets: frozenset[str]) -> Any:
    """The request body for the journal: JSON bodies only (redacted), never uploads."""
    if not tap.complete or not tap.prefix or len(tap.prefix) > BODY_LIMIT:
        return None
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    if "multipart" in ctype or "form-urlencoded" in ctype:
        return None
    try:
        return redact_json(json.loads(bytes(tap.prefix)), secrets)
    except (ValueError, RecursionError):
        return None


def _json_answer(body: bytes | bytearray, secrets: frozenset[str]) -> Any:
    """A create's answer for the journal: its JSON (redacted), or ``None``."""
    if not body or len(body) > BODY_LIMIT:
        return None
    try:
        return redact_json(json.loads(bytes(body)), secrets)
    except (ValueError, RecursionError):
        return None


async def _drop_connection(receive: Receive) -> None:
    """Abort the client's connection with a TCP reset (see the module docstring)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not callable(getattr(transport, "abort", None)):
        raise ConnectionDropped("emulator fault: connection reset (no server transport to abort)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let the server notice before the route returns, so it neither logs a missing answer
    # nor tries to send a 500 down the dead line.
    for _ in range(200):
        if getattr(cycle, "disconnected", True):
            break
        await anyio.sleep(0.001)


class EmulatorMiddleware:
    """Journal and faults for every request outside the control plane (module docstring)."""

    def __init__(self, app: ASGIApp, web: WebState) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == PREFIX or path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        web, engine = self.web, self.web.engine
        started = time.monotonic()
        adapter, where = web.adapters.classify(scope["method"], path)
        decision = web.faults.decide(where)
        headers = _headers(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        secrets = secrets_in(headers, parse_qsl(query, keep_blank_values=True), engine.config.keys)
        epoch = web.journal.epoch  # a reset before the answer leaves drops the entry
        entry = JournalEntry(
            seq=web.journal.next_seq(),
            at=engine.clock.now(),
            method=scope["method"],
            path=redact_text(path, secrets),
            query=redact_query(query, secrets),
            provider=where.provider,
            route=where.route,
            group=where.group,
            headers=redact_headers(headers, secrets),
            faults=[
                {"id": rule.id, "kind": rule.kind.value, "when": rule.when}
                for rule in decision.applied
            ],
        )
        tap = _Tap(receive)
        recorded = False

        def record() -> None:
            """Write the entry once: before a dropped line lets the caller move on."""
            nonlocal recorded
            if recorded:
                return
            recorded = True
            entry.body_bytes = tap.total
            entry.body = _json_body(tap, headers, secrets)
            entry.duration = time.monotonic() - started
            web.journal.record(entry, epoch=epoch)

        try:
            await self._serve(
                scope, receive, send, tap, adapter, where, decision, entry, record, secrets
            )
        except Exception:
            if entry.reached_app and entry.status is None and entry.app_status is None:
                entry.status = 500
            raise
        finally:
            record()

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        tap: _Tap,
        adapter: Adapter | None,
        where: RouteInfo,
        decision: Decision,
        entry: JournalEntry,
        record: Callable[[], None],
        secrets: frozenset[str],
    ) -> None:
        if decision.latency_before:
            await anyio.sleep(decision.latency_before)
        if decision.task_failure is not None:
            code, message = decision.task_failure
            scope = _with_header(scope, FAIL_HEADER, f"{code}: {message}")
        rule = decision.terminal
        if rule is not None and rule.when == "before":
            await tap.drain()
            if rule.kind is FaultKind.RESET:
                record()
                await _drop_connection(receive)
                return
            response = self._fault_response(rule, adapter, b"")
            entry.status = response.status_code
            record()
            await response(scope, tap.receive, send)
            return
        creates = where.route == "create" and adapter is not None
        entry.reached_app = True
        if rule is None and not decision.latency_after:

            def passed() -> None:
                entry.status = entry.app_status = answer.status
                if creates and adapter is not None:
                    entry.task_id = adapter.created_task_id(bytes(answer.body))
                    entry.answer = _json_answer(answer.body, secrets)
                record()

            answer = _Answer(send, keep=creates, before_last=passed)
            await self.app(scope, tap.receive, answer.send)
            entry.status = entry.app_status = answer.status
            return
        # The route does the work; its answer is held back, then delayed, lost or replaced.
        answer = _Answer(None, keep=True)
        await self.app(scope, tap.receive, answer.send)
        entry.app_status = answer.status
        if creates and adapter is not None:
            entry.task_id = adapter.created_task_id(bytes(answer.body))
            entry.answer = _json_answer(answer.body, secrets)
        if decision.latency_after:
            await anyio.sleep(decision.latency_after)
        if rule is None:
            entry.status = answer.status
            record()
            await answer.replay(send)
            return
        if rule.kind is FaultKind.RESET:
            record()
            await answer.replay_half(send)
            await anyio.sleep(0.005)  # let the half answer leave before the line drops
            await _drop_connection(receive)
            return
        response = self._fault_response(rule, adapter, bytes(answer.body))
        entry.status = response.status_code
        record()
        await response(scope, tap.receive, send)

    def _fault_response(self, rule: FaultRule, adapter: Adapter | None, body: bytes) -> Response:
        if rule.kind is FaultKind.MALFORMED:
            # After the route: its own answer cut in half; before: JSON cut off mid-object.
            garbled = body[: len(body) // 2] if len(body) >= 2 else _GARBLED
            return Response(garbled, status_code=rule.status or 200, media_type="application/json")
        assert adapter is not None  # a rule strikes only requests an adapter classified
        return adapter.render(adapter.fault_error(rule), self.web.engine)


def http_error_handler(web: WebState) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Starlette's own 404 and 405 (a path no route matches, such as one holding an encoded
    line break, or a method a route does not take) in the format of the adapter whose
    prefix the path is under; plain text elsewhere."""

    async def handler(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        method, path = request.method, request.url.path
        adapter, _ = web.adapters.classify(method, path)
        if adapter is None:
            return PlainTextResponse(getattr(exc, "detail", "Not Found"), status_code=status)
        return adapter.render(adapter.route_not_found(method, path, status), web.engine)

    return handler
