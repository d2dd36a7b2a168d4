"""Helpers of the command-line tests: run ``videoedit`` as a process and read what it left."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import videoedit
from videoedit_emulator.render.cache import CACHE_DIR_ENV

#: Environment variables a user's shell may hold that would make a test depend on it.
_SCRUBBED_PREFIXES = ("VIDEOEDIT_",)
_SCRUBBED = {"DASHSCOPE_API_KEY", "VTRIX_API_KEY", "APIMART_API_KEY", "ACME_API_KEY"}
#: A command that has not finished by then is hung (the suite's timeout would be later).
COMMAND_TIMEOUT = 120


@dataclass(frozen=True)
class Run:
    """What a finished command left: its exit code and both streams."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as the one JSON document ``--json`` promises (fails if it is anything else)."""
        return json.loads(self.stdout)


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)
    }
    env[CACHE_DIR_ENV] = os.environ[
        CACHE_DIR_ENV
    ]  # the test run's render cache stays (tests/conftest.py)
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "videoedit.cli", *args]


def remote_edit(**fields: Any) -> videoedit.VideoEdit:
    """A request whose input the emulator does not fetch (it renders a test pattern)."""
    return videoedit.VideoEdit(
        video="https://example.com/clip.mp4",
        prompt="claymation",
        resolution="720P",
        ratio="16:9",
        duration=2,
        **fields,
    )
