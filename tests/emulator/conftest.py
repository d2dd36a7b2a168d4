"""Fixtures for the emulator's tests.

The ``emulator``, ``emulator_client`` and ``emulator_sample_clip`` fixtures come from the
emulator's own pytest plugin (``videoedit_emulator.pytest_plugin``), exercised here as users
would use it. Wire helpers live in ``emulator_wire.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from emulator_wire import DashScopeWire

from videoedit_emulator.render import make_sample_clip
from videoedit_emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the session (building one loads the CA bundle: slow)."""
    with httpx.Client(timeout=60) as client:
        yield client


@pytest.fixture
def wire(emulator: EmulatorServer, http: httpx.Client) -> DashScopeWire:
    """Raw DashScope calls to the Beijing routes of a freshly reset emulator."""
    return DashScopeWire(emulator, http=http)


@pytest.fixture
def sg_wire(emulator: EmulatorServer, http: httpx.Client) -> DashScopeWire:
    """Raw DashScope calls to the Singapore routes (same emulator, same state)."""
    return DashScopeWire(emulator, "dashscope-singapore", http=http)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def portrait_clip(clip_dir: Path) -> Path:
    """2 s, 360×640, no audio: for ratio-follows-input and silent-origin checks."""
    return make_sample_clip(
        clip_dir / "portrait.mp4", seconds=2, width=360, height=640, audio=False
    )
