"""The ``vtrix`` provider: the DashScope body in Vtrix's envelope, and Vtrix's task answers.

Sans-I/O tests build and parse ``httpx`` objects directly; the client tests drive the real
:class:`videoedit.Client` over an ``httpx.MockTransport`` that plays Vtrix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from boxed_mp4 import boxed_mp4

import videoedit
from videoedit import (
    AuthenticationError,
    EditRequest,
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
from videoedit_vtrix import VtrixProvider

BASE = "https://cloud.vtrix.ai"
KEY = "vtrix-test-key"
CLIP = "https://media.example.com/in.mp4"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def host() -> PluginHost:
    """The core's wan2.7 encoder, the DashScope routes and Vtrix, loaded as entry points."""
    return PluginHost.from_entry_points(allow=["wan27", "dashscope", "vtrix"], strict=True)


def make_provider(**options: Any) -> VtrixProvider:
    return VtrixProvider(ProviderConfig(base_url=BASE, api_key=ApiKey(KEY), options=options))


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- the create call on the wire -------------------------------------------------------------


def test_create_posts_the_envelope_with_the_dashscope_body_under_input_0_params(
    host: PluginHost,
) -> None:
    request = VideoEdit(
        video=CLIP,
        prompt="claymation style",
        negative_prompt="blur",
        reference_images=["https://media.example.com/ref.png"],
        resolution="720P",
        ratio="16:9",
        duration=4,
        audio_setting="origin",
        prompt_extend=False,
        watermark=True,
        seed=42,
    )

    http = host.build_create(make_provider(), request)

    assert http.method == "POST"
    assert str(http.url) == "https://cloud.vtrix.ai/model/v1/generation"
    assert http.headers["Authorization"] == f"Bearer {KEY}"
    assert http.headers["Content-Type"] == "application/json"
    assert "X-DashScope-Async" not in http.headers
    assert sent_json(http) == {
        "model": "wan27_videoedit",
        "input": [
            {
                "params": {
                    "input": {
                        "prompt": "claymation style",
                        "negative_prompt": "blur",
                        "media": [
                            {"type": "video", "url": CLIP},
                            {"type": "reference_image", "url": "https://media.example.com/ref.png"},
                        ],
                    },
                    "parameters": {
                        "resolution": "720P",
                        "duration": 4,
                        "audio_setting": "origin",
                        "prompt_extend": False,
                        "watermark": True,
                        "ratio": "16:9",
                        "seed": 42,
                    },
                }
            }
        ],
    }


def test_envelope_params_are_exactly_the_dashscope_route_body_without_model(
    host: PluginHost,
) -> None:
    request = VideoEdit(video=CLIP, prompt="pixel art", duration=3)
    dashscope = videoedit.Client("dashscope-singapore", api_key=KEY, plugins=host)

    upstream = sent_json(host.build_create(dashscope.provider, request))
    wrapped = sent_json(host.build_create(make_provider(), request))

    upstream.pop("model")
    assert wrapped["input"] == [{"params": upstream}]


def test_non_ascii_prompt_is_sent_as_utf8_not_escaped(host: PluginHost) -> None:
    http = host.build_create(make_provider(), VideoEdit(video=CLIP, prompt="变成黏土动画"))

    assert "变成黏土动画".encode() in http.content


class Sharpen(EditRequest):
    """A request type from an outside plugin, taught to the DashScope format only."""

    request_kind: ClassVar[str] = "sharpen"
    media_fields: ClassVar[tuple[str, ...]] = ("video",)
    model: str = "wan9-sharpen"
    video: str
    amount: float = 0.5


class SharpenPlugin:
    @videoedit.hookimpl
    def encode_request(
        self, request: EditRequest, context: videoedit.EncodeContext
    ) -> dict[str, Any] | None:
        if context.dialect == "dashscope" and isinstance(request, Sharpen):
            return {
                "model": request.model,
                "input": {"video_url": request.video},
                "parameters": {"amount": request.amount},
            }
        return None


def test_request_types_another_plugin_encodes_for_dashscope_travel_through_the_envelope(
    host: PluginHost,
) -> None:
    host.register(SharpenPlugin(), name="sharpen")
    provider = make_provider(model_map={"wan9-sharpen": "wan9_sharpen"})

    http = host.build_create(provider, Sharpen(video=CLIP, amount=0.8))

    assert sent_json(http) == {
        "model": "wan9_sharpen",
        "input": [{"params": {"input": {"video_url": CLIP}, "parameters": {"amount": 0.8}}}],
    }


