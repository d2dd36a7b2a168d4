"""Fixtures for the tests that drive a real browser: Playwright for Python on Debian's chromium.

Playwright's own browser download needs the internet, so the tests launch the system's
``/usr/bin/chromium`` (``make browser``, run by ``make pytest``, installs it with apt-get where
it is missing and we are root). Where no browser can be had the tests skip saying exactly why;
under ``CI=true`` they fail instead, so a CI machine never passes by skipping them.

One browser per test module (launching costs about a second); each test gets a fresh context
(its own cookies and storage). Not one per session: while Playwright's sync API is alive it marks
its event loop as running in the main thread, so every asyncio or anyio test that ran after a
session-wide browser failed with "Cannot run the event loop while another loop is running".
Closing it at the end of the module hands the thread back; ``browser`` checks that it did. Playwright gives every launch a fresh temporary profile, which is
the fresh user-data-dir the flags below assume.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("VIDEOEDIT_CHROMIUM", "/usr/bin/chromium"))
INSTALL_LOG = Path(__file__).resolve().parents[2] / "build" / "browser.log"

# Headless and quiet: no GPU, no network of its own (QUIC, updates, sync, first-run pages),
# and no sandbox since CI runs the tests as root, where chromium's sandbox refuses to start.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def no_browser(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: a CI run must not pass by skipping the browser tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def missing_browser_reason() -> str:
    """Why CHROMIUM is absent, as precisely as the set-up left it known."""
    reason = f"{CHROMIUM} is missing"
    if INSTALL_LOG.is_file():
        lines = INSTALL_LOG.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            return f"{reason}; make browser said: {lines[-1]} (see {INSTALL_LOG})"
    if os.geteuid() != 0:
        return f"{reason} and we are not root, so make browser cannot apt-get install chromium"
    return f"{reason}; run make browser (apt-get install chromium) first"


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser's path; skips (fails under CI=true) saying why where there is none."""
    if not CHROMIUM.is_file():
        no_browser(missing_browser_reason())
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """One headless chromium for the module, gone (with Playwright's loop) when it ends."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        no_browser(f"playwright is not installed ({exc}); run make sync")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS
            )
        except Error as exc:
            no_browser(f"{chromium} did not start: {exc.message.splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()
    leaked = asyncio._get_running_loop()
    assert leaked is None, f"Playwright left its event loop {leaked!r} running in the main thread"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookies or storage from other tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()
