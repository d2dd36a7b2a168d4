"""The client's log records say what it does, and no record (ours or a library's) holds a key."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import videoedit
from videoedit.logs import CLIENT_LOGGER, RedactingFilter, scrub
from videoedit_emulator.server import EmulatorServer

SECRET = "sk-logtest-0a1b2c3d4e5f6a7b8c9d"
EDIT = videoedit.VideoEdit(video="https://example.com/clip.mp4", resolution="720P", duration=2)
FAST = videoedit.RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == CLIENT_LOGGER]


def test_a_run_logs_the_submission_each_status_change_the_end_and_the_save(
    emulator: EmulatorServer,
    emulator_client: Callable[..., videoedit.Client],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    emulator.engine.set_default_progression("polls=2")
    caplog.set_level(logging.INFO, logger=CLIENT_LOGGER)
    client = emulator_client("dashscope-singapore")

    task = client.wait(client.submit(EDIT))
    client.save(task, tmp_path / "out.mp4")

    tid = task.task_id
    said = messages(caplog)
    assert said[:2] == [
        f"submitted task {tid} to dashscope-singapore (PENDING)",
        f"task {tid} is now PENDING",
    ]
    # RUNNING is seen when a poll lands while the stand-in renders: how often is up to timing.
    assert set(said[2:-3]) <= {f"task {tid} is now RUNNING"}
    assert said[-3:] == [
        f"task {tid} is now SUCCEEDED",
        f"task {tid} ended SUCCEEDED",
        f"saved task {tid} to {tmp_path / 'out.mp4'}",
    ]
    assert {r.levelno for r in caplog.records if r.name == CLIENT_LOGGER} == {logging.INFO}


def test_polls_are_logged_at_debug_with_the_status(
    emulator_client: Callable[..., videoedit.Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=CLIENT_LOGGER)
    client = emulator_client("vtrix")

    task = client.wait(client.submit(EDIT))

    polls = [
        r.getMessage()
        for r in caplog.records
        if r.name == CLIENT_LOGGER and r.levelno == logging.DEBUG
    ]
    assert polls
    assert polls[-1].startswith(f"polled task {task.task_id}: SUCCEEDED, 100%")


def test_each_retry_is_logged_with_its_reason_and_delay(
    emulator: EmulatorServer,
    emulator_client: Callable[..., videoedit.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOGGER)
    client = emulator_client("dashscope-singapore", retry=FAST)
    task = client.submit(EDIT)
    emulator.faults.add("status", route="status", status=503, times=2)

    client.wait(task)

    retries = [m for m in messages(caplog) if m.startswith("retrying")]
    assert len(retries) == 2
    assert retries[0].startswith("retrying in 0.0")
    assert retries[0].endswith("s (attempt 1 failed: ServiceError)")
    assert retries[1].endswith("s (attempt 2 failed: ServiceError)")


def test_no_record_of_the_client_holds_its_key_even_when_the_service_echoes_it(
    emulator: EmulatorServer,
    emulator_client: Callable[..., videoedit.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=CLIENT_LOGGER)
    emulator.faults.add("task_failure", code="Echo", message=f"key {SECRET} refused", times=1)
    client = emulator_client("dashscope-singapore", api_key=SECRET)

    task = client.wait(client.submit(EDIT), raise_on_failure=False)

    assert task.status is videoedit.TaskStatus.FAILED
    [ended] = [m for m in messages(caplog) if " ended " in m]
    assert ended == f"task {task.task_id} ended FAILED: [Echo] key *** refused"
    assert SECRET not in caplog.text


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("httpcore.http11", logging.DEBUG, __file__, 1, msg, args, None)


def test_the_filter_masks_the_secrets_it_holds_and_credential_shaped_headers() -> None:
    headers = [
        (b"X-Echo", SECRET.encode()),
        (b"Authorization", b"Bearer other-token-123"),
        (b"x-api-key", b"gw-456789"),
        (b"Content-Type", b"application/json"),
    ]
    rec = record("receive_response_headers.complete return_value=%r", (b"HTTP/1.1", 200, headers))

    assert RedactingFilter([SECRET]).filter(rec) is True
    text = rec.getMessage()
    assert SECRET not in text
    assert "other-token-123" not in text
    assert "gw-456789" not in text
    assert "(b'Authorization', b'Bearer ***')" in text
    assert "(b'Content-Type', b'application/json')" in text
    assert rec.args is None


def test_the_filter_scrubs_a_records_traceback() -> None:
    try:
        raise RuntimeError(f"upstream said Bearer {SECRET}")
    except RuntimeError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())

    RedactingFilter([SECRET]).filter(rec)

    assert rec.exc_text is not None
    assert SECRET not in rec.exc_text
    assert "upstream said Bearer ***" in rec.exc_text


def test_short_secrets_are_not_masked_everywhere() -> None:
    rec = record("polled 1 task")

    RedactingFilter(["1", ""]).filter(rec)

    assert rec.getMessage() == "polled 1 task"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ('{"api_key": "abcd1234"}', '{"api_key": "***"}'),
        (
            "?OSSAccessKeyId=LTAI5t&Expires=1&Signature=ab%2B",
            "?OSSAccessKeyId=***&Expires=1&Signature=***",
        ),
        ("x-oss-security-token=CAIS; path=/", "x-oss-security-token=***; path=/"),
        ("the key sk-0123456789abcdef0123 leaked", "the key sk-*** leaked"),
        (
            "keyframes: 30, monkey=1, task 7cee4f7d is RUNNING",
            "keyframes: 30, monkey=1, task 7cee4f7d is RUNNING",
        ),
    ],
)
def test_scrub_masks_credentials_and_leaves_the_rest(text: str, expected: str) -> None:
    assert scrub(text) == expected
