"""The account's task-query quota: DashScope answers 20 task queries a second per account.

The service's query page says "Query rate limit: 20 requests/s per account". Here an account
is an API key (the emulator knows no account above its keys). A query beyond the quota
within one second (a sliding window on the engine's clock, as the vace submission quota) is
refused with the engine's wire-neutral `ApiError` ``THROTTLED``, code
``Throttling.RateQuota`` and the service's message, and a ``Retry-After`` of the time until
the oldest query of the window leaves it; each adapter words it as its service does
(DashScope: HTTP 429 and ``{"request_id", "code", "message"}``). A refused query is not
counted: it was not served.

Which calls count: the task query (``GET /tasks/{id}``) only. Whether the service also counts
listings and cancellations against it is not documented; the client's pacer treats a
listing as a query too, which errs on the safe side.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from videoedit_emulator.engine.errors import ApiError, ErrorKind

__all__ = ["RATE_QUOTA_CODE", "RATE_QUOTA_MESSAGE", "QueryQuota"]

#: DashScope's code and message for a rate quota passed (API-FACTS.md, Errors).
RATE_QUOTA_CODE = "Throttling.RateQuota"
RATE_QUOTA_MESSAGE = "Requests rate limit exceeded, please try again later."


class QueryQuota:
    """At most ``per_second`` task queries per account in any second (``None``: no quota)."""

    def __init__(self, per_second: int | None, clock: Callable[[], float]) -> None:
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def spend(self, account: str) -> None:
        """Count one query of ``account``, or raise the 429 when its second is full."""
        if self.per_second is None:
            return
        with self._lock:
            now = self._clock()
            self._forget_idle(now)
            window = self._windows.get(account) or deque()
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.per_second:
                raise ApiError(
                    ErrorKind.THROTTLED,
                    RATE_QUOTA_MESSAGE,
                    code=RATE_QUOTA_CODE,
                    retry_after=max(0.0, window[0] + 1.0 - now),
                )
            window.append(now)
            self._windows.pop(account, None)
            self._windows[account] = window  # the dict stays ordered by last query

    def _forget_idle(self, now: float) -> None:
        """Drop the accounts with no query in the last second, oldest first.

        With no keys configured any key is accepted, so a client sending a new key with
        each query would otherwise grow this map (each key kept whole) for ever.
        """
        while self._windows:
            oldest = next(iter(self._windows))
            window = self._windows[oldest]
            if window and window[-1] > now - 1.0:
                return
            del self._windows[oldest]

    @property
    def accounts(self) -> int:
        """How many accounts it holds recent queries of (those of the last second)."""
        with self._lock:
            return len(self._windows)

    def clear(self) -> None:
        """Forget every account's recent queries (an engine reset)."""
        with self._lock:
            self._windows.clear()
