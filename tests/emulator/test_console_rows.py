"""What the console shows of a task, as plain data: its timeline and the media it names."""

from __future__ import annotations

from videoedit.task import TaskStatus
from videoedit_emulator.engine import TaskView
from videoedit_emulator.web.console.rows import media_links, timeline
from videoedit_emulator.web.journal import JournalEntry

TASK = "0b5c2f1e-task"


def view(**fields: object) -> TaskView:
    base: dict[str, object] = {
        "task_id": TASK,
        "request_id": "r",
        "realm": "dashscope-beijing",
        "model": "wan2.7-videoedit",
        "status": TaskStatus.SUCCEEDED,
        "progress": 1.0,
        "submitted_at": 100.0,
        "scheduled_at": 100.5,
        "ended_at": 102.0,
    }
    return TaskView(**{**base, **fields})  # type: ignore[arg-type]


def entry(
    seq: int, at: float, method: str, route: str, path: str, status: int = 200
) -> JournalEntry:
    return JournalEntry(seq, at, method, path, {}, "dashscope-beijing", route, {}, status=status)


def test_the_timeline_puts_changes_and_requests_in_the_order_of_the_clock() -> None:
    entries = [
        entry(1, 99.9, "POST", "create", "/api/v1/services/aigc/video-generation/video-synthesis"),
        entry(2, 101.0, "GET", "status", f"/api/v1/tasks/{TASK}"),
        entry(3, 101.0, "GET", "status", "/api/v1/tasks/another-task"),
    ]
    entries[0].task_id = TASK
    moments = timeline(view(), entries)
    assert [(m.what, m.offset) for m in moments] == [
        ("POST create", "-0.100 s"),
        ("PENDING", "+0.000 s"),
        ("RUNNING", "+0.500 s"),
        ("GET status", "+1.000 s"),
        ("SUCCEEDED", "+2.000 s"),
    ]


def test_alike_requests_in_a_row_are_one_moment_with_their_count() -> None:
    path = f"/api/v1/tasks/{TASK}"
    polls = [entry(n, 100.0 + n / 100, "GET", "status", path) for n in range(1, 41)]
    polls.append(entry(41, 100.45, "GET", "status", path, status=503))
    polls += [entry(42, 100.5, "GET", "status", path), entry(43, 100.6, "GET", "status", path)]
    moments = timeline(view(scheduled_at=100.0, ended_at=101.0), polls)
    requests = [(m.detail, m.times, m.offset, m.until) for m in moments if m.kind == "request"]
    assert requests == [
        ("200", 40, "+0.010 s", "+0.400 s"),
        ("503", 1, "+0.450 s", ""),
        ("200", 2, "+0.500 s", "+0.600 s"),
    ]


def test_media_links_say_which_urls_the_browser_can_load_here() -> None:
    body = {
        "input": {
            "media": [
                {"type": "video", "url": "oss://dashscope-instant/abc/clip.mp4"},
                {"type": "reference_image", "url": "http://127.0.0.1:4321/files/ref.png"},
                {"type": "video", "url": "https://example.invalid/clip.mp4"},
                {"type": "mask_image", "url": "data:image/png;base64,iVBORw0KGgo="},
            ],
            "prompt": "https is a word here, not a link",
        }
    }
    links = media_links(body, "/_emulator/ui/uploads/")
    assert [(link.where, link.kind, link.src) for link in links] == [
        ("input.media[0].url", "video", "/_emulator/ui/uploads/dashscope-instant/abc/clip.mp4"),
        ("input.media[1].url", "image", "http://127.0.0.1:4321/files/ref.png"),
        ("input.media[2].url", "video", None),  # not on this machine: shown, never fetched
        ("input.media[3].url", "image", "data:image/png;base64,iVBORw0KGgo="),
    ]
