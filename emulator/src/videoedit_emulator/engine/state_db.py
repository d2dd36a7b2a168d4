"""The storage under ``state.py``: a JSON codec for the engine's values and ``state.db``.

`encode` and `decode` know dataclasses, enums, paths, tuples and mappings by their qualified
names, and rebuild only classes of ``videoedit`` and ``videoedit_emulator``, so a state file
names no code outside them (a planted file cannot make us import anything else).
`StateDB` is the SQLite file itself, in write-ahead mode: tasks, named settings and the
journal's entries, each change committed when it is made. Kept apart from ``state.py`` so
that what is stored, and how, can be read without the engine's side of it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import importlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["StateDB", "copy_tree", "decode", "dumps", "encode", "loads"]

_ALLOWED_MODULES = ("videoedit.", "videoedit_emulator.")
_JOURNAL_PRUNE_EVERY = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
"""


# --------------------------------------------------------------------------- the codec


def encode(value: Any) -> Any:
    """``value`` as JSON-able data that `decode` turns back into an equal value."""
    if isinstance(value, enum.Enum):  # before str: TaskStatus is a str too
        return {"__enum__": _name_of(type(value)), "value": encode(value.value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "__dc__": _name_of(type(value)),
            "fields": {
                f.name: encode(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.init and not f.name.startswith("_")
            },
        }
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, (frozenset, set)):
        return {"__frozenset__": sorted((encode(v) for v in value), key=json.dumps)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"state: cannot store a {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value `encode` made ``data`` from."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise ValueError(f"state: unexpected {type(data).__name__}")
    if "__enum__" in data:
        return _class(data["__enum__"])(decode(data["value"]))
    if "__path__" in data:
        return Path(data["__path__"])
    if "__bytes__" in data:
        return base64.b64decode(data["__bytes__"])
    if "__dc__" in data:
        return _class(data["__dc__"])(**{k: decode(v) for k, v in data["fields"].items()})
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__frozenset__" in data:
        return frozenset(decode(v) for v in data["__frozenset__"])
    if "__map__" in data:
        return {decode(k): decode(v) for k, v in data["__map__"]}
    raise ValueError(f"state: unknown value {sorted(data)[:3]}")


def _name_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(_ALLOWED_MODULES):
        raise ValueError(f"state: {name!r} is not a class of videoedit")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"), sort_keys=True)


def loads(text: str) -> Any:
    return decode(json.loads(text))


# --------------------------------------------------------------------------- the database


class StateDB:
    """``state.db``: tasks, named settings (meta) and journal entries; thread-safe.

    Every write is its own transaction, committed before the call returns.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._appended = 0
        #: Per task id, the record last written (a poll that changes nothing writes nothing).
        self._written: dict[str, str] = {}

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- tasks
    def put_task(self, task_id: str, encoded: Mapping[str, Any]) -> None:
        """Write a task's record (its fields through `encode`) unless it is the one last
        written."""
        text = json.dumps(encoded, separators=(",", ":"), sort_keys=True)
        if self._written.get(task_id) == text:
            return
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO tasks VALUES (?, ?)", (task_id, text))
        self._written[task_id] = text

    def delete_task(self, task_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM tasks WHERE task_id = ?", (task_id,))
        self._written.pop(task_id, None)

    def tasks(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT task_id, record FROM tasks").fetchall()
        self._written.update(dict(rows))
        return [_decoded(json.loads(text)) for _, text in rows]

    # -- settings
    def put(self, name: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, dumps(value)))

    def get(self, name: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else loads(row[0])

    def items(self, prefix: str) -> list[Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT value FROM meta WHERE name >= ? AND name < ? ORDER BY name",
                (prefix, prefix + "\U0010ffff"),
            ).fetchall()
        return [loads(text) for (text,) in rows]

    # -- journal
    def append_journal(self, entry: Mapping[str, Any], capacity: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO journal VALUES (?, ?)", (entry["seq"], json.dumps(entry))
            )
            self._appended += 1
            if self._appended % _JOURNAL_PRUNE_EVERY == 0:
                db.execute(
                    "DELETE FROM journal WHERE seq <= (SELECT MAX(seq) FROM journal) - ?",
                    (capacity,),
                )

    def clear_journal(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM journal")

    def journal(self, capacity: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT entry FROM journal ORDER BY seq DESC LIMIT ?", (capacity,)
            ).fetchall()
        return [json.loads(text) for (text,) in reversed(rows)]

    # -- whole
    def clear(self) -> None:
        with self._tx() as db:
            for table in ("tasks", "meta", "journal"):
                db.execute(f"DELETE FROM {table}")  # a fixed list of names
        self._written.clear()

    def replace_with(self, other: StateDB) -> None:
        """Make this database a copy of ``other`` (SQLite's online backup: atomic)."""
        with self._lock, other._lock:
            other._db.backup(self._db)
        self._written.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def copy_tree(src: Path, dst: Path) -> None:
    """Make ``dst`` a copy of ``src``'s files: hard links where possible (results and uploads
    are never written in place, so sharing their bytes is safe), else copies."""
    if dst.exists():
        shutil.rmtree(dst)

    def link_or_copy(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    if src.is_dir():
        shutil.copytree(src, dst, copy_function=link_or_copy)
    else:
        dst.mkdir(parents=True)


def _decoded(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: decode(value) for name, value in record.items()}
