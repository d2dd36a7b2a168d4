"""The ``apimart`` provider: the flat gateway schema, its envelope ``{"code", "data"}``, its
statuses, percentages and error shapes (including errors inside an HTTP 200).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from boxed_mp4 import boxed_mp4

import videoedit
from videoedit import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    PluginHost,
    PollSchedule,
    ProviderConfig,
    RateLimitError,
    RetryPolicy,
    ServiceError,
    TaskFailedError,
    TaskNotFoundError,
    TaskStatus,
    UnsupportedOperationError,
    VideoEdit,
)
from videoedit.keys import ApiKey
from videoedit_apimart import ApimartProvider

BASE = "https://api.apimart.ai"
KEY = "apimart-test-key"
CLIP = "https://media.example.com/in.mp4"
REF = "https://media.example.com/ref{}.png"
LATER = int(datetime.now(timezone.utc).timestamp()) + 86_400


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.from_entry_points(allow=["wan27", "apimart"], strict=True)


def make_provider(base_url: str = BASE, **options: Any) -> ApimartProvider:
    return ApimartProvider(ProviderConfig(base_url=base_url, api_key=ApiKey(KEY), options=options))


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def full_edit(images: int = 1) -> VideoEdit:
    return VideoEdit(
        video=CLIP,
        prompt="turn the coat red",
        negative_prompt="blur",
        reference_images=[REF.format(i) for i in range(images)],
        resolution="720P",
        ratio="9:16",
        duration=5,
        audio_setting="origin",
        prompt_extend=False,
        watermark=True,
        seed=7,
    )


# -- the create call on the wire -------------------------------------------------------------


def test_create_posts_the_flat_body_with_every_field(host: PluginHost) -> None:
    http = host.build_create(make_provider(), full_edit())

    assert http.method == "POST"
    assert str(http.url) == "https://api.apimart.ai/v1/videos/generations"
    assert http.headers["Authorization"] == f"Bearer {KEY}"
    assert http.headers["Content-Type"] == "application/json"
    assert sent_json(http) == {
        "model": "wan2.7-videoedit",
        "video_urls": [CLIP],
        "prompt": "turn the coat red",
        "negative_prompt": "blur",
        "image_urls": [REF.format(0)],
        "resolution": "720P",
        "ratio": "9:16",
        "duration": 5,
        "audio_setting": "origin",
        "prompt_extend": False,
        "watermark": True,
        "seed": 7,
    }


def test_minimal_edit_sends_the_documented_defaults_and_no_optional_fields(
    host: PluginHost,
) -> None:
    http = host.build_create(make_provider(), VideoEdit(video=CLIP))

    assert sent_json(http) == {
        "model": "wan2.7-videoedit",
        "video_urls": [CLIP],
        "resolution": "1080P",
        "duration": 0,
        "audio_setting": "auto",
        "prompt_extend": True,
        "watermark": False,
    }


def test_white_label_base_url_keeps_the_documented_paths(host: PluginHost) -> None:
    provider = make_provider(base_url="https://gateway.example.org/")

    assert str(host.build_create(provider, VideoEdit(video=CLIP)).url) == (
        "https://gateway.example.org/v1/videos/generations"
    )
    assert str(provider.build_status("task_1").url) == (
        "https://gateway.example.org/v1/tasks/task_1?language=en"
    )


def test_encoding_goes_through_the_hook_with_the_apimart_dialect(host: PluginHost) -> None:
    seen: list[videoedit.EncodeContext] = []

    class Spy:
        @videoedit.hookimpl(tryfirst=True)
        def encode_request(
            self, request: videoedit.EditRequest, context: videoedit.EncodeContext
        ) -> dict[str, Any] | None:
            seen.append(context)
            return None

    host.register(Spy(), name="spy")
    host.build_create(make_provider(max_reference_images=3), VideoEdit(video=CLIP))

    assert [(c.provider, c.dialect) for c in seen] == [("apimart", "apimart")]
    assert seen[0].options == {"max_reference_images": 3}


def test_a_request_type_no_plugin_encodes_for_the_gateway_is_refused(host: PluginHost) -> None:
    class Other(videoedit.EditRequest):
        model: str = "wan2.1-vace-plus"

    with pytest.raises(InvalidRequestError) as caught:
        host.build_create(make_provider(), Other())

    assert caught.value.code == "UnsupportedRequest"
    assert "'apimart' format" in caught.value.message


# -- field-name options ----------------------------------------------------------------------


def test_field_names_option_renames_the_unconfirmed_fields(host: PluginHost) -> None:
    provider = make_provider(field_names={"ratio": "size", "image_urls": "reference_image_urls"})

    body = sent_json(host.build_create(provider, full_edit()))

    assert body["size"] == "9:16"
    assert body["reference_image_urls"] == [REF.format(0)]
    assert "ratio" not in body
    assert "image_urls" not in body


def test_field_names_option_refuses_an_unknown_body_field() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(field_names={"aspect": "size"})

    assert caught.value.field == "options.field_names.aspect"
    assert "not a body field" in caught.value.message


def test_field_names_option_refuses_two_fields_on_one_wire_name() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(field_names={"ratio": "resolution"})

    assert caught.value.field == "options.field_names"
    assert (
        "ratio and resolution" in caught.value.message
        or "resolution and ratio" in caught.value.message
    )


def test_field_names_option_refuses_an_empty_wire_name() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(field_names={"ratio": " "})

    assert caught.value.field == "options.field_names.ratio"


def test_four_reference_images_are_sent_by_default(host: PluginHost) -> None:
    body = sent_json(host.build_create(make_provider(), full_edit(images=4)))

    assert body["image_urls"] == [REF.format(i) for i in range(4)]


def test_max_reference_images_option_lowers_the_limit_naming_field_and_option(
    host: PluginHost,
) -> None:
    provider = make_provider(max_reference_images=3)

    with pytest.raises(InvalidRequestError) as caught:
        host.build_create(provider, full_edit(images=4))

    assert caught.value.field == "reference_images"
    assert "at most 3" in caught.value.message
    assert "max_reference_images" in caught.value.message


@pytest.mark.parametrize("bad", [5, -1, "3", True])
def test_max_reference_images_option_must_be_0_to_4(bad: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(max_reference_images=bad)

    assert caught.value.field == "options.max_reference_images"


def test_language_option_changes_or_drops_the_poll_query() -> None:
    assert str(make_provider(language="zh").build_status("t").url).endswith("?language=zh")
    assert str(make_provider(language="").build_status("t").url) == (
        "https://api.apimart.ai/v1/tasks/t"
    )


def test_unknown_option_is_refused_naming_it() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(fieldnames={})

    assert caught.value.field == "options.fieldnames"


# -- create and poll answers -----------------------------------------------------------------


def test_create_answer_gives_the_task_id_as_pending() -> None:
    task = make_provider().parse_create(
        answer(200, {"code": 200, "data": [{"status": "submitted", "task_id": "task_01"}]})
    )

    assert task.task_id == "task_01"
    assert task.provider == "apimart"
    assert task.status is TaskStatus.PENDING


def test_create_answer_with_a_non_200_code_is_an_error_despite_http_200() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider().parse_create(
            answer(200, {"code": 400, "message": "video_urls is required"})
        )

    assert caught.value.code == "400"
    assert caught.value.field == "video"
    assert caught.value.message == "video_urls is required"


def test_create_answer_without_a_task_id_is_a_service_error() -> None:
    with pytest.raises(ServiceError) as caught:
        make_provider().parse_create(answer(200, {"code": 200, "data": []}))

    assert caught.value.code == "MalformedResponse"


def test_status_request_gets_the_task_with_language_and_key() -> None:
    http = make_provider().build_status("task_01")

    assert http.method == "GET"
    assert str(http.url) == "https://api.apimart.ai/v1/tasks/task_01?language=en"
    assert http.headers["Authorization"] == f"Bearer {KEY}"


def test_a_task_id_cannot_reach_another_route() -> None:
    http = make_provider().build_status("../videos/generations?language=zh")

    assert http.url.raw_path == (b"/v1/tasks/..%2Fvideos%2Fgenerations%3Flanguage%3Dzh?language=en")
    assert http.url.params["language"] == "en"


def poll_body(**data: Any) -> dict[str, Any]:
    return {"code": 200, "data": {"id": "task_01", **data}}


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("pending", TaskStatus.PENDING),
        ("submitted", TaskStatus.PENDING),
        ("processing", TaskStatus.RUNNING),
        ("completed", TaskStatus.SUCCEEDED),
        ("failed", TaskStatus.FAILED),
        ("cancelled", TaskStatus.CANCELED),
        ("some_new_word", TaskStatus.RUNNING),
    ],
)
def test_status_words_map_onto_the_six(word: str, status: TaskStatus) -> None:
    body = poll_body(status=word, result={"videos": [{"url": "https://cdn.example/o.mp4"}]})

    task = make_provider().parse_status("task_01", answer(200, body))

    assert task.status is status


@pytest.mark.parametrize(("percent", "fraction"), [(0, 0.0), (35, 0.35), (100, 1.0), (120, 1.0)])
def test_progress_percent_becomes_a_fraction(percent: int, fraction: float) -> None:
    task = make_provider().parse_status(
        "task_01", answer(200, poll_body(status="processing", progress=percent))
    )

    assert task.progress == pytest.approx(fraction)


@pytest.mark.parametrize(
    "url", ["https://cdn.example/o.mp4", ["https://cdn.example/o.mp4", "https://cdn.example/b.mp4"]]
)
def test_completed_result_url_may_be_a_string_or_a_list(url: Any) -> None:
    body = poll_body(
        status="completed",
        progress=100,
        created=1763088000,
        completed=1763088300,
        result={"videos": [{"url": url, "expires_at": 1763174708}]},
    )

    task = make_provider().parse_status("task_01", answer(200, body))

    assert task.status is TaskStatus.SUCCEEDED
    assert task.progress == 1.0
    assert task.video_url == "https://cdn.example/o.mp4"
    assert task.result is not None
    assert task.result.expires_at == datetime.fromtimestamp(1763174708, timezone.utc)
    assert task.submitted_at == datetime.fromtimestamp(1763088000, timezone.utc)
    assert task.ended_at == datetime.fromtimestamp(1763088300, timezone.utc)


def test_completed_without_a_result_url_is_a_service_error() -> None:
    with pytest.raises(ServiceError) as caught:
        make_provider().parse_status(
            "task_01", answer(200, poll_body(status="completed", result={"videos": [{"url": []}]}))
        )

    assert "result.videos[0].url" in caught.value.message


def test_failed_task_keeps_the_error_code_and_message() -> None:
    body = poll_body(
        status="failed",
        progress=40,
        error={
            "code": "InvalidParameter",
            "message": "video too long",
            "type": "invalid_request_error",
        },
    )

    task = make_provider().parse_status("task_01", answer(200, body))

    assert task.status is TaskStatus.FAILED
    assert task.error_code == "InvalidParameter"
    assert task.error_message == "video too long"


def test_poll_answer_with_a_non_200_code_is_an_error_despite_http_200() -> None:
    with pytest.raises(TaskNotFoundError) as caught:
        make_provider().parse_status(
            "task_x", answer(200, {"code": 404, "message": "task not found"})
        )

    assert caught.value.task_id == "task_x"
    assert caught.value.code == "404"


def test_a_200_body_with_an_error_type_and_no_numeric_code_uses_the_type() -> None:
    with pytest.raises(RateLimitError):
        make_provider().parse_create(
            answer(
                200,
                {"code": "error", "error": {"message": "slow down", "type": "rate_limit_error"}},
            )
        )


# -- HTTP errors -----------------------------------------------------------------------------


def test_401_is_an_authentication_error_naming_the_key_variable() -> None:
    error = make_provider().parse_error(
        answer(
            401,
            {
                "error": {
                    "code": "invalid_api_key",
                    "message": "Invalid token",
                    "type": "authentication_error",
                }
            },
        )
    )

    assert isinstance(error, AuthenticationError)
    assert error.code == "invalid_api_key"
    assert error.message == "Invalid token"
    assert error.hint is not None
    assert "APIMART_API_KEY" in error.hint


def test_403_is_permission_denied() -> None:
    error = make_provider().parse_error(answer(403, {"code": 403, "message": "insufficient quota"}))

    assert isinstance(error, PermissionDeniedError)
    assert error.message == "insufficient quota"


def test_429_is_a_rate_limit_with_retry_after() -> None:
    error = make_provider().parse_error(
        answer(429, {"code": 429, "message": "too many requests"}, headers={"Retry-After": "3"})
    )

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 3.0


def test_429_without_retry_after() -> None:
    error = make_provider().parse_error(answer(429, {"error": {"message": "too many requests"}}))

    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_500_is_a_service_error() -> None:
    error = make_provider().parse_error(
        answer(
            500,
            {
                "error": {
                    "code": "internal_error",
                    "message": "upstream failed",
                    "type": "server_error",
                }
            },
        )
    )

    assert isinstance(error, ServiceError)
    assert error.code == "internal_error"
    assert error.message == "upstream failed"


def test_400_naming_a_renamed_field_points_at_the_request_field() -> None:
    provider = make_provider(field_names={"image_urls": "images"})

    error = provider.parse_error(answer(400, {"code": 400, "message": "images: at most 3 items"}))

    assert isinstance(error, InvalidRequestError)
    assert error.field == "reference_images"


# -- what the gateway does not have ----------------------------------------------------------


def test_cancel_is_unsupported_and_says_so() -> None:
    with pytest.raises(UnsupportedOperationError) as caught:
        make_provider().build_cancel("task_01")

    assert "no cancel call" in caught.value.message


def test_listing_is_unsupported_and_says_so() -> None:
    with pytest.raises(UnsupportedOperationError) as caught:
        make_provider().build_list(videoedit.ListQuery())

    assert "no task listing" in caught.value.message


# -- registration and key --------------------------------------------------------------------


def test_apimart_is_registered_with_its_key_variable_and_official_host(host: PluginHost) -> None:
    info = host.provider("apimart")

    assert info.factory is ApimartProvider
    assert info.api_key_env == ("APIMART_API_KEY",)
    assert info.base_url == "https://api.apimart.ai"


def test_key_comes_from_apimart_api_key(host: PluginHost, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIMART_API_KEY", "from-env")

    client = videoedit.Client("apimart", plugins=host)

    assert client.provider.build_status("x").headers["Authorization"] == "Bearer from-env"


def test_base_url_env_variable_points_at_a_white_label_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOEDIT_APIMART_BASE_URL", "https://gw.example.net")
    host = PluginHost.from_entry_points(allow=["wan27", "apimart"], strict=True)

    client = videoedit.Client("apimart", api_key=KEY, plugins=host)

    assert client.base_url == "https://gw.example.net"


# -- the client driving the provider ---------------------------------------------------------


class FakeGateway:
    """Plays the gateway over MockTransport: pending, processing with rising percent, then ends."""

    def __init__(self, final: dict[str, Any]) -> None:
        self.final = final
        self.requests: list[httpx.Request] = []
        self.script = [
            poll_body(status="pending", progress=0),
            poll_body(status="processing", progress=30),
            poll_body(status="processing", progress=70),
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path == "/v1/videos/generations":
            return answer(
                200, {"code": 200, "data": [{"status": "submitted", "task_id": "task_01"}]}
            )
        if request.url.path == "/v1/tasks/task_01":
            return answer(200, self.script.pop(0) if self.script else self.final)
        if request.url.host == "cdn.example":
            return httpx.Response(200, content=boxed_mp4(b"\x00" * 64))
        return answer(404, {"code": 404, "message": "no route"})


def client_for(
    host: PluginHost, handler: Callable[[httpx.Request], httpx.Response]
) -> videoedit.Client:
    return videoedit.Client(
        "apimart",
        api_key=KEY,
        plugins=host,
        transport=httpx.MockTransport(handler),
        poll=PollSchedule(first=0, factor=1, maximum=0, jitter=0),
        retry=RetryPolicy(base_delay=0, max_delay=0),
    )


def test_client_submits_waits_with_rising_progress_and_saves(
    host: PluginHost, tmp_path: Path
) -> None:
    fake = FakeGateway(
        poll_body(
            status="completed",
            progress=100,
            result={"videos": [{"url": ["https://cdn.example/o.mp4"], "expires_at": LATER}]},
        )
    )
    seen: list[tuple[str, float | None]] = []

    def on_event(event: videoedit.TaskEvent) -> None:
        if event.kind == "polled" and event.task is not None:
            seen.append((event.task.status.value, event.task.progress))

    with client_for(host, fake) as client:
        task = client.submit(VideoEdit(video=CLIP, prompt="ink wash"))
        done = client.wait(task, on_event=on_event)
        saved = client.save(done, tmp_path / "out.mp4")

    assert task.status is TaskStatus.PENDING
    assert seen == [
        ("PENDING", 0.0),
        ("RUNNING", pytest.approx(0.3)),
        ("RUNNING", pytest.approx(0.7)),
        ("SUCCEEDED", 1.0),
    ]
    assert saved.read_bytes() == boxed_mp4(b"\x00" * 64)
    assert all(str(r.url).endswith("?language=en") for r in fake.requests[1:-1])


def test_client_refuses_to_save_a_result_whose_expires_at_has_passed(
    host: PluginHost, tmp_path: Path
) -> None:
    fake = FakeGateway(
        poll_body(
            status="completed",
            result={"videos": [{"url": "https://cdn.example/o.mp4", "expires_at": 1763174708}]},
        )
    )
    with client_for(host, fake) as client:
        done = client.wait("task_01")
        with pytest.raises(videoedit.DownloadError) as caught:
            client.save(done, tmp_path / "out.mp4")

    assert caught.value.code == "ResultExpired"
    assert not (tmp_path / "out.mp4").exists()


def test_client_wait_raises_task_failed_with_the_gateway_error(host: PluginHost) -> None:
    fake = FakeGateway(
        poll_body(
            status="failed",
            error={
                "code": "DataInspectionFailed",
                "message": "content flagged",
                "type": "task_error",
            },
        )
    )
    with client_for(host, fake) as client, pytest.raises(TaskFailedError) as caught:
        client.wait("task_01")

    assert caught.value.code == "DataInspectionFailed"
    assert "content flagged" in str(caught.value)


def test_client_submit_raises_the_error_hidden_in_a_200_answer(host: PluginHost) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(200, {"code": 401, "message": "invalid key"})

    with client_for(host, handler) as client, pytest.raises(AuthenticationError) as caught:
        client.submit(VideoEdit(video=CLIP))

    assert caught.value.message == "invalid key"
    assert caught.value.status_code == 200


def test_400_naming_two_fields_points_at_the_one_it_leads_with() -> None:
    error = make_provider().parse_error(
        answer(
            400,
            {
                "code": 400,
                "message": "duration (5 s) must not exceed the input video's length (2.00 s, video_urls[0])",
            },
        )
    )

    assert isinstance(error, InvalidRequestError)
    assert error.field == "duration"
