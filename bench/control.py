"""Control path: task queries with 50 concurrent clients.

50 keep-alive connections from ``bench.loadgen`` (a raw asyncio HTTP/1.1 client, uvloop when
installed, in a process of its own) query ``GET /api/v1/tasks/{id}``: half of them a
SUCCEEDED task (the longest answer: times, signed link, usage), half a RUNNING one (the
answer a poll usually gets, rebuilt on every query). Two runs of 5 s after 1 s of warm-up:

- **saturation**: each client sends its next query as soon as it has its answer: the most
  queries per second the emulator answers. With 50 clients always waiting, latency there
  is queueing (Little's law: 50 / throughput), so it is printed but not the latency figure;
- **at 2,000/s**: the 50 clients together send 2,000 queries per second on a fixed schedule
  (40/s each); latency counts from when each query was due, so a slow answer that delays
  the next query is charged to it.

The generator shares the machine's cores with the emulator; the CPU each used is read
(the generator's own ``getrusage``, the emulator's ``/proc/<pid>/stat``) and printed.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.common import AUTH, Emulator, Report, child_json, create_task, poll_until_done

__all__ = ["run"]

CLIENTS = 50
TARGET_RPS = 2000.0
TARGET_P99_MS = 10.0
SECONDS = 5.0


def run() -> Report:
    report = Report(
        f"control path: task queries from {CLIENTS} concurrent clients",
        "make bench BENCH=control   (or: uv run --no-sync python -m bench control)",
    )
    with Emulator() as emulator, httpx.Client(timeout=60) as http:
        base = emulator.base_url("dashscope-beijing")
        remote = "https://example.invalid/clip.mp4"  # not fetched: a test pattern stands in
        body = {
            "model": "wan2.7-videoedit",
            "input": {"prompt": "claymation", "media": [{"type": "video", "url": remote}]},
            "parameters": {"resolution": "720P", "duration": 2},
        }
        done = create_task(http, base, body)
        poll_until_done(http, base, done)
        running = create_task(http, base, body, **{"X-Emulator-Progression": "seconds=20000"})
        http.post(emulator.url + "/_emulator/clock/advance", json={"seconds": 10001})
        states = {
            http.get(f"{base}/tasks/{t}", headers=AUTH).json()["output"]["task_status"]
            for t in (done, running)
        }
        assert states == {"SUCCEEDED", "RUNNING"}, states
        urls = [f"{base}/tasks/{done}", f"{base}/tasks/{running}"]
        saturated, server_sat = _load(emulator, urls)
        paced, server_paced = _load(emulator, urls, rate=TARGET_RPS)
    rps = saturated["rps"]
    report.add(
        "queries/s, saturated",
        f"{rps:,.0f}/s",
        f">= {TARGET_RPS:,.0f}/s",
        rps >= TARGET_RPS and not saturated["errors"],
        f"p50 {saturated['p50_ms']:.1f} ms, p99 {saturated['p99_ms']:.1f} ms (queueing: "
        f"{CLIENTS} / {rps:,.0f}/s = {CLIENTS / rps * 1000:.1f} ms); emulator "
        f"{server_sat:.2f} cores, generator {saturated['generator_cores']:.2f} cores",
    )
    report.add(
        f"p99 at {TARGET_RPS:,.0f}/s",
        f"{paced['p99_ms']:.2f} ms",
        f"< {TARGET_P99_MS:.0f} ms",
        paced["p99_ms"] < TARGET_P99_MS and paced["rps"] >= 0.98 * TARGET_RPS,
        f"{paced['rps']:,.0f}/s answered; p50 {paced['p50_ms']:.2f} ms, max "
        f"{paced['max_ms']:.1f} ms; emulator {server_paced:.2f} cores, generator "
        f"{paced['generator_cores']:.2f} cores",
    )
    statuses = {
        s: saturated["statuses"].get(s, 0) + paced["statuses"].get(s, 0)
        for s in {*saturated["statuses"], *paced["statuses"]}
    }
    report.note(
        f"answers: {', '.join(f'{n} x HTTP {s}' for s, n in statuses.items())}; "
        f"errors {saturated['errors'] + paced['errors']}; CPU per query: emulator "
        f"{server_sat / rps * 1e6:.0f} us, generator {saturated['generator_cores'] / rps * 1e6:.0f} us"
    )
    return report


def _load(
    emulator: Emulator, urls: list[str], rate: float | None = None
) -> tuple[dict[str, Any], float]:
    """One loadgen run, and the cores the emulator used meanwhile."""
    argv = ["-m", "bench.loadgen", *urls, "--connections", str(CLIENTS)]
    argv += [
        "--duration",
        str(SECONDS),
        "--warmup",
        "1",
        "--header",
        f"Authorization: {AUTH['Authorization']}",
    ]
    if rate:
        argv += ["--rate", str(rate)]
    cpu, started = emulator.cpu_seconds(), time.perf_counter()
    result = child_json(argv)
    cores = (emulator.cpu_seconds() - cpu) / (time.perf_counter() - started)
    return result, cores
