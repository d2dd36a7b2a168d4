"""A batch killed with SIGKILL at any instant, and run again on the same ledger, bills
every row once and finishes every row.

Each test runs a three-row batch in a child process that is killed (SIGKILL: no cleanup)
at one instant, then runs the same batch again in a fresh process. The emulator's engine
then holds one task per row, and each row ends SUCCEEDED with a whole MP4, or with a
typed error when the ledger cannot tell (a provider without a task listing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from videoedit.probe import probe_video
from videoedit_emulator.server import EmulatorServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CHILD = Path(__file__).with_name("batch_child.py")
PROMPTS = ("claymation", "watercolour", "pixel art")


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def write_manifest(folder: Path) -> Path:
    manifest = folder / "edits.jsonl"
    rows = [
        {
            "id": f"r{i}",
            "video": "https://example.invalid/clip.mp4",
            "prompt": prompt,
            "resolution": "720P",
            "duration": 2,
        }
        for i, prompt in enumerate(PROMPTS, start=1)
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return manifest


def start(
    emulator: EmulatorServer, provider: str, manifest: Path, *kill: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            provider,
            emulator.base_url(provider),
            str(manifest),
            str(manifest.with_suffix(".ledger")),
            *kill,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


def finish(child: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def killed(child: subprocess.Popen[str]) -> None:
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def assert_every_row_saved_once(
    emulator: EmulatorServer, report: dict[str, Any], folder: Path
) -> None:
    # One creation per row: the engine made exactly one task for each (a creation whose
    # client was killed while its answer was held back is in the engine, not always in the
    # journal, which records answers), and each row ended on its own task.
    made = {view.task_id for view in emulator.engine.all_tasks()}
    assert len(made) == len(PROMPTS)
    assert {row["task_id"] for row in report["rows"]} == made
    states = {row["id"]: row["state"] for row in report["rows"]}
    assert states == {"r1": "SUCCEEDED", "r2": "SUCCEEDED", "r3": "SUCCEEDED"}
    for row in report["rows"]:
        info = probe_video(Path(row["saved"]))
        assert info is not None
        assert (info.width, info.height) == (1280, 720)
        assert round(info.duration) == 2
    assert not list(folder.glob(".*.part"))  # a killed download left nothing behind


@pytest.mark.parametrize(
    "kill_at",
    [
        pytest.param("intent:2", id="before-a-create-is-sent"),
        pytest.param("claim:2", id="marked-sending-before-the-create-leaves"),
        pytest.param("write:1", id="mid-download"),
        pytest.param("saved:1", id="between-rows"),
    ],
)
def test_a_batch_killed_at_a_step_and_run_again_bills_each_row_once(
    emulator: EmulatorServer, tmp_path: Path, kill_at: str
) -> None:
    emulator.engine.set_default_progression("immediate")
    manifest = write_manifest(tmp_path)

    killed(start(emulator, "dashscope-singapore", manifest, kill_at))
    report = finish(start(emulator, "dashscope-singapore", manifest))

    assert_every_row_saved_once(emulator, report, tmp_path)


def test_a_batch_killed_after_a_create_reached_the_service_adopts_its_task_from_the_listing(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("immediate")
    # The second creation makes its task, and its answer is held back: killed meanwhile,
    # the child never learns the task id.
    emulator.faults.add("latency", route="create", when="after", seconds=3, skip=1, times=1)
    manifest = write_manifest(tmp_path)
    child = start(emulator, "dashscope-singapore", manifest)
    wait_for(lambda: len(emulator.engine.all_tasks()) == 2)  # made; its answer held back
    child.send_signal(signal.SIGKILL)
    killed(child)

    report = finish(start(emulator, "dashscope-singapore", manifest))

    assert_every_row_saved_once(emulator, report, tmp_path)


def test_a_batch_killed_while_its_task_runs_resumes_it_by_id(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("seconds=600")
    manifest = write_manifest(tmp_path)
    child = start(emulator, "dashscope-singapore", manifest)
    wait_for(lambda: emulator.journal.count(route="status") >= 3)  # mid-poll
    child.send_signal(signal.SIGKILL)
    killed(child)
    emulator.engine.set_default_progression("immediate")
    for entry in emulator.journal.entries(route="create", reached_app=True):
        assert entry.task_id is not None
        emulator.engine.set_progression(entry.task_id, "immediate")

    report = finish(start(emulator, "dashscope-singapore", manifest))

    assert_every_row_saved_once(emulator, report, tmp_path)


def test_without_a_task_listing_an_uncertain_creation_waits_for_the_users_decision(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("immediate")
    emulator.faults.add("latency", route="create", when="after", seconds=3, skip=1, times=1)
    manifest = write_manifest(tmp_path)
    child = start(emulator, "apimart", manifest)
    wait_for(lambda: len(emulator.engine.all_tasks()) == 2)  # made; its answer held back
    child.send_signal(signal.SIGKILL)
    killed(child)

    report = finish(start(emulator, "apimart", manifest))

    rows = {row["id"]: row for row in report["rows"]}
    assert rows["r2"]["state"] == "UNDECIDED"
    assert rows["r2"]["error_code"] == "NeedsDecision"
    assert "apimart has no task listing" in rows["r2"]["error"]
    assert (rows["r1"]["state"], rows["r3"]["state"]) == ("SUCCEEDED", "SUCCEEDED")
    assert len(emulator.engine.all_tasks()) == len(PROMPTS)  # r2 was not sent again
