"""Scale: 200 edits submitted at once through one ``AsyncClient``.

Every edit is a 5 s 720P edit of a local clip (so each submission also uploads its file),
with a prompt of its own; the clips are four different 5 s 720P pattern videos taken in
turn. A prompt is part of the render's content address, so no edit is a cache hit: the
emulator renders 200 times. All 200 are awaited together (``asyncio.gather`` of
``client.edit(...)``: submit, then wait on the client's loopback poll schedule); the clock
starts once the 200 requests are built (building one checks its local file with ffmpeg, on
the caller's side) and stops when the last edit is seen SUCCEEDED.

The figure is throughput against the ideal ``cores / T1``, where T1 is one render's time:
the CPU seconds one render of this edit takes (ffmpeg's user + system time, single-threaded),
measured alone once before the batch and once after, so that a change in the machine's load
during the run weighs on both sides; each time, for each clip the median of three, averaged
over the four clips (their content makes them cost 0.6-0.8 s each here). ``cores × wall``
is what the machine offers, so ``200 × T1 / cores`` is the wall time of a perfect scheduler
with no overhead. (A lone render's *wall* time is shorter than its CPU time, because ffmpeg
runs its demuxer, decoder, filters and encoder in threads of their own even at
``-threads 1``: measured against that, no scheduler could reach the target on two cores,
so it would not be a fair yardstick.)

The emulator's resident memory is sampled every 0.2 s: before, peak, after.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import KEY, PATTERNS, Emulator, Report, make_clip, median, work_dir
from videoedit_emulator.render import RenderJob, render

__all__ = ["run"]

TARGET = 0.8


def run(count: int = 200) -> Report:
    report = Report(
        f"scale: {count} edits at once through AsyncClient",
        "make bench BENCH=scale   (or: uv run --no-sync python -m bench scale)",
    )
    import videoedit

    cores = os.cpu_count() or 1
    with work_dir("scale") as tmp:
        clips = [make_clip(tmp / f"{p}.mp4", 5, 1280, 720, pattern=p) for p in PATTERNS[:4]]
        t1_before, t1_wall = _one_render(clips, tmp)
        with Emulator() as emulator:
            base = emulator.base_url("dashscope-beijing")
            # The requests are built first: building one checks its local file with ffmpeg
            # (the client's own validation), which is the caller's work, not submission.
            edits = [
                videoedit.VideoEdit(
                    video=str(clips[i % len(clips)]),
                    prompt=f"edit {i} of {count}: claymation, warm light",
                    resolution="720P",
                    ratio="16:9",
                    duration=5,
                    audio_setting="origin",
                )
                for i in range(count)
            ]
            sampler = _Sampler(emulator)
            before = emulator.status()["VmRSS"]
            cpu_emulator = emulator.cpu_seconds()
            cpu_self = _own_cpu()
            sampler.start()
            started = time.perf_counter()

            async def batch() -> list[Any]:
                async with videoedit.AsyncClient(
                    "dashscope-beijing", base_url=base, api_key=KEY
                ) as client:
                    return await asyncio.gather(
                        *(client.edit(e) for e in edits), return_exceptions=True
                    )

            results = asyncio.run(batch())
            wall = time.perf_counter() - started
            sampler.stop()
            cpu_self = _own_cpu() - cpu_self
            cpu_emulator = emulator.cpu_seconds() - cpu_emulator
            time.sleep(1.0)
            after = emulator.status()
            ffmpeg_cpu = _children_cpu(emulator.pid)
        t1_after, _ = _one_render(clips, tmp)
        t1_cpu = (t1_before + t1_after) / 2
    succeeded = sum(
        1 for r in results if getattr(r, "status", None) == videoedit.TaskStatus.SUCCEEDED
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    ideal = count * t1_cpu / cores
    efficiency = ideal / wall
    report.add(
        "edits that succeeded",
        f"{succeeded}/{count}",
        f"{count}/{count}",
        succeeded == count,
        f"first error: {errors[0]!r}" if errors else "",
    )
    report.add(
        "throughput / ideal (cores / T1)",
        f"{efficiency:.0%}",
        f">= {TARGET:.0%}",
        efficiency >= TARGET,
        f"{count / wall:.2f} edits/s in {wall:.1f} s; ideal {ideal:.1f} s = {count} x T1 "
        f"{t1_cpu:.3f} CPU-s / {cores} cores (T1 {t1_before:.3f} before the batch, "
        f"{t1_after:.3f} after; a lone render: {t1_wall:.3f} s wall)",
    )
    peak = max(sampler.peak, after["VmHWM"])
    report.add(
        "emulator memory (RSS)",
        f"{before / 1024:.0f}/{peak / 1024:.0f}/{after['VmRSS'] / 1024:.0f} MB",
        "bounded",
        None,
        "before / peak / after",
    )
    report.note(
        f"CPU during the batch: ffmpeg {ffmpeg_cpu:.1f} s ({ffmpeg_cpu / count:.3f} s an edit, "
        f"T1 {t1_cpu:.3f} s alone), emulator (Python) {cpu_emulator:.1f} s, client "
        f"{cpu_self:.1f} s, of {cores * wall:.1f} core-seconds"
    )
    report.note(
        "inputs: 4 distinct 5 s 720P clips, each submission uploading its own copy; "
        "200 distinct prompts, so every edit renders (no cache hits)"
    )
    return report


def _one_render(clips: list[Path], tmp: Path) -> tuple[float, float]:
    """CPU and wall seconds of one single-threaded render of the benchmark's edit, alone:
    the mean over the clips (each is a quarter of the batch) of the median of three."""
    cpu, wall = [], []
    for clip in clips:
        cpu_runs, wall_runs = [], []
        for i in range(3):
            job = RenderJob(
                width=1280,
                height=720,
                duration=5,
                source=clip,
                audio="origin",
                watermark=False,
                caption="emulator stand-in · wan2.7-videoedit · 720P 16:9 · audio origin",
                prompt=f"edit {i} of 3: claymation, warm light",
            )
            before, started = os.times(), time.perf_counter()
            render(job, tmp / "t1.mp4", threads=1)
            wall_runs.append(time.perf_counter() - started)
            after = os.times()
            cpu_runs.append(
                after.children_user
                + after.children_system
                - before.children_user
                - before.children_system
            )
        cpu.append(median(cpu_runs))
        wall.append(median(wall_runs))
    return sum(cpu) / len(cpu), sum(wall) / len(wall)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _children_cpu(pid: int) -> float:
    """CPU of the emulator's reaped children (ffmpeg) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


class _Sampler(threading.Thread):
    """Reads the emulator's resident memory every 0.2 s; keeps the peak (KiB)."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.peak = max(self.peak, self.emulator.status()["VmRSS"])

    def stop(self) -> None:
        self._done.set()
        self.join()
