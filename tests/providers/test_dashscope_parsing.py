"""How DashScope's answers are read: every task status, every error shape of API-FACTS §1."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from videoedit import (
    ApiKey,
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    ProviderConfig,
    RateLimitError,
    ServiceError,
    TaskNotFoundError,
    TaskStatus,
    UnsupportedOperationError,
    VideoEditError,
)
from videoedit_dashscope import DashScopeBeijing, DashScopeProvider, DashScopeSingapore

UTC8 = timezone(timedelta(hours=8))
TASK = "0385dc79-5ff8-4d82-bcb6-2a4a5c6e1a2b"


@pytest.fixture(scope="module")
def singapore() -> DashScopeProvider:
    return DashScopeSingapore(ProviderConfig(DashScopeSingapore.default_base_url, ApiKey("sk-x")))


@pytest.fixture(scope="module")
def beijing() -> DashScopeProvider:
    return DashScopeBeijing(ProviderConfig(DashScopeBeijing.default_base_url, ApiKey("sk-x")))


def answer(status: str, **output: Any) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "request_id": "7574ee8f-38a3-4b1e-9280-11c33ab46e51",
            "output": {"task_id": TASK, "task_status": status, **output},
        },
    )


# -- statuses -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("PENDING", TaskStatus.PENDING),
        ("RUNNING", TaskStatus.RUNNING),
        ("SUSPENDED", TaskStatus.PENDING),
        ("CANCELED", TaskStatus.CANCELED),
        ("UNKNOWN", TaskStatus.UNKNOWN),
    ],
)
def test_each_status_word_maps_onto_the_lifecycle(
    singapore: DashScopeProvider, word: str, status: TaskStatus
) -> None:
    task = singapore.parse_status(TASK, answer(word, submit_time="2026-04-03 00:08:03.576"))
    assert (task.task_id, task.status, task.provider) == (TASK, status, "dashscope-singapore")
    assert task.request_id == "7574ee8f-38a3-4b1e-9280-11c33ab46e51"
    assert task.submitted_at == datetime(2026, 4, 3, 0, 8, 3, 576000, tzinfo=UTC8)
    assert (task.result, task.error_code) == (None, None)
    assert task.is_done is status.is_terminal


def test_a_succeeded_task_carries_its_result_usage_and_expiry(
    singapore: DashScopeProvider,
) -> None:
    url = "https://dashscope-result-sh.oss-accelerate.aliyuncs.com/xxx.mp4?Expires=1775232717&Signature=abc"
    response = httpx.Response(
        200,
        json={
            "request_id": "r",
            "output": {
                "task_id": TASK,
                "task_status": "SUCCEEDED",
                "submit_time": "2026-04-03 00:08:03.576",
                "scheduled_time": "2026-04-03 00:08:13.408",
                "end_time": "2026-04-03 00:11:57.286",
                "orig_prompt": "claymation",
                "video_url": url,
            },
            "usage": {
                "duration": 10.04,
                "input_video_duration": 5.02,
                "output_video_duration": 5.02,
                "video_count": 1,
                "SR": 720,
            },
        },
    )
    task = singapore.parse_status(TASK, response)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.result is not None
    assert task.video_url == url
    assert task.result.expires_at == datetime.fromtimestamp(1775232717, timezone.utc)
    usage = task.result.usage
    assert (usage.input_seconds, usage.output_seconds, usage.total_seconds) == (5.02, 5.02, 10.04)
    assert (usage.video_count, usage.short_side) == (1, 720)
    assert usage.raw["SR"] == 720
    assert task.result.duration == 5.02
    assert task.scheduled_at == datetime(2026, 4, 3, 0, 8, 13, 408000, tzinfo=UTC8)
    assert task.ended_at == datetime(2026, 4, 3, 0, 11, 57, 286000, tzinfo=UTC8)
    assert task.raw["output"]["orig_prompt"] == "claymation"


def test_without_expires_the_link_lives_24_hours_from_the_end(
    singapore: DashScopeProvider,
) -> None:
    task = singapore.parse_status(
        TASK,
        answer("SUCCEEDED", video_url="https://r.test/x.mp4", end_time="2026-04-03 00:11:57"),
    )
    assert task.result is not None
    assert task.result.expires_at == datetime(2026, 4, 4, 0, 11, 57, tzinfo=UTC8)


@pytest.mark.parametrize("sr", [1080, 1080.0, "1080"])
def test_the_short_side_may_come_as_any_number(singapore: DashScopeProvider, sr: object) -> None:
    response = answer("SUCCEEDED", video_url="https://r.test/x.mp4")
    body = response.json() | {"usage": {"SR": sr, "video_count": 1.0}}
    task = singapore.parse_status(TASK, httpx.Response(200, json=body))
    assert task.result is not None
    assert (task.result.usage.short_side, task.result.usage.video_count) == (1080, 1)


def test_a_failed_task_keeps_the_providers_code_and_message(
    singapore: DashScopeProvider,
) -> None:
    task = singapore.parse_status(
        TASK,
        answer(
            "FAILED",
            code="InvalidParameter",
            message="Failed to download the input video.",
            end_time="2026-04-03 00:09:00.000",
        ),
    )
    assert (task.status, task.error_code, task.error_message) == (
        TaskStatus.FAILED,
        "InvalidParameter",
        "Failed to download the input video.",
    )
    assert task.result is None


def test_the_create_answer_is_a_pending_task(singapore: DashScopeProvider) -> None:
    task = singapore.parse_create(
        httpx.Response(
            200, json={"request_id": "r1", "output": {"task_id": TASK, "task_status": "PENDING"}}
        )
    )
    assert (task.task_id, task.status, task.request_id) == (TASK, TaskStatus.PENDING, "r1")


def test_the_vace_usage_and_task_metrics_are_read(beijing: DashScopeProvider) -> None:
    response = answer("SUCCEEDED", video_url="https://r.test/x.mp4")
    body = response.json()
    body["output"]["task_metrics"] = {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
    body["usage"] = {"video_count": 1, "video_duration": 5}
    task = beijing.parse_status(TASK, httpx.Response(200, json=body))
    assert task.result is not None
    assert task.result.metrics == {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
    assert (task.result.usage.output_seconds, task.result.duration) == (5.0, 5.0)


# -- malformed answers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"request_id": "r"}),
        httpx.Response(200, json={"output": "oops"}),
        httpx.Response(200, json={"output": {"task_id": TASK}}),
        httpx.Response(200, json={"output": {"task_status": "RUNNING"}}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json={"output": {"task_id": TASK, "task_status": "QUEUEING"}}),
    ],
    ids=["no-output", "output-not-object", "no-status", "no-id", "list", "html", "new-word"],
)
def test_a_malformed_success_is_a_service_error(
    singapore: DashScopeProvider, response: httpx.Response
) -> None:
    with pytest.raises(ServiceError) as caught:
        singapore.parse_create(response)
    assert caught.value.code == "MalformedResponse"
    assert caught.value.provider == "dashscope-singapore"


def test_a_poll_without_the_id_falls_back_to_the_asked_id(singapore: DashScopeProvider) -> None:
    task = singapore.parse_status(
        TASK, httpx.Response(200, json={"output": {"task_status": "RUNNING"}})
    )
    assert task.task_id == TASK


def test_a_task_listing_is_read(singapore: DashScopeProvider) -> None:
    response = httpx.Response(
        200,
        json={
            "request_id": "r",
            "data": [
                {"task_id": "a", "status": "SUCCEEDED", "model_name": "wan2.7-videoedit"},
                {"task_id": "b", "task_status": "FAILED"},
                "junk",
            ],
            "total": "12",
            "page_no": 2,
            "page_size": 10,
        },
    )
    page = singapore.parse_list(response)
    assert [(t.task_id, t.status) for t in page.tasks] == [
        ("a", TaskStatus.SUCCEEDED),
        ("b", TaskStatus.FAILED),
    ]
    assert (page.page, page.page_size, page.total) == (2, 10, 12)


def test_a_listing_without_data_is_a_service_error(singapore: DashScopeProvider) -> None:
    with pytest.raises(ServiceError, match="no 'data' list"):
        singapore.parse_list(httpx.Response(200, json={"request_id": "r"}))


# -- errors ---------------------------------------------------------------------------------------
def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"request_id": "b8a3a1f0-req", "code": code, "message": message},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("provider_name", "other"),
    [("singapore", "dashscope-beijing"), ("beijing", "dashscope-singapore")],
)
def test_a_refused_key_hints_at_the_other_region(
    request: pytest.FixtureRequest, provider_name: str, other: str
) -> None:
    provider: DashScopeProvider = request.getfixturevalue(provider_name)
    refused = provider.parse_error(error(401, "InvalidApiKey", "Invalid API-key provided."))
    assert type(refused) is AuthenticationError
    assert (refused.code, refused.message, refused.request_id, refused.status_code) == (
        "InvalidApiKey",
        "Invalid API-key provided.",
        "b8a3a1f0-req",
        401,
    )
    assert refused.hint is not None
    assert "keys are bound to the region" in refused.hint
    assert f"use provider {other!r}" in refused.hint
    assert "Hint: " in str(refused)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "Throttling"),
        (429, "Throttling.RateQuota"),
        (429, "Throttling.AllocationQuota"),
        (400, "Throttling.RateQuota"),  # the code decides, whatever the status
    ],
)
def test_throttling_is_a_rate_limit_with_retry_after(
    singapore: DashScopeProvider, status: int, code: str
) -> None:
    message = "Requests rate limit exceeded, please try again later."
    limited = singapore.parse_error(error(status, code, message, **{"Retry-After": "12"}))
    assert type(limited) is RateLimitError
    assert (limited.code, limited.message, limited.retry_after) == (code, message, 12.0)
    assert limited.request_id == "b8a3a1f0-req"


def test_throttling_without_retry_after_has_none(singapore: DashScopeProvider) -> None:
    limited = singapore.parse_error(error(429, "Throttling", "slow down"))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after is None


def test_retry_after_may_be_an_http_date(singapore: DashScopeProvider) -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)
    ahead = singapore.parse_error(error(429, "Throttling", "x", **{"Retry-After": later}))
    behind = singapore.parse_error(error(429, "Throttling", "x", **{"Retry-After": earlier}))
    assert isinstance(ahead, RateLimitError)
    assert isinstance(behind, RateLimitError)
    assert ahead.retry_after is not None
    assert 3500 < ahead.retry_after <= 3600
    assert behind.retry_after == 0.0


def test_a_synchronous_call_refusal_explains_the_async_header(
    singapore: DashScopeProvider,
) -> None:
    denied = singapore.parse_error(
        error(403, "AccessDenied", "current user api does not support synchronous calls")
    )
    assert type(denied) is PermissionDeniedError
    assert denied.code == "AccessDenied"
    assert denied.hint == "the create call needs the header X-DashScope-Async: enable"


def test_an_overdue_account_is_permission_denied(singapore: DashScopeProvider) -> None:
    denied = singapore.parse_error(error(400, "Arrearage", "Access denied, account overdue."))
    assert type(denied) is PermissionDeniedError
    assert (denied.code, denied.status_code) == ("Arrearage", 400)
    assert denied.hint is not None
    assert "top it up" in denied.hint


@pytest.mark.parametrize(
    "code",
    [
        "InvalidParameter",
        "DataInspectionFailed",
        "InvalidURL",
        "BadRequest.EmptyInput",
        "BadRequest.EmptyParameters",
        "BadRequest.EmptyModel",
    ],
)
def test_a_bad_request_keeps_code_message_and_request_id(
    singapore: DashScopeProvider, code: str
) -> None:
    message = f"{code}: the request was refused"
    refused = singapore.parse_error(error(400, code, message))
    assert type(refused) is InvalidRequestError
    assert (refused.code, refused.message, refused.request_id, refused.status_code) == (
        code,
        message,
        "b8a3a1f0-req",
        400,
    )
    assert f"[{code}] {message}" in str(refused)
    assert "request_id=b8a3a1f0-req" in str(refused)


def test_a_field_named_in_the_message_becomes_the_errors_field(
    singapore: DashScopeProvider,
) -> None:
    refused = singapore.parse_error(
        error(400, "InvalidParameter", "The parameters.duration must be between 2 and 10.")
    )
    assert isinstance(refused, InvalidRequestError)
    assert refused.field == "parameters.duration"


def test_an_unknown_model_names_the_model_field(singapore: DashScopeProvider) -> None:
    refused = singapore.parse_error(error(404, "ModelNotFound", "Model not found (wan9)."))
    assert type(refused) is InvalidRequestError
    assert (refused.field, refused.code) == ("model", "ModelNotFound")


def test_an_unsupported_operation_is_its_own_class(singapore: DashScopeProvider) -> None:
    refused = singapore.parse_error(
        error(400, "UnsupportedOperation", "Failed to cancel the task, please confirm ...")
    )
    assert type(refused) is UnsupportedOperationError
    assert refused.code == "UnsupportedOperation"


def test_an_internal_error_is_a_service_error(singapore: DashScopeProvider) -> None:
    failed = singapore.parse_error(error(500, "InternalError", "An internal error has occured."))
    assert type(failed) is ServiceError
    assert (failed.code, failed.status_code, failed.request_id) == (
        "InternalError",
        500,
        "b8a3a1f0-req",
    )


@pytest.mark.parametrize(
    ("status", "text", "cls"),
    [
        (502, "<html><body>502 Bad Gateway</body></html>", ServiceError),
        (504, "upstream request timeout", ServiceError),
        (429, "Too Many Requests", RateLimitError),
        (401, "Unauthorized", AuthenticationError),
        (403, "<html>Forbidden</html>", PermissionDeniedError),
        (404, "Not Found", TaskNotFoundError),
        (400, "Bad Request", InvalidRequestError),
    ],
)
def test_a_non_json_error_is_classified_by_status_and_keeps_the_text(
    singapore: DashScopeProvider, status: int, text: str, cls: type[VideoEditError]
) -> None:
    failed = singapore.parse_error(httpx.Response(status, text=text))
    assert type(failed) is cls
    assert (failed.message, failed.code, failed.status_code) == (text, None, status)


def test_an_empty_error_body_falls_back_to_the_reason(singapore: DashScopeProvider) -> None:
    failed = singapore.parse_error(httpx.Response(503))
    assert type(failed) is ServiceError
    assert failed.message == "Service Unavailable"


def test_a_json_error_without_a_message_keeps_its_code(singapore: DashScopeProvider) -> None:
    failed = singapore.parse_error(httpx.Response(400, json={"code": "InvalidParameter"}))
    assert isinstance(failed, InvalidRequestError)
    assert (failed.code, failed.message) == ("InvalidParameter", "Bad Request")
