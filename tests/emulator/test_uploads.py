"""DashScope's temporary upload, served by the emulator: getPolicy, the OSS form, oss:// URLs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from emulator_wire import MODEL, OSS, DashScopeWire, error_of, wan27_body

from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.server import EmulatorServer


def oss_code(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/xml")
    code = response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return response.status_code, code


def test_get_policy_answers_the_documented_fields(wire: DashScopeWire) -> None:
    response = wire.policy()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"request_id", "data"}
    data = body["data"]
    assert set(data) >= {
        "policy", "signature", "upload_dir", "upload_host", "oss_access_key_id",
        "x_oss_object_acl", "x_oss_forbid_overwrite",
    }  # fmt: skip
    assert data["upload_host"] == wire.server.url + "/oss/dashscope-file-mgr"
    assert data["upload_dir"].startswith("dashscope-instant/")
    assert (data["x_oss_object_acl"], data["x_oss_forbid_overwrite"]) == ("private", "true")
    policy = json.loads(base64.b64decode(data["policy"]))
    assert ["starts-with", "$key", data["upload_dir"] + "/"] in policy["conditions"]
    assert ["content-length-range", 0, 100 * 1024 * 1024] in policy["conditions"]


def test_get_policy_needs_a_key(wire: DashScopeWire) -> None:
    assert error_of(wire.policy(key="")) == (401, "InvalidApiKey", "Invalid API-key provided.")


@pytest.mark.parametrize(
    ("model", "params", "message_start"),
    [
        ("", {}, "model is required"),
        ("wan9", {}, "Model not exist."),
        (MODEL, {"action": "upload"}, "action must be getPolicy, got 'upload'"),
    ],
)
def test_get_policy_refusals_name_the_parameter(
    wire: DashScopeWire, model: str, params: dict[str, str], message_start: str
) -> None:
    status, code, message = error_of(wire.policy(model, **params))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith(message_start)


def test_the_upload_flow_yields_an_oss_url_that_edits(
    wire: DashScopeWire, emulator_sample_clip: Path
) -> None:
    url = wire.upload(emulator_sample_clip)
    assert url.startswith("oss://dashscope-instant/")
    assert url.endswith("/sample.mp4")
    task_id = wire.submit(wan27_body(url, duration=0), headers=OSS)
    body = wire.finished(task_id)
    assert body["output"]["task_status"] == "SUCCEEDED"
    assert "emulator_note" not in body["output"]
    assert body["usage"]["input_video_duration"] == 2.0


def test_the_form_answers_204_without_success_action_status(wire: DashScopeWire) -> None:
    data = wire.policy().json()["data"]
    form = wire.upload_form(data)
    del form["success_action_status"]
    response = wire.post_form(data["upload_host"], form, b"bytes")
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Signature": "AAAA"}, (403, "SignatureDoesNotMatch")),
        ({"OSSAccessKeyId": "LTAIsomeoneelse"}, (403, "InvalidAccessKeyId")),
        ({"key": "dashscope-instant/elsewhere/clip.mp4"}, (403, "AccessDenied")),
        ({"x-oss-object-acl": "public-read"}, (403, "AccessDenied")),
        ({"policy": ""}, (403, "AccessDenied")),
        ({"key": ""}, (400, "InvalidArgument")),
    ],
)
def test_a_form_that_breaks_the_policy_is_refused_like_oss(
    wire: DashScopeWire, change: dict[str, str], expected: tuple[int, str]
) -> None:
    data = wire.policy().json()["data"]
    form = {**wire.upload_form(data), **change}
    assert oss_code(wire.post_form(data["upload_host"], form, b"bytes")) == expected


def test_a_form_without_a_file_is_refused(wire: DashScopeWire) -> None:
    data = wire.policy().json()["data"]
    response = wire.http.post(data["upload_host"], data=wire.upload_form(data))
    assert oss_code(response) == (400, "InvalidArgument")


def test_an_expired_policy_is_refused(wire: DashScopeWire) -> None:
    clock = wire.server.engine.use_clock(ManualClock())
    data = wire.policy().json()["data"]
    clock.advance(301)
    response = wire.post_form(data["upload_host"], wire.upload_form(data), b"bytes")
    assert oss_code(response) == (403, "AccessDenied")
    assert "Policy expired" in response.text


def test_forbid_overwrite_true_refuses_a_second_upload_to_the_same_key(wire: DashScopeWire) -> None:
    data = wire.policy().json()["data"]
    form = wire.upload_form(data)
    assert wire.post_form(data["upload_host"], form, b"first").status_code == 200
    assert oss_code(wire.post_form(data["upload_host"], form, b"second")) == (
        409,
        "FileAlreadyExists",
    )


def test_forbid_overwrite_false_replaces_the_object(wire: DashScopeWire) -> None:
    data = wire.policy().json()["data"]
    form = {**wire.upload_form(data), "x-oss-forbid-overwrite": "false"}
    assert wire.post_form(data["upload_host"], form, b"first").status_code == 200
    assert wire.post_form(data["upload_host"], form, b"second").status_code == 200
    (stored,) = wire.server.engine.store.objects()
    assert stored.path.read_bytes() == b"second"


def test_an_upload_over_the_limit_is_entity_too_large(http: httpx.Client) -> None:
    with EmulatorServer(max_body_bytes=4096) as small:
        wire = DashScopeWire(small, http=http)
        data = wire.policy().json()["data"]
        response = wire.post_form(data["upload_host"], wire.upload_form(data), b"x" * 100_000)
        assert oss_code(response) == (400, "EntityTooLarge")


def test_an_oss_url_works_only_with_the_model_it_was_issued_for(
    wire: DashScopeWire, emulator_sample_clip: Path
) -> None:
    url = wire.upload(emulator_sample_clip, model="wanx2.1-vace-plus")
    task_id = wire.submit(wan27_body(url), headers=OSS)
    output = wire.output(task_id)
    assert output["task_status"] == "FAILED"
    assert output["code"] == "InvalidParameter"
    assert output["message"].endswith(
        f"{url} was uploaded for model 'wanx2.1-vace-plus' and cannot be used with 'wan2.7-videoedit'"
    )


def test_an_upload_expires_after_48_hours(wire: DashScopeWire, emulator_sample_clip: Path) -> None:
    clock = wire.server.engine.use_clock(ManualClock())
    url = wire.upload(emulator_sample_clip)
    clock.advance(48 * 3600)
    task_id = wire.submit(wan27_body(url), headers=OSS)
    output = wire.output(task_id)
    assert output["task_status"] == "FAILED"
    assert output["message"].endswith(f"{url} has expired (temporary uploads live 48 hours)")
