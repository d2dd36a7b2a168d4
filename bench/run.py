"""Run the benchmarks and print every figure beside its target.

``python -m bench`` runs them all (``make bench``); ``python -m bench render control`` runs
some. Each prints as it finishes; a summary of every target comes last. The exit status is 0
unless ``--strict`` is given and a target was missed (figures on a shared machine are noisy:
read the load average printed beside them).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from bench import batch, cache, console, control, download, e2e, grid, render, scale
from bench.common import Report, machine

__all__ = ["BENCHMARKS", "main"]

#: Every benchmark, in the order ``python -m bench`` runs them.
BENCHMARKS: dict[str, Callable[[], Report]] = {
    "render": render.run,
    "e2e": e2e.run,
    "control": control.run,
    "download": download.run,
    "scale": scale.run,
    "grid": grid.run,
    "batch": batch.run,
    "console": console.run,
    "cache": cache.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    load = "/".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"videoedit benchmarks on {machine()}; load average {load}", flush=True)
    reports: list[Report] = []
    for name in names:
        started = time.perf_counter()
        report = BENCHMARKS[name]()
        reports.append(report)
        print(f"\n{report.render()}\n  ({time.perf_counter() - started:.0f} s)", flush=True)
    print("\n== summary")
    for report in reports:
        for figure in report.figures:
            if figure.ok is not None:
                print(
                    f"  {figure.verdict():<6}  {figure.name}: {figure.value} (target {figure.target})"
                )
    missed = any(not r.ok for r in reports)
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
