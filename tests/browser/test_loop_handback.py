"""The browser tests hand the main thread back: asyncio and anyio tests that run after them in
the same session still get to start their own event loops (Playwright's sync API marks its loop
as running in the main thread for as long as it lives)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_async_tests_run_after_the_browser_tests_in_one_session(chromium: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "tests/browser/test_standin_playback.py",
            "tests/core/test_client_lifecycle.py::test_submit_returns_the_pending_task_with_its_id",
        ],
        cwd=ROOT,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout
