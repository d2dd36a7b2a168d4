"""What the console shows of a task: its table row, its timeline, the media it names.

Pure functions of the engine's `TaskView` and the journal's entries, so that the pages are
templates over plain data and the rules of what is shown can be tested without a server.
Nothing here escapes anything: the templates do (Jinja2 autoescape), for every value.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from videoedit_emulator.engine import TaskView
from videoedit_emulator.engine.sources import is_loopback_host
from videoedit_emulator.web.journal import JournalEntry

__all__ = [
    "MediaLink",
    "Moment",
    "TaskRow",
    "clock_time",
    "concerns",
    "media_links",
    "pretty_json",
    "task_row",
    "timeline",
]


def clock_time(epoch: float | None) -> str:
    """An instant of the emulator's clock, as UTC wall time to the millisecond."""
    if epoch is None:
        return ""
    whole = int(epoch)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{int((epoch - whole) * 1000):03d}"


@dataclass(frozen=True)
class TaskRow:
    """One line of the task table."""

    task_id: str
    provider: str
    model: str
    status: str
    progress_percent: int
    progression: str
    polls: int
    submitted: str
    billed_seconds: str


def task_row(view: TaskView) -> TaskRow:
    billed = "" if view.usage is None else f"{view.usage.total_seconds:g}"
    return TaskRow(
        task_id=view.task_id,
        provider=view.realm,
        model=view.model,
        status=view.status.value,
        progress_percent=round((view.progress or 0.0) * 100),
        progression=view.progression or "",
        polls=view.polls,
        submitted=clock_time(view.submitted_at),
        billed_seconds=billed,
    )


@dataclass(frozen=True)
class Moment:
    """One point of a task's life: a change of status, or a request that concerned it."""

    at: float
    offset: str
    what: str
    detail: str
    kind: str  # "change" (of status) or "request"
    seq: int | None = None
    #: Alike requests in a row (a poll loop) are one moment: how many, and the last one's offset.
    times: int = 1
    until: str = ""


def concerns(entry: JournalEntry, task_id: str) -> bool:
    """Whether a journal entry is about this task: its create, its polls, its downloads.

    A create is known by the id it handed out as its wire shows it, which may wrap the
    engine's (APIMart's ``task_<id>``); the other calls name the task in their path."""
    return task_id in (entry.task_id or "") or task_id in entry.path


def timeline(view: TaskView, entries: Iterable[JournalEntry]) -> list[Moment]:
    """The task's changes of status and the requests about it, in the order of the clock;
    alike requests in a row (a client polling) are one moment, counted, so that a task
    polled 5,000 times still has a timeline one can read (and render fast)."""
    start = view.submitted_at or 0.0
    raw: list[tuple[float, str, str, str, int | None]] = []
    if view.submitted_at is not None:
        raw.append((view.submitted_at, "PENDING", f"submitted as {view.model}", "change", None))
    if view.scheduled_at is not None:
        raw.append((view.scheduled_at, "RUNNING", "processing began", "change", None))
    if view.ended_at is not None:
        detail = {
            "SUCCEEDED": "the stand-in is ready",
            "FAILED": f"{view.error_code or ''} {view.error_message or ''}".strip(),
            "CANCELED": "canceled while PENDING",
        }.get(view.status.value, "")
        raw.append((view.ended_at, view.status.value, detail, "change", None))
    for entry in entries:
        if not concerns(entry, view.task_id):
            continue
        answered = "no answer (connection dropped)" if entry.status is None else str(entry.status)
        faults = ", ".join(f"fault {f['id']} ({f['kind']})" for f in entry.faults)
        detail = answered + (f"; {faults}" if faults else "")
        raw.append((entry.at, f"{entry.method} {entry.route}", detail, "request", entry.seq))
    # Status changes sort before a request of the same instant: the create made the task.
    raw.sort(key=lambda m: (m[0], m[3] != "request", m[4] or 0))
    moments: list[Moment] = []
    for at, what, detail, kind, seq in raw:
        last = moments[-1] if moments else None
        if (
            last is not None
            and kind == last.kind == "request"
            and (what, detail)
            == (
                last.what,
                last.detail,
            )
        ):
            moments[-1] = replace(last, times=last.times + 1, until=f"{at - start:+.3f} s")
            continue
        moments.append(Moment(at, f"{at - start:+.3f} s", what, detail, kind, seq))
    return moments


@dataclass(frozen=True)
class MediaLink:
    """A media URL a request named, and whether the browser can show it here.

    ``src`` is what a ``<video>`` or ``<img>`` may load (``None``: the URL is not on this
    machine, so the console only shows it, as the emulator drew a test pattern instead).
    """

    where: str
    url: str
    kind: str  # "video", "image" or "other"
    src: str | None


_VIDEO_EXT = (".mp4", ".mov", ".m4v", ".webm")
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{where}[{n}]")


def _kind(url: str, where: str) -> str:
    lowered = url.lower()
    if lowered.startswith("data:"):
        return "image" if lowered.startswith("data:image/") else "other"
    path = urlsplit(lowered).path
    if path.endswith(_VIDEO_EXT) or "video" in where.lower():
        return "video"
    if path.endswith(_IMAGE_EXT) or "image" in where.lower():
        return "image"
    return "other"


def media_links(body: Any, upload_src: str) -> list[MediaLink]:
    """Every media URL in a request body (any provider's shape), found by what it is.

    ``upload_src`` is the console's route to a stored upload (``oss://`` keys go after it).
    """
    found = []
    for where, value in _strings(body, ""):
        lowered = value[:16].lower()
        if not lowered.startswith(("http://", "https://", "oss://", "data:")):
            continue
        kind = _kind(value, where)
        src: str | None = None
        if lowered.startswith("oss://"):
            src = upload_src + value[len("oss://") :]
        elif lowered.startswith("data:"):
            src = value if kind == "image" else None
        elif is_loopback_host(urlsplit(value).hostname):
            src = value
        found.append(MediaLink(where, value, kind, src))
    return found


def pretty_json(value: Any) -> str:
    """JSON for a person to read (and for the template to escape)."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
