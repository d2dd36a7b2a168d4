"""The provider contract: sans-I/O translation between requests and HTTP.

A provider builds `httpx.Request` objects and parses `httpx.Response` objects;
it never sends anything. The client owns every socket, retry and sleep, so one provider
serves both [`Client`][videoedit.Client] and [`AsyncClient`][videoedit.AsyncClient], and its tests need
no server (the design of h11 and friends).
"""

from __future__ import annotations

import enum
import json
from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

import httpx

from videoedit.encoding import EncodeContext
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
from videoedit.keys import ApiKey
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskPage

__all__ = [
    "Call",
    "EncodeContext",
    "ListQuery",
    "Provider",
    "ProviderConfig",
    "ProviderFactory",
    "Quotas",
    "Register",
    "Retry",
    "UploadFlow",
    "Uploader",
    "parse_retry_after",
    "quote_task_id",
]


class Retry(str, enum.Enum):
    """When the client may send a call again after a failure."""

    IDEMPOTENT = "idempotent"  # polls, listings, downloads: after any transport error, 429 or 5xx
    UNSENT_ONLY = "unsent_only"  # creations: only when it certainly never arrived, or on 429
    NEVER = "never"


@dataclass(frozen=True)
class Call:
    """A request plus the client's licence to repeat it."""

    request: httpx.Request
    retry: Retry = Retry.IDEMPOTENT


#: An upload is a generator of calls: it yields each call, receives the (successful)
#: response, and returns the URL that now stands for the file.
UploadFlow = Generator[Call, httpx.Response, str]


class Uploader(Protocol):
    """Turns a local file into a URL a provider accepts. Sans-I/O, driven by the client."""

    def upload(self, path: Path, *, model: str) -> UploadFlow: ...


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    page_size: int = 10
    status: str | None = None
    model: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True)
class Quotas:
    """An account's documented quotas at a provider: what a batch paces itself by.

    ``creates_per_second``: task creations a second; ``queries_per_second``: task queries
    (polls, listings) a second; ``running``: tasks under way at once (``None``: no documented
    limit). These hold for the whole account; ``models`` adds each model's own quotas, which
    apply on top (wan2.1-vace-plus: 2 creations a second, 2 at once). A provider declares
    them as data (`Provider.quotas`); `videoedit.pacing.Pacer` turns them into turns and
    slots, so that a batch stays under them instead of bouncing off 429s.
    """

    creates_per_second: int | None = None
    queries_per_second: int | None = None
    running: int | None = None
    models: Mapping[str, Quotas] = field(default_factory=dict)
    #: Where the figures come from (a documentation page), for the docs and the report.
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("creates_per_second", "queries_per_second", "running"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(
                    f"Quotas.{name}: must be a whole number >= 1, or None for no limit"
                )
        for model, quotas in self.models.items():
            if quotas.models:
                raise ValueError(f"Quotas.models[{model!r}]: a model's quotas hold no models")
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))

    def for_model(self, model: str | None) -> Quotas | None:
        """The quotas of ``model`` alone (on top of the account's), if it has any."""
        return None if model is None else self.models.get(model)

    @property
    def is_empty(self) -> bool:
        figures = (self.creates_per_second, self.queries_per_second, self.running)
        return all(f is None for f in figures) and not self.models


@dataclass(frozen=True)
class ProviderConfig:
    """Per-instance configuration: nothing here is process-wide."""

    base_url: str
    api_key: ApiKey | None
    options: Mapping[str, Any] = field(default_factory=dict)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import timezone

    now = datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def quote_task_id(task_id: str) -> str:
    """A task id as one URL path segment, every provider's way of putting it in a path.

    Everything but letters, digits and ``-._~`` is percent-encoded, ``/`` and ``?`` included,
    so an id (it comes back from the service, or from a user resuming a task) can never reach
    another route: ``../uploads?action=getPolicy`` stays one segment of the task's own path.
    """
    return quote(task_id, safe="")


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or ``None`` when it is not JSON (proxies answer HTML)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


