"""Ctrl-C while a command waits: the task goes on, and the command that resumes it is printed.

The task is kept PENDING by the emulator (a progression of an hour), the command is sent a
real SIGINT while it polls, and the emulator is then asked whether the task is still alive.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cli_helpers import COMMAND_TIMEOUT, clean_env, command, remote_edit

import videoedit
from videoedit.task import TaskStatus
from videoedit_emulator.server import EmulatorServer

Clients = Callable[[str], videoedit.Client]


def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_ctrl_c_during_wait_exits_130_and_leaves_the_task_running(
    on: Callable[[str], list[str]], client: Clients, emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("seconds=3600")
    task = client("dashscope-singapore").submit(remote_edit())
    proc = subprocess.Popen(
        command("wait", task.task_id, "-o", "out.mp4", *on("dashscope-singapore")),
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _until(lambda: emulator.engine.get(task.task_id, poll=False).polls >= 2, "two polls")

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=COMMAND_TIMEOUT)

    assert proc.returncode == 130, err
    assert out == ""
    lines = err.splitlines()
    assert f"videoedit: interrupted while waiting; task {task.task_id} goes on running." in lines
    assert (
        f"Resume with: videoedit wait {task.task_id} --provider dashscope-singapore "
        f"--base-url {emulator.base_url('dashscope-singapore')} -o out.mp4"
    ) in lines
    assert "Traceback" not in err
    assert emulator.engine.get(task.task_id, poll=False).status is TaskStatus.PENDING
    assert not (tmp_path / "out.mp4").exists()


def test_ctrl_c_during_edit_prints_the_task_id_first_and_resumes_with_json(
    on: Callable[[str], list[str]], emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("seconds=3600")
    proc = subprocess.Popen(
        command("edit", "https://example.com/in.mp4", "--json", *on("vtrix")),
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    submitted = proc.stderr.readline().split()  # the very first line names the task
    assert submitted[:2] == ["submitted", "task"], submitted
    task_id = submitted[2]
    _until(lambda: emulator.engine.get(task_id, poll=False).polls >= 1, "a poll")

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=COMMAND_TIMEOUT)

    assert proc.returncode == 130, err
    resume = (
        f"videoedit wait {task_id} --provider vtrix --base-url {emulator.base_url('vtrix')} --json"
    )
    assert f"Resume with: {resume}" in err.splitlines()
    document = json.loads(out)
    assert document["interrupted"] is True
    assert document["resume"] == resume
    assert document["task"]["task_id"] == task_id
    assert emulator.engine.get(task_id, poll=False).status is TaskStatus.PENDING


def test_ctrl_c_on_the_embedded_emulator_says_the_task_ends_with_it(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        command(
            "edit",
            "https://example.com/in.mp4",
            "--resolution=720P",
            "--duration=2",
            "--emulator",
            "--emulator-progression",
            "seconds=3600",
        ),
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines = [proc.stderr.readline() for _ in range(3)]  # emulator, output (no -o), submitted
    assert lines[2].startswith("submitted  task "), lines
    task_id = lines[2].split()[2]

    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=COMMAND_TIMEOUT)

    assert proc.returncode == 130, err
    assert (
        f"videoedit: interrupted while the task ran; task {task_id} ends with the emulator "
        "embedded in this command"
    ) in err
    assert "Resume with" not in err  # no command could find it again
