"""How a render's cost grows: clip length × resolution, and renders at once.

Not a target, a map (``docs/performance.md`` prints it). On the emulator in its own process:

- **length × resolution**: 2, 5 and 10 s edits at 720P and 1080P (input: a clip of that size
  and length with audio). Each cell: submit to SUCCEEDED (median of 3, interleaved with the
  bare ffmpeg encode of the same output), and the ratio of the two;
- **concurrency**: 1, 2 and 4 edits submitted at once (5 s, 720P), repeated so that each
  level renders 8 edits: edits per second, and the wall time of one edit (submit to
  SUCCEEDED) at that level.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.common import (
    SIZES,
    Emulator,
    Report,
    create_task,
    edit_body,
    make_clip,
    median,
    poll_until_done,
    upload,
    work_dir,
)
from bench.render import bare_argv

__all__ = ["run"]

_local = threading.local()


def run(runs: int = 3) -> Report:
    report = Report(
        "grid: render cost by clip length, resolution and concurrency",
        "make bench BENCH=grid   (or: uv run --no-sync python -m bench grid)",
    )
    with work_dir("grid") as tmp, Emulator() as emulator, httpx.Client(timeout=300) as http:
        base = emulator.base_url()
        serial = itertools.count()

        def edit(video: str, resolution: str, seconds: int) -> float:
            """Submit to SUCCEEDED, on this thread's own connection."""
            client = getattr(_local, "http", None)
            if client is None:
                client = _local.http = httpx.Client(timeout=300)
            body = edit_body(video, f"grid {next(serial)}", resolution, seconds)
            started = time.perf_counter()
            poll_until_done(client, base, create_task(client, base, body), gap=0.01)
            return time.perf_counter() - started

        for resolution in ("720P", "1080P"):
            width, height = SIZES[resolution]
            for seconds in (2, 5, 10):
                source = make_clip(tmp / f"in-{resolution}-{seconds}.mp4", seconds, width, height)
                video = upload(http, base, source)
                bare = bare_argv(str(source), width, height, str(tmp / "bare.mp4"))
                ours_s, bare_s, ratios = [], [], []
                for i in range(runs + 1):
                    if i % 2 == 0:
                        a, b = edit(video, resolution, seconds), _timed(bare)
                    else:
                        b, a = _timed(bare), edit(video, resolution, seconds)
                    if i:
                        ours_s.append(a)
                        bare_s.append(b)
                        ratios.append(a / b)
                report.add(
                    f"{seconds:>2} s {resolution:>5}",
                    f"{median(ours_s):.2f} s",
                    "",
                    None,
                    f"bare {median(bare_s):.2f} s, ratio {median(ratios):.2f}x",
                )
        source = make_clip(tmp / "in-720P-5.mp4", 5, 1280, 1280 * 9 // 16)
        video = upload(http, base, source)
        edit(video, "720P", 5)  # warm the input's memos
        single = None
        for level in (1, 2, 4):
            rounds = 8 // level
            latencies: list[float] = []
            started = time.perf_counter()
            with ThreadPoolExecutor(level) as pool:
                for _ in range(rounds):
                    latencies += pool.map(lambda _: edit(video, "720P", 5), range(level))
            wall = time.perf_counter() - started
            rate = 8 / wall
            single = single or rate
            report.add(
                f"{level} at once (5 s 720P)",
                f"{rate:.2f}/s",
                "",
                None,
                f"x{rate / single:.2f} of one at a time; each edit {median(latencies):.2f} s "
                f"(submit to SUCCEEDED, median)",
            )
    report.note("medians; every edit a new prompt (no cache hits); inputs uploaded beforehand")
    return report


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started
