"""``serve --state-dir``: what an emulator held is there after a restart, even after kill -9.

The emulator runs as a real process (``videoedit-emulator serve``), is killed with SIGKILL
(no ``finally``, no flush, nothing of Python runs) and started again on the same directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_process import start_serve

import videoedit
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.render import ffmpeg_path, probe_output
from videoedit_emulator.server import EmulatorServer

KEY = {"Authorization": "Bearer sk-state"}


@contextmanager
def served(state_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``videoedit-emulator serve --state-dir`` on a free port; yields its root URL. The
    process is killed with SIGKILL on exit, whatever happened."""
    process = start_serve("--state-dir", str(state_dir), *extra, stderr=subprocess.DEVNULL, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("videoedit-emulator serving on "), first
        yield first.split()[3]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def control(root: str) -> httpx.Client:
    return httpx.Client(base_url=root + "/_emulator", timeout=30)


def client(root: str) -> videoedit.Client:
    return videoedit.Client(
        "dashscope-beijing", api_key="sk-state", base_url=root + "/api/v1", wait_timeout=120
    )


def an_edit(clip: Path, prompt: str) -> videoedit.VideoEdit:
    return videoedit.VideoEdit(video=str(clip), prompt=prompt, resolution="720P")


def tasks_by_id(root: str) -> dict[str, dict[str, Any]]:
    with control(root) as http:
        return {t["task_id"]: t for t in http.get("/tasks").raise_for_status().json()["tasks"]}


def test_after_kill_9_every_task_result_and_fault_rule_is_there(
    tmp_path: Path, emulator_sample_clip: Path
) -> None:
    with served(tmp_path / "state") as root, client(root) as before:
        done = before.wait(before.submit(an_edit(emulator_sample_clip, "finished")))
        pending = before.submit(an_edit(emulator_sample_clip, "unpolled"))
        with control(root) as http:
            rule = http.post("/faults", json={"spec": "status:status=503,times=1"}).json()
            rule_seen = http.get(f"/faults/{rule['id']}").json()
            journal_before = http.get("/journal").json()["entries"]
        seen = tasks_by_id(root)
        assert done.result is not None
        link = done.result.video_url.removeprefix(root)  # the port changes with the restart
        saved_before = before.save(done, tmp_path / "before.mp4").read_bytes()
    # killed here, with SIGKILL

    with served(tmp_path / "state") as root, client(root) as after:
        assert tasks_by_id(root).keys() == seen.keys()
        assert tasks_by_id(root)[done.task_id]["status"] == "SUCCEEDED"
        with control(root) as http:
            assert http.get(f"/faults/{rule['id']}").json() == rule_seen
            journal_after = http.get("/journal").json()["entries"]
        assert journal_after[: len(journal_before)] == journal_before
        struck = httpx.get(f"{root}/api/v1/tasks/{done.task_id}", headers=KEY, timeout=30)
        assert struck.status_code == 503  # the rule is armed as it was
        assert httpx.get(root + link, timeout=30).content == saved_before  # the link still opens
        assert after.wait(pending).status is videoedit.TaskStatus.SUCCEEDED  # rendered now


def test_a_task_killed_halfway_through_its_polls_goes_on_counting(
    tmp_path: Path, emulator_sample_clip: Path
) -> None:
    with served(tmp_path / "state", "--progression", "polls=3") as root, client(root) as first:
        task = first.submit(an_edit(emulator_sample_clip, "halfway"))
        assert first.status(task.task_id).status is videoedit.TaskStatus.PENDING  # poll 1

    with served(tmp_path / "state") as root, client(root) as second:
        # Poll 2 of 3: RUNNING (counted afresh, it would be poll 1 and read PENDING).
        assert second.status(task.task_id).status is videoedit.TaskStatus.RUNNING
        assert second.wait(task.task_id).status is videoedit.TaskStatus.SUCCEEDED
        with control(root) as http:
            progression = http.get("/progression").json()["progression"]

    assert progression == "polls=3"  # the default progression is state too


def test_a_task_whose_render_the_kill_cut_short_is_rendered_after_the_restart(
    tmp_path: Path, emulator_sample_clip: Path
) -> None:
    stuck, pid_file = tmp_path / "ffmpeg-that-never-finishes-a-render", tmp_path / "stuck.pid"
    stuck.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *render.mp4*) echo $$ > {pid_file}; exec sleep 300;; esac\n'
        f'exec {ffmpeg_path()} "$@"\n'
    )
    stuck.chmod(0o755)
    never_renders = {"IMAGEIO_FFMPEG_EXE": str(stuck)}
    try:
        with served(tmp_path / "state", env=never_renders) as root, client(root) as first:
            task = first.submit(an_edit(emulator_sample_clip, "cut short"))
            assert first.status(task.task_id).status is videoedit.TaskStatus.RUNNING

        with served(tmp_path / "state") as root, client(root) as second:
            done = second.wait(task.task_id)
            saved = second.save(done, tmp_path / "out.mp4")
    finally:  # the kill left the stuck "render" behind
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)

    assert done.status is videoedit.TaskStatus.SUCCEEDED
    assert probe_output(saved).frames == 60


