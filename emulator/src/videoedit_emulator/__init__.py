"""Offline emulator of the Wan video-editing providers, with real stand-in MP4s.

One task engine ([`TaskEngine`][videoedit_emulator.TaskEngine]) behind thin wire-format adapters (DashScope's two
regions and its OSS uploads here; the gateways in their own modules), a renderer that
writes honest stand-in MP4s, and three ways to run it: ``videoedit-emulator serve``,
[`EmulatorServer`][videoedit_emulator.EmulatorServer] in a thread, and the pytest fixtures of [`pytest_plugin`][videoedit_emulator.pytest_plugin].
See ``docs/emulator.md``.

Names are imported lazily, so that loading the pytest plugin or the renderer does not pull
in the web server.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoedit_emulator.engine.clock import Clock, ManualClock, SystemClock
    from videoedit_emulator.engine.config import EmulatorConfig, Progression
    from videoedit_emulator.engine.errors import ApiError, ErrorKind
    from videoedit_emulator.engine.tasks import TaskEngine, TaskView
    from videoedit_emulator.server import DEFAULT_API_KEY, EmulatorServer

try:  # the one version source is the repository's VERSION file, read at build time
    __version__ = version("videoedit-emulator")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {
    "Clock": "engine.clock",
    "ManualClock": "engine.clock",
    "SystemClock": "engine.clock",
    "EmulatorConfig": "engine.config",
    "Progression": "engine.config",
    "TaskEngine": "engine.tasks",
    "TaskView": "engine.tasks",
    "ApiError": "engine.errors",
    "ErrorKind": "engine.errors",
    "DEFAULT_API_KEY": "server",
    "EmulatorServer": "server",
}

__all__ = [
    "DEFAULT_API_KEY",
    "ApiError",
    "Clock",
    "EmulatorConfig",
    "EmulatorServer",
    "ErrorKind",
    "ManualClock",
    "Progression",
    "SystemClock",
    "TaskEngine",
    "TaskView",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'videoedit_emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(f"videoedit_emulator.{module}"), name)
