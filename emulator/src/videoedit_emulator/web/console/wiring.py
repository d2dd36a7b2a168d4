"""Where the console finds what it shows: the engine, the fault rules and the journal.

Kept to these three functions so that the one place to change is here when the fault plan
and the journal move from the engine to whatever composes the web app.
"""

from __future__ import annotations

from starlette.requests import Request

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.web.faults import FaultPlan
from videoedit_emulator.web.journal import Journal

__all__ = ["engine_of", "faults_of", "journal_of"]


def engine_of(request: Request) -> TaskEngine:
    engine: TaskEngine = request.app.state.engine
    return engine


def faults_of(request: Request) -> FaultPlan:
    return engine_of(request).faults


def journal_of(request: Request) -> Journal:
    return engine_of(request).journal
