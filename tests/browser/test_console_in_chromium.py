"""The console at /_emulator/ui, in chromium: edits submitted through the client appear in the
task table and change state there, a task's stand-in plays on its page, a hostile prompt
shows as text, and a fault armed from the page fails the client's next request.

Each page is photographed as the test leaves it: into build/screenshots/, and into
docs/images/ (the pictures of docs/emulator.md) when VIDEOEDIT_SCREENSHOTS=1 is set
(``make screenshots``). Photographs are taken, never compared.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import videoedit
from videoedit_emulator.server import EmulatorServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
DOCS_IMAGES = ROOT / "docs" / "images"
#: Long enough for a live row to refresh (once a second) on a loaded machine.
WAIT_MS = 15_000


def photograph(page: Page, name: str) -> None:
    """``console-<name>.png`` of the whole page, kept for the docs when asked to."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"console-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("VIDEOEDIT_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / shot.name)


@pytest.fixture
def singapore(emulator_client: Callable[..., videoedit.Client]) -> videoedit.Client:
    """A client of the test's emulator, DashScope Singapore (temporary uploads: oss://)."""
    return emulator_client("dashscope-singapore")


def edit(clip: Path, prompt: str = "claymation style") -> videoedit.VideoEdit:
    return videoedit.VideoEdit(video=str(clip), prompt=prompt, resolution="720P", ratio="16:9")


def console(emulator: EmulatorServer, path: str = "") -> str:
    return f"{emulator.url}/_emulator/ui{path}"


def test_submitted_edits_appear_in_the_task_table_and_change_state_live(
    page: Page,
    emulator: EmulatorServer,
    emulator_client: Callable[..., videoedit.Client],
    emulator_sample_clip: Path,
) -> None:
    emulator.engine.set_default_progression("polls=3")
    singapore, vtrix = emulator_client("dashscope-singapore"), emulator_client("vtrix")
    page.goto(console(emulator))
    assert page.text_content("#task-count") == "0 tasks"

    first = singapore.submit(edit(emulator_sample_clip))
    second = singapore.submit(edit(emulator_sample_clip, "watercolour"))
    page.wait_for_selector(
        f'tr[data-task="{first.task_id}"][data-status="PENDING"]', timeout=WAIT_MS
    )
    page.wait_for_selector(f'tr[data-task="{second.task_id}"]', timeout=WAIT_MS)
    for _ in range(3):
        singapore.status(first)
    assert singapore.status(first).status is videoedit.TaskStatus.SUCCEEDED

    row = page.wait_for_selector(
        f'tr[data-task="{first.task_id}"][data-status="SUCCEEDED"]', timeout=WAIT_MS
    )
    assert row is not None
    cells = [c.strip() for c in row.eval_on_selector_all("td", "tds => tds.map(t => t.innerText)")]
    assert cells[1:4] == ["dashscope-singapore", "wan2.7-videoedit", "SUCCEEDED"]
    assert "polls=3" in cells[4]
    assert float(cells[6]) > 0  # billed seconds, once it succeeded
    vtrix.submit(edit_url(emulator, first, singapore))
    page.wait_for_selector('tr:has-text("vtrix")', timeout=WAIT_MS)
    assert page.text_content("#task-count") == "3 tasks"
    photograph(page, "tasks")


def edit_url(
    emulator: EmulatorServer, task: videoedit.Task, client: videoedit.Client
) -> videoedit.VideoEdit:
    """An edit of a stand-in the emulator made (a gateway takes URLs only)."""
    done = client.wait(task)
    assert done.video_url is not None
    return videoedit.VideoEdit(video=done.video_url, prompt="film grain", resolution="720P")


def test_a_task_page_plays_its_input_and_its_stand_in(
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    done = singapore.wait(singapore.submit(edit(emulator_sample_clip)))
    page.goto(console(emulator, f"/tasks/{done.task_id}"))

    assert page.text_content("#task-status") == "SUCCEEDED"
    size = page.evaluate(
        """async () => {
            const video = document.querySelector("#stand-in");
            await video.play();
            return [video.videoWidth, video.videoHeight];
        }"""
    )
    page.wait_for_function('() => document.querySelector("#stand-in").currentTime > 0.5')
    assert size == [1280, 720]
    # The input was a temporary upload (oss://): the page plays it from the emulator's store.
    page.wait_for_function('() => document.querySelector("video.input").readyState >= 1')
    assert page.evaluate('document.querySelector("video.input").videoWidth') == 640
    assert "Bearer ***" in (page.text_content("#request-headers") or "")
    assert "sk-emulator" not in page.content()
    assert done.task_id in (page.text_content("#answer-body") or "")
    timeline = page.eval_on_selector_all("ol.timeline strong", "els => els.map(e => e.innerText)")
    assert timeline[:3] == ["POST create", "PENDING", "RUNNING"]
    assert "SUCCEEDED" in timeline
    page.evaluate('document.querySelector("#stand-in").pause()')
    photograph(page, "task")


def test_a_task_page_follows_its_task_until_the_stand_in_is_there(
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    emulator.engine.set_default_progression("polls=2")
    task = singapore.submit(edit(emulator_sample_clip))
    page.goto(console(emulator, f"/tasks/{task.task_id}"))
    assert page.text_content("#task-status") == "PENDING"
    assert page.locator("#stand-in").count() == 0

    singapore.wait(task)
    page.wait_for_selector("#stand-in", timeout=WAIT_MS)  # the page reloaded once it ended
    assert page.text_content("#task-status") == "SUCCEEDED"


def test_a_prompt_with_a_script_shows_as_text_and_runs_nothing(
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    task = singapore.submit(edit(emulator_sample_clip, hostile))
    page.goto(console(emulator, f"/tasks/{task.task_id}"))

    assert page.text_content("#prompt") == hostile
    assert page.evaluate("window.pwned") is None
    page.goto(console(emulator, "/journal"))
    page.click("details summary")
    assert page.evaluate("window.pwned") is None


def test_a_fault_armed_from_the_page_fails_the_next_client_request(
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    singapore.submit(edit(emulator_sample_clip))
    page.goto(console(emulator, "/controls"))
    page.fill("#fault-spec", "create:status=503,times=1")
    with page.expect_navigation():
        page.click("#arm button[type=submit]")

    assert "create:status=503,times=1" in (page.text_content("#fault-rules") or "")
    with pytest.raises(videoedit.ServiceError) as failed:
        singapore.submit(edit(emulator_sample_clip))
    assert failed.value.status_code == 503
    assert "emulator fault" in str(failed.value)
    page.reload()
    applied = page.eval_on_selector_all(
        "#fault-rules tbody tr td:nth-child(4)", "tds => tds.map(t => t.innerText)"
    )
    assert applied == ["1"]
    photograph(page, "controls")

    page.goto(console(emulator, "/journal?faulted=true"))
    assert page.text_content("#journal-count", timeout=WAIT_MS).startswith("1 request")
    page.goto(console(emulator, "/journal"))
    photograph(page, "journal")


def test_a_bad_rule_is_refused_beside_its_button_naming_the_field(
    page: Page, emulator: EmulatorServer
) -> None:
    page.goto(console(emulator, "/controls"))
    page.fill("#fault-spec", "create:status=99")
    page.click("#arm button[type=submit]")

    output = page.wait_for_selector("#arm output.error", timeout=WAIT_MS)
    assert output is not None
    assert output.inner_text() == "400: status must be an integer in [400, 599]"
    assert emulator.faults.rules() == []


def test_the_clock_advances_from_the_page(page: Page, emulator: EmulatorServer) -> None:
    page.goto(console(emulator, "/controls"))
    page.fill("input[name=seconds]", "3600")
    before = emulator.engine.clock.now()
    with page.expect_navigation():
        page.click("form[action='/_emulator/clock/advance'] button")

    assert "ManualClock" in repr(emulator.engine.clock)
    assert emulator.engine.clock.now() - before >= 3600


def test_reset_from_the_page_forgets_every_task(
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    singapore.submit(edit(emulator_sample_clip))
    page.goto(console(emulator, "/controls"))
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button.danger")

    assert emulator.engine.all_tasks() == []
    page.goto(console(emulator))
    assert page.text_content("#task-count") == "0 tasks"


def test_a_snapshot_saved_from_the_page_brings_its_world_back_when_loaded(
    request: pytest.FixtureRequest,
    page: Page,
    emulator: EmulatorServer,
    singapore: videoedit.Client,
    emulator_sample_clip: Path,
) -> None:
    # Snapshots outlive a reset (that is what they are for): this one goes with the test.
    saved = emulator.engine.persistence.snapshot_root / "console-known-world"
    request.addfinalizer(lambda: shutil.rmtree(saved, ignore_errors=True))
    kept = singapore.submit(edit(emulator_sample_clip))
    page.goto(console(emulator, "/controls"))
    page.fill("#snapshot-name", "console-known-world")
    with page.expect_navigation():
        page.click("#save-snapshot button[type=submit]")
    row = page.wait_for_selector('tr[data-snapshot="console-known-world"]', timeout=WAIT_MS)
    assert row is not None
    assert row.inner_text().split("\t")[2:4] == ["1", "1"]  # one task, its upload

    later = singapore.submit(edit(emulator_sample_clip, "watercolour"))
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click('tr[data-snapshot="console-known-world"] button')

    assert [view.task_id for view in emulator.engine.all_tasks()] == [kept.task_id]
    assert later.task_id != kept.task_id
    photograph(page, "snapshots")
