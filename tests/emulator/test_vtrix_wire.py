"""The emulator's Vtrix wire format, spelled out with raw HTTP (API-FACTS §4).

Exact answers: the create answer, the poll answer at each stage, status words, progress
figures, the output, usage and error objects, and every refusal in Vtrix's error body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.models import ModelRegistry
from videoedit_emulator.engine.models.base import JobPlan, RenderPlan, ResolvedMedia
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.adapters.vtrix import UNIT_PRICE, error_response

REMOTE = "https://example.invalid/clip.mp4"
AUTH = {"Authorization": "Bearer sk-test"}


def envelope(
    video: str = REMOTE, model: str = "wan27_videoedit", **parameters: Any
) -> dict[str, Any]:
    params = {"resolution": "720P", "duration": 2, **parameters}
    return {
        "model": model,
        "input": [
            {
                "params": {
                    "input": {"prompt": "claymation", "media": [{"type": "video", "url": video}]},
                    "parameters": params,
                }
            }
        ],
    }


class Vtrix:
    def __init__(self, server: EmulatorServer, http: httpx.Client) -> None:
        self.server = server
        self.base = server.base_url("vtrix")
        self.http = http

    def create(
        self, body: Any, headers: Mapping[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return self.http.post(
            self.base + "/model/v1/generation", json=body, headers={**AUTH, **(headers or {})}, **kw
        )

    def submit(self, body: Any = None, **kw: Any) -> str:
        answer = self.create(envelope() if body is None else body, **kw)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    def poll(self, task_id: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.http.get(
            f"{self.base}/model/v1/generation/task/{task_id}", headers=headers or AUTH
        )


@pytest.fixture
def vtrix(emulator: EmulatorServer, http: httpx.Client) -> Vtrix:
    return Vtrix(emulator, http)


def refusal(answer: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of a Vtrix error answer, checking its shape."""
    body = answer.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    return answer.status_code, body["error"]["code"], body["error"]["message"]


# -- create ----------------------------------------------------------------------------------


def test_create_answers_id_in_progress_and_the_vtrix_model(
    emulator: EmulatorServer, vtrix: Vtrix
) -> None:
    answer = vtrix.create(envelope())

    assert answer.status_code == 200
    [task] = emulator.engine.all_tasks()
    assert answer.json() == {
        "id": task.task_id,
        "status": "in_progress",
        "model": "wan27_videoedit",
    }
    assert task.realm == "vtrix"
    assert task.model == "wan2.7-videoedit"


def test_params_are_checked_by_the_same_wan27_rules(emulator: EmulatorServer, vtrix: Vtrix) -> None:
    vtrix.submit(envelope(ratio="9:16", seed=42, audio_setting="origin"))

    [task] = emulator.engine.all_tasks()
    assert task.parameters["ratio"] == "9:16"
    assert task.parameters["seed"] == 42
    assert task.parameters["audio_setting"] == "origin"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "wan27_videoedit", "input": {"params": {}}}, "input must be an array"),
        ({"model": "wan27_videoedit", "input": []}, "input must be an array"),
        ({"model": "wan27_videoedit", "input": [{}]}, "input[0].params is required"),
        (
            {
                "model": "wan27_videoedit",
                "input": [{"params": {"model": "wan2.7-videoedit", "input": {}}}],
            },
            "input[0].params.model is not accepted",
        ),
        (
            {"model": "wan27_videoedit", "input": [{"params": {}}], "extra": 1},
            "extra is not a field",
        ),
        ({"input": [{"params": {}}]}, "model is required"),
    ],
)
def test_envelope_mistakes_are_refused_naming_the_field(
    vtrix: Vtrix, body: dict[str, Any], message: str
) -> None:
    status, code, said = refusal(vtrix.create(body))

    assert (status, code) == (400, "InvalidParameter")
    assert said.startswith(message)


