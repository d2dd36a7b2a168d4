"""The ledger: a SQLite file that outlives the process and remembers every paid edit.

Every edit is filed under its fingerprint (`videoedit.fingerprint`) *before* its creation
is sent, and each step after that is written the moment it is known: the task id, each new
status, the usage billed, the result link's expiry, the saved file. A client given a ledger
(``Client(..., ledger=...)``) reads it before it creates anything, so a process killed at
any instant and started again neither loses a task nor bills an edit twice.

Crash safety. The file is in WAL mode with ``synchronous=NORMAL``: a commit is in the
operating system's hands when the call returns, so a killed process (``kill -9``, a crash)
loses nothing it wrote; only a power cut or a kernel crash can lose the last commits, which
is harmless for every write but one. The exception is the mark made just before a creation
leaves (state ``sending``): lost, the edit would look unsent and be submitted again. That one
write is made with ``synchronous=FULL`` (fsync of the log), so even a power cut cannot undo
it. A lost task id, status or saved path is found again from the provider (the entry still
says ``sending``, and is reconciled from the task listing).

Versions. The file carries ``PRAGMA application_id`` (``VELG``) and ``PRAGMA user_version``
(`SCHEMA_VERSION`). A file of another version, of another application, or that SQLite
cannot read is refused with [`LedgerError`][videoedit.errors.LedgerError] naming its path, and is
never written to; so is a file whose schema is not exactly `_SCHEMA` (``LedgerTampered``: a
trigger someone planted would run on our every write) and a path naming a FIFO or a device.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from videoedit.errors import LedgerError, VideoEditError
from videoedit.fingerprint import canonical_request
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskStatus, Usage

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "EditState", "Ledger", "LedgerEntry", "LedgerRow"]

#: ``PRAGMA application_id`` of a ledger: "VELG" in ASCII.
APPLICATION_ID = 0x56454C47
#: The schema this version of videoedit reads and writes.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE edits (
    fingerprint   TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    prompt        TEXT,
    request       TEXT NOT NULL,
    state         TEXT NOT NULL,
    owner         TEXT,
    task_id       TEXT,
    status        TEXT,
    usage         TEXT,
    expires_at    REAL,
    saved_path    TEXT,
    error_code    TEXT,
    error_message TEXT,
    created_at    REAL NOT NULL,
    sending_at    REAL,
    submitted_at  REAL,
    updated_at    REAL NOT NULL
);
CREATE UNIQUE INDEX edits_by_task ON edits (provider, task_id) WHERE task_id IS NOT NULL;
CREATE TABLE statuses (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL REFERENCES edits (fingerprint),
    status      TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE TABLE rows (
    manifest    TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    line        INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    output      TEXT,
    estimate    REAL,
    estimate_exact INTEGER,
    PRIMARY KEY (manifest, row_id)
);
"""


class EditState(str, enum.Enum):
    """Where an edit's *creation* stands (the task's own status is [`TaskStatus`][videoedit.TaskStatus])."""

    INTENT = "intent"  # recorded; no creation sent
    SENDING = "sending"  # the creation is on its way: found so on reopening, its outcome is unknown
    SUBMITTED = "submitted"  # the task exists; its id is recorded
    MAYBE_SUBMITTED = "maybe_submitted"  # the creation failed without saying whether it arrived
    NEEDS_DECISION = "needs_decision"  # the ledger cannot tell: the user decides (resolve)
    REFUSED = "refused"  # the creation was refused for sure (a 4xx): nothing was made

    @property
    def uncertain(self) -> bool:
        return self in (EditState.SENDING, EditState.MAYBE_SUBMITTED, EditState.NEEDS_DECISION)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LedgerEntry:
    """One edit as the ledger last recorded it."""

    fingerprint: str
    provider: str
    model: str
    kind: str
    prompt: str | None
    state: EditState
    task_id: str | None
    status: TaskStatus | None
    usage: Mapping[str, Any] | None
    expires_at: datetime | None
    saved_path: Path | None
    error_code: str | None
    error_message: str | None
    created_at: float
    sending_at: float | None
    submitted_at: float | None
    updated_at: float

    def task(self) -> Task:
        """The task as recorded, to wait on or resume (no call is made)."""
        if self.task_id is None:
            raise ValueError(f"edit {self.fingerprint[:12]} has no task yet")
        return Task(self.task_id, self.provider, self.status or TaskStatus.PENDING)

    @property
    def billed_seconds(self) -> float | None:
        """The seconds the provider reported billing (``Usage.total_seconds``, else the
        output seconds), when it reported usage."""
        if not self.usage:
            return None
        for name in ("total_seconds", "output_seconds"):
            value = self.usage.get(name)
            if isinstance(value, (int, float)):
                return float(value)
        return None


