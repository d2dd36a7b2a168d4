"""End to end: our client against the official SDK, the same edit on the same emulator.

Each run edits a local 5 s 720P clip (with its audio) into a 5 s 720P output, and times the
whole of what a program does to get the file:

- **ours**: ``videoedit.Client("dashscope-beijing", base_url=...)``: ``submit`` (uploads the
  clip through DashScope's temporary upload), ``wait`` (the poll schedule the client picks
  for a loopback base URL), ``save`` (streamed to disk, atomically);
- **SDK**: ``dashscope.VideoSynthesis.call(...)`` (uploads the clip, creates the task and
  waits with the SDK's own schedule), then the download every SDK user writes:
  ``requests.get(video_url, stream=True)`` into a file.

Both clients are built once, outside the timings; runs alternate which goes first; each run
has its own prompts, so every render is a cache miss. The figure is the median of the
per-pair ratios (ours / SDK). One warm-up pair is not counted.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.common import KEY, MODEL, Emulator, Report, make_clip, median, work_dir

__all__ = ["run"]

TARGET = 0.5


def run(runs: int = 5) -> Report:
    report = Report(
        "end to end: our client (submit, wait, save) against the SDK (call + download)",
        "make bench BENCH=e2e   (or: uv run --no-sync python -m bench e2e)",
    )
    import requests

    import videoedit

    with work_dir("e2e") as tmp, Emulator() as emulator:
        clip = make_clip(tmp / "clip.mp4", 5, 1280, 720)
        base = emulator.base_url("dashscope-beijing")
        sdk = _sdk(base)
        ours_s: list[float] = []
        sdk_s: list[float] = []
        ratios: list[float] = []
        with (
            videoedit.Client("dashscope-beijing", base_url=base, api_key=KEY) as client,
            requests.Session() as session,
        ):

            def ours(i: int) -> float:
                started = time.perf_counter()
                edit = videoedit.VideoEdit(
                    video=str(clip),
                    prompt=f"claymation, ours {i}",
                    resolution="720P",
                    ratio="16:9",
                    duration=5,
                    audio_setting="origin",
                )
                task = client.wait(client.submit(edit))
                client.save(task, tmp / f"ours-{i}.mp4")
                return time.perf_counter() - started

            def theirs(i: int) -> float:
                started = time.perf_counter()
                response = sdk.call(
                    model=MODEL,
                    prompt=f"claymation, sdk {i}",
                    media=[{"type": "video", "url": str(clip)}],
                    resolution="720P",
                    ratio="16:9",
                    duration=5,
                    audio_setting="origin",
                )
                if response.output.task_status != "SUCCEEDED":
                    raise RuntimeError(f"SDK task ended {response.output.task_status}: {response}")
                with session.get(response.output.video_url, stream=True, timeout=60) as got:
                    got.raise_for_status()
                    with open(tmp / f"sdk-{i}.mp4", "wb") as sink:
                        for chunk in got.iter_content(1 << 16):
                            sink.write(chunk)
                return time.perf_counter() - started

            for i in range(runs + 1):
                if i % 2 == 0:
                    a, b = ours(i), theirs(i)
                else:
                    b, a = theirs(i), ours(i)
                if i == 0:
                    continue
                ours_s.append(a)
                sdk_s.append(b)
                ratios.append(a / b)
        sizes = {p.stat().st_size for p in tmp.glob("*-*.mp4")}
    ratio = median(ratios)
    report.add(
        "ours / SDK wall time",
        f"{ratio:.2f}",
        f"<= {TARGET:.2f}",
        ratio <= TARGET,
        f"ours {median(ours_s):.3f} s, SDK {median(sdk_s):.3f} s (medians of {runs})",
    )
    report.note(
        "each: upload a 5 s 720P clip, create, wait, download the 5 s 720P result "
        f"({min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB); the SDK waits 1 s before its "
        "second query, ours polls on the loopback schedule (PollSchedule.fast)"
    )
    return report


def _sdk(base: str) -> Any:
    """The official SDK's VideoSynthesis, pointed at ``base`` (the SDK reads it globally)."""
    os.environ.setdefault("DASHSCOPE_API_KEY", KEY)
    import dashscope
    from dashscope import VideoSynthesis

    dashscope.base_http_api_url = base
    dashscope.api_key = KEY
    return VideoSynthesis
