"""``Pacer``: a provider's documented quotas as turns and slots, so a batch stays under them.

A batch that polls hundreds of tasks would otherwise find the account's quotas by bouncing
off them (DashScope: 20 task queries a second per account; wan2.1-vace-plus: 2 creations a
second, 2 tasks at once), paying a 429, a pause and a repeat for every request too many.

**Rates** (creations, queries). Each quota of N turns a second is a bucket of N tokens: a
turn takes one, and that token comes back one ``window`` after it was taken (a second plus
a small ``margin``), and turns are spread evenly over it. That keeps to the service's own
rule, at most N in any second, at the service's end of the wire: a turn's token counts
from the instant its answer came back (`Ticket.done`), which is never before the request
arrived, so a request delayed on the way (a busy event loop, a slow connection) cannot
land in the same second as N later ones. A caller *reserves* its turn under one lock, learns the instant it comes and
sleeps until then: no polling loop, no busy waiting, and no later caller can be given an
earlier instant (first come, first served). A creation of a model with its own quota takes
one instant that suits both buckets, the account's and the model's. A reserved turn whose
caller gives up (a cancelled wait) is simply not used: the pacer errs on the slow side.

**Slots** (tasks under way at once). `slot` is an async context manager holding one of the
model's running slots (anyio semaphores, first come, first served); a batch holds it from a
row's creation to the end of its wait.

The rates are thread-safe: one pacer may serve a [`Client`][videoedit.Client] used from many
threads (`wait`) and an [`AsyncClient`][videoedit.AsyncClient] (`acquire`) at once. The clock
and the blocking sleep are injectable, for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import anyio

from videoedit.provider import Quotas

__all__ = ["DEFAULT_MARGIN", "Kind", "Pacer", "Ticket", "Turn"]

Kind = Literal["create", "query"]

#: Seconds added to each one-second window: loopback and network jitter stay under it.
DEFAULT_MARGIN = 0.05


@dataclass(frozen=True)
class Turn:
    """What a request spends: a turn of ``kind``, for ``model`` when the model has a quota."""

    kind: Kind
    model: str | None = None


class Ticket:
    """A turn given: when it is used, moved later when its caller woke late or its answer
    came late. Call `done` once the answer is in: until then the turn counts from the
    instant it was given, and from then on from the answer's arrival, which is never
    earlier than the request's arrival at the service, whatever the delays on the way."""

    __slots__ = ("_lock", "at", "clock", "given")

    def __init__(self, at: float, clock: Callable[[], float], lock: threading.Lock) -> None:
        #: The instant the turn was given for (the next turn is spaced from it).
        self.given = at
        #: The instant the turn counts from in the window (moved on by `done`).
        self.at = at
        self.clock = clock
        self._lock = lock

    def done(self) -> None:
        with self._lock:
            self.at = max(self.at, self.clock())


class _Bucket:
    """N tokens, each back one window after it was used (at most N turns in any window)."""

    def __init__(self, turns: int, window: float) -> None:
        self.turns = turns
        self.window = window
        self._taken: deque[Ticket] = deque(maxlen=turns)
        #: Turns are spread evenly over the window, never in a burst: a burst of N sent at
        #: once reaches the service spread out, and beside the next burst would be N too many.
        self.spacing = window / turns

    def next_free(self, now: float) -> float:
        """The first instant from ``now`` at which a turn may be taken, after every turn given."""
        at = now
        if self._taken:
            # nobody overtakes, and turns are spaced from when they were given (spaced from
            # answers, each turn would also wait out the round trip before it)
            at = max(at, self._taken[-1].given + self.spacing)
        if len(self._taken) == self.turns:
            # one of the last N uses must leave the window before another turn enters it
            at = max(at, min(stamp.at for stamp in self._taken) + self.window)
        return at

    def take(self, ticket: Ticket) -> None:
        self._taken.append(ticket)  # the oldest of a full deque drops out: its token is back


class Pacer:
    """Turns and slots from ``quotas`` (see the module docstring).

    ```pycon
    >>> pacer = Pacer(client.provider.quotas)
    >>> await pacer.acquire("query")          # returns when this poll may be sent
    >>> async with pacer.slot("wan2.1-vace-plus"):
    ...     ...                               # one of the model's 2 running tasks
    ```
    """

    def __init__(
        self,
        quotas: Quotas,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not margin >= 0:
            raise ValueError("Pacer: margin must be >= 0 seconds")
        self.quotas = quotas
        self.window = 1.0 + margin
        self.clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[Kind, str | None], _Bucket | None] = {}
        self._slots: dict[str | None, anyio.Semaphore | None] = {}

    def __repr__(self) -> str:
        return f"Pacer({self.quotas!r})"

    # -- rates ---------------------------------------------------------------------------------
    def _rate(self, kind: Kind, quotas: Quotas | None) -> int | None:
        if quotas is None:
            return None
        return quotas.creates_per_second if kind == "create" else quotas.queries_per_second

    def _bucket(self, kind: Kind, scope: str | None) -> _Bucket | None:
        key = (kind, scope)
        if key not in self._buckets:
            quotas = self.quotas if scope is None else self.quotas.for_model(scope)
            rate = self._rate(kind, quotas)
            self._buckets[key] = None if rate is None else _Bucket(rate, self.window)
        return self._buckets[key]

    def reserve(self, kind: Kind, model: str | None = None) -> float:
        """Reserve the next turn of ``kind`` (for ``model``); return the seconds until it.

        The caller must then wait that long before it sends (`wait` and `acquire` do, and
        hand back a `Ticket` to mark the answer's arrival with).
        """
        return self._reserve(kind, model)[0]

    def _reserve(self, kind: Kind, model: str | None) -> tuple[float, Ticket]:
        with self._lock:
            scopes = (None,) if model is None else (None, model)
            buckets = [b for b in (self._bucket(kind, scope) for scope in scopes) if b is not None]
            now = self.clock()
            if not buckets:
                return 0.0, Ticket(now, self.clock, self._lock)
            ticket = Ticket(max(b.next_free(now) for b in buckets), self.clock, self._lock)
            for bucket in buckets:
                bucket.take(ticket)
        return ticket.at - now, ticket

    def wait(self, kind: Kind, model: str | None = None) -> Ticket:
        """Block until a turn of ``kind`` is this caller's (for threads and sync clients)."""
        delay, ticket = self._reserve(kind, model)
        if delay > 0:
            self._sleep(delay)
        ticket.done()  # woken late, the turn is used late: it counts from now
        return ticket

    async def acquire(self, kind: Kind, model: str | None = None) -> Ticket:
        """Await a turn of ``kind`` (for ``model``); the event loop goes on meanwhile."""
        delay, ticket = self._reserve(kind, model)
        if delay > 0:
            await anyio.sleep(delay)
        ticket.done()
        return ticket

    # -- slots ---------------------------------------------------------------------------------
    def _semaphore(self, scope: str | None) -> anyio.Semaphore | None:
        with self._lock:
            if scope not in self._slots:
                quotas = self.quotas if scope is None else self.quotas.for_model(scope)
                running = None if quotas is None else quotas.running
                self._slots[scope] = None if running is None else anyio.Semaphore(running)
            return self._slots[scope]

    @asynccontextmanager
    async def slot(self, model: str | None = None) -> AsyncIterator[None]:
        """Hold one running slot of the account and one of ``model``, where they have any."""
        async with AsyncExitStack() as stack:
            for scope in (model, None) if model is not None else (None,):
                semaphore = self._semaphore(scope)
                if semaphore is not None:
                    await stack.enter_async_context(semaphore)
            yield
