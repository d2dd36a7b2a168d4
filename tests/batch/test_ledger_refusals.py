"""A ledger file that this videoedit cannot vouch for is refused by name, and left as it was.

The ledger is the record of what was paid for: a file of another schema version, of another
application, or one that is damaged is never "repaired" by writing over it. Each refusal is a
`LedgerError` with a code of its own and a message naming the file; the bytes on disk are
the same afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from videoedit import Ledger, LedgerError
from videoedit.ledger import SCHEMA_VERSION


def refused(path: Path) -> LedgerError:
    before = path.read_bytes()
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    assert path.read_bytes() == before
    assert repr(str(path)) in str(caught.value)
    assert "left untouched" in str(caught.value)
    return caught.value


def test_a_file_that_is_not_sqlite_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    path.write_bytes(b"not a database at all\x00" * 200)

    error = refused(path)

    assert error.code == "LedgerCorrupt"


def test_a_ledger_of_a_newer_schema_is_refused_with_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")

    error = refused(path)

    assert error.code == "LedgerVersion"
    assert f"schema version {SCHEMA_VERSION + 1}, a newer one" in str(error)
    assert f"({SCHEMA_VERSION})" in str(error)


def test_a_sqlite_file_of_another_application_is_refused_as_foreign(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE albums (name TEXT)")
        db.execute("INSERT INTO albums VALUES ('holidays')")

    error = refused(path)

    assert error.code == "LedgerForeign"
    assert "is not a videoedit ledger" in str(error)


def test_a_ledger_truncated_mid_page_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    Ledger(path).close()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2 + 100])

    error = refused(path)

    assert error.code == "LedgerCorrupt"
    assert "malformed" in str(error)


def test_a_folder_in_the_ledgers_place_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    path.mkdir()

    with pytest.raises(LedgerError) as caught:
        Ledger(path)

    assert caught.value.code == "LedgerUnreadable"
    assert "is a folder" in str(caught.value)


def test_a_ledger_reopened_by_this_version_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "edits.ledger"
    Ledger(path).close()

    with Ledger(path) as again:
        assert again.entries() == []
