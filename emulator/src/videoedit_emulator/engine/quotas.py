"""A model's quotas, and the count of creations its rate quota is checked against.

A model handler may declare quotas (a ``limits`` attribute, see `Quotas`; wan2.1-vace-plus:
2 creations per second, 2 tasks at once). Quotas are counted per group: a realm and a model
family (`QuotaGroup`). The rate quota is enforced here (`SubmissionRates`); the concurrency
quota by the scheduler (``scheduler.py``), which makes the tasks beyond it wait PENDING.

Every quota the engine enforces lives in this module, so a new one (a per-account query
rate, say) is one more counter beside `SubmissionRates`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from videoedit_emulator.engine.errors import ApiError, ErrorKind

__all__ = ["QuotaGroup", "Quotas", "SubmissionRates", "group_of", "quotas_of"]

#: What a quota is counted per: (realm, model family).
QuotaGroup = tuple[str, str]


class Quotas(Protocol):
    """A model handler's optional ``limits`` attribute (e.g. wan2.1-vace-plus: 2 and 2).

    ``submissions_per_second``: task creations beyond it within one second (per realm and
    model family) are answered 429 ``Throttling.RateQuota`` with a ``Retry-After``.
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


class SubmissionRates:
    """The creations of the last second, per group (not thread-safe: the engine's lock guards it)."""

    def __init__(self) -> None:
        self._windows: dict[QuotaGroup, deque[float]] = {}

    def clear(self) -> None:
        self._windows.clear()

    def count(self, group: QuotaGroup, per_second: int, now: float) -> None:
        """Record a creation, or refuse it when ``per_second`` were made in the last second."""
        window = self._windows.setdefault(group, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= per_second:
            raise ApiError(
                ErrorKind.THROTTLED,
                "Requests rate limit exceeded, please try again later.",
                code="Throttling.RateQuota",
                retry_after=max(0.0, window[0] + 1.0 - now),
            )
        window.append(now)