@dataclass(frozen=True)
class LedgerRow:
    """A manifest row filed in the ledger, and the edit it stands for."""

    manifest: str
    row_id: str
    line: int
    fingerprint: str
    output: Path | None
    estimate: float | None
    estimate_exact: bool | None


_ENTRY_COLUMNS = (
    "fingerprint, provider, model, kind, prompt, state, task_id, status, usage, expires_at, "
    "saved_path, error_code, error_message, created_at, sending_at, submitted_at, updated_at"
)


def _schema_objects(db: sqlite3.Connection) -> set[tuple[str, str, str | None]]:
    return set(db.execute("SELECT type, name, sql FROM sqlite_master"))


def _made_schema() -> set[tuple[str, str, str | None]]:
    """What `_SCHEMA` makes: its tables, indexes and their SQL, as SQLite records them."""
    with sqlite3.connect(":memory:") as db:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        return _schema_objects(db)


def _foreign_objects(db: sqlite3.Connection) -> list[str]:
    """The schema objects of ``db`` that `_SCHEMA` does not make, makes otherwise, or
    makes and ``db`` lacks (a dropped unique index lets one task be filed twice)."""
    made, found = _made_schema(), _schema_objects(db)
    return sorted(
        {f"{kind} {name!r}" for kind, name, _ in found - made}
        | {f"no {kind} {name!r}" for kind, name, _ in made - found}
    )


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    (fp, provider, model, kind, prompt, state, task_id, status, usage, expires, saved) = row[:11]
    return LedgerEntry(
        fingerprint=fp,
        provider=provider,
        model=model,
        kind=kind,
        prompt=prompt,
        state=EditState(state),
        task_id=task_id,
        status=TaskStatus(status) if status else None,
        usage=json.loads(usage) if usage else None,
        expires_at=datetime.fromtimestamp(expires, timezone.utc) if expires is not None else None,
        saved_path=Path(saved) if saved else None,
        error_code=row[11],
        error_message=row[12],
        created_at=row[13],
        sending_at=row[14],
        submitted_at=row[15],
        updated_at=row[16],
    )


def _usage_json(usage: Usage) -> str:
    fields = {
        "input_seconds": usage.input_seconds,
        "output_seconds": usage.output_seconds,
        "total_seconds": usage.total_seconds,
        "video_count": usage.video_count,
        "short_side": usage.short_side,
        "cost": usage.cost,
        "raw": dict(usage.raw),
    }
    return json.dumps(fields, sort_keys=True, default=str)


