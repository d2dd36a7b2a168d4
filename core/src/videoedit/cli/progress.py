"""The progress display: status, elapsed time and progress, fed by the client's task events.

On a terminal one line is redrawn in place (and its clock keeps ticking between polls, which
are 15 s apart on the real services), the status in colour (``cli/style.py``: not with
``NO_COLOR``) and a bar beside the percentage where the provider reports one; elsewhere (a
CI log, a pipe) a line is written per change of status and per tenth of progress, so a log
stays short. The task id is written the moment the task exists, so that an interrupted
command never loses it. The save is not announced here: the result says where it went.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from videoedit.cli.output import Console
from videoedit.cli.style import Style
from videoedit.events import EventKind, TaskEvent
from videoedit.task import Task

if TYPE_CHECKING:
    from videoedit.batch import BatchProgress

__all__ = ["BatchProgressView", "Progress"]

_TICK = 0.25
_SPINNER = "|/-\\"
_BAR = 20


class Progress:
    """A ``TaskEvent`` callback that draws progress on the console's stderr.

    ``task_id`` holds the id as soon as a submission or a poll names it (the command reads
    it when interrupted); ``on_submitted`` is called once with the new task.
    """

    def __init__(
        self,
        console: Console,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_submitted: Callable[[Task], None] | None = None,
    ) -> None:
        self.console = console
        self.clock = clock
        self.started = clock()
        self.task_id: str | None = None
        self.last: Task | None = None
        self.on_submitted = on_submitted
        self._live = console.interactive and not console.quiet
        self.style = Style.for_stream(console.err)
        self._lock = threading.Lock()
        self._line = ""
        self._shown: tuple[str, int] | None = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._frame = 0

    # -- the callback -----------------------------------------------------------------------
    def __call__(self, event: TaskEvent) -> None:
        if event.task is not None:
            self.task_id = event.task.task_id
        kind = event.kind
        if kind is EventKind.UPLOADED:
            self._print(f"uploaded   {event.detail}")
        elif kind is EventKind.SUBMITTED and event.task is not None:
            self.last = event.task
            self._print(
                f"submitted  task {event.task.task_id} to {event.provider} ({event.task.status})"
            )
            if self.on_submitted is not None:
                self.on_submitted(event.task)
            self._status(event.task)
        elif kind in (EventKind.POLLED, EventKind.STATUS_CHANGED) and event.task is not None:
            self._status(event.task)
        elif kind is EventKind.RETRYING:
            delay = f" in {event.delay:.1f} s" if event.delay is not None else ""
            self._print(f"retrying   after {event.error or 'an error'}{delay}")
        elif kind is EventKind.FINISHED and event.task is not None:
            self._status(event.task)
            self.finish()

    # -- drawing ------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.clock() - self.started

    def _describe(self, task: Task) -> str:
        status = task.status.value
        parts = [self.style.status(f"{status:<9}", status), f"{self.elapsed():6.1f} s"]
        if task.progress is not None:
            if self._live:
                done = round(task.progress * _BAR)
                parts.append("[" + "#" * done + " " * (_BAR - done) + "]")
            parts.append(f"{task.progress:4.0%}")
        return "  ".join(parts)

    def _status(self, task: Task) -> None:
        self.last = task
        if self.console.quiet:
            return
        if self._live:
            with self._lock:
                self._line = self._describe(task)
                self._redraw()
            self._start_ticker()
            return
        # A log line per new status and per tenth of progress.
        tenth = int((task.progress or 0.0) * 10)
        shown = (task.status.value, tenth)
        if shown != self._shown:
            self._shown = shown
            self.console.say(f"status     {self._describe(task)}")

    def _redraw(self) -> None:
        spinner = _SPINNER[self._frame % len(_SPINNER)]
        self.console.err.write(f"\r\x1b[K{spinner} {self._line}")
        self.console.err.flush()

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return

        def tick() -> None:
            while not self._stop.wait(_TICK):
                with self._lock:
                    if self.last is None or self._stop.is_set():
                        continue
                    self._frame += 1
                    self._line = self._describe(self.last)
                    self._redraw()

        self._ticker = threading.Thread(target=tick, name="videoedit-progress", daemon=True)
        self._ticker.start()

    def _print(self, text: str) -> None:
        if self.console.quiet:
            return
        with self._lock:
            if self._live and self._line:
                self.console.err.write("\r\x1b[K")
            self.console.say(text)
            if self._live and self._line:
                self._redraw()

    def finish(self) -> None:
        """Stop redrawing and end the status line (idempotent)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
            self._ticker = None
        with self._lock:
            if self._live and self._line:
                self.console.err.write("\n")
                self.console.err.flush()
            self._line = ""


class BatchProgressView:
    """One display for a whole batch, fed `BatchProgress` updates.

    On a terminal one line is redrawn: rows done of all, the count in each state, billed
    seconds so far and the ETA. Elsewhere a line is written per row that changes state, so a
    CI log tells what happened to each row.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live = console.interactive and not console.quiet
        self._lock = threading.Lock()
        self._drawn = False

    def __call__(self, progress: BatchProgress) -> None:
        if self.console.quiet:
            return
        done = sum(n for state, n in progress.counts.items() if state in _FINAL)
        counts = "  ".join(f"{state} {n}" for state, n in sorted(progress.counts.items()))
        eta = "" if progress.eta_seconds is None else f"  ETA {progress.eta_seconds:.0f} s"
        line = f"batch  {done}/{progress.total} done  {counts}  billed {progress.billed_seconds:g} s{eta}"
        with self._lock:
            if self._live:
                self.console.err.write(f"\r\x1b[K{line}")
                self.console.err.flush()
                self._drawn = True
            elif progress.row_id is not None and progress.state is not None:
                self.console.say(f"row        {progress.row_id} {progress.state.value}  ({line})")

    def finish(self) -> None:
        with self._lock:
            if self._live and self._drawn:
                self.console.err.write("\n")
                self.console.err.flush()
                self._drawn = False


_FINAL = ("SUCCEEDED", "FAILED", "HELD", "UNDECIDED")
