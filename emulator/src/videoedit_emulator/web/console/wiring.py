"""Where the console finds what it shows: the engine, and the web app's adapters, fault rules
and journal (`WebState`, which ``create_app`` keeps in ``app.state.web``).

Kept to these functions so that, should that state move again, the one place to change is here.
"""

from __future__ import annotations

from starlette.requests import Request

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.web.faults import FaultPlan
from videoedit_emulator.web.journal import Journal
from videoedit_emulator.web.state import WebState

__all__ = ["engine_of", "faults_of", "journal_of", "journal_sources_of", "providers_of"]


def _web(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


def engine_of(request: Request) -> TaskEngine:
    return _web(request).engine


def faults_of(request: Request) -> FaultPlan:
    return _web(request).faults


def journal_of(request: Request) -> Journal:
    return _web(request).journal


def providers_of(request: Request) -> list[str]:
    """The provider ids this app serves (every adapter's), as the filters offer them."""
    return list(_web(request).adapters.prefixes())


def journal_sources_of(request: Request) -> list[str]:
    """What the journal's provider filter takes: each adapter's name (``dashscope``: both
    regions; ``oss``) and each provider id."""
    adapters = _web(request).adapters
    names = [adapter.name for adapter in adapters]
    ids = [pid for adapter in adapters for pid in adapter.providers if pid not in names]
    return names + ids