def test_encoder_sees_the_dashscope_dialect_and_the_vtrix_provider(host: PluginHost) -> None:
    seen: list[videoedit.EncodeContext] = []

    class Spy:
        @videoedit.hookimpl(tryfirst=True)
        def encode_request(
            self, request: EditRequest, context: videoedit.EncodeContext
        ) -> dict[str, Any] | None:
            seen.append(context)
            return None

    host.register(Spy(), name="spy")
    host.build_create(make_provider(), VideoEdit(video=CLIP))

    assert [(c.provider, c.dialect) for c in seen] == [("vtrix", "dashscope")]


# -- the model map ---------------------------------------------------------------------------


def test_unknown_upstream_model_is_refused_naming_the_model_map_option(host: PluginHost) -> None:
    host.register(SharpenPlugin(), name="sharpen")

    with pytest.raises(InvalidRequestError) as caught:
        host.build_create(make_provider(), Sharpen(video=CLIP))

    error = caught.value
    assert error.field == "model"
    assert "'wan9-sharpen'" in error.message
    assert "model_map" in error.message
    assert "wan2.7-videoedit -> wan27_videoedit" in error.message


def test_model_map_option_adds_to_the_default_map() -> None:
    provider = make_provider(model_map={"wan9-sharpen": "wan9_sharpen"})

    assert provider.model_map == {
        "wan2.7-videoedit": "wan27_videoedit",
        "wan9-sharpen": "wan9_sharpen",
    }


def test_model_map_option_can_replace_the_default_vtrix_id(host: PluginHost) -> None:
    provider = make_provider(model_map={"wan2.7-videoedit": "wan27_videoedit_v2"})

    http = host.build_create(provider, VideoEdit(video=CLIP))

    assert sent_json(http)["model"] == "wan27_videoedit_v2"


def test_a_request_already_naming_a_vtrix_model_id_passes_unchanged(host: PluginHost) -> None:
    http = host.build_create(make_provider(), VideoEdit(video=CLIP, model="wan27_videoedit"))

    assert sent_json(http)["model"] == "wan27_videoedit"


@pytest.mark.parametrize(
    "bad", [["wan2.7-videoedit"], {"wan2.7-videoedit": ""}, {"": "x"}, {"a": 1}]
)
def test_malformed_model_map_option_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(model_map=bad)

    assert caught.value.field == "options.model_map"


def test_unknown_option_is_refused_naming_it() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_provider(modelmap={})

    assert caught.value.field == "options.modelmap"
    assert "known: model_map" in caught.value.message


# -- create and poll answers -----------------------------------------------------------------


def test_create_answer_gives_the_task_id_and_running_status() -> None:
    task = make_provider().parse_create(
        answer(200, {"id": "gen_123", "status": "in_progress", "model": "wan27_videoedit"})
    )

    assert task.task_id == "gen_123"
    assert task.provider == "vtrix"
    assert task.status is TaskStatus.RUNNING
    assert task.raw["model"] == "wan27_videoedit"


def test_create_answer_without_id_is_a_service_error_quoting_vtrix() -> None:
    with pytest.raises(ServiceError) as caught:
        make_provider().parse_create(answer(200, {"error": "model is offline"}))

    assert "model is offline" in caught.value.message


def test_status_request_gets_the_task_path_with_the_key() -> None:
    http = make_provider().build_status("gen_123")

    assert http.method == "GET"
    assert str(http.url) == "https://cloud.vtrix.ai/model/v1/generation/task/gen_123"
    assert http.headers["Authorization"] == f"Bearer {KEY}"


def test_a_task_id_cannot_reach_another_route() -> None:
    http = make_provider().build_status("../../v1/generation?x=1")

    assert http.url.raw_path == b"/model/v1/generation/task/..%2F..%2Fv1%2Fgeneration%3Fx%3D1"
    assert http.url.query == b""


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("in_progress", TaskStatus.RUNNING),
        ("processing", TaskStatus.RUNNING),
        ("pending", TaskStatus.PENDING),
        ("completed", TaskStatus.SUCCEEDED),
        ("failed", TaskStatus.FAILED),
        ("cancelled", TaskStatus.CANCELED),
        ("a_word_vtrix_adds_later", TaskStatus.RUNNING),
        (None, TaskStatus.RUNNING),
    ],
)
def test_status_words_map_onto_the_six(word: Any, status: TaskStatus) -> None:
    body: dict[str, Any] = {"id": "gen_1", "status": word, "progress": 0.5}
    if status is TaskStatus.SUCCEEDED:
        body["output"] = [{"content": [{"type": "video", "url": "https://cdn.vtrix.ai/o.mp4"}]}]

    task = make_provider().parse_status("gen_1", answer(200, body))

    assert task.status is status


