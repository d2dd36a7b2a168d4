"""Where a batch stands, row by row, and its totals: what ``batch run`` ends with and what
``batch status`` shows, read from the ledger alone (no call to the service).

A row's state is told from its ledger entry: ``QUEUED`` (nothing sent), ``SUBMITTED`` /
``RUNNING`` (the task exists), ``SUCCEEDED`` (its result is saved), ``FAILED`` (the task
failed, or the row met an error, named by ``error``), ``HELD`` (not sent: it would pass
``max_billed_seconds``), ``UNDECIDED`` (its creation may have been sent and the ledger cannot
tell: see [`SubmissionUncertainError`][videoedit.errors.SubmissionUncertainError]).

Each row also sets the seconds billed against the estimate made before it was sent
(`RowReport.billed_minus_estimate`; ``over_estimate`` when the service billed more), and
the totals do the same over the rows that have both (`BatchReport.compared`).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videoedit.ledger import EditState, Ledger, LedgerEntry, LedgerRow
from videoedit.task import TaskStatus

__all__ = ["OVER_ESTIMATE_SLACK", "BatchReport", "RowReport", "RowState", "report_from_ledger"]

#: Billed seconds this far above an estimate are rounding (ffmpeg's centiseconds), not news.
OVER_ESTIMATE_SLACK = 0.05


class RowState(str, enum.Enum):
    QUEUED = "QUEUED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    DOWNLOADING = "DOWNLOADING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    HELD = "HELD"
    UNDECIDED = "UNDECIDED"

    @property
    def is_final(self) -> bool:
        return self in (RowState.SUCCEEDED, RowState.FAILED, RowState.HELD, RowState.UNDECIDED)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RowReport:
    """One row: its state, task, file, and billed seconds against the estimate."""

    row_id: str
    line: int
    state: RowState
    fingerprint: str
    task_id: str | None = None
    output: Path | None = None
    saved: Path | None = None
    billed_seconds: float | None = None
    estimate_seconds: float | None = None
    estimate_exact: bool | None = None
    error_code: str | None = None
    error: str | None = None
    #: Money the provider reported billing, in its own unit (Vtrix reports a ``cost``).
    billed_cost: float | None = None

    @property
    def billed_minus_estimate(self) -> float | None:
        """How far the billed seconds came from the estimate (``None`` unless both are known)."""
        if self.billed_seconds is None or self.estimate_seconds is None:
            return None
        return round(self.billed_seconds - self.estimate_seconds, 2)

    @property
    def over_estimate(self) -> bool:
        """Billed more than estimated (beyond ffmpeg's 0.05 s of rounding): worth a look."""
        difference = self.billed_minus_estimate
        return difference is not None and difference > OVER_ESTIMATE_SLACK

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.row_id,
            "line": self.line,
            "state": self.state.value,
            "fingerprint": self.fingerprint,
            "task_id": self.task_id,
            "output": str(self.output) if self.output else None,
            "saved": str(self.saved) if self.saved else None,
            "billed_seconds": self.billed_seconds,
            "estimate_seconds": self.estimate_seconds,
            "estimate_exact": self.estimate_exact,
            "billed_minus_estimate": self.billed_minus_estimate,
            "billed_cost": self.billed_cost,
            "error_code": self.error_code,
            "error": self.error,
        }


@dataclass(frozen=True)
class BatchReport:
    """Every row of a batch, and its totals."""

    rows: tuple[RowReport, ...]
    #: Rows of the manifest that could not run (their errors, as sentences).
    bad_rows: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> Mapping[str, int]:
        found = Counter(row.state.value for row in self.rows)
        return {state.value: found[state.value] for state in RowState if found[state.value]}

    @property
    def billed_seconds(self) -> float:
        return sum(row.billed_seconds or 0.0 for row in self.rows)

    @property
    def estimate_seconds(self) -> float | None:
        known = [row.estimate_seconds for row in self.rows if row.estimate_seconds is not None]
        return sum(known) if known else None

    @property
    def compared(self) -> tuple[RowReport, ...]:
        """The rows both billed and estimated: those the estimate can be checked against."""
        return tuple(r for r in self.rows if r.billed_minus_estimate is not None)

    @property
    def estimate_of_billed(self) -> float | None:
        """The estimate of the `compared` rows, to set against `billed_seconds`."""
        rows = self.compared
        return round(sum(r.estimate_seconds or 0.0 for r in rows), 2) if rows else None

    @property
    def billed_minus_estimate(self) -> float | None:
        """Billed seconds less the estimate, over the `compared` rows."""
        rows = self.compared
        if not rows:
            return None
        return round(sum(r.billed_minus_estimate or 0.0 for r in rows), 2)

    @property
    def ok(self) -> bool:
        """Every row saved, and no bad row."""
        return not self.bad_rows and all(r.state is RowState.SUCCEEDED for r in self.rows)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": [row.as_json() for row in self.rows],
            "bad_rows": list(self.bad_rows),
            "totals": {
                "rows": len(self.rows),
                "counts": dict(self.counts),
                "billed_seconds": self.billed_seconds,
                "estimate_seconds": self.estimate_seconds,
                "compared_rows": len(self.compared),
                "estimate_of_billed_seconds": self.estimate_of_billed,
                "billed_minus_estimate": self.billed_minus_estimate,
            },
        }


def row_state(entry: LedgerEntry | None, output: Path | None) -> RowState:
    """A row's state from its ledger entry alone (see the module docstring)."""
    if entry is None or entry.state in (EditState.INTENT, EditState.REFUSED):
        if entry is not None and entry.state is EditState.REFUSED:
            return RowState.FAILED
        if entry is not None and entry.error_code == "OverBudget":
            return RowState.HELD
        return RowState.QUEUED
    if entry.task_id is None:
        return RowState.UNDECIDED if entry.state is EditState.NEEDS_DECISION else RowState.QUEUED
    status = entry.status
    if status is TaskStatus.SUCCEEDED:
        saved = entry.saved_path
        if saved is not None and (output is None or saved == output) and saved.exists():
            return RowState.SUCCEEDED
        return RowState.DOWNLOADING
    if status in (TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.UNKNOWN):
        return RowState.FAILED
    return RowState.RUNNING if status is TaskStatus.RUNNING else RowState.SUBMITTED


def row_report(
    row: LedgerRow, entry: LedgerEntry | None, state: RowState | None = None, **extra: Any
) -> RowReport:
    return RowReport(
        row_id=row.row_id,
        line=row.line,
        state=state or row_state(entry, row.output),
        fingerprint=row.fingerprint,
        task_id=entry.task_id if entry else None,
        output=row.output,
        saved=entry.saved_path if entry else None,
        billed_seconds=entry.billed_seconds if entry else None,
        estimate_seconds=row.estimate,
        estimate_exact=row.estimate_exact,
        error_code=extra.get("error_code", entry.error_code if entry else None),
        error=extra.get("error", entry.error_message if entry else None),
        billed_cost=_cost(entry),
    )


def _cost(entry: LedgerEntry | None) -> float | None:
    value = entry.usage.get("cost") if entry is not None and entry.usage else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def report_from_ledger(
    ledger: Ledger, manifest: str | None = None, rows: Iterable[LedgerRow] | None = None
) -> BatchReport:
    """The report of the rows filed for ``manifest`` (every manifest when ``None``)."""
    chosen = list(rows) if rows is not None else list(ledger.rows(manifest))
    return BatchReport(tuple(row_report(row, ledger.get(row.fingerprint)) for row in chosen))
