"""``videoedit.Batch``: run every row of a manifest to a saved file, resumable at any instant.

Each row is submitted, waited for and saved by the same [`AsyncClient`][videoedit.AsyncClient]
calls an application makes, through the client's ledger: a row whose edit already has a task
is resumed by its id, a row already saved is left alone, and a row whose creation may have
been sent is reconciled (`videoedit.reconcile`) rather than sent again. So a batch killed
at any instant (``kill -9``) and run again with the same ledger submits nothing twice, and
finishes the rest.

``concurrency`` rows are under way at once; each result is downloaded as soon as its task
succeeds (result links last 24 hours). The batch paces itself by the provider's quotas
(`videoedit.pacing.Pacer`, built from ``Provider.quotas`` unless one is given, or the
client's own): while it runs, its client's every creation and poll waits for its turn, and
each row holds one of its model's running slots from its creation to the end of its wait,
so the batch stays under the account's quotas instead of bouncing off 429s. Given ``max_billed_seconds``, a row whose estimate would take the batch past it is
not submitted (``HELD``); rows already sent count with their billed seconds where known, else
their estimate, and a row that bills nothing (refused before it was sent, or a task that
failed or was canceled: failed tasks are free) gives its share back. ``on_progress`` is
told every change: counts by state, billed seconds so far, an ETA.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from videoedit.batch_report import BatchReport, RowReport, RowState, row_report, row_state
from videoedit.client import DEFAULT, AsyncClient, _Default
from videoedit.errors import (
    InvalidRequestError,
    SubmissionUncertainError,
    TaskFailedError,
    VideoEditError,
)
from videoedit.events import EventKind, TaskEvent
from videoedit.ledger import Ledger, LedgerRow
from videoedit.manifest import Manifest, ManifestRow
from videoedit.pacing import Pacer
from videoedit.task import TaskStatus

__all__ = [
    "Batch",
    "BatchProgress",
    "Estimator",
    "Pacer",
    "RowEstimate",
    "default_estimator",
    "estimate_rows",
]


@dataclass(frozen=True)
class RowEstimate:
    """The billable seconds of one row before it runs; ``exact`` unless an upper bound."""

    seconds: float
    exact: bool
    note: str | None = None


#: Estimates a row's billable seconds (``videoedit.billing.estimate`` when installed).
Estimator = Callable[[ManifestRow, str], RowEstimate | None]


@dataclass(frozen=True)
class BatchProgress:
    """The whole batch at one instant, for a progress display."""

    total: int
    counts: Mapping[str, int]
    billed_seconds: float
    estimate_seconds: float | None
    elapsed: float
    eta_seconds: float | None
    #: The row that just changed, and its new state.
    row_id: str | None = None
    state: RowState | None = None


def default_estimator() -> Estimator | None:
    """``videoedit.billing.estimate`` adapted to rows, when that module is there."""
    try:
        from videoedit import billing  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None

    def estimate(row: ManifestRow, provider_id: str) -> RowEstimate | None:
        found = billing.estimate(row.request, provider_id)
        if found is None:
            return None
        return RowEstimate(float(found.seconds), bool(found.exact), found.note)

    return estimate


def estimate_rows(
    manifest: Manifest, provider_id: str, estimator: Estimator | None = None
) -> list[tuple[ManifestRow, RowEstimate | None]]:
    """Each good row with its estimate (``None`` where none can be made); sends nothing."""
    chosen = estimator if estimator is not None else default_estimator()
    return [(row, chosen(row, provider_id) if chosen else None) for row in manifest.rows]


@dataclass
class _Run:
    started: float = field(default_factory=time.monotonic)
    states: dict[str, RowState] = field(default_factory=dict)
    reports: dict[str, RowReport] = field(default_factory=dict)
    committed: float = 0.0
    billed: float = 0.0
    #: What each row holds of ``committed`` (its billed seconds, else its estimate).
    reserved: dict[str, float] = field(default_factory=dict)


class Batch:
    """The rows of a manifest, run through ``client`` (which must have a ledger).

    ```pycon
    >>> client = AsyncClient("dashscope-singapore", ledger="edits.ledger")
    >>> manifest = read_manifest("edits.jsonl", provider=client.provider_id)
    >>> report = Batch(client, manifest, concurrency=4).run()     # or: await batch.arun()
    ```
    """

    def __init__(
        self,
        client: AsyncClient,
        manifest: Manifest,
        *,
        concurrency: int = 4,
        max_billed_seconds: float | None = None,
        pacer: Pacer | None = None,
        estimator: Estimator | None = None,
        on_progress: Callable[[BatchProgress], None] | None = None,
        on_event: Callable[[TaskEvent], None] | None = None,
        wait_timeout: float | _Default | None = DEFAULT,
    ) -> None:
        if client.ledger is None:
            raise InvalidRequestError(
                "Batch: the client has no ledger; give it one (AsyncClient(..., ledger=PATH)): "
                "without it a restarted batch would submit every edit again",
                field="client",
                rule="a client with a ledger",
            )
        if concurrency < 1:
            raise InvalidRequestError(
                "concurrency: must be 1 or more", field="concurrency", rule=">= 1"
            )
        if max_billed_seconds is not None and not max_billed_seconds > 0:
            raise InvalidRequestError(
                "max_billed_seconds: must be more than 0",
                field="max_billed_seconds",
                rule="> 0",
            )
        self.client = client
        self.ledger: Ledger = client.ledger
        self.manifest = manifest
        self.concurrency = concurrency
        self.max_billed_seconds = max_billed_seconds
        self.pacer: Pacer = pacer or client.pacer or Pacer(client.provider.quotas)
        self.estimator = estimator if estimator is not None else default_estimator()
        self.on_progress = on_progress
        self.on_event = on_event
        self.wait_timeout = wait_timeout
        self._run_state = _Run()
        self._budget_lock = anyio.Lock()
        self.filed: dict[str, LedgerRow] = {}

    # -- planning ------------------------------------------------------------------------------
    def plan(self) -> list[LedgerRow]:
        """File every row in the ledger (fingerprint, output, estimate) and return them.

        Computes fingerprints (local inputs are hashed) and estimates, sends nothing: this
        is what ``--dry-run`` prints.
        """
        provider = self.client.provider_id
        filed = []
        for row in self.manifest.rows:
            estimate = self.estimator(row, provider) if self.estimator else None
            filed_row = LedgerRow(
                manifest=self.manifest.key,
                row_id=row.id,
                line=row.line,
                fingerprint=self.client.fingerprint(row.request),
                output=row.output,
                estimate=estimate.seconds if estimate else None,
                estimate_exact=estimate.exact if estimate else None,
            )
            self.ledger.record_row(filed_row)
            filed.append(filed_row)
            self.filed[row.id] = filed_row
        return filed

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> BatchReport:
        """Run the batch to its end from synchronous code (its own event loop)."""
        return anyio.run(self.arun)

    async def arun(self) -> BatchReport:
        """Run every row (see the module docstring) and return the report."""
        filed = await anyio.to_thread.run_sync(self.plan)
        run = self._run_state = _Run()
        for filed_row in filed:
            entry = self.ledger.get(filed_row.fingerprint)
            state = row_state(entry, filed_row.output)
            if state is RowState.HELD:
                state = RowState.QUEUED  # the cap may have changed: look again
            run.states[filed_row.row_id] = state
            if entry is not None and entry.task_id is not None and entry.status not in _FREE:
                run.reserved[filed_row.row_id] = _cost(entry.billed_seconds, filed_row.estimate)
                run.committed += run.reserved[filed_row.row_id]
                if entry.status is TaskStatus.SUCCEEDED:
                    run.billed += entry.billed_seconds or 0.0
        limiter = anyio.CapacityLimiter(self.concurrency)
        self._progress(None, None)
        own_pacer = self.client.pacer
        self.client.pacer = own_pacer or self.pacer  # the client's polls take turns too
        try:
            async with anyio.create_task_group() as group:
                for row in self.manifest.rows:
                    group.start_soon(self._row_under, limiter, row)
        finally:
            self.client.pacer = own_pacer
        reports = [
            run.reports.get(filed_row.row_id)
            or row_report(filed_row, self.ledger.get(filed_row.fingerprint))
            for filed_row in filed
        ]
        return BatchReport(tuple(reports), tuple(str(e) for e in self.manifest.errors))

    async def _row_under(self, limiter: anyio.CapacityLimiter, row: ManifestRow) -> None:
        async with limiter:
            await self._row(row)

    async def _row(self, row: ManifestRow) -> None:
        filed = self.filed[row.id]
        run = self._run_state
        if run.states.get(row.id) is RowState.SUCCEEDED:
            self._finish(row, RowState.SUCCEEDED, counted=True)
            return
        try:
            entry = self.ledger.get(filed.fingerprint)
            unsent = entry is None or entry.task_id is None
            if unsent and not await self._within_budget(row, filed):
                return
            observe = self._observer(row.id)
            async with self._slot(row):
                task = await self.client.submit(row.request, on_event=observe)
                self._set(row.id, _ROW_STATES.get(task.status, RowState.SUBMITTED))
                task = await self.client.wait(task, timeout=self.wait_timeout, on_event=observe)
            self._set(row.id, RowState.DOWNLOADING)
            await self.client.save(task, row.output, on_event=self.on_event)
        except SubmissionUncertainError as exc:
            self._finish(row, RowState.UNDECIDED, exc)
            return
        except TaskFailedError as exc:
            self._finish(row, RowState.FAILED, exc)
            return
        except VideoEditError as exc:
            self._finish(row, RowState.FAILED, exc)
            return
        self._finish(row, RowState.SUCCEEDED)

    @asynccontextmanager
    async def _slot(self, row: ManifestRow) -> AsyncIterator[None]:
        """One of the row's model's running slots (the creation's turn is the client's)."""
        async with self.pacer.slot(row.request.model_for(self.client.provider.encode_context())):
            yield

    async def _within_budget(self, row: ManifestRow, filed: LedgerRow) -> bool:
        """Reserve the row's estimate under the cap; hold the row if it would pass it."""
        if self.max_billed_seconds is None:
            return True
        async with self._budget_lock:
            run = self._run_state
            if filed.estimate is None:
                why = "its billable seconds cannot be estimated, and max_billed_seconds is set"
            elif run.committed + filed.estimate > self.max_billed_seconds:
                why = (
                    f"it would bill up to {filed.estimate:g} s, taking the batch to "
                    f"{run.committed + filed.estimate:g} s, past max_billed_seconds "
                    f"({self.max_billed_seconds:g} s)"
                )
            else:
                run.committed += filed.estimate
                run.reserved[row.id] = filed.estimate
                return True
        model = row.request.model_for(self.client.provider.encode_context())
        self.ledger.record_intent(filed.fingerprint, self.client.provider_id, model, row.request)
        self.ledger.hold(filed.fingerprint, why)
        self._finish(row, RowState.HELD, error=f"not submitted: {why}", code="OverBudget")
        return False

    # -- bookkeeping -----------------------------------------------------------------------------
    def _observer(self, row_id: str) -> Callable[[TaskEvent], None]:
        """The row's task events: its state follows the task's, then the caller's callback."""

        def observe(event: TaskEvent) -> None:
            if event.kind is EventKind.STATUS_CHANGED and event.task is not None:
                state = _ROW_STATES.get(event.task.status)
                if state is not None:
                    self._set(row_id, state)
            if self.on_event is not None:
                self.on_event(event)

        return observe

    def _set(self, row_id: str, state: RowState) -> None:
        if self._run_state.states.get(row_id) is not state:
            self._run_state.states[row_id] = state
            self._progress(row_id, state)

    def _finish(
        self,
        row: ManifestRow,
        state: RowState,
        exc: VideoEditError | None = None,
        *,
        error: str | None = None,
        code: str | None = None,
        counted: bool = False,
    ) -> None:
        filed = self.filed[row.id]
        entry = self.ledger.get(filed.fingerprint)
        extra: dict[str, Any] = {}
        if exc is not None:
            extra = {"error_code": exc.code or type(exc).__name__, "error": exc.message}
        elif error is not None:
            extra = {"error_code": code, "error": error}
        elif state is RowState.SUCCEEDED:
            extra = {"error_code": None, "error": None}
        self._run_state.reports[row.id] = row_report(filed, entry, state, **extra)
        billed = entry.billed_seconds if entry is not None else None
        run = self._run_state
        if state is RowState.SUCCEEDED and billed is not None and not counted:
            run.committed += billed - run.reserved.pop(row.id, 0.0)
            run.billed += billed
        elif state is RowState.FAILED and (
            entry is None or entry.task_id is None or entry.status in _FREE
        ):
            # Refused before it was sent, or failed or canceled there: failed tasks are free.
            run.committed -= run.reserved.pop(row.id, 0.0)
        self._set(row.id, state)

    def _progress(self, row_id: str | None, state: RowState | None) -> None:
        if self.on_progress is None:
            return
        run = self._run_state
        counts = Counter(s.value for s in run.states.values())
        finished_now = [r for r in run.reports.values() if r.state is not RowState.HELD]
        total = len(self.manifest.rows)
        done = sum(1 for s in run.states.values() if s.is_final)
        elapsed = time.monotonic() - run.started
        eta = None
        if finished_now and done < total:
            eta = elapsed / len(finished_now) * (total - done)
        elif done == total:
            eta = 0.0
        estimates = [f.estimate for f in self.filed.values() if f.estimate is not None]
        self.on_progress(
            BatchProgress(
                total=total,
                counts=dict(counts),
                billed_seconds=run.billed,
                estimate_seconds=sum(estimates) if estimates else None,
                elapsed=elapsed,
                eta_seconds=eta,
                row_id=row_id,
                state=state,
            )
        )


#: The row's state while its task is in each status (the end is decided by the save).
_ROW_STATES = {
    TaskStatus.PENDING: RowState.SUBMITTED,
    TaskStatus.RUNNING: RowState.RUNNING,
    TaskStatus.SUCCEEDED: RowState.DOWNLOADING,
}


#: Task statuses that bill nothing (documented: failed tasks are free).
_FREE = frozenset({TaskStatus.FAILED, TaskStatus.CANCELED})


def _cost(billed: float | None, estimate: float | None) -> float:
    if billed is not None:
        return billed
    return estimate or 0.0
