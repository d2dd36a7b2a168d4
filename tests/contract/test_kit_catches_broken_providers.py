"""The contract kit can fail: each broken provider of ``broken_providers.py`` fails exactly the
check for its fault, and a suite that cannot run says why."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """``Class::test[param]`` -> (outcome, message) of the kit run on the broken providers."""
    work = tmp_path_factory.mktemp("broken")
    report = work / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "broken_providers.py"),
            "-k",
            "emulator",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(work),
            "-o",
            "python_files=broken_providers.py",
            f"--junitxml={report}",
            "-q",
        ],
        cwd=work,
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
                outcome = tag
                message = (element.get("message") or "") + (element.text or "")
        found[name] = (outcome, message)
    return found


def failed(outcomes: dict[str, tuple[str, str]], cls: str) -> dict[str, str]:
    return {
        name.split("::")[1]: message
        for name, (outcome, message) in outcomes.items()
        if name.startswith(cls + "::") and outcome == "failure"
    }


def test_a_provider_that_loses_the_failure_code_fails_only_that_check(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    assert set(failed(outcomes, "TestLosesTheFailureCode")) == {
        "test_a_task_failed_through_the_control_plane_raises_task_failed_error_with_its_code[emulator]"
    }


def test_a_provider_that_drops_the_request_id_fails_only_that_check(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    failures = failed(outcomes, "TestDropsTheRequestId")

    assert set(failures) == {
        "test_a_refusal_by_the_service_keeps_its_code_request_id_and_field[emulator]"
    }
    assert "the service gave request id" in next(iter(failures.values()))


def test_a_provider_that_declares_a_cancel_it_cannot_keep_fails_the_cancel_check(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    assert set(failed(outcomes, "TestClaimsACancel")) == {
        "test_cancel_of_a_pending_task_cancels_it[emulator]"
    }


def test_a_provider_whose_status_goes_back_fails_the_lifecycle_checks(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    failures = failed(outcomes, "TestReportsDoneTooEarly")

    assert set(failures) == {
        "test_submit_answers_a_task_id_while_pending_or_running[emulator]",
        "test_polling_reaches_succeeded_and_saves_the_requested_mp4[emulator]",
    }
    assert (
        "a new task is SUCCEEDED"
        in failures["test_submit_answers_a_task_id_while_pending_or_running[emulator]"]
    )
    assert (
        "the status went back"
        in failures["test_polling_reaches_succeeded_and_saves_the_requested_mp4[emulator]"]
    )


def test_a_provider_the_emulator_does_not_serve_is_an_error_naming_the_entry_point_group(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    results = {n: r for n, r in outcomes.items() if n.startswith("TestNotServed::")}

    assert results
    assert {outcome for outcome, _ in results.values()} == {"error"}
    assert all(
        "the emulator serves no provider 'acme'" in message
        and "'videoedit_emulator.adapters'" in message
        for _, message in results.values()
    )


def test_a_suite_without_a_provider_says_to_set_one(outcomes: dict[str, tuple[str, str]]) -> None:
    results = [r for n, r in outcomes.items() if n.startswith("TestNoProvider::")]

    assert results
    assert all(
        outcome == "error" and "set the class attribute 'provider'" in message
        for outcome, message in results
    )
