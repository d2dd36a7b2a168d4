"""State that survives a restart: ``serve --state-dir DIR`` and ``EmulatorConfig(state_dir=...)``.

Everything an emulator knows goes into ``DIR/state.db``, a SQLite database in write-ahead
(WAL) mode, as it changes: each task (every field its lifecycle reads, so a restarted engine
answers exactly as the old one would have), each upload, the signing secret (links handed out
before a restart still open), the id generators, the default progression, the fault rules
with their counters, and the request journal. The files (uploads, fetched inputs, results)
live in ``DIR/storage``. A change is committed before the answer that reveals it is sent, and
SQLite's WAL makes each commit atomic, so a ``kill -9`` at any instant leaves the state of the
last answer (``synchronous=NORMAL``: a power cut may lose the last commits, never the
database).

On start the engine reads it back: tasks keep their ids, times and polls; expiry still runs
on the clock (the times stored are the clock's, so a task past its TTL reads UNKNOWN); a task
whose MP4 was not written yet is rendered again (the render cache usually answers at once).

Snapshots (``DIR/snapshots/NAME/``, or under the storage temp dir without a state dir) are
the same database, copied whole from the engine's memory, beside a copy of the storage files
(hard links where possible): `save_snapshot`, `load_snapshot`, `snapshots`.

Values are stored as JSON through `encode` and `decode`, which know dataclasses, enums,
paths, tuples and mappings by their qualified names; only classes of ``videoedit`` and
``videoedit_emulator`` are rebuilt, so a state file names no code outside them.

This module is the engine's only writer of state; the engine calls it at a few points (a task
seen, a task forgotten, a reset, a setting changed). The fault plan and the journal are the
web wing's, not the engine's: the object that composes the web app hands them over with
`Persistence.keep`, and they report their changes through their own ``on_change`` and
``on_record`` callbacks. The engine wing never imports them; it only calls the ``state()``,
``restore()`` and ``capacity`` they share (`Persistable`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import importlib
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "SNAPSHOT_NAME",
    "Persistable",
    "Persistence",
    "StateDB",
    "capture",
    "copy_tree",
    "decode",
    "encode",
    "restore",
    "snapshot_name",
]

#: What a snapshot may be called: it names a directory.
SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ALLOWED_MODULES = ("videoedit.", "videoedit_emulator.")
_JOURNAL_PRUNE_EVERY = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
"""


class Persistable(Protocol):
    """A part of the emulator that can say its state as JSON and take it back."""

    def state(self) -> Any: ...

    def restore(self, state: Mapping[str, Any]) -> None: ...


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


