"""Every quota the engine enforces: a model's creations and tasks at once, an account's queries.

A model handler may declare quotas (a ``limits`` attribute, see `Quotas`; wan2.1-vace-plus:
2 creations per second, 2 tasks at once). They are counted per group: a realm and a model
family (`QuotaGroup`). The rate quota is enforced here (`SubmissionRates`); the concurrency
quota by the scheduler (``scheduler.py``), which makes the tasks beyond it wait PENDING.

The account's task-query quota (`QueryQuota`): DashScope answers 20 task queries a second per
account ("Query rate limit: 20 requests/s per account"). Here an account is an API key (the
emulator knows no account above its keys). Which calls count: the task query
(``GET /tasks/{id}``) only; whether the service also counts listings and cancellations is not
documented (the client's pacer treats a listing as a query too, which errs on the safe side).

Both rates are sliding windows of one second on the engine's clock (`RateWindows`). A call
beyond one is refused with the engine's wire-neutral `ApiError` ``THROTTLED``, reason
``RATE_QUOTA``, and a ``Retry-After`` of the time until the oldest call of the window leaves
it; each adapter words it as its service does (DashScope: HTTP 429 ``Throttling.RateQuota``,
"Requests rate limit exceeded, please try again later."). A refused call is not counted: it
was not served.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason

__all__ = [
    "QueryQuota",
    "QuotaGroup",
    "Quotas",
    "RateWindows",
    "SubmissionRates",
    "group_of",
    "quotas_of",
]

#: What a quota is counted per: (realm, model family).
QuotaGroup = tuple[str, str]


class Quotas(Protocol):
    """A model handler's optional ``limits`` attribute (e.g. wan2.1-vace-plus: 2 and 2).

    ``submissions_per_second``: task creations beyond it within one second (per realm and
    model family) are refused (``Reason.RATE_QUOTA``, a 429) with a ``Retry-After``.
    ``concurrent``: tasks beyond it wait PENDING, first come first served, until one ends;
    a task's progression starts the instant it leaves that queue. ``None`` lifts a limit.
    """

    @property
    def submissions_per_second(self) -> int | None: ...

    @property
    def concurrent(self) -> int | None: ...


def quotas_of(handler: Any) -> Quotas | None:
    """The quotas a model handler declares, if any."""
    limits: Quotas | None = getattr(handler, "limits", None)
    return limits


def group_of(realm: str, handler: Any) -> QuotaGroup:
    """The group a creation of ``handler``'s models in ``realm`` counts against."""
    return (realm, type(handler).__name__)


class RateWindows:
    """The calls of the last second, per key (not thread-safe: its owner's lock guards it)."""

    def __init__(self) -> None:
        self._windows: dict[Hashable, deque[float]] = {}

    def clear(self) -> None:
        self._windows.clear()

    def __len__(self) -> int:
        """How many keys it holds calls of (those of the last second)."""
        return len(self._windows)

    def count(self, key: Hashable, per_second: int, now: float) -> None:
        """Record a call of ``key``, or refuse it when ``per_second`` were made in the last second."""
        self._forget_idle(now)
        window = self._windows.get(key) or deque()
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= per_second:
            raise ApiError(
                ErrorKind.THROTTLED,
                f"more than {per_second} calls in one second",
                reason=Reason.RATE_QUOTA,
                retry_after=max(0.0, window[0] + 1.0 - now),
            )
        window.append(now)
        self._windows.pop(key, None)
        self._windows[key] = window  # the dict stays ordered by last call

    def _forget_idle(self, now: float) -> None:
        """Drop the keys with no call in the last second, oldest first.

        With no API keys configured any key is accepted, so a client sending a new key with
        each query would otherwise grow this map (each key kept whole) for ever.
        """
        while self._windows:
            oldest = next(iter(self._windows))
            window = self._windows[oldest]
            if window and window[-1] > now - 1.0:
                return
            del self._windows[oldest]


#: The creations of the last second, per group (the engine's lock guards it).
SubmissionRates = RateWindows


class QueryQuota:
    """At most ``per_second`` task queries per account in any second (``None``: no quota)."""

    def __init__(self, per_second: int | None, clock: Callable[[], float]) -> None:
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._windows = RateWindows()

    def spend(self, account: str) -> None:
        """Count one query of ``account``, or raise the 429 when its second is full."""
        if self.per_second is None:
            return
        with self._lock:
            self._windows.count(account, self.per_second, self._clock())

    def clear(self) -> None:
        """Forget every account's recent queries (an engine reset)."""
        with self._lock:
            self._windows.clear()

    @property
    def accounts(self) -> int:
        """How many accounts it holds recent queries of (those of the last second)."""
        with self._lock:
            return len(self._windows)
