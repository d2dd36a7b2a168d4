"""``videoedit status``, ``wait``, ``cancel`` and ``list`` on tasks the emulator holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_helpers import Run, remote_edit

import videoedit
from videoedit.task import TaskStatus
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer

Clients = Callable[[str], videoedit.Client]


def test_status_polls_once_and_prints_the_task(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("polls=5")
    task = client("dashscope-singapore").submit(remote_edit())

    run = cli("status", task.task_id, "--json", *on("dashscope-singapore"))

    assert run.code == 0, run.stderr
    shown = run.json()
    assert (shown["task_id"], shown["provider"], shown["status"]) == (
        task.task_id,
        "dashscope-singapore",
        "PENDING",
    )
    assert shown["result"] is None
    assert emulator.engine.get(task.task_id, poll=False).polls == 1


def test_status_of_a_failed_task_exits_0_and_shows_its_error(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("polls=2")
    task = client("dashscope-beijing").submit(remote_edit())
    emulator.engine.fail(
        task.task_id, "DataInspectionFailed", "Input data may contain inappropriate content."
    )
    emulator.engine.set_progression(task.task_id, "immediate")

    run = cli("status", task.task_id, *on("dashscope-beijing"))

    assert run.code == 0, run.stderr
    fields = dict(line.split(None, 1) for line in run.stdout.splitlines())
    assert fields["status"] == "FAILED"
    assert fields["error"] == (
        "[DataInspectionFailed] Input data may contain inappropriate content."
    )


def test_wait_polls_to_the_end_and_saves_the_result(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("polls=3")
    task = client("apimart").submit(remote_edit())

    run = cli("wait", task.task_id, "-o", "result.mp4", "--json", *on("apimart"))

    assert run.code == 0, run.stderr
    shown = run.json()
    assert shown["status"] == "SUCCEEDED"
    assert shown["saved"] == "result.mp4"
    assert shown["result"]["video_url"].startswith(emulator.url)
    info = probe_output(tmp_path / "result.mp4")
    assert (info.width, info.height, info.duration) == (1280, 720, 2.0)
    assert "SUCCEEDED" in run.stderr.splitlines()[-1]  # the last status line (no "saved" line:
    assert "saved" not in run.stderr  # the result on stdout says where it went, once)


def test_cancel_cancels_a_pending_task(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("seconds=3600")
    task = client("dashscope-singapore").submit(remote_edit())

    run = cli("cancel", task.task_id, "--json", *on("dashscope-singapore"))

    assert run.code == 0, run.stderr
    assert run.json()["status"] == "CANCELED"
    assert emulator.engine.get(task.task_id, poll=False).status is TaskStatus.CANCELED


def test_list_shows_the_accounts_recent_tasks(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    client: Clients,
    emulator: EmulatorServer,
) -> None:
    emulator.engine.set_default_progression("seconds=3600")
    beijing = client("dashscope-beijing")
    first, second = beijing.submit(remote_edit()), beijing.submit(remote_edit(seed=7))
    client("dashscope-singapore").submit(remote_edit())  # another region: not listed

    data = cli("list", "--json", *on("dashscope-beijing"))
    text = cli("list", *on("dashscope-beijing"))

    assert data.code == text.code == 0
    page = data.json()
    assert [t["task_id"] for t in page["tasks"]] == [second.task_id, first.task_id]
    assert page["total"] == 2
    rows = text.stdout.splitlines()
    assert rows[0].split() == ["TASK", "STATUS", "SUBMITTED", "ENDED"]
    assert rows[1].split()[:2] == [second.task_id, "PENDING"]
    assert rows[-1] == "page 1, 2 of 2 task(s)"
