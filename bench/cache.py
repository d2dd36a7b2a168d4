"""Cache: a downstream test suite of 20 edits, run twice, each time in a fresh process.

The suite is what a user of the pytest plugin writes: one test per edit, each submitting a
5 s 720P wan2.7 edit of a clip kept beside the tests through ``emulator_client`` and saving
the result. Both runs are ``python -m pytest`` in a new process with the same
``VIDEOEDIT_EMULATOR_CACHE_DIR`` (a temp dir, empty before the first run): the first renders
every edit, the second finds them in the cache the first left, as a CI job does after
restoring the cache directory. The figure is the second run's wall time over the first's,
start-up of the interpreter, pytest, the plugin and the emulator included: the median of
three pairs, each with a cache of its own.

pytest loads only the plugins a downstream suite gets from ``videoedit-emulator`` (its two
``pytest11`` entry points), not this repository's development plugins (hypothesis alone adds
0.6 s of imports to every run), which a user's environment would not have because of us.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Report, make_clip, median, work_dir
from videoedit_emulator.render.cache import CACHE_DIR_ENV

__all__ = ["SUITE", "run"]

EDITS = 20
PAIRS = 3
#: What ``pip install videoedit-emulator`` adds to a suite's pytest.
PLUGINS = ("videoedit_emulator.pytest_plugin", "videoedit_emulator.contract.plugin")
TARGET_RATIO = 0.20

#: The downstream suite (its clip is ``clip.mp4`` beside it).
SUITE = f"""
from pathlib import Path

import pytest
import videoedit

CLIP = Path(__file__).with_name("clip.mp4")


@pytest.mark.parametrize("n", range({EDITS}))
def test_an_edit(emulator_client, tmp_path, n):
    client = emulator_client("dashscope-singapore")
    edit = videoedit.VideoEdit(video=str(CLIP), prompt=f"style number {{n}}", resolution="720P")
    saved = client.save(client.wait(client.submit(edit)), tmp_path / "out.mp4")
    assert saved.stat().st_size > 10_000
"""


def run() -> Report:
    report = Report(
        f"cache: a downstream suite of {EDITS} edits, run twice in fresh processes",
        "make bench BENCH=cache   (or: uv run --no-sync python -m bench cache)",
    )
    with work_dir("cache") as tmp:
        suite = tmp / "suite"
        suite.mkdir()
        make_clip(suite / "clip.mp4", 5, 1280, 720)
        (suite / "test_edits.py").write_text(SUITE, "utf-8")
        colds: list[float] = []
        warms: list[float] = []
        for pair in range(PAIRS):
            cache = tmp / f"render-cache-{pair}"
            colds.append(_run_suite(suite, cache))
            warms.append(_run_suite(suite, cache))
            entries = len(list(cache.glob("*.mp4")))
    ratio = median([w / c for w, c in zip(warms, colds, strict=True)])
    report.add(
        "second run / first run (wall time)",
        f"{ratio:.3f}",
        f"<= {TARGET_RATIO:.2f}",
        ratio <= TARGET_RATIO,
        f"first {median(colds):.1f} s (renders), second {median(warms):.1f} s (cache hits), "
        f"medians of {PAIRS} pairs; {entries} entries",
    )
    report.note(
        f"each run: python -m pytest in a new process, {EDITS} tests of emulator_client "
        "submit + wait + save of a 5 s 720P edit, one prompt per test; only the emulator's "
        "pytest plugins loaded; "
        f"{CACHE_DIR_ENV} the same temp dir for both, empty before the first"
    )
    return report


def _run_suite(suite: Path, cache: Path) -> float:
    """Seconds of one ``python -m pytest`` run of the suite (it must pass)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *(arg for plugin in PLUGINS for arg in ("-p", plugin)),
            str(suite),
        ],
        cwd=suite,
        capture_output=True,
        text=True,
        env={**os.environ, CACHE_DIR_ENV: str(cache), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"the downstream suite failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    return elapsed
