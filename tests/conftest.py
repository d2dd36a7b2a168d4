"""Suite-wide fixtures. Keep this small: area-specific fixtures live beside their tests."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

#: The variable that moves every emulator's render cache (``videoedit_emulator.render.cache``).
RENDER_CACHE_ENV = "VIDEOEDIT_EMULATOR_CACHE_DIR"
_SAVED = "_videoedit_saved_render_cache_env"


def pytest_configure(config: pytest.Config) -> None:
    """Point every emulator of the run (and of the processes it starts) at a render cache in
    a temp dir: the suite must never write into the user's cache directory, and a test must
    not pass only because an earlier run left its render there. Within the run the cache is
    shared, as the pytest plugin shares it for users. A test that wants another location sets
    the variable itself (``monkeypatch.setenv``)."""
    directory = tempfile.mkdtemp(prefix="videoedit-test-render-cache-")
    setattr(config, _SAVED, (os.environ.get(RENDER_CACHE_ENV), directory))
    os.environ[RENDER_CACHE_ENV] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = getattr(config, _SAVED, None)
    if saved is None:
        return
    before, directory = saved
    if before is None:
        os.environ.pop(RENDER_CACHE_ENV, None)
    else:
        os.environ[RENDER_CACHE_ENV] = before
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def anyio_backend() -> str:
    """``@pytest.mark.anyio`` tests run on asyncio (the clients use anyio, so trio would work)."""
    return "asyncio"
