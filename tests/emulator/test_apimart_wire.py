"""The emulator's APIMart-format gateway, spelled out with raw HTTP (API-FACTS §5).

Exact answers: the ``{"code", "data"}`` envelope, status words and percentages at each
stage, the result's URL list and ``expires_at``, the error object, and every refusal in the
gateway's error body, naming the flat field the caller sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.models import ModelRegistry
from videoedit_emulator.engine.models.base import JobPlan, RenderPlan, ResolvedMedia
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.adapters.apimart import error_response, flat_field

REMOTE = "https://example.invalid/clip.mp4"
IMAGE = "https://example.invalid/ref.png"
AUTH = {"Authorization": "Bearer sk-test"}


def flat(**fields: Any) -> dict[str, Any]:
    body = {
        "model": "wan2.7-videoedit",
        "video_urls": [REMOTE],
        "resolution": "720P",
        "duration": 2,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


class Gateway:
    def __init__(self, server: EmulatorServer, http: httpx.Client) -> None:
        self.server = server
        self.base = server.base_url("apimart")
        self.http = http

    def create(self, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            self.base + "/v1/videos/generations", json=body, headers={**AUTH, **(headers or {})}
        )

    def submit(self, body: Any = None, **kw: Any) -> str:
        answer = self.create(flat() if body is None else body, **kw)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"][0]["task_id"])

    def poll(self, task_id: str) -> httpx.Response:
        return self.http.get(
            f"{self.base}/v1/tasks/{task_id}", params={"language": "en"}, headers=AUTH
        )

    def data(self, task_id: str) -> dict[str, Any]:
        answer = self.poll(task_id)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"code", "data"}
        assert body["code"] == 200
        return dict(body["data"])


@pytest.fixture
def gateway(emulator: EmulatorServer, http: httpx.Client) -> Gateway:
    return Gateway(emulator, http)


def refusal(answer: httpx.Response) -> tuple[int, str, str, str]:
    """(status, code, message, type) of a gateway error, checking that the body repeats the
    HTTP status as its ``code``."""
    body = answer.json()
    assert set(body) == {"code", "error"}, body
    assert body["code"] == answer.status_code
    error = body["error"]
    assert set(error) == {"code", "message", "type"}, body
    return answer.status_code, error["code"], error["message"], error["type"]


# -- create ----------------------------------------------------------------------------------


def test_create_answers_code_200_and_a_submitted_task(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    answer = gateway.create(flat(prompt="ink wash"))

    assert answer.status_code == 200
    [task] = emulator.engine.all_tasks()
    assert answer.json() == {
        "code": 200,
        "data": [{"status": "submitted", "task_id": f"task_{task.task_id}"}],
    }
    assert task.realm == "apimart"


def test_the_flat_body_reaches_the_same_wan27_rules(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    gateway.submit(
        flat(
            prompt="ink wash",
            negative_prompt="blur",
            image_urls=[IMAGE],
            ratio="9:16",
            audio_setting="origin",
            prompt_extend=False,
            watermark=True,
            seed=7,
        )
    )

    [task] = emulator.engine.all_tasks()
    assert task.prompt == "ink wash"
    assert dict(task.parameters) == {
        "resolution": "720P",
        "ratio": "9:16",
        "duration": 2,
        "audio_setting": "origin",
        "prompt_extend": False,
        "watermark": True,
        "seed": 7,
    }


def test_size_is_accepted_for_the_unconfirmed_ratio_name(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    gateway.submit(flat(size="1:1"))

    assert emulator.engine.all_tasks()[0].parameters["ratio"] == "1:1"


def test_only_the_first_video_url_is_used(emulator: EmulatorServer, gateway: Gateway) -> None:
    task_id = gateway.submit(flat(video_urls=[REMOTE, "https://example.invalid/other.mp4"]))
    assert emulator.engine.drain(timeout=60)

    note = gateway.data(task_id)["emulator_note"]
    assert "video_urls[0] was not fetched" in note
    assert "other.mp4" not in note


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (flat(video_urls=None), "video_urls is required"),
        (flat(video_urls=REMOTE), "video_urls must be an array of URL strings"),
        (flat(video_urls=[]), "video_urls must hold at least one URL"),
        (flat(video_urls=[7]), "video_urls[0] must be a URL string"),
        (flat(image_urls=IMAGE), "image_urls must be an array of URL strings"),
        (flat(aspect="16:9"), "aspect is not a field of this API"),
        (flat(ratio="16:9", size="16:9"), "size repeats 'ratio'"),
        (
            flat(duration=11),
            "duration must be 0 (keep the input's length) or an integer from 2 to 10",
        ),
        (flat(size="2:1"), "size must be one of"),
        (flat(resolution="4K"), "resolution must be 720P or 1080P"),
        (flat(prompt_extend="yes"), "prompt_extend must be a boolean"),
        (flat(video_urls=["ftp://host/clip.mp4"]), "video_urls[0] must be an http(s) URL"),
        (flat(image_urls=[IMAGE, "ftp://host/b.png"]), "image_urls[1] must be an http(s) URL"),
        (flat(image_urls=[IMAGE] * 5), "image_urls may hold at most 4 items"),
        (flat(video_urls=["oss://dashscope-instant/x/clip.mp4"]), "video_urls[0] is an oss:// URL"),
    ],
)
def test_refusals_name_the_flat_field(gateway: Gateway, body: dict[str, Any], message: str) -> None:
    status, code, said, kind = refusal(gateway.create(body))

    assert (status, code, kind) == (400, "InvalidParameter", "invalid_request_error")
    assert said.startswith(message), said
    assert "input." not in said
    assert "parameters." not in said


def test_an_unknown_model_is_refused(gateway: Gateway) -> None:
    status, _, message, _ = refusal(gateway.create(flat(model="wan9-videoedit")))

    assert status == 400
    assert message.startswith("Model not exist.")


# -- poll ------------------------------------------------------------------------------------


def test_poll_reports_pending_processing_completed_with_rising_percent(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    task_id = gateway.submit(headers={"X-Emulator-Progression": "polls=4"})
    assert emulator.engine.drain(timeout=60)

    seen = [gateway.data(task_id) for _ in range(4)]

    assert [(d["status"], d["progress"]) for d in seen] == [
        ("pending", 0),
        ("pending", 0),
        ("processing", 75),
        ("completed", 100),
    ]
    assert all(d["id"] == task_id and isinstance(d["created"], int) for d in seen)
    assert all("result" not in d and "completed" not in d for d in seen[:3])


def test_completed_answer_gives_the_url_list_its_expiry_and_times(
    emulator: EmulatorServer, gateway: Gateway, http: httpx.Client, tmp_path: Path
) -> None:
    task_id = gateway.submit(flat(ratio="3:4"))
    assert emulator.engine.drain(timeout=60)

    data = gateway.data(task_id)

    assert data["status"] == "completed"
    [video] = data["result"]["videos"]
    [url] = video["url"]
    assert f"Expires={video['expires_at']}" in url
    assert video["expires_at"] == data["completed"] + 24 * 3600
    assert data["actual_time"] == data["completed"] - data["created"]
    answer = http.get(url)
    assert answer.status_code == 200
    (tmp_path / "o.mp4").write_bytes(answer.content)
    info = probe_output(tmp_path / "o.mp4")
    assert (info.width, info.height, info.duration) == (832, 1104, 2.0)


def test_failed_answer_carries_code_message_and_type(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    task_id = gateway.submit(headers={"X-Emulator-Fail": "DataInspectionFailed: flagged"})

    data = gateway.data(task_id)

    assert data["status"] == "failed"
    assert data["error"] == {
        "code": "DataInspectionFailed",
        "message": "flagged",
        "type": "task_error",
    }


def test_a_task_failed_through_the_control_plane_answers_failed(
    emulator: EmulatorServer, gateway: Gateway, http: httpx.Client
) -> None:
    task_id = gateway.submit(headers={"X-Emulator-Progression": "polls=2"})
    engine_id = task_id.removeprefix("task_")
    http.post(f"{emulator.url}/_emulator/tasks/{engine_id}/fail", json={"code": "InternalError"})

    statuses = [gateway.data(task_id)["status"] for _ in range(2)]

    assert statuses == ["pending", "failed"]


@pytest.mark.parametrize("task_id", ["task_0000", "0000", "task_"])
def test_an_unknown_task_is_a_404(gateway: Gateway, task_id: str) -> None:
    status, code, message, kind = refusal(gateway.poll(task_id))

    assert (status, code, kind) == (404, "task_not_found", "not_found_error")
    assert task_id in message


def test_the_engine_id_without_the_gateway_prefix_is_unknown(
    emulator: EmulatorServer, gateway: Gateway
) -> None:
    task_id = gateway.submit()

    assert gateway.poll(task_id.removeprefix("task_")).status_code == 404
    assert emulator.engine.all_tasks()[0].polls == 0


def test_a_vtrix_task_is_not_visible_through_the_gateway(
    emulator: EmulatorServer, gateway: Gateway, http: httpx.Client
) -> None:
    created = http.post(
        emulator.base_url("vtrix") + "/model/v1/generation",
        json={
            "model": "wan27_videoedit",
            "input": [{"params": {"input": {"media": [{"type": "video", "url": REMOTE}]}}}],
        },
        headers=AUTH,
    )

    assert gateway.poll("task_" + created.json()["id"]).status_code == 404


# -- keys and errors -------------------------------------------------------------------------


def test_a_missing_key_is_a_401_in_gateway_form(gateway: Gateway) -> None:
    answer = gateway.http.post(gateway.base + "/v1/videos/generations", json=flat())

    assert refusal(answer)[:2] == (401, "invalid_api_key")
    assert refusal(answer)[3] == "authentication_error"


def test_a_key_bound_to_another_realm_is_a_401() -> None:
    with EmulatorServer(keys={"sk-vtrix": "vtrix"}) as server:
        answer = httpx.post(
            server.base_url("apimart") + "/v1/videos/generations",
            json=flat(),
            headers={"Authorization": "Bearer sk-vtrix"},
        )

    assert refusal(answer)[:2] == (401, "invalid_api_key")


class Broken:
    models: Mapping[str, frozenset[str] | None] = {"wan2.7-videoedit": None}

    def validate(self, *args: Any) -> JobPlan:
        raise RuntimeError("boom")

    def prepare(self, plan: JobPlan, media: Mapping[str, ResolvedMedia]) -> RenderPlan:
        raise AssertionError("not reached")


def test_an_internal_failure_is_a_500_in_gateway_form() -> None:
    with EmulatorServer(engine=TaskEngine(registry=ModelRegistry([Broken()]))) as server:
        answer = httpx.post(
            server.base_url("apimart") + "/v1/videos/generations", json=flat(), headers=AUTH
        )

    status, code, message, kind = refusal(answer)
    assert (status, code, kind) == (500, "internal_error", "server_error")
    assert "boom" not in message


@pytest.mark.parametrize(
    ("error", "status", "code", "kind", "retry_after"),
    [
        (
            ApiError(ErrorKind.FORBIDDEN, "insufficient balance"),
            403,
            "permission_denied",
            "permission_error",
            None,
        ),
        (
            ApiError(ErrorKind.THROTTLED, "slow down", retry_after=1.2),
            429,
            "rate_limit_exceeded",
            "rate_limit_error",
            "2",
        ),
        (
            ApiError(ErrorKind.THROTTLED, "slow down"),
            429,
            "rate_limit_exceeded",
            "rate_limit_error",
            None,
        ),
        (
            ApiError(ErrorKind.INTERNAL, "internal error"),
            500,
            "internal_error",
            "server_error",
            None,
        ),
        (
            ApiError(ErrorKind.TOO_LARGE, "too big"),
            413,
            "request_too_large",
            "invalid_request_error",
            None,
        ),
    ],
)
def test_every_error_kind_renders_in_gateway_form(
    error: ApiError, status: int, code: str, kind: str, retry_after: str | None
) -> None:
    response = error_response(error)
    answer = httpx.Response(
        response.status_code, headers=dict(response.headers), content=response.body
    )

    assert refusal(answer) == (status, code, error.message, kind)
    assert answer.headers.get("Retry-After") == retry_after


@pytest.mark.parametrize(
    ("dashscope", "flat_text"),
    [
        ("input.media[0].url must be an http(s) URL", "video_urls[0] must be an http(s) URL"),
        ("input.media[3].url is bad", "image_urls[2] is bad"),
        ("input.media may hold at most 4", "image_urls may hold at most 4"),
        ("parameters.seed must be", "seed must be"),
        ("input.negative_prompt must be", "negative_prompt must be"),
    ],
)
def test_dashscope_field_paths_read_as_flat_fields(dashscope: str, flat_text: str) -> None:
    assert flat_field(dashscope) == flat_text
