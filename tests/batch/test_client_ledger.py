"""A client given a ledger never sends the same edit twice, in one process or across two.

The emulator's engine counts what was created; the ledger on disk is read back by a new
`Ledger`, as a restarted process would.
"""

from __future__ import annotations

from pathlib import Path

import anyio

import videoedit
from videoedit import Ledger, TaskStatus
from videoedit_emulator.server import EmulatorServer

PROVIDER = "dashscope-singapore"
EDIT = videoedit.VideoEdit(video="https://example.invalid/a.mp4", prompt="ink", duration=2)


def client(emulator: EmulatorServer, ledger: Path) -> videoedit.Client:
    return videoedit.Client(
        PROVIDER, base_url=emulator.base_url(PROVIDER), api_key="sk-test", ledger=ledger
    )


def test_the_same_edit_submitted_twice_makes_one_task(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with client(emulator, tmp_path / "e.ledger") as c:
        first = c.submit(EDIT)
        again = c.submit(EDIT)

    assert again.task_id == first.task_id
    assert [view.task_id for view in emulator.engine.all_tasks()] == [first.task_id]


def test_a_new_process_with_the_ledger_resumes_the_task_instead_of_sending_it(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with client(emulator, tmp_path / "e.ledger") as c:
        first = c.submit(EDIT)
    with client(emulator, tmp_path / "e.ledger") as c:
        again = c.submit(EDIT)

    assert again.task_id == first.task_id
    assert len(emulator.engine.all_tasks()) == 1


def test_another_prompt_is_another_edit(emulator: EmulatorServer, tmp_path: Path) -> None:
    with client(emulator, tmp_path / "e.ledger") as c:
        first = c.submit(EDIT)
        other = c.submit(EDIT.model_copy(update={"prompt": "clay"}))

    assert other.task_id != first.task_id
    assert len(emulator.engine.all_tasks()) == 2


def test_the_ledger_records_the_task_id_status_expiry_and_saved_file(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("immediate")
    with client(emulator, tmp_path / "e.ledger") as c:
        task = c.wait(c.submit(EDIT))
        c.save(task, tmp_path / "out.mp4")

    with Ledger(tmp_path / "e.ledger") as ledger:
        (entry,) = ledger.entries()
    assert entry.task_id == task.task_id
    assert entry.provider == PROVIDER
    assert entry.status is TaskStatus.SUCCEEDED
    assert entry.expires_at is not None  # the result link's expiry, read from its signature
    assert Path(str(entry.saved_path)) == tmp_path / "out.mp4"


def test_the_async_client_shares_the_guarantee(emulator: EmulatorServer, tmp_path: Path) -> None:
    async def twice() -> tuple[str, str]:
        async with videoedit.AsyncClient(
            PROVIDER,
            base_url=emulator.base_url(PROVIDER),
            api_key="sk-test",
            ledger=tmp_path / "e.ledger",
        ) as c:
            first = await c.submit(EDIT)
            again = await c.submit(EDIT)
        return first.task_id, again.task_id

    first, again = anyio.run(twice)

    assert first == again
    assert len(emulator.engine.all_tasks()) == 1
