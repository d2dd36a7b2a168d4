"""How often to poll and how to back off: small value objects a client is configured with."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["PollSchedule", "RetryPolicy", "is_loopback_url"]


@dataclass(frozen=True)
class PollSchedule:
    """Gaps between polls: ``first``, then each gap times ``factor``, capped at ``maximum``.

    The default suits the real services, where an edit takes one to five minutes and the docs
    suggest polling every 15 s. [`fast`][videoedit.policy.PollSchedule.fast] suits a loopback emulator, where a task may finish
    in a fraction of a second or, queued behind hundreds of others, in a minute.
    ``jitter`` spreads many clients' polls apart (a fraction of each gap). ``per_second``
    caps the polls a client makes per second over all the tasks it waits for at once: with
    *n* waits under way, no gap is shorter than *n* / ``per_second`` (``None``: no cap).
    """

    first: float = 2.0
    factor: float = 1.5
    maximum: float = 15.0
    jitter: float = 0.1
    per_second: float | None = None

    def __post_init__(self) -> None:
        if self.first < 0 or self.maximum < 0:
            raise ValueError("PollSchedule: first and maximum must be >= 0 seconds")
        if self.factor < 1:
            raise ValueError("PollSchedule: factor must be >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("PollSchedule: jitter must be in [0, 1)")
        if self.per_second is not None and not self.per_second > 0:
            raise ValueError("PollSchedule: per_second must be > 0 (or None for no cap)")

    @classmethod
    def fast(cls) -> PollSchedule:
        """For an emulator on this machine: 10 ms growing by a fifth per poll up to 2 s, and
        at most 100 polls a second from one client however many tasks it waits for.

        Each gap is about a fifth of the time waited so far, so the end of a task is seen
        at most ~20 % late, and the number of polls grows with the logarithm of the wait. A
        poll costs the client about a millisecond of CPU (more when the machine is busy
        rendering), which hundreds of waits polling as if alone would spend while their
        edits queue on the emulator's cores (docs/performance.md).
        """
        return cls(first=0.01, factor=1.2, maximum=2.0, jitter=0.1, per_second=100.0)

    def gaps(self, rng: random.Random | None = None) -> Iterator[float]:
        rand = rng or random
        gap = self.first
        while True:
            spread = gap * self.jitter
            yield max(0.0, gap + rand.uniform(-spread, spread)) if spread else gap
            gap = min(self.maximum, gap * self.factor)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of failed calls: full-jitter exponential backoff that defers to ``Retry-After``.

    ``max_attempts`` counts the first try. A ``Retry-After`` longer than ``max_retry_after``
    is not waited out: the [`RateLimitError`][videoedit.errors.RateLimitError] is raised instead, so a
    caller is never parked for an hour without knowing.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({500, 502, 503, 504}))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy: max_attempts must be >= 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy: delays must be >= 0 seconds")

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(max_attempts=1)

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (then the fast poll schedule is the default)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
