"""Acme's wire format, sans-I/O: the exact requests built, and every answer shape parsed."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
import videoedit

from acme_video.provider import AcmeVideoProvider


# --8<-- [start:create]
@pytest.fixture
def acme() -> AcmeVideoProvider:
    config = videoedit.ProviderConfig(
        base_url="https://acme.test/",
        api_key=videoedit.ApiKey("acme-key"),
    )
    return AcmeVideoProvider(config)


def answer(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_the_create_call_carries_every_option_in_acmes_words(acme: AcmeVideoProvider) -> None:
    request = videoedit.VideoEdit(
        video="https://cdn.test/in.mp4",
        prompt="paper cut-out",
        negative_prompt="blur",
        reference_images=["https://cdn.test/a.png"],
        resolution="720P",
        ratio="9:16",
        duration=4,
        audio_setting="origin",
        prompt_extend=False,
        watermark=True,
        seed=7,
    )

    # The client encodes the request through the plugins, then hands Acme the body.
    sent = videoedit.default_host().build_create(acme, request)

    assert (sent.method, str(sent.url)) == ("POST", "https://acme.test/v2/edits")
    assert sent.headers["X-Acme-Key"] == "acme-key"
    assert json.loads(sent.content) == {
        "source": {"url": "https://cdn.test/in.mp4"},
        "output": {
            "height": 720,
            "keep_audio": True,
            "watermark": True,
            "aspect": "9:16",
            "seconds": 4,
        },
        "instruction": "paper cut-out",
        "avoid": "blur",
        "style_refs": ["https://cdn.test/a.png"],
        "rewrite_instruction": False,
        "seed": 7,
    }


# --8<-- [end:create]


def test_defaults_are_left_to_acme(acme: AcmeVideoProvider) -> None:
    sent = videoedit.default_host().build_create(
        acme, videoedit.VideoEdit(video="https://cdn.test/in.mp4")
    )

    assert json.loads(sent.content) == {
        "source": {"url": "https://cdn.test/in.mp4"},
        "output": {"height": 1080, "keep_audio": False, "watermark": False},
        "rewrite_instruction": True,
    }


def test_a_done_edit_is_a_succeeded_task_with_its_result(acme: AcmeVideoProvider) -> None:
    body = {
        "edit": {
            "id": "e1",
            "state": "done",
            "percent": 100,
            "created": 1_790_000_000,
            "finished": 1_790_000_060,
            "output": {"url": "https://cdn.test/out.mp4", "expires": 1_790_086_460, "seconds": 4},
        },
        "request_id": "r-1",
    }

    task = acme.parse_status("e1", answer(200, body))

    assert task.status is videoedit.TaskStatus.SUCCEEDED
    assert (task.task_id, task.request_id, task.progress) == ("e1", "r-1", 1.0)
    assert task.result == videoedit.TaskResult(
        video_url="https://cdn.test/out.mp4",
        expires_at=datetime.fromtimestamp(1_790_086_460, timezone.utc),
        duration=4.0,
    )


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("queued", videoedit.TaskStatus.PENDING),
        ("processing", videoedit.TaskStatus.RUNNING),
        ("failed", videoedit.TaskStatus.FAILED),
        ("canceled", videoedit.TaskStatus.CANCELED),
    ],
)
def test_each_state_maps_onto_the_lifecycle(
    acme: AcmeVideoProvider, state: str, status: videoedit.TaskStatus
) -> None:
    edit = {"id": "e1", "state": state, "percent": 40}

    assert acme.parse_status("e1", answer(200, {"edit": edit})).status is status


def test_a_failed_edit_keeps_acmes_reason_and_detail(acme: AcmeVideoProvider) -> None:
    edit = {"id": "e1", "state": "failed", "failure": {"reason": "nsfw", "detail": "refused"}}

    task = acme.parse_status("e1", answer(200, {"edit": edit}))

    assert (task.error_code, task.error_message) == ("nsfw", "refused")


def test_a_refusal_names_the_request_field_and_keeps_code_and_request_id(
    acme: AcmeVideoProvider,
) -> None:
    body = {
        "error": {
            "type": "invalid_request",
            "code": "too_long",
            "message": "output.seconds exceeds the source",
            "param": "output.seconds",
        },
        "request_id": "r-9",
    }

    error = acme.parse_error(answer(400, body))

    assert isinstance(error, videoedit.InvalidRequestError)
    assert (error.field, error.code, error.request_id, error.status_code) == (
        "duration",
        "too_long",
        "r-9",
        400,
    )


@pytest.mark.parametrize(
    ("kind", "status", "error_class"),
    [
        ("authentication", 401, videoedit.AuthenticationError),
        ("permission", 403, videoedit.PermissionDeniedError),
        ("rate_limit", 429, videoedit.RateLimitError),
        ("not_found", 404, videoedit.TaskNotFoundError),
        ("conflict", 409, videoedit.UnsupportedOperationError),
        ("server", 500, videoedit.ServiceError),
    ],
)
def test_each_error_type_maps_onto_the_taxonomy(
    acme: AcmeVideoProvider, kind: str, status: int, error_class: type[videoedit.VideoEditError]
) -> None:
    body = {"error": {"type": kind, "code": "c", "message": "m"}, "request_id": "r"}

    error = acme.parse_error(answer(status, body, **{"Retry-After": "3"}))

    assert type(error) is error_class
    assert (error.code, error.message, error.request_id) == ("c", "m", "r")
    if isinstance(error, videoedit.RateLimitError):
        assert error.retry_after == 3.0


def test_the_key_goes_only_in_acmes_header(acme: AcmeVideoProvider) -> None:
    sent = acme.build_status("e/1")

    assert str(sent.url) == "https://acme.test/v2/edits/e%2F1"
    assert "Authorization" not in sent.headers
    assert sent.headers["X-Acme-Key"] == "acme-key"
