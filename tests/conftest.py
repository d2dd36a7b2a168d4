"""Suite-wide fixtures. Keep this small: area-specific fixtures live beside their tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """``@pytest.mark.anyio`` tests run on asyncio (the clients use anyio, so trio would work)."""
    return "asyncio"
