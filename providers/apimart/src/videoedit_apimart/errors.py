"""The APIMart gateway's errors mapped onto the videoedit taxonomy.

The gateway reports failure two ways: an HTTP error status, and an HTTP 200 whose body's
``code`` is not 200 (``{"code": 401, "message": …}``). Both are read here. The message sits
in ``message``/``msg`` or in an ``error`` object ``{"code", "message", "type"}`` (or string);
where the HTTP status says nothing, the body's numeric ``code``, then the error ``type``
(``authentication_error``, ``rate_limit_error``…), decide the class.
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

__all__ = ["api_error", "body_code", "error_fields", "parse_apimart_error"]

#: The request field behind each of our body field names (the rest share the name).
_REQUEST_FIELD = {"video_urls": "video", "image_urls": "reference_images"}

#: Error ``type`` words, for bodies whose ``code`` is not an HTTP status.
_TYPE_STATUS = (
    ("auth", 401),
    ("permission", 403),
    ("insufficient", 403),
    ("quota", 403),
    ("rate_limit", 429),
    ("not_found", 404),
    ("invalid", 400),
)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)) and str(value).strip():
        return str(value).strip()
    return None


def body_code(body: Any) -> int | None:
    """The body's own ``code`` as an integer, when it is one (``200`` means success)."""
    code = body.get("code") if isinstance(body, Mapping) else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip())
    return None


def error_fields(error: Any) -> tuple[str | None, str | None, str | None]:
    """``(code, message, type)`` of an ``error`` given as an object or a string."""
    if isinstance(error, Mapping):
        return _text(error.get("code")), _text(error.get("message")), _text(error.get("type"))
    return None, _text(error), None


def _status_from(http_status: int, code: int | None, kind: str | None) -> int:
    if http_status >= 400:
        return http_status
    if code is not None and code >= 400:
        return code
    for word, status in _TYPE_STATUS:
        if kind and word in kind.lower():
            return status
    return 500


def _field_in(message: str, field_names: Mapping[str, str]) -> str | None:
    """The request field behind the wire field the message names first (messages lead with
    the field they concern: ``"duration must not exceed … video_urls[0]"``)."""
    found = []
    for ours, theirs in field_names.items():
        match = re.search(rf"(?<![\w.]){re.escape(theirs)}(?![\w])", message)
        if match:
            found.append((match.start(), _REQUEST_FIELD.get(ours, ours)))
    return min(found)[1] if found else None


def api_error(
    provider_id: str,
    http_status: int,
    body: Any,
    *,
    retry_after: str | None = None,
    field_names: Mapping[str, str] | None = None,
    fallback: str = "",
    task_id: str | None = None,
) -> VideoEditError:
    """The error an answer stands for, from its HTTP status and its body."""
    code = body_code(body)
    error_code = message = kind = None
    request_id = None
    if isinstance(body, Mapping):
        error_code, message, kind = error_fields(body.get("error"))
        message = _text(body.get("message")) or _text(body.get("msg")) or message
        request_id = _text(body.get("request_id"))
        data = body.get("data")
        if isinstance(data, Mapping) and not message:
            error_code, message, kind = error_fields(data.get("error"))
    status = _status_from(http_status, code, kind)
    message = message or fallback or f"the gateway answered code {code or http_status}"
    common: dict[str, Any] = {
        "code": error_code or (str(code) if code is not None else None),
        "provider": provider_id,
        "request_id": request_id,
        "status_code": http_status,
        "task_id": task_id,
        "body": body,
    }
    if status == 401:
        return AuthenticationError(
            message,
            hint="the gateway refused the key: check APIMART_API_KEY, and that the key was "
            "issued by the host in base_url (white-label hosts issue their own keys)",
            **common,
        )
    if status in (402, 403):
        return PermissionDeniedError(
            message,
            hint="gateways refuse this way when the balance is too low or the key may not "
            "use the model",
            **common,
        )
    if status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(retry_after), **common)
    if status == 404:
        return TaskNotFoundError(message, **common)
    if 400 <= status < 500:
        found = _field_in(message, field_names or {})
        return InvalidRequestError(message, field=found, rule=message, **common)
    return ServiceError(message, **common)


def parse_apimart_error(
    provider_id: str, response: httpx.Response, field_names: Mapping[str, str] | None = None
) -> VideoEditError:
    """A non-2xx answer as the taxonomy's error."""
    body = json_body(response)
    text = response.text.strip()
    fallback = text[:300] if text and body is None else (response.reason_phrase or "")
    return api_error(
        provider_id,
        response.status_code,
        body,
        retry_after=response.headers.get("Retry-After"),
        field_names=field_names,
        fallback=fallback,
    )
