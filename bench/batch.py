"""Batch: 500 edits through ``videoedit.Batch`` against an emulator that enforces the quotas.

The emulator (a process of its own) enforces DashScope's 20 task queries a second per key
and makes every task take 2 s (``progression seconds=2``). The edits are tiny: a 2 s 720P
edit of one synthesized clip, one prompt, each row a seed of its own, so that every row is
an edit of its own to the ledger while the renderer renders once (its cache), and no render
capacity comes into it: the bound is the account's quotas.

The bound: for each quota, the edits a second it allows at best. wan2.7-videoedit has no
creation or concurrency quota; the query quota allows 20 edits a second at best, since an
edit needs at least one query to be seen ended. So the bound is ``min(creations a second,
queries a second / 1, running slots / task seconds)`` over the quotas the provider declares,
and the figure is the steady throughput (files saved a second, from the first file to the
last) divided by it; the whole run (planning, creations and the first task's seconds
included) is printed beside it against ``count / bound + task seconds``. All rows run at once (``concurrency`` 500): to drive a query quota of
Q, a batch needs about Q × the task time of rows under way, and more rows under way means
fewer polls each.

Also printed: the 429s the batch met (its RETRYING events for ``RateLimitError``: any would
be our pacing's fault, since nothing else calls this emulator), the polls per edit, the
client's CPU per edit, and the ledger's writes: every call the batch made to a writing
method of the ``Ledger``, replayed in the same order one at a time on a fresh ledger and
timed, summed per edit, the median over the edits (the same calls timed inside the batch
are printed too: there they also wait for one another on the ledger's lock).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.common import KEY, Emulator, Report, median, work_dir

__all__ = ["run"]

TARGET = 0.90
LEDGER_TARGET_MS = 1.0
TASK_SECONDS = 2.0
PROVIDER = "dashscope-singapore"
MODEL = "wan2.7-videoedit"
#: Ledger methods that write, and how each names the edit it writes for.
_WRITES: dict[str, Callable[[tuple[Any, ...]], str]] = {
    "record_intent": lambda a: str(a[0]),
    "claim": lambda a: str(a[0]),
    "record_task": lambda a: str(a[0]),
    "record_failure": lambda a: str(a[0]),
    "record_status": lambda a: "task:" + str(a[0].task_id),
    "record_saved": lambda a: "task:" + str(a[1]),
    "record_row": lambda a: str(a[0].fingerprint),
}


def run(count: int = 500) -> Report:
    report = Report(
        f"batch: {count} edits through videoedit.Batch under DashScope's quotas",
        "make bench BENCH=batch   (or: uv run --no-sync python -m bench batch)",
    )
    import anyio

    import videoedit
    from videoedit.batch import Batch
    from videoedit.events import EventKind, TaskEvent
    from videoedit.manifest import read_manifest

    with work_dir("batch") as tmp:
        manifest_path = tmp / "edits.jsonl"
        manifest_path.write_text(
            "".join(
                json.dumps(
                    {
                        "id": f"row{n}",
                        "video": "https://example.invalid/clip.mp4",
                        "prompt": "claymation, warm light",
                        "resolution": "720P",
                        "duration": 2,
                        "seed": n,
                    }
                )
                + "\n"
                for n in range(count)
            )
        )
        manifest = read_manifest(manifest_path, provider=PROVIDER, output_dir=tmp / "out")
        serve = ("--task-queries-per-second", "20", "--progression", f"seconds={TASK_SECONDS:g}")
        with Emulator(*serve) as emulator:
            client = videoedit.AsyncClient(
                PROVIDER,
                base_url=emulator.base_url(PROVIDER),
                api_key=KEY,
                ledger=tmp / "edits.ledger",
            )
            writes = _time_writes(client.ledger)
            quotas = client.provider.quotas
            throttled = 0
            polls = 0
            saved_at: list[float] = []

            def on_event(event: TaskEvent) -> None:
                nonlocal throttled, polls
                if event.kind is EventKind.RETRYING and event.error == "RateLimitError":
                    throttled += 1
                elif event.kind is EventKind.POLLED:
                    polls += 1
                elif event.kind is EventKind.SAVED:
                    saved_at.append(time.perf_counter())

            batch = Batch(client, manifest, concurrency=count, on_event=on_event)
            cpu_before, started = _own_cpu(), time.perf_counter()

            async def main() -> Any:
                async with client:
                    return await batch.arun()

            result = anyio.run(main)
            wall = time.perf_counter() - started
            cpu = _own_cpu() - cpu_before
        alone = _replay(writes, videoedit.Ledger(tmp / "replay.ledger"))
    saved = result.counts.get("SUCCEEDED", 0)
    bound, binding = _bound(quotas, MODEL, TASK_SECONDS)
    steady = (len(saved_at) - 1) / (max(saved_at) - min(saved_at)) if len(saved_at) > 1 else 0.0
    report.add("rows saved", f"{saved}/{count}", f"{count}/{count}", saved == count)
    report.add(
        "throughput / quota bound",
        f"{steady / bound:.0%}",
        f">= {TARGET:.0%}",
        steady / bound >= TARGET,
        f"{steady:.2f} edits/s from the first file saved to the last; bound {bound:g} "
        f"edits/s, set by {binding}",
    )
    ideal = count / bound + TASK_SECONDS
    report.add(
        "whole run / ideal",
        f"{ideal / wall:.0%}",
        "",
        None,
        f"{wall:.1f} s from the first row planned to the last file, against {ideal:.1f} s "
        f"({count} edits at the bound, after one task's {TASK_SECONDS:g} s); the rest is "
        "planning (fingerprints, ledger) and the creations",
    )
    report.add("429s met (caused by our pacing)", str(throttled), "0", throttled == 0)
    report.add("polls per edit", f"{polls / count:.2f}", "", None, "1 is the least an edit needs")
    report.add(
        "client CPU per edit",
        f"{cpu / count * 1000:.1f} ms",
        "",
        None,
        f"{cpu:.1f} CPU-s in all, plan, ledger and downloads included",
    )
    per_edit, per_call = _per_edit(alone)
    ledger_ms = median(per_edit) * 1000
    claims = [seconds for name, _, seconds, _ in alone if name == "claim"]
    report.add(
        "ledger writes per edit (median)",
        f"{ledger_ms:.2f} ms",
        f"< {LEDGER_TARGET_MS:g} ms",
        ledger_ms < LEDGER_TARGET_MS,
        f"the batch's {len(per_call)} writes replayed one by one on a fresh ledger: "
        f"{len(per_call) / count:.1f} an edit, median {median(per_call) * 1000:.3f} ms each; "
        f"the claim (synchronous=FULL, an fsync) median {median(claims) * 1000:.2f} ms",
    )
    in_batch, _ = _per_edit(writes)
    report.add(
        "ledger writes per edit, in the batch",
        f"{median(in_batch) * 1000:.2f} ms",
        "",
        None,
        "wall time of each call among 500 rows at once: waits for the ledger's lock included",
    )
    report.note(
        f"emulator: {quotas.queries_per_second} task queries/s per key enforced, tasks of "
        f"{TASK_SECONDS:g} s, one render (cache); concurrency {count}"
    )
    return report


def _bound(quotas: Any, model: str, task_seconds: float) -> tuple[float, str]:
    """The edits a second the provider's quotas allow at best, and the quota that sets it."""
    limits: list[tuple[float, str]] = []
    for scope in (quotas, quotas.for_model(model)):
        if scope is None:
            continue
        if scope.creates_per_second:
            limits.append((float(scope.creates_per_second), "creations a second"))
        if scope.queries_per_second:
            limits.append((float(scope.queries_per_second), "task queries a second (one an edit)"))
        if scope.running:
            limits.append((scope.running / task_seconds, "tasks at once / task seconds"))
    return min(limits) if limits else (float("inf"), "nothing")


