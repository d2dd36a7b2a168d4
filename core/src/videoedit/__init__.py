"""videoedit: Alibaba's Wan video-editing models through any provider.

One request vocabulary ([`VideoEdit`][videoedit.VideoEdit] and plugin-added types), one task lifecycle
([`TaskStatus`][videoedit.TaskStatus]), one error taxonomy ([`videoedit.errors`][videoedit.errors]), and a sync and an async
client. Providers are plugins found through the ``videoedit`` entry-point group.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from videoedit.client import DEFAULT_WAIT_TIMEOUT, AsyncClient, Client
from videoedit.errors import (
    AuthenticationError,
    DownloadError,
    InvalidRequestError,
    LedgerError,
    PermissionDeniedError,
    PluginLoadError,
    ProviderNotFoundError,
    RateLimitError,
    ServiceError,
    SubmissionUncertainError,
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
from videoedit.ledger import EditState, Ledger, LedgerEntry
from videoedit.plugins import PluginHost, PluginWarning, ProviderInfo, default_host
from videoedit.policy import PollSchedule, RetryPolicy
from videoedit.provider import Call, ListQuery, Provider, ProviderConfig, Retry, Uploader
from videoedit.requests import EditRequest, VideoEdit
from videoedit.task import Task, TaskPage, TaskResult, TaskStatus, Usage

try:  # the one version source is the repository's VERSION file, read at build time
    __version__ = version("videoedit")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "ApiKey",
    "AsyncClient",
    "AuthenticationError",
    "Call",
    "Client",
    "DownloadError",
    "EditRequest",
    "EditState",
    "EncodeContext",
    "EventKind",
    "InvalidRequestError",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
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
    "SubmissionUncertainError",
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
