"""Submission through a ledger: never a creation twice, never a task lost.

`LedgeredSubmit` wraps `Operations.submit`
(and so its one retry loop) with the ledger's steps: file the intent, claim the edit just
before the creation leaves, record the task id the moment it is known. An edit the ledger
already has a task for is not sent again: its task is returned. An edit whose creation may
have reached the service (found ``sending`` after a crash, or ``maybe_submitted`` after a
timeout) is *reconciled* from the provider's task listing where it has one: the tasks of the
same model created around the time it was sent, not claimed by another entry, and with the
same prompt where the listing shows prompts. Exactly one such task is adopted; none, once the
creation is old enough to have arrived (`SETTLE_SECONDS`), means it never arrived and
the edit is sent; several, or no listing at all, and the user decides
([`SubmissionUncertainError`][videoedit.errors.SubmissionUncertainError], `Ledger.resolve`).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from functools import partial

from videoedit._flows import Blocking, EventCallback, Flow, Operations, Sleep
from videoedit.errors import (
    SubmissionUncertainError,
    UnsupportedOperationError,
    VideoEditError,
)
from videoedit.events import EventKind, TaskEvent
from videoedit.fingerprint import fingerprint
from videoedit.ledger import EditState, Ledger, LedgerEntry
from videoedit.provider import ListQuery
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskStatus

__all__ = ["SETTLE_SECONDS", "LedgeredSubmit", "ledger_observer"]

#: A creation sent this long ago has reached the service if it ever will: a listing that
#: does not show it by then means it was never made.
SETTLE_SECONDS = 5.0
#: How far the service's clock and ours may differ when matching creation times.
CLOCK_SKEW = timedelta(minutes=5)
_PAGE_SIZE = 100
_MAX_PAGES = 10


def ledger_observer(ledger: Ledger) -> EventCallback:
    """An ``on_event`` callback writing each status change, the usage, the link's expiry and
    each saved file into ``ledger`` (tasks it does not hold are ignored)."""

    def observe(event: TaskEvent) -> None:
        task = event.task
        if task is None:
            return
        if event.kind in (EventKind.STATUS_CHANGED, EventKind.FINISHED):
            ledger.record_status(task)
        elif event.kind is EventKind.SAVED and event.detail:
            from pathlib import Path

            ledger.record_saved(task.provider, task.task_id, Path(event.detail))

    return observe


class LedgeredSubmit:
    """The submit flow of a client that has a ledger (see the module docstring)."""

    def __init__(self, ops: Operations, ledger: Ledger) -> None:
        self.ops = ops
        self.ledger = ledger

    @property
    def provider_id(self) -> str:
        return self.ops.provider.id

    def fingerprint_of(self, request: EditRequest) -> str:
        model = request.model_for(self.ops.provider.encode_context())
        return fingerprint(self.provider_id, model, request)

    def submit(self, request: EditRequest, callback: EventCallback | None) -> Flow[Task]:
        model = request.model_for(self.ops.provider.encode_context())
        fp: str = yield Blocking(lambda: fingerprint(self.provider_id, model, request))
        entry = self.ledger.get(fp)
        if entry is None:
            entry = yield Blocking(
                lambda: self.ledger.record_intent(fp, self.provider_id, model, request)
            )
        assert entry is not None
        if entry.task_id is not None:
            return entry.task()
        if entry.state.uncertain:
            found = yield from self.reconcile(entry, callback)
            if found is not None:
                return found

        def claim() -> None:
            if not self.ledger.claim(fp):
                raise SubmissionUncertainError(
                    f"edit {fp[:12]} is being submitted by another process on ledger "
                    f"{str(self.ledger.path)!r}; it is not sent twice",
                    fingerprint=fp,
                    provider=self.provider_id,
                    code="AlreadyClaimed",
                )

        try:
            task = yield from self.ops.submit(request, callback, before_create=claim)
        except SubmissionUncertainError:
            raise
        except VideoEditError as exc:
            failure = exc
            if _sent(self.ledger, fp):
                yield Blocking(lambda: self.ledger.record_failure(fp, failure))
            raise
        yield Blocking(lambda: self.ledger.record_task(fp, task))
        return task

    # -- reconciliation ------------------------------------------------------------------------
    def reconcile(self, entry: LedgerEntry, callback: EventCallback | None) -> Flow[Task | None]:
        """The task an uncertain creation made, or ``None`` when it made none (the edit may
        be sent); raises [`SubmissionUncertainError`][videoedit.SubmissionUncertainError] when that cannot be told."""
        fp = entry.fingerprint
        if entry.state is EditState.NEEDS_DECISION:
            raise self._undecided(entry, entry.error_message or "it needs your decision")
        sent_at = entry.sending_at or entry.updated_at
        for look in range(2):
            try:
                candidates = yield from self._candidates(entry, sent_at)
            except UnsupportedOperationError:
                why = (
                    f"{self.provider_id} has no task listing to look for it in: check the "
                    "provider's console"
                )
                yield Blocking(partial(self.ledger.needs_decision, fp, why))
                raise self._undecided(entry, why) from None
            if len(candidates) == 1:
                task = candidates[0]
                yield Blocking(partial(self.ledger.record_task, fp, task))
                self.ledger.record_status(task)
                return task
            if len(candidates) > 1:
                ids = tuple(t.task_id for t in candidates)
                why = f"{len(ids)} tasks in the listing could be it ({', '.join(ids)})"
                yield Blocking(partial(self.ledger.needs_decision, fp, why))
                raise self._undecided(entry, why, ids)
            age = time.time() - sent_at
            if age >= SETTLE_SECONDS:
                yield Blocking(lambda: self.ledger.resolve(fp))
                return None
            if look == 0:
                yield Sleep(SETTLE_SECONDS - age)  # let a creation still in transit arrive
        return None  # pragma: no cover - the second look always decides

    def _candidates(self, entry: LedgerEntry, sent_at: float) -> Flow[list[Task]]:
        sent = datetime.fromtimestamp(sent_at, timezone.utc)
        query_start = sent - CLOCK_SKEW
        query_end = datetime.now(timezone.utc) + CLOCK_SKEW
        claimed = self.ledger.known_task_ids(self.provider_id)
        found: list[Task] = []
        for page in range(1, _MAX_PAGES + 1):
            listing = yield from self.ops.list(
                ListQuery(page, _PAGE_SIZE, None, entry.model, query_start, query_end)
            )
            for task in listing.tasks:
                if task.task_id not in claimed and _matches(task, entry, sent):
                    found.append(task)
            if len(listing.tasks) < _PAGE_SIZE:
                break
        return found

    def _undecided(
        self, entry: LedgerEntry, why: str, candidates: tuple[str, ...] = ()
    ) -> SubmissionUncertainError:
        return SubmissionUncertainError(
            f"edit {entry.fingerprint[:12]} may already have been submitted to "
            f"{self.provider_id} and the ledger cannot tell: {why}. It is not sent again, "
            "so that it is not billed twice",
            fingerprint=entry.fingerprint,
            candidates=candidates,
            provider=self.provider_id,
            code="NeedsDecision",
            hint=(
                "if a task was made, adopt it: videoedit batch resolve FINGERPRINT --task ID "
                "(Ledger.resolve(fingerprint, task_id=...)); if none was, allow a new "
                "submission: videoedit batch resolve FINGERPRINT --resubmit"
            ),
        )


def _sent(ledger: Ledger, fp: str) -> bool:
    """Whether the claim was made (the failure came after it: the creation left)."""
    entry = ledger.get(fp)
    return entry is not None and entry.state is EditState.SENDING


def _matches(task: Task, entry: LedgerEntry, sent: datetime) -> bool:
    output = task.raw.get("output", task.raw)
    model = output.get("model_name") if hasattr(output, "get") else None
    if isinstance(model, str) and model != entry.model:
        return False
    prompt = output.get("orig_prompt") if hasattr(output, "get") else None
    if isinstance(prompt, str) and entry.prompt is not None and prompt != entry.prompt:
        return False
    if task.status is TaskStatus.UNKNOWN:
        return False
    when = task.submitted_at
    if when is not None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        if not sent - CLOCK_SKEW <= when <= sent + CLOCK_SKEW:
            return False
    return True
