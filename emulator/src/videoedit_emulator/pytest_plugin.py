"""pytest fixtures for testing against the emulator (registered through ``pytest11``).

- ``emulator_config`` (session): the [`EmulatorConfig`][videoedit_emulator.engine.config.EmulatorConfig] the
  shared server is built from; override it in a ``conftest.py`` to change seeds, keys, TTLs.
- ``emulator_server`` (session): one [`EmulatorServer`][videoedit_emulator.server.EmulatorServer] for the
  whole run, on 127.0.0.1 and a port chosen by the OS.
- ``emulator`` (function): the same server, reset before the test (no tasks, no uploads, no
  fault rules, an empty journal, the configured seed, progression and clock), so tests never
  see each other's state. Its helpers: ``emulator.faults.add("status", route="create",
  status=503, times=1)`` (or ``.add_spec("create:status=503")``) injects faults, and
  ``emulator.journal.count(route="create", reached_app=True)`` counts what reached the engine.
- ``emulator_client`` (function): a factory, ``emulator_client("vtrix", **kwargs)``, of
  [`videoedit.Client`][videoedit.Client] objects bound to the emulator with a key it accepts; they are
  closed after the test. They share one TLS context (unused on loopback, but building one per
  client loads the CA bundle: some 30 ms a test).
- ``emulator_sample_clip`` (session): a 2 s, 640×360, 30 fps H.264 clip with a 440 Hz tone,
  made once per run (an input for tests; not a stand-in).

The server renders into the render cache every emulator shares (``EmulatorConfig`` and
``docs/testing.md``): by default the user's cache directory, so a suite's second run, or a CI
job that restores that directory, serves every edit it rendered before without ffmpeg. Set
``VIDEOEDIT_EMULATOR_CACHE_DIR`` to move it (or to ``off``).

The heavy imports (uvicorn, the renderer) happen only when a fixture is used.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import videoedit
    from videoedit_emulator.engine.config import EmulatorConfig
    from videoedit_emulator.server import EmulatorServer


@pytest.fixture(scope="session")
def emulator_config() -> EmulatorConfig:
    """The shared server's configuration (override in a conftest.py to change it)."""
    from videoedit_emulator.engine.config import EmulatorConfig

    return EmulatorConfig()


@pytest.fixture(scope="session")
def emulator_server(emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    """One emulator for the whole test session (state is *not* reset: use ``emulator``)."""
    from videoedit_emulator.server import EmulatorServer

    server = EmulatorServer(emulator_config).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The session's emulator, reset to a clean state before this test (faults and the
    journal included: see ``emulator.faults`` and ``emulator.journal``)."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def emulator_client(emulator: EmulatorServer) -> Iterator[Callable[..., videoedit.Client]]:
    """``emulator_client(provider="dashscope-singapore", **kwargs)`` -> a bound Client."""
    made: list[videoedit.Client] = []

    def factory(provider: str = "dashscope-singapore", **kwargs: Any) -> videoedit.Client:
        kwargs.setdefault("verify", _tls_context())
        client = emulator.client(provider, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client the fixtures make."""
    import httpx

    return httpx.create_ssl_context()


@pytest.fixture(scope="session")
def emulator_sample_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 640×360 input clip with audio, made once per session."""
    from videoedit_emulator.render import make_sample_clip

    return make_sample_clip(
        tmp_path_factory.mktemp("emulator-input") / "sample.mp4", seconds=2, width=640, height=360
    )
