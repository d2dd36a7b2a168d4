"""A transport that records every exchange, so the kit can compare an error with its wire.

The kit asks "did the provider keep the code and the request id the service sent?" and "was
anything sent at all?"; both need the HTTP exchanges themselves, whatever the provider's
wire format. [`RecordingTransport`][videoedit_emulator.contract.recorder.RecordingTransport] wraps httpx's own transport and keeps each request
with its response (whose body the client has read by the time anyone looks).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Exchange", "RecordingTransport", "wire_code", "wire_request_id"]

#: Headers in which services put their id for an exchange.
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-dashscope-request-id", "x-acs-request-id")


@dataclass(frozen=True)
class Exchange:
    request: httpx.Request
    response: httpx.Response

    def json(self) -> Any:
        """The response body as JSON, or ``None`` (not JSON, or not read)."""
        try:
            return json.loads(self.response.content)
        except (ValueError, httpx.ResponseNotRead):
            return None


class RecordingTransport(httpx.BaseTransport):
    """httpx's default transport (TLS verified), recording every exchange it carries."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self._lock:
            self.exchanges.append(Exchange(request, response))
        return response

    def close(self) -> None:
        self.inner.close()

    @property
    def last(self) -> Exchange:
        if not self.exchanges:
            raise AssertionError("no HTTP exchange was recorded")
        return self.exchanges[-1]


def wire_code(exchange: Exchange) -> str | None:
    """The error code a JSON answer carries: ``code`` at the top, else ``error.code``."""
    body = exchange.json()
    if not isinstance(body, dict):
        return None
    for holder in (body, body.get("error")):
        if isinstance(holder, dict) and isinstance(holder.get("code"), str) and holder["code"]:
            return str(holder["code"])
    return None


def wire_request_id(exchange: Exchange) -> str | None:
    """The service's id for the exchange: a request-id header, else ``request_id`` in the body."""
    for name in _REQUEST_ID_HEADERS:
        value = exchange.response.headers.get(name)
        if value:
            return str(value)
    body = exchange.json()
    if isinstance(body, dict):
        for key in ("request_id", "requestId"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return None
