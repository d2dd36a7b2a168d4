"""The console: the emulator as a place to look, at ``/_emulator/ui`` (loopback only).

A task table that refreshes itself, a page per task (its timeline, the request and answer
from the journal, its input and stand-in playing inline, its links), the journal with its
filters, and the controls: fault rules armed and disarmed, the default progression, the
clock, reset. Server-rendered from Jinja2 templates, with a little plain JavaScript served
from this package (``static/``): no build step, no CDN, so it works offline.

The console changes nothing by itself: its buttons send the control plane's own JSON calls
(``web/control.py``), so a rule armed from a page is the rule a test would arm. Who may use
it and which browser requests may change the emulator is ``web/browser_guard.py``; where it reads the
engine, the fault rules and the journal is ``wiring.py``; what it shows of a task is
``rows.py``; the routes are ``pages.py``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoedit_emulator.web.console.pages import PREFIX, routes

__all__ = ["PREFIX", "routes"]


def __getattr__(name: str) -> Any:
    # Lazily: the control plane needs neither Jinja2 nor the pages.
    if name not in __all__:
        raise AttributeError(f"module 'videoedit_emulator.web.console' has no attribute {name!r}")
    return getattr(importlib.import_module("videoedit_emulator.web.console.pages"), name)
