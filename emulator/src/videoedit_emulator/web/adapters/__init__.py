"""Wire-format adapters: each turns one provider's HTTP dialect into engine calls.

Each module (``dashscope``, ``vtrix``, ``apimart``, ``oss``) writes the routes of one wire
format and renders `ApiError` in its provider's error format, and ends in its adapter object
(``ADAPTER``, an [`Adapter`][videoedit_emulator.web.adapter.Adapter]) which the emulator's
``pyproject.toml`` publishes under the ``videoedit_emulator.adapters`` entry-point group.
Adapters translate JSON, status words, times and progress figures; every decision about a
task belongs to the engine.

This module holds the small HTTP helpers every adapter needs. Text that is not valid
Unicode (a lone surrogate, ``"\ud800"``) is refused where it comes in, by `read_json`,
naming the field; `JSONResponse` renders any string it is handed, so that no stored
byte can make an answer fail.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette import responses
from starlette.requests import Request
from starlette.responses import Response

from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.text import NOT_TEXT, invalid_at, scrub

__all__ = [
    "MAX_JSON_DEPTH",
    "Endpoint",
    "JSONResponse",
    "bearer_token",
    "declared_length",
    "guarded",
    "own_netlocs",
    "public_base",
    "read_body",
    "read_json",
]


#: JSON nested deeper than this is refused: no request of any provider needs more than a
#: handful of levels, and the parser itself gives up (``RecursionError``) around a thousand.
MAX_JSON_DEPTH = 32
_log = logging.getLogger("videoedit_emulator")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


def declared_length(request: Request) -> int | None:
    """``Content-Length`` as a number when it is one (ASCII digits; ``²`` is not a digit here)."""
    declared = request.headers.get("content-length", "").strip()
    return int(declared) if _DIGITS.match(declared) else None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (``too_large``) as soon as it passes ``limit`` bytes."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise _too_large(declared, limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(total, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        ErrorKind.TOO_LARGE,
        f"request body is {'at least ' if size <= limit else ''}{size} bytes; "
        f"the limit is {limit} bytes ({limit / 2**20:g} MB)",
        field="body",
    )


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as JSON; a 400 ``InvalidParameter`` saying where it is malformed."""
    raw = await read_body(request, limit)
    if not raw.strip():
        raise ApiError.invalid("body", "is empty; a JSON object is required")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError.invalid("body", "is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ApiError.invalid(
            "body", f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # NaN, Infinity, 1e999, integers of more than 4300 digits
        raise ApiError.invalid("body", f"is not valid JSON: {exc}") from None
    _check_depth(value)
    if "\\u" in text:  # a lone surrogate can only come from an escape
        where = invalid_at(value)
        if where is not None:
            raise ApiError.invalid(where, NOT_TEXT)
    return value


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON answer, unable to fail on a stored string: one that UTF-8 cannot
    carry (a lone surrogate) goes out with U+FFFD in its place."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            text = json.dumps(
                content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
            )
            return scrub(text).encode("utf-8")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]} is out of the range of a number")
    return number


def _too_deep() -> ApiError:
    return ApiError.invalid("body", f"nests deeper than {MAX_JSON_DEPTH} levels")


def _check_depth(value: Any) -> None:
    """Refuse JSON nested deeper than `MAX_JSON_DEPTH` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def bearer_token(request: Request) -> str:
    """The key in ``Authorization: Bearer <key>`` (a bare key is taken as is); ``""`` if none."""
    header = request.headers.get("authorization", "").strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if header.lower() == "bearer":
        return ""
    return header


def public_base(request: Request, configured: str | None = None) -> str:
    """The root URL the caller reached the emulator at (links point back there)."""
    if configured:
        return configured.rstrip("/")
    return str(request.url.replace(path="", query="", fragment="")).rstrip("/")


def own_netlocs(request: Request, configured: str | None = None) -> frozenset[str]:
    """Every ``host:port`` this emulator is known by in this request (to spot its own links)."""
    names = {request.url.netloc.lower()}
    if configured:
        names.add(urlsplit(configured).netloc.lower())
    return frozenset(names)


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(
    handler: Endpoint,
    *,
    accepts_key: Callable[[str], bool] | None,
    key_message: str,
    error_response: Callable[[ApiError], Response],
    key_of: Callable[[Request], str] = bearer_token,
    key_code: str | None = None,
) -> Endpoint:
    """Wrap a gateway's handler: refuse a missing or foreign key (read by ``key_of``; not
    checked if ``accepts_key`` is ``None``) and turn every failure into that gateway's own
    error body, never a bare 500."""

    async def wrapped(request: Request) -> Response:
        try:
            if accepts_key is not None:
                key = key_of(request)
                if not key or not accepts_key(key):
                    raise ApiError(ErrorKind.UNAUTHORIZED, key_message, code=key_code)
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except Exception:  # clients read the error body: never a bare 500 page
            _log.exception("emulator: unexpected error on %s %s", request.method, request.url.path)
            return error_response(
                ApiError(ErrorKind.INTERNAL, "Internal server error, please try again later")
            )

    return wrapped
