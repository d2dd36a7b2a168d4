"""``videoedit-emulator serve`` as a child process, for the tests that need a real one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import IO


def start_serve(
    *args: str, stderr: int | IO[str] = subprocess.PIPE, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``serve --port 0 ARGS...`` with unbuffered output (and ``env`` added to ours); read
    its banner from ``stdout``."""
    return subprocess.Popen(
        [sys.executable, "-m", "videoedit_emulator.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