def snapshot_name(name: Any) -> str:
    """``name`` if it may name a snapshot, else ValueError saying the rule."""
    if not isinstance(name, str) or not SNAPSHOT_NAME.match(name):
        raise ValueError(
            "name: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


# --------------------------------------------------------------------------- the engine's link

#: A task's fields that are not state: its render's future and its memoized final view.
_TRANSIENT_FIELDS = frozenset({"future", "final"})
_STORAGE_PARTS = ("uploads", "results", "inputs")


class Persistence:
    """What ties one `TaskEngine` to its state directory (``db``, when it has one) and to its
    snapshots (always: under the state directory, else under the storage directory).

    It reads the engine's own fields (the engine is in this wing; nothing else does): its
    tasks, id generators, settings and store; and, once the web app is composed, that app's
    fault plan and journal (`keep`).
    """

    def __init__(self, engine: Any, state_dir: Path | None) -> None:
        self.engine = engine
        self.db = None if state_dir is None else StateDB(state_dir / "state.db")
        self.snapshot_root = (
            state_dir / "snapshots" if state_dir is not None else engine.store.root / "snapshots"
        )
        self._known: set[str] = set()
        #: The web app's fault plan and journal, once `keep` was called.
        self.faults: Any = None
        self.journal: Any = None
        #: Per task id, its request and render plan (immutable) and their encodings: most of
        #: a record, and what a poll never changes.
        self._plans: dict[str, tuple[Any, Any, dict[str, Any]]] = {}

    @classmethod
    def attach(cls, engine: Any, state_dir: Path | None) -> Persistence:
        """Restore the engine from ``state_dir`` (if it holds state) and keep it there."""
        link = cls(engine, state_dir)
        if link.db is not None:
            if link.db.get("engine") is not None:
                restore(engine, link.db)
            else:
                capture(engine, link.db)
            link._known = {t.task_id for t in engine._tasks.values()}
            engine.store.on_upload = link.uploaded
        return link

    def keep(self, faults: Any, journal: Any) -> None:
        """Keep the web app's fault plan and journal with the engine's state: restored from the
        state directory when it holds them, written there from now on."""
        self.faults, self.journal = faults, journal
        if self.db is None:
            return
        saved = self.db.get("faults")
        if saved is not None:
            faults.restore(saved)
            journal.restore({"entries": self.db.journal(journal.capacity)})
        else:
            self.faults_changed()
            for entry in journal.state()["entries"]:
                self.db.append_journal(entry, journal.capacity)
        faults.on_change = self.faults_changed
        journal.on_record = self.journal_recorded

    # -- the hooks the engine calls (under its lock)
    def task_changed(self, task: Any) -> None:
        if self.db is None:
            return
        plans = self._plans.get(task.task_id)
        if plans is None or plans[0] is not task.plan or plans[1] is not task.render_plan:
            fixed = {"plan": encode(task.plan), "render_plan": encode(task.render_plan)}
            self._plans[task.task_id] = plans = (task.plan, task.render_plan, fixed)
        self.db.put_task(task.task_id, encode_task(task, plans[2]))
        if task.task_id not in self._known:  # a new task: the id generators moved
            self._known.add(task.task_id)
            self.settings_changed()

    def task_forgotten(self, task_id: str) -> None:
        if self.db is not None:
            self._known.discard(task_id)
            self._plans.pop(task_id, None)
            self.db.delete_task(task_id)

    def settings_changed(self) -> None:
        if self.db is not None:
            self.db.put("engine", engine_settings(self.engine))

    def was_reset(self) -> None:
        if self.db is not None:
            self._known.clear()
            self._plans.clear()
            capture(self.engine, self.db, self.faults, self.journal)

    def uploaded(self, stored: Any) -> None:
        if self.db is not None:
            self.db.put(f"upload:{stored.key}", stored)

    def faults_changed(self) -> None:
        if self.db is not None and self.faults is not None:
            self.db.put("faults", self.faults.state())

    def journal_recorded(self, entry: Any) -> None:
        if self.db is None or self.journal is None:
            return
        if entry is None:
            self.db.clear_journal()
        else:
            self.db.append_journal(entry.to_json(), self.journal.capacity)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    # -- snapshots
    def snapshots(self) -> list[dict[str, Any]]:
        """The saved snapshots, by name: when each was saved and how many tasks it holds."""
        found = []
        with contextlib.suppress(FileNotFoundError):
            for item in sorted(self.snapshot_root.iterdir()):
                info = item / "snapshot.json"
                if SNAPSHOT_NAME.match(item.name) and item.is_dir() and info.is_file():
                    found.append(json.loads(info.read_text("utf-8")))
        return found

    def save_snapshot(self, name: str) -> dict[str, Any]:
        """Save everything the engine holds now as ``name`` (replacing a snapshot of that
        name); written aside and renamed into place, so a snapshot is whole or absent."""
        name = snapshot_name(name)
        engine = self.engine
        work = self.snapshot_root / f".{name}.saving"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        with engine._lock:
            db = StateDB(work / "state.db")
            try:
                capture(engine, db, self.faults, self.journal)
            finally:
                db.close()
            for part in _STORAGE_PARTS:
                copy_tree(engine.store.root / part, work / "storage" / part)
            info = {
                "name": name,
                "saved_at": engine.clock.now(),
                "tasks": len(engine._tasks),
                "uploads": len(engine.store.objects()),
                "fault_rules": 0 if self.faults is None else len(self.faults),
                "journal_entries": 0 if self.journal is None else len(self.journal),
            }
        (work / "snapshot.json").write_text(json.dumps(info), "utf-8")
        target = self.snapshot_root / name
        if target.exists():
            old = self.snapshot_root / f".{name}.old"
            target.rename(old)
            shutil.rmtree(old)
        work.rename(target)
        return info

    def load_snapshot(self, name: str) -> dict[str, Any]:
        """Replace everything the engine holds with snapshot ``name`` (KeyError if none)."""
        name = snapshot_name(name)
        source = self.snapshot_root / name
        if not (source / "snapshot.json").is_file():
            raise KeyError(name)
        engine = self.engine
        engine.reset()
        for part in _STORAGE_PARTS:
            copy_tree(source / "storage" / part, engine.store.root / part)
        db = StateDB(source / "state.db")
        try:
            restore(engine, db, self.faults, self.journal)
        finally:
            db.close()
        if self.db is not None:
            self._known = {t.task_id for t in engine._tasks.values()}
            capture(engine, self.db, self.faults, self.journal)
        info: dict[str, Any] = json.loads((source / "snapshot.json").read_text("utf-8"))
        return info


def encode_task(task: Any, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A task's fields through `encode`, but those already encoded in ``known``."""
    known = known or {}
    return {
        f.name: known[f.name] if f.name in known else encode(getattr(task, f.name))
        for f in dataclasses.fields(task)
        if f.name not in _TRANSIENT_FIELDS
    }


def engine_settings(engine: Any) -> dict[str, Any]:
    return {
        "seed": engine.seed,
        "progression": str(engine.progression),
        "ids": engine._ids.getstate(),
        "root": str(engine.store.root),
    }


def capture(engine: Any, db: StateDB, faults: Any = None, journal: Any = None) -> None:
    """Write everything ``engine`` holds into ``db`` (emptied first), and the web app's
    ``faults`` and ``journal`` when given."""
    with engine._lock:
        db.clear()
        db.put("engine", engine_settings(engine))
        db.put("secret", engine.store.secret)
        for stored in engine.store.objects():
            db.put(f"upload:{stored.key}", stored)
        if faults is not None:
            db.put("faults", faults.state())
        if journal is not None:
            for entry in journal.state()["entries"]:
                db.append_journal(entry, journal.capacity)
        for task in engine._tasks.values():
            db.put_task(task.task_id, encode_task(task))


def restore(engine: Any, db: StateDB, faults: Any = None, journal: Any = None) -> None:
    """Make ``engine`` (and the web app's ``faults`` and ``journal`` when given) hold what
    ``db`` holds; the renders still to do are started again."""
    from videoedit_emulator.engine.config import Progression

    settings = db.get("engine")
    old_root, new_root = Path(settings["root"]), engine.store.root

    def here(value: Any) -> Any:  # files saved under another storage root live under ours
        if isinstance(value, Path) and old_root != new_root and value.is_relative_to(old_root):
            return new_root / value.relative_to(old_root)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: here(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
            }
            return dataclasses.replace(value, **changes)
        if isinstance(value, tuple):
            return tuple(here(v) for v in value)
        if isinstance(value, dict):
            return {k: here(v) for k, v in value.items()}
        return value

    with engine._lock:
        engine.seed = settings["seed"]
        engine.progression = Progression.parse(settings["progression"])
        engine._ids.setstate(settings["ids"])
        engine.store.adopt([here(o) for o in db.items("upload:")], db.get("secret"))
    saved_faults = db.get("faults")
    if faults is not None and saved_faults is not None:
        faults.restore(saved_faults)
    if journal is not None:
        journal.restore({"entries": db.journal(journal.capacity)})
    engine._adopt([engine.task_type(**here(record)) for record in db.tasks()])


def _decoded(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: decode(value) for name, value in record.items()}
