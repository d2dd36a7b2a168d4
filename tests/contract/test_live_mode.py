"""``--live`` runs the kit against the "real" service of each provider whose key is set.

No test may use the internet, so the real service is played by an emulator that the provider's
base URL variable points at: the live plumbing (the option, the key lookup, the default base
URL, the upload of the sample clip, which checks stay emulator-only) is what is under test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from videoedit_emulator.render.cache import CACHE_DIR_ENV
from videoedit_emulator.server import EmulatorServer

HERE = Path(__file__).parent
#: The checks that need no control plane and no known input length: they run live.
LIVE_CHECKS = {
    "test_submit_answers_a_task_id_while_pending_or_running",
    "test_polling_reaches_succeeded_and_saves_the_requested_mp4",
    "test_an_invalid_request_fails_locally_naming_the_field",
    "test_a_request_type_it_cannot_carry_is_refused_before_sending",
    "test_an_unknown_option_is_refused_naming_it",
    "test_an_unknown_task_id_raises_task_not_found_error",
}


@pytest.fixture(scope="module")
def live_outcomes(
    emulator_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str]]:
    # The session's server plays the real service: start it from a known world, whatever the
    # test before left armed (a progression of an hour would make every live check time out).
    emulator_server.reset()
    work = tmp_path_factory.mktemp("live")
    report = work / "report.xml"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VIDEOEDIT_") and not k.endswith("_API_KEY")
    }
    env[CACHE_DIR_ENV] = os.environ[CACHE_DIR_ENV]  # the run's render cache (tests/conftest.py)
    env["DASHSCOPE_API_KEY"] = "sk-live-mode-test"
    env["VIDEOEDIT_DASHSCOPE_BEIJING_BASE_URL"] = emulator_server.base_url("dashscope-beijing")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "live_suite.py"),
            "--live",
            "-m",
            "videoedit_live",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(work),
            "-o",
            "python_files=live_suite.py",
            f"--junitxml={report}",
            "-q",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome, message = tag, element.get("message") or ""
        found[name] = (outcome, message)
    return found


def test_with_the_key_set_the_live_checks_run_against_the_service(
    live_outcomes: dict[str, tuple[str, str]],
) -> None:
    beijing = {
        name.split("::")[1].removesuffix("[live]"): result
        for name, result in live_outcomes.items()
        if name.startswith("TestBeijing::")
    }

    passed = {name for name, (outcome, _) in beijing.items() if outcome == "passed"}
    assert passed == LIVE_CHECKS
    others = {name: message for name, (outcome, message) in beijing.items() if name not in passed}
    assert others
    assert all(
        "emulator only" in message or "declares a cancel call" in message
        for message in others.values()
    ), others


def test_without_the_key_the_live_checks_are_skipped_naming_the_variable(
    live_outcomes: dict[str, tuple[str, str]],
) -> None:
    vtrix = [result for name, result in live_outcomes.items() if name.startswith("TestVtrix::")]

    assert vtrix
    assert all(
        outcome == "skipped" and "set VTRIX_API_KEY" in message for outcome, message in vtrix
    )
