"""What the command line prints: JSON documents for scripts, short text for people.

Two streams, two audiences: stdout carries the result (one JSON document with ``--json``,
else a few lines of text), stderr carries progress, warnings and errors. So
``videoedit edit clip.mp4 --json > task.json`` stores a parseable document while the person at
the terminal still sees the progress.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from videoedit.cli.style import Style
from videoedit.errors import InvalidRequestError, RateLimitError, TransportError, VideoEditError
from videoedit.plugins import ProviderInfo
from videoedit.requests import EditRequest
from videoedit.task import Task, TaskPage, TaskResult, Usage

if TYPE_CHECKING:
    from videoedit.batch_report import BatchReport

__all__ = [
    "Console",
    "carried",
    "error_json",
    "page_json",
    "provider_json",
    "task_json",
    "task_lines",
]


def _when(value: datetime | None) -> str | None:
    """ISO 8601 in UTC: providers print their own zones; scripts should not have to."""
    if value is None:
        return None
    return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()


def local_time(value: datetime) -> str:
    """A time for a person: in the local zone, to the second."""
    return (value.astimezone() if value.tzinfo else value).isoformat(sep=" ", timespec="seconds")


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_seconds": usage.input_seconds,
        "output_seconds": usage.output_seconds,
        "total_seconds": usage.total_seconds,
        "video_count": usage.video_count,
        "short_side": usage.short_side,
        "cost": usage.cost,
    }


def result_json(result: TaskResult) -> dict[str, Any]:
    return {
        "video_url": result.video_url,
        "expires_at": _when(result.expires_at),
        "duration": result.duration,
        "usage": usage_json(result.usage),
        "metrics": dict(result.metrics),
    }


def task_json(task: Task) -> dict[str, Any]:
    """A task as a JSON-ready dict (the schema ``docs/cli.md`` documents)."""
    return {
        "task_id": task.task_id,
        "provider": task.provider,
        "status": task.status.value,
        "progress": task.progress,
        "request_id": task.request_id,
        "submitted_at": _when(task.submitted_at),
        "scheduled_at": _when(task.scheduled_at),
        "ended_at": _when(task.ended_at),
        "error": (
            {"code": task.error_code, "message": task.error_message}
            if task.error_code or task.error_message
            else None
        ),
        "result": result_json(task.result) if task.result is not None else None,
    }


def page_json(page: TaskPage) -> dict[str, Any]:
    return {
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "tasks": [task_json(t) for t in page.tasks],
    }


def provider_json(
    info: ProviderInfo, request_types: Sequence[type[EditRequest]] = ()
) -> dict[str, Any]:
    """One provider of the listing: never the key, only whether one is set."""
    return {
        "id": info.id,
        "aliases": list(info.aliases),
        "base_url": info.base_url,
        "description": info.description,
        "plugin": info.plugin,
        "api_key_env": list(info.api_key_env),
        "key_set": info.key_is_set,
        "request_types": [
            {"kind": kind.request_kind, "type": f"{kind.__module__}.{kind.__qualname__}"}
            for kind in request_types
        ],
    }


def carried(request_types: Sequence[type[EditRequest]]) -> str:
    """Request kinds for a person, one family each: ``wan2.1-vace-plus: video_edit, …``."""
    families: dict[str, list[str]] = {}
    for kind in request_types:
        family, _, variant = kind.request_kind.partition(" ")
        families.setdefault(family, [])
        if variant:
            families[family].append(variant)
    return (
        "; ".join(
            f"{family}: {', '.join(variants)}" if variants else family
            for family, variants in families.items()
        )
        or "-"
    )


def error_json(error: VideoEditError, exit_code: int, fix: str | None) -> dict[str, Any]:
    """An error as the JSON document a failed command prints on stdout with ``--json``."""
    out: dict[str, Any] = {
        "type": type(error).__name__,
        "message": error.message,
        "code": error.code,
        "provider": error.provider,
        "task_id": error.task_id,
        "request_id": error.request_id,
        "status_code": error.status_code,
        "hint": error.hint,
        "fix": fix,
        "exit_code": exit_code,
    }
    if isinstance(error, InvalidRequestError):
        out["field"] = error.field
        out["rule"] = error.rule
        out["errors"] = [{"field": f, "rule": r} for f, r in error.errors]
    if isinstance(error, RateLimitError):
        out["retry_after"] = error.retry_after
    if isinstance(error, TransportError) or getattr(error, "maybe_submitted", False):
        out["maybe_submitted"] = bool(getattr(error, "maybe_submitted", False))
    task = getattr(error, "task", None)
    if isinstance(task, Task):
        out["task"] = task_json(task)
    return {"error": out}


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n} bytes"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def task_lines(task: Task, saved: Path | None = None) -> list[str]:
    """A task for a person: one ``name: value`` line per fact that is known."""
    lines = [f"task      {task.task_id}", f"provider  {task.provider}", f"status    {task.status}"]
    if task.progress is not None and not task.is_done:
        lines.append(f"progress  {task.progress:.0%}")
    if task.submitted_at is not None:
        lines.append(f"submitted {local_time(task.submitted_at)}")
    if task.ended_at is not None:
        lines.append(f"ended     {local_time(task.ended_at)}")
    if task.error_code or task.error_message:
        lines.append(f"error     [{task.error_code or '-'}] {task.error_message or ''}".rstrip())
    if task.result is not None:
        result = task.result
        lines.append(f"video     {result.video_url}")
        if result.expires_at is not None:
            lines.append(f"expires   {local_time(result.expires_at)} (save it before then)")
        usage = result.usage
        if usage.total_seconds is not None or usage.output_seconds is not None:
            lines.append(
                f"usage     {_seconds(usage.total_seconds)} billed (input "
                f"{_seconds(usage.input_seconds)}, output {_seconds(usage.output_seconds)})"
            )
        elif usage.cost is not None:
            lines.append(f"usage     cost {usage.cost:g}")
    if task.request_id:
        lines.append(f"request   {task.request_id}")
    if saved is not None:
        lines.append(f"saved     {saved} ({_size(saved.stat().st_size)})")
    return lines


@dataclass
class Console:
    """Where a command writes: ``out`` for results, ``err`` for everything else."""

    json: bool = False
    quiet: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def result(self, document: Any, lines: Sequence[str] = ()) -> None:
        """The command's result: ``document`` as JSON, or ``lines`` as text."""
        if self.json:
            json.dump(document, self.out, indent=2, ensure_ascii=False)
            self.out.write("\n")
        else:
            for line in lines:
                self.out.write(line + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        """Progress and notices (stderr); silenced by ``--quiet``."""
        if not self.quiet:
            self.say(text)

    def say(self, text: str) -> None:
        """A line on stderr that is always shown (errors, resume commands)."""
        self.err.write(text + "\n")
        self.err.flush()

    @property
    def style(self) -> Style:
        """Colour for stderr's messages, when it is a terminal (see ``cli/style.py``)."""
        return Style.for_stream(self.err)

    @property
    def interactive(self) -> bool:
        """Whether stderr is a terminal (then progress redraws one line)."""
        isatty = getattr(self.err, "isatty", None)
        return bool(isatty and isatty())


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> list[str]:
    """Rows as aligned columns under ``headers`` (the last column is not padded)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    out = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)] + [str(row[-1])]
        out.append("  ".join(cells).rstrip())
    return out


def _billed(value: float | None) -> str:
    return "-" if value is None else f"{value:g} s"


def _against_estimate(report: BatchReport) -> str:
    """`` against X s estimated for those rows (Y s for all)``, where there are estimates."""
    estimate = report.estimate_seconds
    if estimate is None:
        return ""
    of_billed = report.estimate_of_billed
    if of_billed is None or of_billed == estimate:
        return f" (estimated {estimate:g} s)"
    return f" (estimated {of_billed:g} s for the rows billed, {estimate:g} s for all)"


def batch_report_lines(report: BatchReport) -> list[str]:
    """The report for a person: a row per edit, then the totals."""
    rows = [
        [
            row.row_id,
            row.state.value,
            row.task_id or "-",
            str(row.saved or row.output or "-"),
            _billed(row.billed_seconds),
            _billed(row.estimate_seconds)
            + ("" if row.estimate_exact in (None, True) else " (at most)"),
        ]
        for row in report.rows
    ]
    lines = table(rows, ["ROW", "STATE", "TASK", "FILE", "BILLED", "ESTIMATE"]) if rows else []
    for row in report.rows:
        if row.error:
            lines.append(f"{row.row_id}: [{row.error_code or '-'}] {row.error}")
    for row in report.rows:
        if row.over_estimate:
            lines.append(
                f"{row.row_id}: billed {row.billed_seconds:g} s, more than its estimate "
                f"({row.estimate_seconds:g} s)"
            )
    counts = ", ".join(f"{n} {state}" for state, n in report.counts.items()) or "no rows"
    lines.append(
        f"total     {len(report.rows)} row(s): {counts}; billed {report.billed_seconds:g} s"
        + _against_estimate(report)
    )
    if report.bad_rows:
        lines.append(f"bad rows  {len(report.bad_rows)} (not run; see the errors above)")
    return lines