class Provider(ABC):
    """Base class of every provider. Subclasses set the class attributes and the builders.

    Options come through ``config.options``; a subclass validates them in ``__init__`` and
    raises [`InvalidRequestError`][videoedit.InvalidRequestError] naming the option.
    """

    id: ClassVar[str]
    default_base_url: ClassVar[str]
    api_key_env: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    #: The body format this provider's create call speaks (see ``EncodeContext``).
    dialect: ClassVar[str] = ""
    region: ClassVar[str | None] = None
    #: The option names ``config.options`` may hold; any other is refused by name.
    known_options: ClassVar[frozenset[str]] = frozenset()
    #: The account's documented quotas (none by default): what a batch paces itself by.
    quotas: ClassVar[Quotas] = Quotas()

    def __init__(self, config: ProviderConfig) -> None:
        unknown = set(config.options) - self.known_options
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidRequestError(
                f"options.{name}: not an option of provider {self.id!r} "
                f"(known: {', '.join(sorted(self.known_options))})",
                field=f"options.{name}",
                rule="unknown option",
            )
        self.config = config
        self.base_url = config.base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, base_url={self.base_url!r})"

    # -- helpers for subclasses -------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        if self.config.api_key is None:
            return {}
        return {"Authorization": f"Bearer {self.config.api_key.reveal()}"}

    def encode_context(self) -> EncodeContext:
        """What the ``encode_request`` hook is told of this destination."""
        return EncodeContext(
            provider=self.id, dialect=self.dialect, region=self.region, options=self.config.options
        )

    # -- the contract ----------------------------------------------------------------------
    def uploader(self) -> Uploader | None:
        """The uploader for local files, or ``None`` when the provider has no upload API."""
        return None

    @abstractmethod
    def build_create(self, request: EditRequest, body: dict[str, Any]) -> httpx.Request:
        """The create call carrying ``body``: ``request`` encoded in `dialect`.

        The client asks the ``encode_request`` hook for the body (through
        [`videoedit.PluginHost.build_create`][videoedit.PluginHost.build_create]), so a provider never calls the plugin host:
        it wraps, addresses and signs the body it is given. ``request`` is there for what the
        body does not say (Vtrix reads the upstream model id from it when the body has none).
        """

    @abstractmethod
    def parse_create(self, response: httpx.Response) -> Task: ...

    @abstractmethod
    def build_status(self, task_id: str) -> httpx.Request: ...

    @abstractmethod
    def parse_status(self, task_id: str, response: httpx.Response) -> Task: ...

    def build_cancel(self, task_id: str) -> httpx.Request:
        raise UnsupportedOperationError(
            f"{self.id} has no cancel call", provider=self.id, task_id=task_id
        )

    def parse_cancel(self, task_id: str, response: httpx.Response) -> Task | None:
        """The task after a cancel, or ``None`` when the answer does not describe it."""
        return None

    def build_list(self, query: ListQuery) -> httpx.Request:
        raise UnsupportedOperationError(f"{self.id} has no task listing", provider=self.id)

    def parse_list(self, response: httpx.Response) -> TaskPage:
        raise UnsupportedOperationError(f"{self.id} has no task listing", provider=self.id)

    def build_download(self, url: str) -> httpx.Request:
        """Result links are pre-signed: no key goes with them."""
        return httpx.Request("GET", url)

    def parse_error(self, response: httpx.Response) -> VideoEditError:
        """Map a non-2xx answer onto the taxonomy. Subclasses refine codes and hints."""
        body = json_body(response)
        code = message = request_id = None
        if isinstance(body, dict):
            code = _first_str(body, "code", "error_code", "type")
            message = _first_str(body, "message", "error_message", "msg")
            error = body.get("error")
            if isinstance(error, dict):
                code = code or _first_str(error, "code", "type")
                message = message or _first_str(error, "message")
            elif isinstance(error, str):
                message = message or error
            request_id = _first_str(body, "request_id", "requestId", "id")
        if message is None:
            text = response.text.strip()
            message = text[:300] if text else response.reason_phrase or "no message"
        return error_for_status(
            response.status_code,
            message,
            code=code,
            provider=self.id,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            body=body,
        )


def _first_str(body: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def error_for_status(
    status: int,
    message: str,
    *,
    code: str | None = None,
    retry_after: float | None = None,
    **kwargs: Any,
) -> VideoEditError:
    """The taxonomy class an HTTP status stands for, when the provider's code says no more."""
    kwargs.update(code=code, status_code=status)
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 403:
        return PermissionDeniedError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if status == 404:
        return TaskNotFoundError(message, **kwargs)
    if 400 <= status < 500:
        return InvalidRequestError(message, **kwargs)
    return ServiceError(message, **kwargs)


#: What plugins register: a provider class, whose class attributes fill the listing.
ProviderFactory = type[Provider]


class Register(Protocol):
    """The callback handed to the ``register_providers`` hook."""

    def __call__(
        self, provider: ProviderFactory, *, aliases: tuple[str, ...] | list[str] = ()
    ) -> None: ...
