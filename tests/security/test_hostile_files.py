"""Files a user is handed and gives to videoedit: price tables, manifests, ledgers, videos.

Each test is an attack: a file made to hang, exhaust or subvert the reader. Each must end in
a clear error naming the file or the field and the rule (or, for a manifest, one bad row
among good ones), never a raw exception, a hang, or the attacker's code running.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from videoedit import InvalidRequestError, Ledger, LedgerError, VideoEdit
from videoedit.billing import estimate
from videoedit.manifest import read_manifest
from videoedit.prices import PriceTableError, load_prices

GOOD_ROW = '{"video": "https://example.com/a.mp4", "prompt": "ink"}\n'


def refused_table(path: Path) -> PriceTableError:
    with pytest.raises(PriceTableError) as caught:
        load_prices(path)
    return caught.value


def table_with_price(price: str) -> str:
    return '{"currency": "USD", "prices": {"vtrix": {"wan2.7-videoedit": {"720P": ' + price + "}}}}"


# -- price tables -------------------------------------------------------------------------------


def test_a_price_table_nested_100000_deep_is_refused_as_not_json(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"currency": "USD", "prices": ' + "[" * 100_000 + "]" * 100_000 + "}")

    error = refused_table(path)

    assert error.field == "--prices"
    assert "not JSON (it nests deeper than a price table ever does)" in str(error)


def test_a_toml_price_table_nested_100000_deep_is_refused_as_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('currency = "USD"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n")

    error = refused_table(path)

    assert error.field == "--prices"
    assert "not TOML (it nests deeper" in str(error)


def test_a_price_of_5000_digits_is_refused_as_not_json(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(table_with_price("9" * 5000))

    error = refused_table(path)

    assert error.field == "--prices"
    assert "Exceeds the limit (4300 digits)" in str(error)


@pytest.mark.parametrize(
    "price",
    ['"1e999999999"', "1e999999999", '"1E+9999999999999"', "1e13", '"0.0000000000001"'],
)
def test_a_price_of_a_billion_digits_is_refused_naming_the_key(tmp_path: Path, price: str) -> None:
    # A finite Decimal: unrefused, the estimate printed a number of a billion digits.
    path = tmp_path / "prices.json"
    path.write_text(table_with_price(price))

    error = refused_table(path)

    assert error.field == "prices.vtrix.wan2.7-videoedit.720P"
    assert "at most 10^12, with at most 12 decimals" in str(error)


@pytest.mark.parametrize("price", ['"١٠"', '"1_0"', '"+1"', '" 1e2"', '"0x10"', '"-0"'])
def test_a_price_in_other_digits_or_notations_is_refused(tmp_path: Path, price: str) -> None:
    # Decimal reads "١٠" (Arabic-Indic) and "1_0" as 10: a price the user never meant.
    path = tmp_path / "prices.json"
    path.write_text(table_with_price(price))

    error = refused_table(path)

    assert error.field == "prices.vtrix.wan2.7-videoedit.720P"
    assert "in ASCII digits" in str(error)


def test_a_price_table_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    # Reading a FIFO waits for a writer that never comes: the estimate hung for ever.
    path = tmp_path / "prices.toml"
    os.mkfifo(path)

    error = refused_table(path)

    assert error.field == "--prices"
    assert "cannot be read: it is not a regular file" in str(error)


def test_a_price_table_linked_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    # /dev/zero never ends: read_text grew until memory ran out.
    path = tmp_path / "prices.json"
    path.symlink_to("/dev/zero")

    error = refused_table(path)

    assert "cannot be read: it is not a regular file" in str(error)


def test_a_price_table_over_a_mebibyte_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(table_with_price("1") + " " * (1024 * 1024))

    error = refused_table(path)

    assert "cannot be read: it is larger than 1024 KiB" in str(error)


# -- manifests ----------------------------------------------------------------------------------


def read(path: Path) -> list[str]:
    """The manifest's rows as ids, then its bad rows as their messages."""
    manifest = read_manifest(path, provider="dashscope-singapore")
    return [row.id for row in manifest.rows] + [str(error) for error in manifest.errors]


