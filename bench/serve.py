"""An emulator in a process of its own, for the benchmarks.

``python -m bench.serve [--workers N] [--big-result-mb N] [--task-queries-per-second N]
[--progression SPEC]`` starts an
:class:`~videoedit_emulator.server.EmulatorServer` on 127.0.0.1 (a port chosen by the OS),
prints one JSON line (``{"url": ..., "pid": ...}``) and serves until its standard input
closes. A process of its own keeps the measuring code off the emulator's GIL and lets the
benchmarks read the emulator's memory and CPU from ``/proc/<pid>``; like
``videoedit-emulator serve`` it runs full garbage collections rarely (``tune_gc``).

``--big-result-mb N`` is the download benchmark's hook: every task's result is an N MB file
(random bytes, written in 1 MB pieces, never held whole) instead of a render. It uses the
engine's documented ``renderer=`` injection point; nothing in the emulator changes.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import MIB, EmulatorConfig, Progression
from videoedit_emulator.render import RenderJob, RenderResult
from videoedit_emulator.server import EmulatorServer, tune_gc

__all__ = ["BigResult", "main"]


class BigResult:
    """A renderer that writes ``size`` bytes of random data as the task's result, in an
    MP4's top-level boxes (``ftyp``, ``moov``, then an ``mdat``): ``save`` checks them."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, job: RenderJob, out: Path) -> RenderResult:
        ftyp, moov = b"isom\x00\x00\x02\x00isommp41", bytes(92)
        head = struct.pack(">I4s", 8 + len(ftyp), b"ftyp") + ftyp
        head += struct.pack(">I4s", 8 + len(moov), b"moov") + moov
        left = self.size - len(head) - 8
        with open(out, "wb") as sink:
            sink.write(head + struct.pack(">I4s", 8 + left, b"mdat"))
            while left:
                piece = os.urandom(min(MIB, left))
                sink.write(piece)
                left -= len(piece)
        return RenderResult(
            path=out,
            width=job.width,
            height=job.height,
            duration=5.0,
            fps=30,
            frames=150,
            has_audio=False,
            size_bytes=self.size,
            cache_hit=False,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--workers", type=int, default=None, help="render workers (cores)")
    parser.add_argument("--big-result-mb", type=int, default=0)
    parser.add_argument("--no-cache", action="store_true", help="turn the render cache off")
    parser.add_argument(
        "--task-queries-per-second", type=int, default=None, help="DashScope's query quota"
    )
    parser.add_argument("--progression", default="immediate", help="immediate, polls=N, seconds=S")
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        render_workers=args.workers,
        render_cache_bytes=0 if args.no_cache else 512 * MIB,
        task_queries_per_second=args.task_queries_per_second,
        progression=Progression.parse(args.progression),
    )
    renderer = BigResult(args.big_result_mb * MIB) if args.big_result_mb else None
    engine = TaskEngine(config, renderer=renderer)
    tune_gc()  # as videoedit-emulator serve does: this process is the emulator
    with EmulatorServer(engine=engine) as server:
        print(json.dumps({"url": server.url, "pid": os.getpid()}), flush=True)
        sys.stdin.read()  # serve until the benchmark closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
