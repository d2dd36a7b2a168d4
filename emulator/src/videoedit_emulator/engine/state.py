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

import contextlib
import dataclasses
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from videoedit_emulator.engine.state_db import StateDB, copy_tree, decode, encode

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


class Persistable(Protocol):
    """A part of the emulator that can say its state as JSON and take it back."""

    def state(self) -> Any: ...

    def restore(self, state: Mapping[str, Any]) -> None: ...


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
