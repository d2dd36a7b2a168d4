"""A cheap HTTP/1.1 load generator: keep-alive connections, one request in flight on each.

Run as its own process (``python -m bench.loadgen URL ...``) so that it never shares a GIL
with the server it measures; it prints one JSON object with the figures. It is written
against ``asyncio.Protocol`` rather than a client library: each response costs a buffer
append, a header search and a ``perf_counter`` call, so the generator takes as little of the
machine as it can, and what it does take is measured and reported (``cpu_seconds``).

Each connection is a closed loop (send, read the whole response, send again), which is how
50 concurrent pollers behave. Latency is measured from the write of a request to the last
byte of its response; only responses that complete inside the measuring window count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "main", "run_load"]


@dataclass
class LoadResult:
    """What one run measured (latencies in seconds, sorted)."""

    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    errors: int
    cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile (``q`` in [0, 100]) of the latencies."""
        if not self.latencies:
            return float("nan")
        rank = max(1, min(len(self.latencies), round(q / 100 * len(self.latencies) + 0.5)))
        return self.latencies[rank - 1]

    def as_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "rps": self.rps,
            "p50_ms": self.percentile(50) * 1000,
            "p90_ms": self.percentile(90) * 1000,
            "p99_ms": self.percentile(99) * 1000,
            "max_ms": (self.latencies[-1] * 1000) if self.latencies else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "cpu_seconds": self.cpu_seconds,
            "generator_cores": self.cpu_seconds / self.seconds if self.seconds else 0.0,
        }


@dataclass
class _Window:
    """The shared measuring window: responses count between ``start`` and ``stop``."""

    start: float
    stop: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


class _Connection(asyncio.Protocol):
    """One client. ``interval=None``: send the next request as soon as an answer is in
    (closed loop); else one request every ``interval`` seconds from ``first_at`` on, with
    latency counted from when each was due (a late answer delays the next send, and that
    wait is counted: no coordinated omission)."""

    def __init__(
        self,
        request: bytes,
        window: _Window,
        finished: asyncio.Future[None],
        interval: float | None = None,
        first_at: float = 0.0,
    ) -> None:
        self.request = request
        self.window = window
        self.finished = finished
        self.interval = interval
        self.due = first_at
        self.buffer = bytearray()
        self.need: int | None = None
        self.status = 0
        self.sent_at = 0.0
        self.transport: asyncio.WriteTransport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport
        self._next()

    def _next(self) -> None:
        if self.interval is None:
            self._send(time.perf_counter())
            return
        wait = self.due - time.perf_counter()
        if wait > 0:
            self.loop.call_later(wait, self._send, self.due)
        else:
            self._send(self.due)

    def _send(self, due: float) -> None:
        if self.transport is None:
            return
        self.sent_at = due
        if self.interval is not None:
            self.due = due + self.interval
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at < 0:  # the emulator always sends a length; anything else is an error
                    self._fail()
                    return
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            del self.buffer[: self.need]
            self.need = None
            now = time.perf_counter()
            window = self.window
            if window.start <= self.sent_at and now <= window.stop:
                window.latencies.append(now - self.sent_at)
                window.statuses[self.status] = window.statuses.get(self.status, 0) + 1
            if now >= window.stop:
                self._close()
                return
            self._next()

    def _fail(self) -> None:
        self.window.errors += 1
        self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.window.errors += 1
        if not self.finished.done():
            self.finished.set_result(None)


async def run_load(
    url: str | list[str],
    *,
    connections: int = 50,
    duration: float = 5.0,
    warmup: float = 1.0,
    headers: dict[str, str] | None = None,
    rate: float | None = None,
) -> LoadResult:
    """Hit ``url`` (or, given several, connection *i* the *i*-th of them in turn) with GETs
    over ``connections`` keep-alive connections for ``warmup + duration`` seconds; figures
    cover the last ``duration`` seconds. ``rate``: requests per second in all, spread evenly
    over the connections (else each sends again as soon as it has its answer)."""
    urls = [url] if isinstance(url, str) else list(url)
    requests = [_request(u, headers or {}) for u in urls]
    parts = urlsplit(urls[0])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    begin = time.perf_counter()
    window = _Window(start=begin + warmup, stop=begin + warmup + duration)
    cpu: list[float] = []  # sampled at the window's start and stop
    loop.call_at(loop.time() + warmup, lambda: cpu.append(_cpu()))
    loop.call_at(loop.time() + warmup + duration, lambda: cpu.append(_cpu()))
    finished: list[asyncio.Future[None]] = []
    interval = connections / rate if rate else None
    for i in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        finished.append(done)
        first = begin + (i / rate if rate else 0.0)

        def make(
            d: asyncio.Future[None] = done,
            r: bytes = requests[i % len(requests)],
            at: float = first,
        ) -> _Connection:
            return _Connection(r, window, d, interval, at)

        await loop.create_connection(make, host, port)
    await asyncio.wait_for(asyncio.gather(*finished), timeout=warmup + duration + 30)
    if len(cpu) < 2:
        cpu.append(_cpu())
    window.latencies.sort()
    return LoadResult(
        requests=len(window.latencies),
        seconds=duration,
        latencies=window.latencies,
        statuses=window.statuses,
        errors=window.errors,
        cpu_seconds=cpu[1] - cpu[0] if len(cpu) == 2 else float("nan"),
    )


def _request(url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("url", nargs="+", help="connection i queries the i-th URL, in turn")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None, help="requests/s in all (paced)")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    loop = _new_loop()
    try:
        result = loop.run_until_complete(
            run_load(
                args.url,
                connections=args.connections,
                duration=args.duration,
                warmup=args.warmup,
                headers=headers,
                rate=args.rate,
            )
        )
    finally:
        loop.close()
    json.dump(result.as_json(), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
