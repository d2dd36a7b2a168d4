"""videoedit: Alibaba's Wan video-editing models through any provider.

One request vocabulary (:class:`VideoEdit` and plugin-added types), one task lifecycle
(:class:`TaskStatus`), one error taxonomy (:mod:`videoedit.errors`), and a sync and an async
client. Providers are plugins found through the ``videoedit`` entry-point group.
"""

from __future__ import annotations

from videoedit.client import DEFAULT_WAIT_TIMEOUT, AsyncClient, Client
from videoedit.errors import (
    AuthenticationError,
    DownloadError,
    InvalidRequestError,
    PermissionDeniedError,
    PluginLoadError,
    ProviderNotFoundError,
    RateLimitError,
    ServiceError,
    TaskCanceledError,
    TaskFailedError,
    TaskNotFoundError,
    TransportError,
    UnsupportedOperationError,
    VideoEditError,
    WaitTimeoutError,
)
from videoedit.events import EventKind, TaskEvent
from videoedit.hookspecs import EncodeContext, hookimpl
from videoedit.keys import ApiKey
from videoedit.plugins import PluginHost, PluginWarning, ProviderInfo, default_host
from videoedit.policy import PollSchedule, RetryPolicy
from videoedit.provider import Call, ListQuery, Provider, ProviderConfig, Retry, Uploader
from videoedit.requests import EditRequest, VideoEdit
from videoedit.task import Task, TaskPage, TaskResult, TaskStatus, Usage

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "ApiKey",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "Client",
    "DownloadError",
    "EditRequest",
    "EncodeContext",
    "EventKind",
    "InvalidRequestError",
    "ListQuery",
    "PermissionDeniedError",
    "PluginHost",
    "PluginLoadError",
    "PluginWarning",
    "PollSchedule",
    "Provider",
    "ProviderConfig",
    "ProviderInfo",
    "ProviderNotFoundError",
    "RateLimitError",
    "Retry",
    "RetryPolicy",
    "ServiceError",
    "Task",
    "TaskCanceledError",
    "TaskEvent",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskPage",
    "TaskResult",
    "TaskStatus",
    "TransportError",
    "UnsupportedOperationError",
    "Uploader",
    "Usage",
    "VideoEdit",
    "VideoEditError",
    "WaitTimeoutError",
    "default_host",
    "hookimpl",
    "providers",
]


def providers() -> list[ProviderInfo]:
    """Every installed provider with its id, aliases and base URL."""
    return default_host().providers()
