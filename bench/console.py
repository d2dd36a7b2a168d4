"""The console's first paint with 1,000 tasks.

An emulator in its own process is given 1,000 tasks through the DashScope wire (a third
SUCCEEDED, a third RUNNING for hours, a third FAILED; one prompt, so the render cache makes
one stand-in for all of them). Then:

- **first paint**: chromium (Playwright, Debian's ``/usr/bin/chromium``) opens
  ``/_emulator/ui`` in a new tab of a running browser with its cache off (the page, its CSS
  and its script are all fetched) and reads ``first-contentful-paint`` from the page's own
  performance timeline; the median of 15 loads, beside a 100-byte page's (the floor) and
  beside both in a fresh browser context (a new profile each time, which adds chromium's own
  set-up: about 100 ms here);
- **server**: the time to answer ``GET /_emulator/ui`` itself (httpx on keep-alive), the
  median of 50, so that a slow paint can be told from a slow page;
- the same for a task's page and for the journal (5,000 entries).

Without chromium (or Playwright) the first-paint figure is reported as not measured and
the server figures still are.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.common import AUTH, Emulator, Report, create_task, median, poll_until_done

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["run"]

TASKS = 1000
TARGET_PAINT_MS = 200.0
LOADS = 15
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _fill(http: httpx.Client, base: str) -> str:
    """1,000 tasks of three fates; the id of a SUCCEEDED one."""
    body = {
        "model": "wan2.7-videoedit",
        "input": {
            "prompt": "claymation",
            "media": [{"type": "video", "url": "https://example.invalid/clip.mp4"}],
        },
        "parameters": {"resolution": "720P", "duration": 2},
    }
    done = create_task(http, base, body)
    poll_until_done(http, base, done)  # its stand-in is in the cache from now on
    fates = [
        {},
        {"X-Emulator-Progression": "seconds=86400"},
        {"X-Emulator-Fail": "DataInspectionFailed"},
    ]
    for n in range(1, TASKS):
        create_task(http, base, body, **fates[n % 3])
    return done


def _server_ms(http: httpx.Client, url: str, times: int = 50) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        answer = http.get(url)
        spent.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return median(spent)


PAINT = """() => new Promise((resolve) => {
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
            if (entry.name === "first-contentful-paint") resolve(entry.startTime);
        }
    }).observe({type: "paint", buffered: true});
    setTimeout(() => resolve(null), 5000);
})"""


def _paint(page: Page, target: str) -> float | None:
    page.goto(target, wait_until="load")
    paint = page.evaluate(PAINT)
    return None if paint is None else float(paint)


def _paints(url: str, baseline: str) -> dict[str, list[float]] | str:
    """First-contentful-paint of ``url`` and of ``baseline``, loads interleaved; or why they
    could not be measured.

    ``tab``: a new tab of a running browser with its cache off (``Network.setCacheDisabled``),
    which is how a developer opens the console: the page, its script and its data are all
    fetched, but chromium's profile and renderer start-up are not counted. ``fresh``: a new
    browser context each time (a new profile: chromium sets up its storage and a renderer
    for it), the upper bound a test's first ``page.goto`` meets.
    """
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (make browser)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return f"playwright is not installed ({exc})"
    found: dict[str, list[float]] = {"tab": [], "tab floor": [], "fresh": [], "fresh floor": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        running = browser.new_context()
        try:
            for n in range(LOADS * 2):
                first_ours = n // 2 % 2 == 0
                target, key = (url, "") if (n % 2 == 0) == first_ours else (baseline, " floor")
                tab = running.new_page()
                tab.context.new_cdp_session(tab).send(
                    "Network.setCacheDisabled", {"cacheDisabled": True}
                )
                in_tab = _paint(tab, target)
                rows = tab.locator("tr[data-task]").count()
                tab.close()
                fresh_context = browser.new_context()
                in_fresh = _paint(fresh_context.new_page(), target)
                fresh_context.close()
                if in_tab is None or in_fresh is None or (target == url and rows == 0):
                    return f"no paint recorded (rows shown: {rows})"
                found["tab" + key].append(in_tab)
                found["fresh" + key].append(in_fresh)
        finally:
            browser.close()
    return found


def run() -> Report:
    report = Report(
        f"console: first paint with {TASKS:,} tasks",
        "make bench BENCH=console   (or: uv run --no-sync python -m bench console)",
    )
    with Emulator() as emulator, httpx.Client(timeout=60) as http:
        base = emulator.base_url("dashscope-beijing")
        started = time.perf_counter()
        done = _fill(http, base)
        for _ in range(4000):  # a journal of 5,000 entries
            http.get(f"{base}/tasks/{done}", headers=AUTH)
        filled = time.perf_counter() - started
        ui = emulator.url + "/_emulator/ui"
        table = _server_ms(http, ui + "/")
        task = _server_ms(http, f"{ui}/tasks/{done}")
        journal = _server_ms(http, ui + "/journal")
        paints = _paints(ui + "/", emulator.url + "/_emulator/health")
    if isinstance(paints, str):
        report.add(
            "first contentful paint", "not measured", f"< {TARGET_PAINT_MS:.0f} ms", None, paints
        )
    else:
        ours, floor = median(paints["tab"]), median(paints["tab floor"])
        fresh, fresh_floor = median(paints["fresh"]), median(paints["fresh floor"])
        report.add(
            "first contentful paint",
            f"{ours:.0f} ms",
            f"< {TARGET_PAINT_MS:.0f} ms",
            ours < TARGET_PAINT_MS,
            f"median of {LOADS} visits, each in a new tab with the cache off, "
            f"min {min(paints['tab']):.0f} ms",
        )
        report.add(
            "  of a 100-byte page",
            f"{floor:.0f} ms",
            note=f"the floor, loads interleaved: the console costs {ours / floor:.2f}x it",
        )
        report.add(
            "  in a fresh context",
            f"{fresh:.0f} ms",
            note=f"a new profile each visit; the 100-byte page: {fresh_floor:.0f} ms "
            f"({fresh / fresh_floor:.2f}x)",
        )
    report.add("task table, server", f"{table:.1f} ms", note="median of 50 answers (50 rows shown)")
    report.add("task page, server", f"{task:.1f} ms", note="its timeline reads the whole journal")
    report.add("journal page, server", f"{journal:.1f} ms", note="5,000 entries, 50 shown")
    report.note(f"{TASKS:,} tasks and 5,000 journal entries made in {filled:.1f} s")
    return report