def test_an_unknown_vtrix_model_is_refused_listing_the_served_ones(vtrix: Vtrix) -> None:
    status, code, message = refusal(vtrix.create(envelope(model="wan2.7-videoedit")))

    assert (status, code) == (400, "model_not_found")
    assert "served: wan27_videoedit" in message


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"duration": 11},
            "parameters.duration must be 0 (keep the input's length) or an integer from 2 to 10",
        ),
        ({"ratio": "2:1"}, "parameters.ratio must be one of"),
        ({"resolution": "4K"}, "parameters.resolution must be 720P or 1080P"),
        ({"fps": 30}, "parameters.fps is not a parameter of wan2.7-videoedit"),
    ],
)
def test_model_rules_answer_dashscope_messages_in_the_vtrix_body(
    vtrix: Vtrix, parameters: dict[str, Any], message: str
) -> None:
    status, code, said = refusal(vtrix.create(envelope(**parameters)))

    assert (status, code) == (400, "InvalidParameter")
    assert said.startswith(message)


def test_an_oss_url_is_refused_because_vtrix_cannot_read_dashscope_uploads(vtrix: Vtrix) -> None:
    status, _, message = refusal(vtrix.create(envelope(video="oss://dashscope-instant/x/clip.mp4")))

    assert status == 400
    assert message.startswith("input.media[0].url is an oss:// URL")


def test_a_body_that_is_not_json_is_refused(vtrix: Vtrix) -> None:
    answer = vtrix.http.post(
        vtrix.base + "/model/v1/generation",
        content=b"{nope",
        headers={**AUTH, "Content-Type": "application/json"},
    )

    status, _, message = refusal(answer)
    assert status == 400
    assert message.startswith("body is not valid JSON")


# -- poll ------------------------------------------------------------------------------------


def test_poll_reports_in_progress_with_rising_progress_then_completed(
    emulator: EmulatorServer, vtrix: Vtrix
) -> None:
    task_id = vtrix.submit(headers={"X-Emulator-Progression": "polls=4"})
    assert emulator.engine.drain(timeout=60)

    answers = [vtrix.poll(task_id).json() for _ in range(4)]

    assert [a["status"] for a in answers] == ["in_progress"] * 3 + ["completed"]
    assert [a["progress"] for a in answers] == [0.0, 0.0, 0.75, 1.0]
    assert all(a["id"] == task_id and a["model"] == "wan27_videoedit" for a in answers)
    assert all(isinstance(a["created_at"], int) for a in answers)
    assert all("output" not in a and "usage" not in a for a in answers[:3])


def test_completed_answer_carries_the_video_its_duration_and_usage(
    emulator: EmulatorServer, vtrix: Vtrix, http: httpx.Client, tmp_path: Any
) -> None:
    task_id = vtrix.submit()
    assert emulator.engine.drain(timeout=60)

    body = vtrix.poll(task_id).json()

    assert set(body) == {
        "id", "status", "model", "created_at", "progress", "output", "usage", "emulator_note",
    }  # fmt: skip
    assert body["status"] == "completed"
    [item] = body["output"]
    [content] = item["content"]
    assert content["type"] == "video"
    assert content["duration"] == 2.0
    assert "Expires=" in content["url"]
    assert body["usage"] == {
        "cost": round(4.0 * UNIT_PRICE, 4),
        "quantity": 4.0,
        "unit_price": UNIT_PRICE,
    }
    assert "test pattern" in body["emulator_note"]
    video = http.get(content["url"])
    assert video.status_code == 200
    (tmp_path / "o.mp4").write_bytes(video.content)
    info = probe_output(tmp_path / "o.mp4")
    assert (info.width, info.height, info.duration) == (1280, 720, 2.0)


def test_failed_answer_carries_the_error_object(emulator: EmulatorServer, vtrix: Vtrix) -> None:
    task_id = vtrix.submit(headers={"X-Emulator-Fail": "DataInspectionFailed: bad content"})

    body = vtrix.poll(task_id).json()

    assert body["status"] == "failed"
    assert body["error"] == {"code": "DataInspectionFailed", "message": "bad content"}
    assert "output" not in body


def test_a_task_failed_through_the_control_plane_answers_failed(
    emulator: EmulatorServer, vtrix: Vtrix, http: httpx.Client
) -> None:
    task_id = vtrix.submit(headers={"X-Emulator-Progression": "polls=3"})
    http.post(
        f"{emulator.url}/_emulator/tasks/{task_id}/fail",
        json={"code": "InternalError.Timeout", "message": "upstream timed out"},
    )

    answers = [vtrix.poll(task_id).json() for _ in range(3)]

    assert [a["status"] for a in answers] == ["in_progress", "in_progress", "failed"]
    assert answers[-1]["error"] == {
        "code": "InternalError.Timeout",
        "message": "upstream timed out",
    }


