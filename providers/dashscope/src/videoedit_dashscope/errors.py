"""DashScope's error codes mapped onto the videoedit taxonomy."""

from __future__ import annotations

import re

import httpx

from videoedit.errors import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServiceError,
    TaskNotFoundError,
    UnsupportedOperationError,
    VideoEditError,
)
from videoedit.provider import error_for_status, json_body, parse_retry_after

__all__ = ["OTHER_REGION", "parse_dashscope_error"]

#: The provider to suggest when a key is refused: keys are issued per region.
OTHER_REGION = {
    "dashscope-beijing": "dashscope-singapore",
    "dashscope-singapore": "dashscope-beijing",
}

_FIELD_IN_MESSAGE = re.compile(r"\b((?:input|parameters)\.[A-Za-z_][\w.\[\]]*)")


def parse_dashscope_error(provider_id: str, response: httpx.Response) -> VideoEditError:
    """``{"request_id", "code", "message"}`` with an HTTP status, onto the taxonomy."""
    body = json_body(response)
    status = response.status_code
    code = message = request_id = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
        request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    if not message:
        text = response.text.strip()
        message = (
            text[:300] if text and body is None else (response.reason_phrase or f"HTTP {status}")
        )
    common = {
        "code": code,
        "provider": provider_id,
        "request_id": request_id,
        "status_code": status,
        "body": body,
    }
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code == "InvalidApiKey" or status == 401:
        other = OTHER_REGION.get(provider_id)
        hint = (
            f"DashScope keys are bound to the region that issued them: a key from the other "
            f"region is refused with this same error. If your key is from there, use provider "
            f"{other!r}."
            if other
            else None
        )
        return AuthenticationError(message, hint=hint, **common)
    if code and code.startswith("Throttling"):
        return RateLimitError(message, retry_after=retry_after, **common)
    if code in ("AccessDenied", "Arrearage") or status == 403:
        hint = None
        if "synchronous" in message:
            hint = "the create call needs the header X-DashScope-Async: enable"
        elif code == "Arrearage":
            hint = "the account is overdue: top it up in the Model Studio console"
        return PermissionDeniedError(message, hint=hint, **common)
    if code == "UnsupportedOperation":
        return UnsupportedOperationError(message, **common)
    if code == "ModelNotFound":
        return InvalidRequestError(
            message, field="model", rule="model not available in this region", **common
        )
    if code and (
        code.startswith(("InvalidParameter", "BadRequest", "InvalidURL", "DataInspection"))
    ):
        found = _FIELD_IN_MESSAGE.search(message)
        return InvalidRequestError(
            message, field=found[1] if found else None, rule=message, **common
        )
    if code == "InternalError" or status >= 500:
        return ServiceError(message, **common)
    if status == 404:
        return TaskNotFoundError(message, **common)
    return error_for_status(status, message, retry_after=retry_after, **common)
