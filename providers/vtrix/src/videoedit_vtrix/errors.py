"""Vtrix's HTTP errors mapped onto the videoedit taxonomy.

Vtrix documents 401 (bad key), 403 (balance or permission), 429 (rate limit) and 500, each
with a JSON body carrying ``message`` or ``error``; ``error`` is an object
(``{"code", "message"}``) on some pages and a plain string in the official CLI, so both are
read. Errors DashScope raised upstream come back through the envelope, so a 400 whose message
names ``input.…`` or ``parameters.…`` keeps that field on the error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from videoedit.errors import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServiceError,
    TaskNotFoundError,
    VideoEditError,
)
from videoedit.provider import json_body, parse_retry_after

__all__ = ["error_fields", "parse_vtrix_error"]

_FIELD_IN_MESSAGE = re.compile(r"\b((?:input|parameters)\.[A-Za-z_][\w.\[\]]*)")


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)) and str(value).strip():
        return str(value).strip()
    return None


def error_fields(error: Any) -> tuple[str | None, str | None]:
    """``(code, message)`` of an ``error`` value given as an object or as a string."""
    if isinstance(error, Mapping):
        return _text(error.get("code") or error.get("type")), _text(error.get("message"))
    return None, _text(error)


def parse_vtrix_error(provider_id: str, response: httpx.Response) -> VideoEditError:
    """A non-2xx answer as the taxonomy's error, keeping Vtrix's own code and message."""
    body = json_body(response)
    status = response.status_code
    code = message = request_id = None
    if isinstance(body, dict):
        code, message = error_fields(body.get("error"))
        code = code or _text(body.get("code"))
        message = _text(body.get("message")) or message
        request_id = _text(body.get("request_id"))
    if not message:
        text = response.text.strip()
        message = (
            text[:300] if text and body is None else (response.reason_phrase or f"HTTP {status}")
        )
    common: dict[str, Any] = {
        "code": code,
        "provider": provider_id,
        "request_id": request_id,
        "status_code": status,
        "body": body,
    }
    if status == 401:
        return AuthenticationError(
            message,
            hint="Vtrix refused the key: check VTRIX_API_KEY (a key from cloud.vtrix.ai, "
            "not a DashScope key)",
            **common,
        )
    if status == 403:
        return PermissionDeniedError(
            message,
            hint="Vtrix answers 403 when the account's balance is too low or the key may not "
            "use this model",
            **common,
        )
    if status == 429:
        return RateLimitError(
            message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **common
        )
    if status == 404:
        return TaskNotFoundError(message, **common)
    if 400 <= status < 500:
        found = _FIELD_IN_MESSAGE.search(message)
        return InvalidRequestError(
            message, field=found[1] if found else None, rule=message, **common
        )
    return ServiceError(message, **common)
