"""Fixtures of the resilience tests: the emulator under faults, its control plane, figures.

The ``emulator`` fixture (the emulator's own pytest plugin) gives a freshly reset server per
test: no tasks, no fault rules, an empty journal. Figures a test measures are written with
``report_figures`` (printed with ``-s``, and kept as JSON under ``$VIDEOEDIT_RELIABILITY_DIR``
when it is set); ``docs/reliability.md`` quotes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from resilience_wire import Control

from videoedit_emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the session (building one loads the CA bundle: slow). Never a
    proxy: every call goes to the emulator on loopback."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def control(emulator: EmulatorServer, http: httpx.Client) -> Control:
    return Control(http, emulator)


@pytest.fixture(scope="session")
def report_figures() -> Callable[[str, dict[str, Any]], None]:
    """``report_figures("soak", {...})``: print the figures, and keep them as JSON."""

    def report(name: str, figures: dict[str, Any]) -> None:
        text = json.dumps(figures, indent=2, sort_keys=True)
        print(f"\n== reliability figures: {name} ==\n{text}")
        folder = os.environ.get("VIDEOEDIT_RELIABILITY_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{name}.json").write_text(text + "\n")

    return report
