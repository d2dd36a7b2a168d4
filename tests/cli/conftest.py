"""Fixtures for the command-line tests: the ``videoedit`` command run as a user runs it.

Every test starts a real process (``python -m videoedit.cli``) with a clean environment (no
provider keys, no ``VIDEOEDIT_*`` variables) in its own directory, against either the
emulator the pytest plugin runs in this process (``--base-url``) or one embedded in the
command (``--emulator``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import COMMAND_TIMEOUT, Run, clean_env, command

import videoedit
from videoedit_emulator.server import EmulatorServer


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Run]:
    """``cli("status", ID, env={...})`` runs ``videoedit`` in ``tmp_path`` and returns a Run."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            command(*args),
            cwd=tmp_path,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return Run(tuple(args), proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def on(emulator: EmulatorServer) -> Callable[[str], list[str]]:
    """``on("vtrix")``: the flags that point a command at this test's emulator."""

    def flags(provider: str) -> list[str]:
        return ["--provider", provider, "--base-url", emulator.base_url(provider), "--api-key", "k"]

    return flags


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[Callable[[str], videoedit.Client]]:
    """In-process clients of the same emulator, to set up tasks for the command to find."""
    made: list[videoedit.Client] = []

    def factory(provider: str) -> videoedit.Client:
        made.append(emulator.client(provider))
        return made[-1]

    yield factory
    for c in made:
        c.close()
