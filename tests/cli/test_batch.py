"""``videoedit batch run`` saves every good row, says each bad one, and never sends twice;
``batch status`` answers from the ledger alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_helpers import Run

from videoedit.probe import probe_video
from videoedit_emulator.server import EmulatorServer

ROWS = [
    {"id": "ink", "video": "https://example.com/a.mp4", "prompt": "ink", "duration": 2},
    {"id": "clay", "video": "https://example.com/b.mp4", "prompt": "clay", "duration": 2},
]


def manifest(folder: Path, *extra: object) -> Path:
    path = folder / "edits.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [*ROWS, *extra]))
    return path


def test_batch_run_saves_every_row_and_a_second_run_sends_nothing(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    path = manifest(tmp_path)

    first = cli(
        "batch", "run", str(path), "-o", str(tmp_path / "out"), "--json", *on("dashscope-singapore")
    )
    again = cli(
        "batch", "run", str(path), "-o", str(tmp_path / "out"), "--json", *on("dashscope-singapore")
    )

    assert first.code == 0, first.stderr
    assert again.code == 0, again.stderr
    assert {row["id"]: row["state"] for row in first.json()["rows"]} == {
        "ink": "SUCCEEDED",
        "clay": "SUCCEEDED",
    }
    assert len(emulator.engine.all_tasks()) == 2
    for name in ("ink", "clay"):
        info = probe_video(tmp_path / "out" / f"{name}.mp4")
        assert info is not None
        assert round(info.duration) == 2
    assert (tmp_path / "edits.ledger").exists()  # beside the manifest by default


def test_a_bad_row_is_named_on_stderr_the_good_rows_run_and_the_exit_is_16(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    path = manifest(tmp_path, {"id": "bad", "video": "https://example.com/c.mp4", "seed": -1})

    run = cli("batch", "run", str(path), "--json", *on("dashscope-singapore"))

    assert run.code == 16
    assert "edits.jsonl line 3: seed:" in run.stderr
    assert len(emulator.engine.all_tasks()) == 2


def test_batch_status_reads_the_ledger_without_calling_the_service(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    path = manifest(tmp_path)
    assert cli("batch", "run", str(path), *on("dashscope-singapore")).code == 0
    requests_before = len(emulator.journal.entries())

    status = cli("batch", "status", str(path), "--json")

    assert status.code == 0, status.stderr
    assert {row["id"]: row["state"] for row in status.json()["rows"]} == {
        "ink": "SUCCEEDED",
        "clay": "SUCCEEDED",
    }
    assert len(emulator.journal.entries()) == requests_before
