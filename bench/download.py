"""Download: a 100 MB result saved with bounded memory in the client.

The emulator runs with ``bench.serve --big-result-mb 100``: every task's result is a 100 MB
file (placed by an injected renderer, served by the emulator's ordinary signed-link route,
read from disk in 64 KiB pieces). A fresh Python process (so nothing else it did inflates
or hides the figure) creates a ``videoedit.Client``, submits an edit, waits, and then:

- reads its resident memory (``VmRSS``), resets its peak counter (``/proc/self/clear_refs``),
- ``client.save(task, path)``,
- reads its peak resident memory (``VmHWM``) and the file's size.

Growth = peak during the save - resident before it. The same child is then run once more
reading the body whole (``httpx.get(url).content``) as a control: it shows that the method
sees a whole-file read (growth about the file's size) when there is one.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.common import KEY, Emulator, Report, child_json, work_dir

__all__ = ["child", "run"]

SIZE_MB = 100
TARGET_MB = 20.0


def run() -> Report:
    report = Report(
        f"download: a {SIZE_MB} MB result saved by a fresh client process",
        "make bench BENCH=download   (or: uv run --no-sync python -m bench download)",
    )
    with work_dir("download") as tmp, Emulator("--big-result-mb", str(SIZE_MB)) as emulator:
        base = emulator.base_url("dashscope-beijing")
        server_before = emulator.status()["VmRSS"]
        ours = child_json(["-m", "bench.download", base, str(tmp / "ours.mp4"), "save"])
        server_after = emulator.status()
        whole = child_json(["-m", "bench.download", base, str(tmp / "whole.mp4"), "whole"])
    growth = ours["growth_kib"] / 1024
    report.add(
        "client memory growth while saving",
        f"{growth:.2f} MB",
        f"< {TARGET_MB:.0f} MB",
        growth < TARGET_MB and ours["bytes"] == SIZE_MB * 1024 * 1024,
        f"{ours['bytes'] / 2**20:.0f} MiB saved in {ours['seconds']:.2f} s "
        f"({ours['bytes'] / 2**20 / ours['seconds']:.0f} MiB/s); resident before "
        f"{ours['rss_before_kib'] / 1024:.0f} MB, peak while saving {ours['growth_kib']} KiB above",
    )
    report.add(
        "control: reading the body whole",
        f"{whole['growth_kib'] / 1024:.1f} MB",
        "",
        None,
        "httpx.get(url).content in the same kind of process: the method sees whole reads",
    )
    report.add(
        "emulator memory while serving it",
        f"{server_before / 1024:.0f}->{server_after['VmRSS'] / 1024:.0f} MB",
        "",
        None,
        f"resident before and after; peak {server_after['VmHWM'] / 1024:.0f} MB",
    )
    return report


def _memory() -> dict[str, int]:
    found = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(rest.split()[0])
    return found


def child(base: str, out: str, how: str) -> dict[str, float]:
    """Submit, wait, then save (``how="save"``) or read whole (``"whole"``), measuring."""
    import httpx

    import videoedit

    with videoedit.Client("dashscope-beijing", base_url=base, api_key=KEY) as client:
        task = client.wait(
            client.submit(
                videoedit.VideoEdit(video="https://example.invalid/clip.mp4", resolution="720P")
            )
        )
        assert task.result is not None
        before = _memory()["VmRSS"]
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS from here on
        started = time.perf_counter()
        if how == "save":
            client.save(task, out)
            size = Path(out).stat().st_size
        else:
            size = len(httpx.get(task.result.video_url, timeout=120).content)
        seconds = time.perf_counter() - started
        peak = _memory()["VmHWM"]
    return {
        "rss_before_kib": before,
        "peak_kib": peak,
        "growth_kib": peak - before,
        "bytes": size,
        "seconds": seconds,
    }


if __name__ == "__main__":
    json.dump(child(*sys.argv[1:4]), sys.stdout)
    sys.stdout.write("\n")
