"""A client process killed while it waits loses nothing: a new process resumes by task id.

The first child submits an edit whose task takes ten minutes, prints the task id and waits;
it is killed with SIGKILL (no cleanup, no ``finally``). A second, fresh process calls
``Client.wait(task_id)`` and ``save``: the MP4 it writes is the edit's result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from videoedit.probe import probe_video
from videoedit.task import TaskStatus
from videoedit_emulator.server import EmulatorServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SUBMIT_AND_WAIT = """
import sys, videoedit
provider, base_url = sys.argv[1], sys.argv[2]
client = videoedit.Client(provider, base_url=base_url, api_key="sk-resume")
task = client.submit(videoedit.VideoEdit(
    video="https://example.invalid/resume.mp4", prompt="resume", resolution="720P", duration=2))
print(task.task_id, flush=True)
client.wait(task, timeout=None)          # the task takes ten minutes: killed in here
print("never reached", flush=True)
"""

RESUME = """
import json, sys, videoedit
provider, base_url, task_id, out = sys.argv[1:5]
with videoedit.Client(provider, base_url=base_url, api_key="sk-resume") as client:
    task = client.wait(task_id)
    path = client.save(task, out)
print(json.dumps({"status": task.status.value, "task_id": task.task_id, "path": str(path)}))
"""


def child_env() -> dict[str, str]:
    """The test's environment, without proxies (the emulator is on loopback)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.mark.parametrize("provider", ["dashscope-singapore", "apimart"])
def test_a_client_killed_while_waiting_resumes_by_task_id_in_a_new_process(
    emulator: EmulatorServer, tmp_path: Path, provider: str
) -> None:
    emulator.engine.set_default_progression("seconds=600")
    base_url = emulator.base_url(provider)
    waiter = subprocess.Popen(
        [sys.executable, "-c", SUBMIT_AND_WAIT, provider, base_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert waiter.stdout is not None
        task_id = waiter.stdout.readline().strip()
        assert task_id, waiter.stderr.read() if waiter.stderr else ""
        engine_id = task_id.removeprefix("task_")
        # It is waiting: polls for this task keep arriving.
        wait_for(lambda: emulator.engine.get(engine_id, poll=False).polls >= 3)
    finally:
        waiter.send_signal(signal.SIGKILL)
        waiter.wait(timeout=30)
    assert waiter.returncode == -signal.SIGKILL
    assert waiter.stdout is not None
    assert waiter.stdout.read() == ""  # it never finished waiting

    view = emulator.engine.get(engine_id, poll=False)
    assert view.status in (TaskStatus.PENDING, TaskStatus.RUNNING)  # the task goes on
    assert emulator.journal.count(route="create", reached_app=True) == 1
    # Speed the task up (timing per task), then resume from a brand-new process.
    emulator.engine.set_progression(engine_id, "immediate")
    out = tmp_path / "resumed.mp4"
    resumed = subprocess.run(
        [sys.executable, "-c", RESUME, provider, base_url, task_id, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )
    assert resumed.returncode == 0, resumed.stderr
    answer = json.loads(resumed.stdout)
    assert answer == {"status": "SUCCEEDED", "task_id": task_id, "path": str(out)}
    info = probe_video(out)
    assert info is not None
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert round(info.duration) == 2
    done = emulator.engine.get(engine_id, poll=False)
    assert done.result is not None
    assert out.stat().st_size == done.result.size_bytes
    assert emulator.journal.count(route="create") == 1  # resuming created nothing
    assert not list(tmp_path.glob(".*.part"))