def test_an_unknown_task_is_a_404(vtrix: Vtrix) -> None:
    status, code, message = refusal(vtrix.poll("0000"))

    assert (status, code) == (404, "task_not_found")
    assert "0000" in message


def test_a_dashscope_task_is_not_visible_through_vtrix(
    emulator: EmulatorServer, vtrix: Vtrix, http: httpx.Client
) -> None:
    created = http.post(
        emulator.base_url("dashscope-beijing") + "/services/aigc/video-generation/video-synthesis",
        json={"model": "wan2.7-videoedit", "input": {"media": [{"type": "video", "url": REMOTE}]}},
        headers={**AUTH, "X-DashScope-Async": "enable"},
    )
    task_id = created.json()["output"]["task_id"]

    assert vtrix.poll(task_id).status_code == 404


def test_an_unknown_route_is_a_404_in_vtrix_form(vtrix: Vtrix) -> None:
    status, code, _ = refusal(vtrix.http.get(vtrix.base + "/model/v2/whatever"))

    assert (status, code) == (404, "not_found")


# -- keys and errors -------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}])
def test_a_missing_key_is_a_401(vtrix: Vtrix, headers: dict[str, str]) -> None:
    answer = vtrix.http.post(vtrix.base + "/model/v1/generation", json=envelope(), headers=headers)

    status, code, message = refusal(answer)
    assert (status, code) == (401, "invalid_api_key")
    assert "Bearer" in message


def test_a_key_bound_to_another_realm_is_a_401() -> None:
    with EmulatorServer(keys={"sk-sg": "dashscope-singapore"}) as server:
        answer = httpx.post(
            server.base_url("vtrix") + "/model/v1/generation",
            json=envelope(),
            headers={"Authorization": "Bearer sk-sg"},
        )

    assert refusal(answer)[:2] == (401, "invalid_api_key")


class Broken:
    """A model handler that breaks: what a bug inside the emulator looks like."""

    models: Mapping[str, frozenset[str] | None] = {"wan2.7-videoedit": None}

    def validate(self, *args: Any) -> JobPlan:
        raise RuntimeError("boom")

    def prepare(self, plan: JobPlan, media: Mapping[str, ResolvedMedia]) -> RenderPlan:
        raise AssertionError("not reached")


def test_an_internal_failure_is_a_500_in_vtrix_form() -> None:
    with EmulatorServer(engine=TaskEngine(registry=ModelRegistry([Broken()]))) as server:
        answer = httpx.post(
            server.base_url("vtrix") + "/model/v1/generation", json=envelope(), headers=AUTH
        )

    status, code, message = refusal(answer)
    assert (status, code) == (500, "internal_error")
    assert "boom" not in message


@pytest.mark.parametrize(
    ("error", "status", "code", "retry_after"),
    [
        (ApiError(ErrorKind.FORBIDDEN, "insufficient balance"), 403, "permission_denied", None),
        (
            ApiError(ErrorKind.THROTTLED, "too many requests", retry_after=2.5),
            429,
            "rate_limit_exceeded",
            "3",
        ),
        (ApiError(ErrorKind.THROTTLED, "too many requests"), 429, "rate_limit_exceeded", None),
        (ApiError(ErrorKind.INTERNAL, "internal error"), 500, "internal_error", None),
        (
            ApiError(ErrorKind.UNAUTHORIZED, "bad key", code="InvalidApiKey"),
            401,
            "InvalidApiKey",
            None,
        ),
    ],
)
def test_every_error_kind_renders_in_vtrix_form(
    error: ApiError, status: int, code: str, retry_after: str | None
) -> None:
    response = error_response(error)
    answer = httpx.Response(
        response.status_code, headers=dict(response.headers), content=response.body
    )

    assert refusal(answer) == (status, code, error.message)
    assert answer.headers.get("Retry-After") == retry_after
