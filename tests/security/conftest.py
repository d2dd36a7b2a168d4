"""Fixtures of the security tests.

The provider wire shapes (create bodies, routes, each provider's error format) are shared
with the resilience tests: ``tests/resilience/resilience_wire.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "resilience"))

#: The key every security scenario uses: no output of any test may ever contain it.
CANARY = "sk-canary-5e1f0c7d9a2b4c6e8f00"


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the session; never a proxy (everything is on loopback)."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def canary() -> str:
    return CANARY