@pytest.mark.parametrize(("figure", "fraction"), [(0, 0.0), (0.35, 0.35), (1, 1.0), (40, 0.4)])
def test_progress_is_exposed_as_a_fraction(figure: float, fraction: float) -> None:
    task = make_provider().parse_status(
        "gen_1", answer(200, {"id": "gen_1", "status": "in_progress", "progress": figure})
    )

    assert task.progress == pytest.approx(fraction)


def test_progress_is_absent_when_vtrix_gives_none() -> None:
    task = make_provider().parse_status(
        "gen_1", answer(200, {"id": "gen_1", "status": "in_progress"})
    )

    assert task.progress is None


def completed_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "gen_1",
        "status": "completed",
        "model": "wan27_videoedit",
        "created_at": int(NOW.timestamp()),
        "progress": 1.0,
        "output": [
            {"content": [{"type": "video", "url": "https://cdn.vtrix.ai/o.mp4", "duration": 5.0}]}
        ],
        "usage": {"cost": 0.5, "quantity": 5, "unit_price": 0.1},
    }
    body.update(overrides)
    return body


def test_completed_task_gives_url_duration_usage_and_expiry() -> None:
    task = make_provider().parse_status("gen_1", answer(200, completed_body()))

    assert task.status is TaskStatus.SUCCEEDED
    assert task.progress == 1.0
    assert task.submitted_at == NOW
    assert task.result is not None
    assert task.result.video_url == "https://cdn.vtrix.ai/o.mp4"
    assert task.result.duration == 5.0
    assert task.result.usage.cost == 0.5
    assert task.result.usage.raw == {"cost": 0.5, "quantity": 5, "unit_price": 0.1}
    assert task.result.expires_at == NOW + timedelta(hours=24)


def test_iso_creation_time_is_read_too() -> None:
    task = make_provider().parse_status(
        "gen_1", answer(200, completed_body(created_at="2026-04-03T00:08:03Z"))
    )

    assert task.submitted_at == datetime(2026, 4, 3, 0, 8, 3, tzinfo=timezone.utc)
    assert task.result is not None
    assert task.result.expires_at == datetime(2026, 4, 4, 0, 8, 3, tzinfo=timezone.utc)


def test_a_signed_result_link_gives_its_own_expiry() -> None:
    body = completed_body(
        output=[
            {"content": [{"type": "video", "url": "https://oss.example/o.mp4?Expires=1800000000"}]}
        ]
    )

    task = make_provider().parse_status("gen_1", answer(200, body))

    assert task.result is not None
    assert task.result.expires_at == datetime.fromtimestamp(1800000000, timezone.utc)


def test_the_video_item_is_chosen_among_the_output_contents() -> None:
    body = completed_body(
        output=[
            {
                "content": [
                    {"type": "image", "url": "https://cdn.vtrix.ai/cover.jpg"},
                    {"type": "video", "url": "https://cdn.vtrix.ai/o.mp4", "duration": 3},
                ]
            }
        ]
    )

    task = make_provider().parse_status("gen_1", answer(200, body))

    assert task.video_url == "https://cdn.vtrix.ai/o.mp4"


def test_completed_without_a_url_is_a_service_error() -> None:
    with pytest.raises(ServiceError) as caught:
        make_provider().parse_status("gen_1", answer(200, completed_body(output=[])))

    assert caught.value.code == "MalformedResponse"
    assert "output[0].content[0].url" in caught.value.message


def test_failed_task_keeps_an_error_object_code_and_message() -> None:
    body = {
        "id": "gen_1",
        "status": "failed",
        "error": {
            "code": "DataInspectionFailed",
            "message": "Input data may contain inappropriate content.",
        },
    }

    task = make_provider().parse_status("gen_1", answer(200, body))

    assert task.status is TaskStatus.FAILED
    assert task.error_code == "DataInspectionFailed"
    assert task.error_message == "Input data may contain inappropriate content."


