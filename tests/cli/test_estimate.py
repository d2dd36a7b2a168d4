"""``videoedit estimate`` and ``batch run --dry-run`` say what edits will bill and send
nothing; ``batch run --max-billed-seconds`` submits no row that would pass the cap."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Run

from videoedit_emulator.render import make_sample_clip
from videoedit_emulator.server import EmulatorServer

PRICES = """\
currency = "USD"

[prices.dashscope-singapore."wan2.7-videoedit"]
720P = "0.10"
1080P = "0.15"

[prices.dashscope-singapore."wan2.1-vace-plus"]
720P = "0.07"
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3.5 s input: wan2.7 bills 3.5 s in + 3 s out when its length is kept."""
    return make_sample_clip(tmp_path_factory.mktemp("estimate") / "in.mp4", 3.5, 320, 240)


def write_manifest(folder: Path, rows: list[dict[str, object]]) -> Path:
    path = folder / "edits.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_estimate_of_a_local_file_prints_its_exact_billable_seconds(
    cli: Callable[..., Run], clip: Path
) -> None:
    run = cli("estimate", str(clip), "--resolution", "720P")

    assert run.code == 0, run.stderr
    assert "6.5 s" in run.stdout
    assert "exact" in run.stdout
    assert "total     6.5 s billable over 1 edit(s); nothing was sent" in run.stdout


def test_estimate_json_gives_each_edit_of_files_and_manifests_and_the_totals(
    cli: Callable[..., Run], clip: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(
        tmp_path,
        [
            {"id": "cut", "video": str(clip), "duration": 2},
            {"id": "repaint", "function": "video_repainting", "video_url": str(clip)},
        ],
    )

    run = cli("estimate", str(manifest), str(clip), "--json")

    assert run.code == 0, run.stderr
    document = run.json()
    assert [(e["id"], e["seconds"], e["exact"]) for e in document["edits"]] == [
        ("cut", 5.5, True),
        ("repaint", 3.5, True),
        (None, 6.5, True),
    ]
    assert document["edits"][0]["line"] == 1
    assert document["edits"][1]["input_seconds"] is None  # vace bills the output only
    assert document["totals"] == {"edits": 3, "seconds": 15.5, "exact": True, "cost": None}


def test_estimate_of_a_url_is_the_documented_upper_bound_and_says_so(
    cli: Callable[..., Run],
) -> None:
    run = cli("estimate", "https://media.example.com/in.mp4", "--duration", "4", "--json")

    assert run.code == 0, run.stderr
    (edit,) = run.json()["edits"]
    assert (edit["seconds"], edit["exact"]) == (14.0, False)
    assert "upper bound" in edit["note"]
    assert run.json()["totals"]["exact"] is False


def test_estimate_with_prices_gives_the_money_in_the_tables_currency(
    cli: Callable[..., Run], clip: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)

    run = cli("estimate", str(clip), "--prices", str(prices), "--json")
    text = cli("estimate", str(clip), "--prices", str(prices))

    assert run.code == 0, run.stderr
    (edit,) = run.json()["edits"]
    assert edit["cost"] == {"amount": "0.975", "currency": "USD", "unit_price": "0.15"}
    assert run.json()["totals"]["cost"] == {"USD": "0.975"}
    assert "0.975 USD" in text.stdout


def test_a_bad_price_table_exits_3_naming_the_file_and_the_key(
    cli: Callable[..., Run], clip: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES.replace('"0.10"', '"ten cents"'))

    run = cli("estimate", str(clip), "--prices", str(prices))

    assert run.code == 3
    assert "prices.toml: prices.dashscope-singapore.wan2.7-videoedit.720P:" in run.stderr
    assert "a number >= 0" in run.stderr


def test_a_price_missing_for_the_provider_exits_3_naming_the_key_to_add(
    cli: Callable[..., Run], clip: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)

    run = cli("estimate", str(clip), "-p", "vtrix", "--prices", str(prices))

    assert run.code == 3
    assert "add prices.vtrix.wan2.7-videoedit.1080P" in run.stderr


def test_dry_run_prints_each_rows_seconds_and_money_and_sends_nothing(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    clip: Path,
    tmp_path: Path,
) -> None:
    manifest = write_manifest(
        tmp_path,
        [
            {"id": "kept", "video": str(clip), "resolution": "720P"},
            {"id": "far", "video": "https://media.example.com/in.mp4", "duration": 2},
        ],
    )
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)

    run = cli(
        "batch", "run", str(manifest), "--dry-run", "--prices", str(prices), "--json",
        *on("dashscope-singapore"),
    )  # fmt: skip

    assert run.code == 0, run.stderr
    edits = {e["id"]: e for e in run.json()["edits"]}
    assert (edits["kept"]["seconds"], edits["kept"]["cost"]["amount"]) == (6.5, "0.650")
    assert (edits["far"]["seconds"], edits["far"]["exact"]) == (12.0, False)
    assert emulator.journal.entries() == []
    assert not (tmp_path / "edits.ledger").exists()


def test_max_billed_seconds_holds_the_first_row_that_would_pass_the_cap(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    clip: Path,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    rows = [
        {"id": f"cut{i}", "video": str(clip), "duration": 2, "resolution": "720P", "seed": i}
        for i in range(1, 4)
    ]  # 3.5 s in + 2 s out = 5.5 s each
    manifest = write_manifest(tmp_path, rows)

    run = cli(
        "batch", "run", str(manifest), "--concurrency", "1", "--max-billed-seconds", "11",
        "--json", *on("dashscope-singapore"),
    )  # fmt: skip

    assert run.code == 16
    document = run.json()
    states = {row["id"]: row["state"] for row in document["rows"]}
    assert states == {"cut1": "SUCCEEDED", "cut2": "SUCCEEDED", "cut3": "HELD"}
    held = next(row for row in document["rows"] if row["id"] == "cut3")
    assert held["error_code"] == "OverBudget"
    assert "past max_billed_seconds (11 s)" in held["error"]
    assert emulator.journal.count(route="create", reached_app=True) == 2
    assert document["totals"]["billed_seconds"] == 11.0


def test_the_batch_report_sets_what_was_billed_against_the_estimate(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    clip: Path,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    manifest = write_manifest(
        tmp_path,
        [
            {"id": "kept", "video": str(clip), "resolution": "720P"},
            # not fetched: estimated at most 10 s in + 2 s out; the stand-in bills 2 + 2
            {"id": "far", "video": "https://media.example.com/in.mp4", "duration": 2},
        ],
    )

    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)

    run = cli(
        "batch", "run", str(manifest), "--prices", str(prices), "--json",
        *on("dashscope-singapore"),
    )  # fmt: skip
    text = cli("batch", "status", str(manifest))

    assert run.code == 0, run.stderr
    rows = {row["id"]: row for row in run.json()["rows"]}
    assert (rows["kept"]["billed_seconds"], rows["kept"]["estimate_seconds"]) == (6.5, 6.5)
    assert rows["kept"]["billed_minus_estimate"] == 0.0
    assert (rows["far"]["billed_seconds"], rows["far"]["estimate_exact"]) == (4.0, False)
    assert rows["far"]["billed_minus_estimate"] == -8.0
    totals = run.json()["totals"]
    assert (totals["billed_seconds"], totals["estimate_of_billed_seconds"]) == (10.5, 18.5)
    assert totals["billed_minus_estimate"] == -8.0
    assert "billed 10.5 s (estimated 18.5 s)" in text.stdout
    assert "12 s (at most)" in text.stdout
    money = run.json()["money"]  # 720P at 0.10, 1080P at 0.15 a second
    assert money["rows"]["far"] == {"currency": "USD", "estimated": "1.800", "billed": "0.600"}
    assert money["totals"] == {"USD": {"estimated": "2.450", "billed": "1.250"}}


def test_batch_run_with_a_price_table_lacking_a_price_sends_nothing(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    clip: Path,
    tmp_path: Path,
) -> None:
    manifest = write_manifest(tmp_path, [{"id": "kept", "video": str(clip)}])
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES.replace('1080P = "0.15"\n', ""))

    run = cli("batch", "run", str(manifest), "--prices", str(prices), *on("dashscope-singapore"))

    assert run.code == 3
    assert "add prices.dashscope-singapore.wan2.7-videoedit.1080P" in run.stderr
    assert emulator.journal.entries() == []


def test_a_row_whose_task_fails_gives_its_share_of_the_cap_back(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    clip: Path,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    missing = f"{emulator.url}/no-such-input.mp4"  # the service cannot download it: FAILED
    rows: list[dict[str, object]] = [{"id": "lost", "video": missing, "duration": 2}]
    rows += [
        {"id": f"cut{i}", "video": str(clip), "duration": 2, "resolution": "720P", "seed": i}
        for i in range(1, 3)
    ]  # lost: at most 12 s reserved; cuts: 5.5 s each, 11 s in all
    manifest = write_manifest(tmp_path, rows)

    run = cli(
        "batch", "run", str(manifest), "--concurrency", "1", "--max-billed-seconds", "17",
        "--json", *on("dashscope-singapore"),
    )  # fmt: skip

    states = {row["id"]: row["state"] for row in run.json()["rows"]}
    assert states == {"lost": "FAILED", "cut1": "SUCCEEDED", "cut2": "SUCCEEDED"}
    assert emulator.journal.count(route="create", reached_app=True) == 3


def test_a_table_saying_a_provider_bills_output_seconds_changes_its_estimate(
    cli: Callable[..., Run], clip: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            {
                "currency": "USD",
                "prices": {"apimart": {"bills": "output", "wan2.7-videoedit": {"720P": "0.10"}}},
            }
        )
    )

    run = cli(
        "estimate", str(clip), "-p", "apimart", "--resolution", "720P", "--prices", str(prices),
        "--json",
    )  # fmt: skip

    assert run.code == 0, run.stderr
    (edit,) = run.json()["edits"]
    assert (edit["seconds"], edit["input_seconds"], edit["output_seconds"]) == (3.0, 3.5, 3.0)
    assert edit["cost"]["amount"] == "0.300"


def test_the_cap_counts_the_seconds_the_price_table_says_a_provider_bills(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("immediate")
    rows = [
        {"id": f"far{i}", "video": "https://media.example.com/in.mp4", "duration": 2, "seed": i}
        for i in range(1, 4)
    ]  # by the model's rule at most 12 s each; on output seconds alone, 2 s each
    # (the stand-in bills 2 + 2: once billed, a row counts what it was billed)
    manifest = write_manifest(tmp_path, rows)
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'currency = "USD"\n[prices.dashscope-singapore]\nbills = "output"\n'
        '"wan2.7-videoedit" = { 1080P = "0.15" }\n'
    )

    run = cli(
        "batch", "run", str(manifest), "--concurrency", "1", "--max-billed-seconds", "7",
        "--prices", str(prices), "--json", *on("dashscope-singapore"),
    )  # fmt: skip

    states = {row["id"]: row["state"] for row in run.json()["rows"]}
    assert states == {"far1": "SUCCEEDED", "far2": "SUCCEEDED", "far3": "HELD"}
