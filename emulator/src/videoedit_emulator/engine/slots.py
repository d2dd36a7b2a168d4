"""Concurrency slots: the instant each waiting task starts, first come first served.

A model with a concurrency quota (wan2.1-vace-plus: 2 tasks at once) lets at most ``limit``
tasks of one group (realm and model family) hold a slot at any instant. A task that finds
every slot taken waits; it takes the next slot **the instant one frees** (a holder ends: it
succeeded, failed or was canceled), in order of arrival, and its progression counts from
that instant.

Start instants are a pure function of the holders' start and end instants, the waiter's
arrival and "now", never of who asked or when: a task that ends on its own clock (``seconds=S``,
or ``immediate`` once its MP4 exists) frees its slot at that moment whether or not anybody
polls it, and reading the control plane changes nothing. The engine (``tasks.py``, through ``scheduler.py``) asks on
every access, so a status query of any task sees the queue as it stands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Span", "next_start"]


@dataclass(frozen=True)
class Span:
    """A slot held from ``start`` until ``end`` (``None``: not known yet, so it holds on)."""

    start: float
    end: float | None

    def holds(self, instant: float) -> bool:
        return self.start <= instant and (self.end is None or instant < self.end)


def next_start(
    holders: Sequence[Span],
    *,
    arrival: float,
    limit: int,
    now: float,
    not_before: float = -math.inf,
) -> float | None:
    """The first instant in ``[max(arrival, not_before), now]`` at which fewer than ``limit``
    of ``holders`` hold a slot, or ``None`` when there is none yet (the task waits on).

    ``not_before`` is the start of the task ahead in the queue: first come, first served.
    The answer is either the earliest allowed instant or the end of a holder, the only
    instants at which a slot can free.
    """
    first = max(arrival, not_before)
    if first > now:
        return None
    ends = {s.end for s in holders if s.end is not None and first < s.end <= now}
    for instant in sorted({first, *ends}):
        if sum(1 for s in holders if s.holds(instant)) < limit:
            return instant
    return None