def _time_writes(ledger: Any) -> list[tuple[str, str, float, tuple[Any, ...]]]:
    """Wrap the ledger's writing methods on this instance; the list fills as they run."""
    calls: list[tuple[str, str, float, tuple[Any, ...]]] = []
    for name, key in _WRITES.items():
        original = getattr(ledger, name)

        def timed(*args: Any, _original: Any = original, _name: str = name, _key: Any = key) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args)
            finally:
                calls.append((_name, _key(args), time.perf_counter() - started, args))

        setattr(ledger, name, timed)
    return calls


def _replay(
    calls: list[tuple[str, str, float, tuple[Any, ...]]], ledger: Any
) -> list[tuple[str, str, float, tuple[Any, ...]]]:
    """The same writes, in the same order, one at a time on ``ledger``, each timed."""
    timed: list[tuple[str, str, float, tuple[Any, ...]]] = []
    with ledger:
        for name, key, _, args in calls:
            method = getattr(ledger, name)
            started = time.perf_counter()
            method(*args)
            timed.append((name, key, time.perf_counter() - started, args))
    return timed


def _per_edit(
    calls: list[tuple[str, str, float, tuple[Any, ...]]],
) -> tuple[list[float], list[float]]:
    """Write seconds summed per edit (task ids mapped to their edit), and each call's."""
    edit_of_task = {
        "task:" + str(args[1].task_id): str(args[0])
        for name, _, _, args in calls
        if name == "record_task"
    }
    totals: dict[str, float] = defaultdict(float)
    for _, key, seconds, _ in calls:
        totals[edit_of_task.get(key, key)] += seconds
    return list(totals.values()), [seconds for _, _, seconds, _ in calls]


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system
