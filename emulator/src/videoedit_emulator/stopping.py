"""How ``videoedit-emulator serve`` stops on SIGTERM and SIGINT: cleanly, quietly, and then
of the signal it was sent.

systemd, Docker and CI stop a server with SIGTERM; a person stops it with Ctrl-C (SIGINT).
While uvicorn serves, it handles both itself (it stops accepting and finishes the answers
under way), then raises the signal again for the handler that was there before it. Left to
Python's defaults, that second delivery killed the process on the spot for SIGTERM (no
``finally`` ran: uploads, results, inputs and the render cache stayed in the temp dir) and
raised ``KeyboardInterrupt`` for SIGINT (a traceback on stderr).

`StopSignals` is that handler: it only records the signal and asks the server to
stop (a signal that comes before uvicorn took over, or after it let go, stops it all the
same), so the storage is always deleted. Then `die_of` ends the process of the signal,
as an unhandled one would have: the parent sees "terminated by SIGTERM" (what systemd counts
as a clean stop; a shell reports 143, or 130 after Ctrl-C), and nothing is printed.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

__all__ = ["STOP_SIGNALS", "StopSignals", "die_of"]

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While entered, SIGINT and SIGTERM are recorded in `received` and call the
    callbacks given to `on_stop`, instead of killing the process or raising.

    Outside the main thread (``main()`` run by a test in a worker) it does nothing: only the
    main thread may set signal handlers, and uvicorn then leaves signals alone as well.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._callbacks: list[Callable[[], object]] = []
        self._previous: dict[signal.Signals, Any] = {}

    def on_stop(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when a stop signal comes (at once if one came already)."""
        self._callbacks.append(callback)
        if self.received is not None:
            callback()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)
        for callback in self._callbacks:
            callback()

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}


def die_of(sig: signal.Signals) -> int:
    """End the process of ``sig`` with its default action (termination, no core dump, no
    output); where that does not happen, return the status a shell would show (128 + n)."""
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream: there is nothing more to say on it anyway.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if threading.current_thread() is threading.main_thread():
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)
    return 128 + int(sig)