def test_failed_task_keeps_an_error_string_as_its_message() -> None:
    body = {"id": "gen_1", "status": "failed", "error": "upstream task failed: InvalidParameter"}

    task = make_provider().parse_status("gen_1", answer(200, body))

    assert task.status is TaskStatus.FAILED
    assert task.error_code is None
    assert task.error_message == "upstream task failed: InvalidParameter"


# -- HTTP errors -----------------------------------------------------------------------------


def test_401_is_an_authentication_error_with_vtrix_message_and_hint() -> None:
    error = make_provider().parse_error(answer(401, {"message": "invalid api key"}))

    assert isinstance(error, AuthenticationError)
    assert error.message == "invalid api key"
    assert error.status_code == 401
    assert error.provider == "vtrix"
    assert error.hint is not None
    assert "VTRIX_API_KEY" in error.hint


def test_403_with_an_error_string_is_permission_denied() -> None:
    error = make_provider().parse_error(answer(403, {"error": "insufficient balance"}))

    assert isinstance(error, PermissionDeniedError)
    assert error.message == "insufficient balance"
    assert error.hint is not None
    assert "balance" in error.hint


def test_429_with_an_error_object_is_a_rate_limit_with_retry_after() -> None:
    error = make_provider().parse_error(
        answer(
            429,
            {"error": {"code": "rate_limit_exceeded", "message": "too many requests"}},
            headers={"Retry-After": "7"},
        )
    )

    assert isinstance(error, RateLimitError)
    assert error.code == "rate_limit_exceeded"
    assert error.message == "too many requests"
    assert error.retry_after == 7.0


def test_429_without_retry_after_leaves_the_delay_to_the_client() -> None:
    error = make_provider().parse_error(answer(429, {"message": "slow down"}))

    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_500_is_a_service_error() -> None:
    error = make_provider().parse_error(answer(500, {"message": "internal error"}))

    assert isinstance(error, ServiceError)
    assert error.message == "internal error"
    assert error.status_code == 500


def test_a_non_json_500_keeps_the_text() -> None:
    error = make_provider().parse_error(httpx.Response(502, text="<html>Bad gateway</html>"))

    assert isinstance(error, ServiceError)
    assert error.message == "<html>Bad gateway</html>"


def test_400_naming_a_dashscope_field_keeps_the_field() -> None:
    error = make_provider().parse_error(
        answer(
            400,
            {
                "error": {
                    "code": "InvalidParameter",
                    "message": "parameters.duration exceeds the input video",
                }
            },
        )
    )

    assert isinstance(error, InvalidRequestError)
    assert error.field == "parameters.duration"
    assert error.code == "InvalidParameter"


def test_404_is_task_not_found() -> None:
    error = make_provider().parse_error(answer(404, {"message": "task not found"}))

    assert isinstance(error, TaskNotFoundError)


# -- what Vtrix does not have ----------------------------------------------------------------


def test_cancel_is_unsupported_and_says_so() -> None:
    with pytest.raises(UnsupportedOperationError) as caught:
        make_provider().build_cancel("gen_1")

    assert "Vtrix has no cancel call" in caught.value.message
    assert caught.value.task_id == "gen_1"


def test_listing_is_unsupported_and_says_so() -> None:
    with pytest.raises(UnsupportedOperationError) as caught:
        make_provider().build_list(videoedit.ListQuery())

    assert "Vtrix has no task listing" in caught.value.message


# -- registration, key and base URL ----------------------------------------------------------


def test_vtrix_is_registered_with_its_key_variable_and_default_base_url(host: PluginHost) -> None:
    info = host.provider("vtrix")

    assert info.factory is VtrixProvider
    assert info.api_key_env == ("VTRIX_API_KEY",)
    assert info.base_url == "https://cloud.vtrix.ai"
    assert info.plugin == "vtrix"


