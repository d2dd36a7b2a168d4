"""Exit codes by error class, and errors that read as sentences with the fix, not tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from cli_helpers import COMMAND_TIMEOUT, Run, clean_env, remote_edit

import videoedit
from videoedit import errors
from videoedit.cli.exits import EXIT_TABLE, ExitCode, exit_code_for
from videoedit_emulator.server import EmulatorServer

Clients = Callable[[str], videoedit.Client]


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr


def test_an_invalid_request_exits_3_naming_the_field_and_sends_nothing(
    cli: Callable[..., Run], on: Callable[[str], list[str]], emulator: EmulatorServer
) -> None:
    run = cli(
        "edit", "https://example.com/in.mp4", "--duration", "12", "--json", *on("dashscope-beijing")
    )

    assert run.code == ExitCode.INVALID_REQUEST == 3
    error = run.json()["error"]
    assert (error["type"], error["field"]) == ("InvalidRequestError", "duration")
    assert error["rule"] == "must be 0 (keep the input's length) or an integer from 2 to 10 seconds"
    assert run.stderr.splitlines() == [
        "videoedit: error: invalid wan2.7-videoedit request: duration: must be 0 (keep the "
        "input's length) or an integer from 2 to 10 seconds.",
        "To fix: Change --duration and run the command again; nothing was submitted.",
    ]
    assert emulator.engine.all_tasks() == []


def test_a_missing_key_exits_4_naming_the_flag_and_the_variable(cli: Callable[..., Run]) -> None:
    run = cli("status", "some-task", "--provider", "vtrix")

    assert run.code == ExitCode.AUTHENTICATION == 4
    assert run.stderr.splitlines()[0] == (
        "videoedit: error: no API key for provider 'vtrix' (code MissingApiKey, provider vtrix)."
    )
    assert "To fix: Pass --api-key or set VTRIX_API_KEY" in run.stderr
    no_traceback(run)


def test_a_key_of_the_other_region_exits_4_with_the_region_hint_and_no_key(
    cli: Callable[..., Run],
) -> None:
    beijing_key = "sk-beijing-only-8d2e"
    with EmulatorServer(keys={beijing_key: "dashscope-beijing"}) as server:
        run = cli(
            "status",
            "some-task",
            "--provider",
            "dashscope-singapore",
            "--base-url",
            server.base_url("dashscope-singapore"),
            "--json",
            env={"DASHSCOPE_API_KEY": beijing_key},
        )

    assert run.code == 4
    error = run.json()["error"]
    assert (error["type"], error["code"], error["status_code"]) == (
        "AuthenticationError",
        "InvalidApiKey",
        401,
    )
    assert error["request_id"]
    assert "use provider 'dashscope-beijing'" in error["hint"]
    assert f"To fix: {error['hint']}" in run.stderr
    assert beijing_key not in run.stdout + run.stderr


def test_an_unknown_provider_exits_15_listing_the_installed_ones(cli: Callable[..., Run]) -> None:
    run = cli("list", "--provider", "nope", "--api-key", "k")

    assert run.code == ExitCode.SETUP == 15
    assert "no provider named 'nope'; installed: " in run.stderr
    assert "dashscope-singapore" in run.stderr
    no_traceback(run)


def test_a_failed_task_exits_7_with_the_providers_code_and_request_id(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("polls=2")
    task = client("dashscope-singapore").submit(remote_edit())
    emulator.engine.fail(task.task_id, "DataInspectionFailed", "Input data may be inappropriate.")

    run = cli("wait", task.task_id, "--json", *on("dashscope-singapore"))

    assert run.code == ExitCode.TASK_FAILED == 7
    error = run.json()["error"]
    assert (error["type"], error["code"], error["task_id"]) == (
        "TaskFailedError",
        "DataInspectionFailed",
        task.task_id,
    )
    assert error["request_id"]
    assert error["task"]["status"] == "FAILED"
    assert (
        f"videoedit: error: task {task.task_id} failed: Input data may be inappropriate "
        f"(code DataInspectionFailed, provider dashscope-singapore, request id "
        f"{error['request_id']})."
    ) in run.stderr
    assert "Resume with" not in run.stderr  # an ended task is not resumed
    no_traceback(run)


def test_an_unknown_task_exits_9(cli: Callable[..., Run], on: Callable[[str], list[str]]) -> None:
    run = cli("status", "0b5d9c43-0000-4000-8000-000000000000", *on("dashscope-beijing"))

    assert run.code == ExitCode.TASK_NOT_FOUND == 9
    assert "is unknown to dashscope-beijing" in run.stderr
    no_traceback(run)


def test_a_wait_that_times_out_exits_10_and_says_how_to_resume(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("seconds=3600")
    task = client("dashscope-beijing").submit(remote_edit())

    run = cli("wait", task.task_id, "--timeout", "0.3", *on("dashscope-beijing"))

    assert run.code == ExitCode.WAIT_TIMEOUT == 10
    assert (
        f"Resume with: videoedit wait {task.task_id} --provider dashscope-beijing "
        f"--base-url {emulator.base_url('dashscope-beijing')}"
    ) in run.stderr
    # The key went in by flag: the resume command leaves it out and says so.
    assert "(pass your key again with --api-key, or set DASHSCOPE_API_KEY)" in run.stderr


def test_cancel_on_a_provider_without_cancel_exits_14(
    cli: Callable[..., Run], on: Callable[[str], list[str]]
) -> None:
    run = cli("cancel", "some-task", *on("apimart"))

    assert run.code == ExitCode.UNSUPPORTED == 14
    assert "documents no cancel call" in run.stderr
    no_traceback(run)


def test_without_the_emulator_extra_emulator_says_what_to_install(tmp_path: object) -> None:
    hide_emulator = (
        "import sys; sys.modules['videoedit_emulator'] = None; "
        "from videoedit.cli import main; "
        "raise SystemExit(main(['edit', 'https://example.com/in.mp4', '--emulator']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", hide_emulator],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )

    assert proc.returncode == ExitCode.SETUP
    assert "--emulator needs the offline emulator" in proc.stderr
    assert "To fix: Install it with: pip install 'videoedit[emulator]'" in proc.stderr


def test_debug_shows_the_traceback(cli: Callable[..., Run]) -> None:
    run = cli("status", "some-task", "--provider", "vtrix", "--debug")

    assert run.code == 4
    assert "Traceback (most recent call last)" in run.stderr


ERROR_CLASSES = sorted(
    (
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.VideoEditError)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_has_an_exit_code_of_its_own_row(
    error_class: type[errors.VideoEditError],
) -> None:
    if error_class is errors.VideoEditError:
        assert exit_code_for(error_class("x")) is ExitCode.ERROR
        return
    rows = [rule for rule in EXIT_TABLE if rule.error is error_class]
    assert len(rows) == 1, f"{error_class.__name__} needs a row in EXIT_TABLE"
    assert exit_code_for(error_class("x")) is rows[0].code