def test_expiry_still_runs_on_the_clock_after_a_restart(
    tmp_path: Path, emulator_sample_clip: Path
) -> None:
    clock = ManualClock(1_000_000.0)
    config = EmulatorConfig(state_dir=tmp_path / "state", clock=clock, task_ttl=60)
    with EmulatorServer(config) as server, server.client("dashscope-beijing") as c:
        task = c.wait(c.submit(an_edit(emulator_sample_clip, "expires")))

    clock.advance(30)
    with EmulatorServer(config) as server, server.client("dashscope-beijing") as c:
        assert c.status(task.task_id).status is videoedit.TaskStatus.SUCCEEDED
    clock.advance(31)
    with EmulatorServer(config) as server, server.client("dashscope-beijing") as c:
        assert c.status(task.task_id).status is videoedit.TaskStatus.UNKNOWN
        assert server.engine.all_tasks() == []


def test_without_a_state_dir_a_new_emulator_starts_empty(
    tmp_path: Path, emulator_sample_clip: Path
) -> None:
    storage = tmp_path / "storage"
    with EmulatorServer(storage_dir=storage) as server, server.client("dashscope-beijing") as c:
        c.wait(c.submit(an_edit(emulator_sample_clip, "forgotten")))
    assert not list(storage.rglob("*.db"))

    with EmulatorServer(storage_dir=storage) as server:
        assert server.engine.all_tasks() == []


# -- snapshots -------------------------------------------------------------------------------


def test_a_snapshot_brings_back_the_world_it_saved(
    emulator: EmulatorServer, emulator_sample_clip: Path, tmp_path: Path
) -> None:
    http = httpx.Client(base_url=emulator.url + "/_emulator", timeout=60)
    with emulator.client("dashscope-beijing") as c:
        kept = c.wait(c.submit(an_edit(emulator_sample_clip, "kept")))
        http.post("/faults", json={"spec": "create:status=500,times=1"}).raise_for_status()
        saved = http.post("/snapshots", json={"name": "world-1"}).raise_for_status().json()
        http.post("/reset").raise_for_status()
        c.wait(c.submit(an_edit(emulator_sample_clip, "later")))

        loaded = http.post("/snapshots/world-1/load").raise_for_status().json()["loaded"]

        assert [t["task_id"] for t in http.get("/tasks").json()["tasks"]] == [kept.task_id]
        assert c.save(c.status(kept.task_id), tmp_path / "kept.mp4").stat().st_size > 10_000
        assert [r["kind"] for r in http.get("/faults").json()["faults"]] == ["status"]
    assert (saved["tasks"], saved["fault_rules"]) == (1, 1)
    assert loaded == saved
    assert [s["name"] for s in http.get("/snapshots").json()["snapshots"]] == ["world-1"]


def test_loading_an_unknown_snapshot_is_a_404_naming_it(emulator: EmulatorServer) -> None:
    answer = httpx.post(emulator.url + "/_emulator/snapshots/nowhere/load", timeout=30)

    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "kind": "not_found",
        "message": "snapshot 'nowhere' is not saved",
        "field": "name",
    }


@pytest.mark.parametrize("name", ["", "../up", ".hidden", "a/b", 7, "x" * 65])
def test_a_snapshot_name_must_be_a_plain_word(emulator: EmulatorServer, name: object) -> None:
    answer = httpx.post(emulator.url + "/_emulator/snapshots", json={"name": name}, timeout=30)

    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "name"
    assert "letters, digits" in answer.json()["error"]["message"]