def test_a_manifest_row_nested_100000_deep_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "edits.jsonl"
    path.write_text(GOOD_ROW + '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}\n" + GOOD_ROW)

    assert read(path) == ["line-1", "line-3", "line 2: line: is not valid JSON (it nests too deep)"]


def test_a_manifest_row_with_an_integer_of_5000_digits_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "edits.jsonl"
    path.write_text(GOOD_ROW + '{"seed": ' + "9" * 5000 + "}\n")

    found = read(path)

    assert found[0] == "line-1"
    assert found[1].startswith("line 2: line: is not valid JSON (Exceeds the limit (4300 digits)")


def test_a_manifest_row_that_is_not_utf8_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "edits.jsonl"
    path.write_bytes(GOOD_ROW.encode() + b'{"prompt": "\xff"}\n' + GOOD_ROW.encode())

    assert read(path) == ["line-1", "line-3", "line 2: line: is not UTF-8 text (byte 13)"]


def test_a_csv_manifest_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "edits.csv"
    path.write_bytes(
        b"video,prompt\nhttps://example.com/a.mp4,ink\nhttps://example.com/b.mp4,\xff\n"
    )

    with pytest.raises(InvalidRequestError) as caught:
        read_manifest(path, provider="dashscope-singapore")

    assert caught.value.field == "manifest"
    assert "line 3 is not UTF-8 text" in str(caught.value)


def test_a_csv_cell_over_the_field_limit_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "edits.csv"
    rows = ["video,prompt", "https://example.com/a.mp4,ink"]
    rows += ["https://example.com/b.mp4," + "a" * 200_000, "https://example.com/c.mp4,ink"]
    path.write_text("\n".join(rows) + "\n")

    found = read(path)

    assert found[:2] == ["line-2", "line-4"]
    assert found[2].startswith("line 3: line: is not a CSV row (field larger than field limit")


def test_a_manifest_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "edits.jsonl"
    os.mkfifo(path)

    with pytest.raises(InvalidRequestError) as caught:
        read_manifest(path, provider="dashscope-singapore")

    assert caught.value.field == "manifest"
    assert "cannot be read: it is not a regular file" in str(caught.value)


# -- ledgers ------------------------------------------------------------------------------------


def plant(path: Path, *statements: str) -> bytes:
    """A real ledger with the attacker's SQL added to its schema; its bytes."""
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()
    return path.read_bytes()


def refused_ledger(path: Path, code: str) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    assert caught.value.code == code
    assert repr(str(path)) in str(caught.value)
    return caught.value


def test_a_ledger_with_a_planted_trigger_that_undoes_claims_is_refused_unrun(
    tmp_path: Path,
) -> None:
    # Opened, the trigger ran on every claim: the edit read "intent" again, and a second
    # process (or a restart) sent its creation a second time.
    path = tmp_path / "edits.ledger"
    before = plant(
        path,
        "CREATE TABLE seen (fingerprint TEXT)",
        "CREATE TRIGGER unclaim AFTER UPDATE OF state ON edits BEGIN "
        "INSERT INTO seen VALUES (new.fingerprint); "
        "UPDATE edits SET state = 'intent' WHERE fingerprint = new.fingerprint; END",
    )

    error = refused_ledger(path, "LedgerTampered")

    assert "holds schema objects videoedit did not make (table 'seen', trigger 'unclaim')" in str(
        error
    )
    assert path.read_bytes() == before
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM seen").fetchone() == (0,)
    db.close()


def test_a_ledger_with_a_planted_view_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    plant(path, "CREATE VIEW everything AS SELECT * FROM edits")

    error = refused_ledger(path, "LedgerTampered")

    assert "view 'everything'" in str(error)


def test_a_ledger_whose_unique_index_was_dropped_is_refused(tmp_path: Path) -> None:
    # Without edits_by_task one task id could be filed under two edits.
    path = tmp_path / "edits.ledger"
    plant(path, "DROP INDEX edits_by_task")

    error = refused_ledger(path, "LedgerTampered")

    assert "no index 'edits_by_task'" in str(error)


def test_a_ledger_path_linked_to_dev_null_is_refused_by_name(tmp_path: Path) -> None:
    # Was a raw sqlite3.OperationalError "disk I/O error".
    path = tmp_path / "edits.ledger"
    path.symlink_to("/dev/null")

    error = refused_ledger(path, "LedgerUnreadable")

    assert "is not a regular file" in str(error)


def test_a_ledger_path_that_is_a_fifo_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    os.mkfifo(path)

    error = refused_ledger(path, "LedgerUnreadable")

    assert "is not a regular file" in str(error)


def test_a_ledger_linked_to_a_real_ledger_is_opened(tmp_path: Path) -> None:
    # A symlink is the user's to make: the check follows it to what it names.
    real = tmp_path / "real.ledger"
    Ledger(real).close()
    (tmp_path / "edits.ledger").symlink_to(real)

    with Ledger(tmp_path / "edits.ledger") as ledger:
        assert ledger.entries() == []


# -- local videos, as the client probes them ----------------------------------------------------


def test_an_ffconcat_list_named_clip_mp4_is_refused_without_opening_what_it_names(
    tmp_path: Path,
) -> None:
    # ffmpeg chose the concat demuxer by content and opened the FIFO the list names: the
    # estimate hung 30 s, then raised subprocess.TimeoutExpired.
    os.mkfifo(tmp_path / "trip.mp4")
    clip = tmp_path / "clip.mp4"
    clip.write_text("ffconcat version 1.0\nfile trip.mp4\n")

    with pytest.raises(InvalidRequestError) as caught:
        estimate(VideoEdit(video=clip), "dashscope-singapore")

    assert caught.value.field == "video"
    assert "clip.mp4: is a concat file; the container must be mp4 or mov" in str(caught.value)


def test_an_ffconcat_list_is_refused_by_the_clients_own_checks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "trip.mp4")
    clip = tmp_path / "clip.mov"
    clip.write_text("ffconcat version 1.0\nfile trip.mp4\n")

    with pytest.raises(InvalidRequestError) as caught:
        VideoEdit(video=clip).check_local_files()

    assert "clip.mov is a concat file; the container must be mp4 or mov" in str(caught.value)