class Ledger:
    """A ledger file (created when missing), safe to share between the threads of a process.

    One connection, its statements cached by `sqlite3`; each write is one short
    transaction under a lock. Two processes may open the same file: the claim that precedes
    a creation (`claim`) is one conditional ``UPDATE``, so only one of them sends it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        #: Tells this ledger's claims from another process's (see `claim`).
        self.session = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._db = self._open()

    # -- opening ---------------------------------------------------------------------------
    def _refuse(self, why: str, code: str) -> LedgerError:
        return LedgerError(
            f"ledger {str(self.path)!r} {why}; it was left untouched",
            path=self.path,
            code=code,
            hint="give another --ledger path, or move the file away if it is not needed",
        )

    def _open(self) -> sqlite3.Connection:
        if self.path.exists() and not self.path.is_file():
            # A folder, or a FIFO or device (``/dev/null``: SQLite's "disk I/O error" came
            # out raw), under this name or behind a symlink.
            what = "a folder" if self.path.is_dir() else "not a regular file"
            raise self._refuse(f"is {what}", "LedgerUnreadable")
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, cached_statements=64
            )
        except sqlite3.Error as exc:
            raise self._refuse(f"cannot be opened ({exc})", "LedgerUnreadable") from None
        try:
            # Triggers and views of the file run only as the schema's own SQL, never
            # calling functions with side effects (SQLite's "trusted_schema" rule).
            db.execute("PRAGMA trusted_schema=OFF")
            if fresh:
                self._create(db)
            else:
                self._check(db)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            db.close()
            raise
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO meta VALUES ('created_at', ?), ('created_by', 'videoedit')",
            (datetime.now(timezone.utc).isoformat(),),
        )
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")

    def _check(self, db: sqlite3.Connection) -> None:
        try:
            (app,) = db.execute("PRAGMA application_id").fetchone()
            (version,) = db.execute("PRAGMA user_version").fetchone()
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._refuse(
                f"is not a readable SQLite database ({exc})", "LedgerCorrupt"
            ) from None
        if app != APPLICATION_ID:
            raise self._refuse("is not a videoedit ledger", "LedgerForeign")
        if version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise self._refuse(
                f"has schema version {version}, {newer} one than this videoedit reads "
                f"({SCHEMA_VERSION})",
                "LedgerVersion",
            )
        if verdict != "ok":
            raise self._refuse(f"is damaged (SQLite quick_check: {verdict})", "LedgerCorrupt")
        planted = _foreign_objects(db)
        if planted:
            # A trigger would run its SQL on our every write (undo a claim, and an edit is
            # sent twice); a view or an index of another shape would change what we read.
            raise self._refuse(
                f"holds schema objects videoedit did not make ({', '.join(planted[:5])})",
                "LedgerTampered",
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    # -- reading ---------------------------------------------------------------------------
    def get(self, fingerprint: str) -> LedgerEntry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM edits WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
        return _entry(row) if row else None

    def by_task(self, provider: str, task_id: str) -> LedgerEntry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM edits WHERE provider = ? AND task_id = ?",
                (provider, task_id),
            ).fetchone()
        return _entry(row) if row else None

    def entries(self) -> list[LedgerEntry]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM edits ORDER BY created_at"
            ).fetchall()
        return [_entry(row) for row in rows]

    def known_task_ids(self, provider: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT task_id FROM edits WHERE provider = ? AND task_id IS NOT NULL",
                (provider,),
            ).fetchall()
        return {row[0] for row in rows}

    def statuses(self, fingerprint: str) -> list[tuple[TaskStatus, float]]:
        """Every status the edit's task was seen in, in order, with when."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, at FROM statuses WHERE fingerprint = ? ORDER BY id",
                (fingerprint,),
            ).fetchall()
        return [(TaskStatus(status), at) for status, at in rows]

    # -- the creation ------------------------------------------------------------------------
    def record_intent(
        self, fingerprint: str, provider: str, model: str, request: EditRequest
    ) -> LedgerEntry:
        """File the edit (once: a known fingerprint keeps its entry) and return its entry."""
        prompt = getattr(request, "prompt", None)
        body = json.dumps(canonical_request(request), sort_keys=True, separators=(",", ":"))
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO edits (fingerprint, provider, model, kind, prompt, "
                "request, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fingerprint,
                    provider,
                    model,
                    request.request_kind,
                    prompt if isinstance(prompt, str) else None,
                    body,
                    EditState.INTENT.value,
                    now,
                    now,
                ),
            )
        entry = self.get(fingerprint)
        assert entry is not None
        return entry

    def claim(self, fingerprint: str) -> bool:
        """Mark the edit ``sending``, durably, if nothing was sent for it: True if this
        ledger may now send its creation, False if a creation is (or may be) out already.

        One conditional ``UPDATE``: of two processes claiming the same edit, one wins.
        """
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                cursor = self._db.execute(
                    "UPDATE edits SET state = ?, owner = ?, sending_at = ?, updated_at = ?, "
                    "error_code = NULL, error_message = NULL "
                    "WHERE fingerprint = ? AND state IN (?, ?)",
                    (
                        EditState.SENDING.value,
                        self.session,
                        time.time(),
                        time.time(),
                        fingerprint,
                        EditState.INTENT.value,
                        EditState.REFUSED.value,
                    ),
                )
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")
        return cursor.rowcount == 1

    def record_task(self, fingerprint: str, task: Task) -> None:
        """The creation was answered: the task exists, under this id."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "UPDATE edits SET state = ?, task_id = ?, status = ?, submitted_at = ?, "
                    "updated_at = ?, error_code = NULL, error_message = NULL "
                    "WHERE fingerprint = ?",
                    (
                        EditState.SUBMITTED.value,
                        task.task_id,
                        task.status.value,
                        now,
                        now,
                        fingerprint,
                    ),
                )
                self._db.execute(
                    "INSERT INTO statuses (fingerprint, status, at) VALUES (?, ?, ?)",
                    (fingerprint, task.status.value, now),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def record_failure(self, fingerprint: str, error: VideoEditError) -> None:
        """The creation failed: ``maybe_submitted`` (the task may exist) or refused (it does not)."""
        state = EditState.MAYBE_SUBMITTED if error.maybe_submitted else EditState.REFUSED
        self._set_state(fingerprint, state, error.code or type(error).__name__, error.message)

    def hold(self, fingerprint: str, why: str) -> None:
        """Not sent, on purpose (a cost cap): still unsent, and said why."""
        self._set_state(fingerprint, EditState.INTENT, "OverBudget", why)

    def needs_decision(self, fingerprint: str, why: str) -> None:
        self._set_state(fingerprint, EditState.NEEDS_DECISION, "NeedsDecision", why)

    def _set_state(
        self, fingerprint: str, state: EditState, code: str | None, message: str | None
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE edits SET state = ?, error_code = ?, error_message = ?, updated_at = ? "
                "WHERE fingerprint = ? AND task_id IS NULL",
                (state.value, code, message, time.time(), fingerprint),
            )

    def resolve(self, fingerprint: str, *, task_id: str | None = None) -> None:
        """The user's decision on an uncertain creation: ``task_id`` is the task it made
        (found in the provider's console), or ``None``: it made none, submit it again."""
        entry = self.get(fingerprint)
        if entry is None:
            raise KeyError(fingerprint)
        if task_id is not None:
            self.record_task(fingerprint, Task(task_id, entry.provider, TaskStatus.PENDING))
        else:
            self._set_state(fingerprint, EditState.INTENT, None, None)

    # -- the task ----------------------------------------------------------------------------
    def record_status(self, task: Task) -> None:
        """A poll's news: the status (kept in the history when it changed), the usage and
        the result link's expiry, the provider's error."""
        result = task.result
        usage = _usage_json(result.usage) if result is not None else None
        expires = result.expires_at.timestamp() if result and result.expires_at else None
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, status FROM edits WHERE provider = ? AND task_id = ?",
                (task.provider, task.task_id),
            ).fetchone()
            if row is None:
                return  # a task this ledger did not submit
            fingerprint, previous = row
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "UPDATE edits SET status = ?, usage = COALESCE(?, usage), "
                    "expires_at = COALESCE(?, expires_at), error_code = ?, error_message = ?, "
                    "updated_at = ? WHERE fingerprint = ?",
                    (
                        task.status.value,
                        usage,
                        expires,
                        task.error_code,
                        task.error_message,
                        now,
                        fingerprint,
                    ),
                )
                if previous != task.status.value:
                    self._db.execute(
                        "INSERT INTO statuses (fingerprint, status, at) VALUES (?, ?, ?)",
                        (fingerprint, task.status.value, now),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def record_saved(self, provider: str, task_id: str, path: Path) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE edits SET saved_path = ?, updated_at = ? WHERE provider = ? AND task_id = ?",
                (str(path), time.time(), provider, task_id),
            )

    # -- manifests ---------------------------------------------------------------------------
    def record_row(self, row: LedgerRow) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (manifest, row_id) "
                "DO UPDATE SET line = excluded.line, fingerprint = excluded.fingerprint, "
                "output = excluded.output, estimate = excluded.estimate, "
                "estimate_exact = excluded.estimate_exact",
                (
                    row.manifest,
                    row.row_id,
                    row.line,
                    row.fingerprint,
                    str(row.output) if row.output is not None else None,
                    row.estimate,
                    None if row.estimate_exact is None else int(row.estimate_exact),
                ),
            )

    def rows(self, manifest: str | None = None) -> Iterator[LedgerRow]:
        query = (
            "SELECT manifest, row_id, line, fingerprint, output, estimate, estimate_exact FROM rows"
        )
        with self._lock:
            found = (
                self._db.execute(query + " WHERE manifest = ? ORDER BY line", (manifest,))
                if manifest is not None
                else self._db.execute(query + " ORDER BY manifest, line")
            ).fetchall()
        for name, row_id, line, fp, output, estimate, exact in found:
            yield LedgerRow(
                name,
                row_id,
                line,
                fp,
                Path(output) if output else None,
                estimate,
                None if exact is None else bool(exact),
            )
