"""What a wan2.1-vace-plus task reports comes back on the TaskResult: usage and task_metrics."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from videoedit import ProviderConfig, TaskStatus
from videoedit.keys import ApiKey
from videoedit_dashscope import DashScopeBeijing, DashScopeProvider, DashScopeSingapore

EXPIRES = 1_775_260_800  # 2026-04-04 00:00:00 UTC

SUCCEEDED: dict[str, Any] = {
    "request_id": "0f3e-vace",
    "output": {
        "task_id": "a8532587-fa8c-4ef8-82be-0c46b17950d1",
        "task_status": "SUCCEEDED",
        "submit_time": "2026-04-03 00:08:03.576",
        "scheduled_time": "2026-04-03 00:08:13.408",
        "end_time": "2026-04-03 00:15:57.286",
        "video_url": f"https://dashscope-result.oss.test/vace.mp4?Expires={EXPIRES}&Signature=x",
        "task_metrics": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0},
    },
    "usage": {"video_count": 1, "video_duration": 5},
}


def parse(cls: type[DashScopeProvider], body: dict[str, Any]) -> Any:
    provider = cls(ProviderConfig(base_url=cls.default_base_url, api_key=ApiKey("sk")))
    task_id = body["output"]["task_id"]
    return provider.parse_status(task_id, httpx.Response(200, json=body))


@pytest.mark.parametrize("cls", [DashScopeBeijing, DashScopeSingapore])
def test_a_succeeded_vace_task_carries_its_output_seconds_and_count(
    cls: type[DashScopeProvider],
) -> None:
    task = parse(cls, SUCCEEDED)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result.usage.output_seconds == 5.0
    assert task.result.usage.video_count == 1
    assert task.result.duration == 5.0
    assert task.result.usage.input_seconds is None  # vace bills output seconds only
    assert task.result.usage.raw == {"video_count": 1, "video_duration": 5}


def test_a_succeeded_vace_task_carries_its_task_metrics() -> None:
    task = parse(DashScopeSingapore, SUCCEEDED)
    assert dict(task.result.metrics) == {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}


def test_the_result_link_expires_when_its_url_says() -> None:
    task = parse(DashScopeSingapore, SUCCEEDED)
    assert task.result.expires_at == datetime(2026, 4, 4, tzinfo=timezone.utc)
    assert task.video_url == SUCCEEDED["output"]["video_url"]


def test_a_task_without_metrics_has_none() -> None:
    body = {**SUCCEEDED, "output": {**SUCCEEDED["output"]}}
    del body["output"]["task_metrics"]
    assert dict(parse(DashScopeSingapore, body).result.metrics) == {}


def test_a_failed_vace_task_keeps_the_services_code_and_message() -> None:
    body = {
        "request_id": "r",
        "output": {
            "task_id": "t-failed",
            "task_status": "FAILED",
            "code": "InvalidParameter",
            "message": "Failed to download the video from video_url",
            "task_metrics": {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 1},
        },
    }
    task = parse(DashScopeBeijing, body)
    assert task.status is TaskStatus.FAILED
    assert task.result is None
    assert (task.error_code, task.error_message) == (
        "InvalidParameter",
        "Failed to download the video from video_url",
    )
