"""Time as the emulator sees it: injectable, so that expiry can be tested without waiting.

Every deadline in the emulator (task lifetime, result-link expiry, upload lifetime, the
"after S seconds" progression) reads one `Clock`. Production runs use
`SystemClock`; tests swap in a `ManualClock` and move it with ``advance``.
Times are epoch seconds (UTC), the unit OSS uses in its ``Expires=`` query parameter.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock time in epoch seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The machine's own clock."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that stands still until told to move (thread-safe).

    It starts at the real current time unless given ``start``, so that links it signs look
    current to a client that compares them with its own clock.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backward); return the new time."""
        if seconds < 0:
            raise ValueError("ManualClock.advance: seconds must be >= 0 (time does not go back)")
        with self._lock:
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self.now():.3f})"
