"""The commands people try first: ``python -m`` for both packages, and ``--version``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_distributions import VERSION


@pytest.mark.parametrize(
    ("module", "program"),
    [("videoedit", "videoedit"), ("videoedit_emulator", "videoedit-emulator")],
)
def test_python_dash_m_runs_the_command_and_prints_the_version(module: str, program: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{program} {VERSION}"


@pytest.mark.parametrize("module", ["videoedit", "videoedit_emulator"])
def test_python_dash_m_with_no_command_prints_the_usage(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_the_version_attribute_is_the_released_version() -> None:
    import videoedit
    import videoedit_emulator

    assert videoedit.__version__ == videoedit_emulator.__version__ == VERSION