def test_key_comes_from_vtrix_api_key(host: PluginHost, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTRIX_API_KEY", "from-env")

    client = videoedit.Client("vtrix", plugins=host)

    assert client.provider.build_status("x").headers["Authorization"] == "Bearer from-env"


def test_missing_key_names_the_variable(host: PluginHost, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VTRIX_API_KEY", raising=False)

    with pytest.raises(AuthenticationError) as caught:
        videoedit.Client("vtrix", plugins=host)

    assert "VTRIX_API_KEY" in caught.value.message


def test_base_url_is_overridable_per_client(host: PluginHost) -> None:
    client = videoedit.Client(
        "vtrix", api_key=KEY, base_url="http://127.0.0.1:9/vtrix/", plugins=host
    )

    http = host.build_create(client.provider, VideoEdit(video=CLIP))

    assert str(http.url) == "http://127.0.0.1:9/vtrix/model/v1/generation"


# -- the client driving the provider ---------------------------------------------------------


class FakeVtrix:
    """Plays Vtrix over MockTransport: a task that runs for ``polls`` polls, then ends."""

    def __init__(self, polls: int = 2, final: dict[str, Any] | None = None) -> None:
        self.polls = polls
        self.final = final or completed_body(id="gen_9")
        self.requests: list[httpx.Request] = []
        self.seen = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path == "/model/v1/generation":
            return answer(200, {"id": "gen_9", "status": "in_progress", "model": "wan27_videoedit"})
        if request.url.path == "/model/v1/generation/task/gen_9":
            self.seen += 1
            if self.seen <= self.polls:
                progress = self.seen / (self.polls + 1)
                return answer(200, {"id": "gen_9", "status": "in_progress", "progress": progress})
            return answer(200, self.final)
        if request.url.host == "cdn.vtrix.ai":
            return httpx.Response(200, content=boxed_mp4(b"\x00" * 64))
        return answer(404, {"message": f"no route {request.url.path}"})


def client_for(
    host: PluginHost, handler: Callable[[httpx.Request], httpx.Response]
) -> videoedit.Client:
    return videoedit.Client(
        "vtrix",
        api_key=KEY,
        plugins=host,
        transport=httpx.MockTransport(handler),
        poll=PollSchedule(first=0, factor=1, maximum=0, jitter=0),
        retry=RetryPolicy(base_delay=0, max_delay=0),
    )


def test_client_submits_waits_with_rising_progress_and_saves(
    host: PluginHost, tmp_path: Path
) -> None:
    fake = FakeVtrix(polls=2)
    progress: list[float | None] = []
    with client_for(host, fake) as client:
        task = client.submit(VideoEdit(video=CLIP, prompt="watercolor"))
        done = client.wait(
            task,
            on_event=lambda e: (
                progress.append(e.task.progress) if e.task and e.kind == "polled" else None
            ),
        )
        saved = client.save(done, tmp_path / "out.mp4")

    assert task.task_id == "gen_9"
    assert progress == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    assert done.status is TaskStatus.SUCCEEDED
    assert saved.read_bytes() == boxed_mp4(b"\x00" * 64)
    assert [r.headers.get("Authorization") for r in fake.requests[:-1]] == [f"Bearer {KEY}"] * 4
    assert "Authorization" not in fake.requests[-1].headers


def test_client_wait_raises_task_failed_with_vtrix_error(host: PluginHost) -> None:
    fake = FakeVtrix(
        polls=0,
        final={
            "id": "gen_9",
            "status": "failed",
            "error": {"code": "InvalidParameter", "message": "Failed to download the video"},
        },
    )
    with client_for(host, fake) as client, pytest.raises(TaskFailedError) as caught:
        client.wait("gen_9")

    assert caught.value.code == "InvalidParameter"
    assert "Failed to download the video" in str(caught.value)
    assert caught.value.task_id == "gen_9"


def test_client_retries_a_throttled_poll_after_retry_after(host: PluginHost) -> None:
    fake = FakeVtrix(polls=0)
    throttled = [answer(429, {"message": "rate limited"}, headers={"Retry-After": "0"})]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and throttled:
            fake.requests.append(request)
            return throttled.pop()
        return fake(request)

    with client_for(host, handler) as client:
        task = client.status("gen_9")

    assert task.status is TaskStatus.SUCCEEDED
    assert len(fake.requests) == 2


@pytest.mark.anyio
async def test_async_client_speaks_the_same_wire(host: PluginHost) -> None:
    fake = FakeVtrix(polls=1)
    async with videoedit.AsyncClient(
        "vtrix",
        api_key=KEY,
        plugins=host,
        transport=httpx.MockTransport(fake),
        poll=PollSchedule(first=0, factor=1, maximum=0, jitter=0),
    ) as client:
        task = await client.submit(VideoEdit(video=CLIP))
        done = await client.wait(task)

    assert done.status is TaskStatus.SUCCEEDED
    assert sent_json(fake.requests[0])["model"] == "wan27_videoedit"
