"""DashScope's temporary upload as a sans-I/O flow: it yields calls and is sent the answers."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
from pathlib import Path

import httpx
import pytest

from videoedit import ApiKey, ProviderConfig, Retry, ServiceError
from videoedit_dashscope import DashScopeBeijing, DashScopeUploader

BASE = "https://dashscope.aliyuncs.com/api/v1"
POLICY = {
    "policy": "eyJleHBpcmF0aW9uIjoi",
    "signature": "c2lnbmF0dXJl",
    "upload_dir": "dashscope-instant/abc123/2026-04-03/d41d8cd9",
    "upload_host": "https://dashscope-file-mgr.oss-cn-beijing.aliyuncs.com",
    "expire_in_seconds": 300,
    "max_file_size_mb": 100,
    "capacity_limit_mb": 999999999,
    "oss_access_key_id": "LTAI5tOssAccessKey",
    "x_oss_object_acl": "private",
    "x_oss_forbid_overwrite": "true",
}


@pytest.fixture
def uploader() -> DashScopeUploader:
    config = ProviderConfig(BASE, ApiKey("sk-up"), options={"workspace": "ws-9"})
    found = DashScopeBeijing(config).uploader()
    assert isinstance(found, DashScopeUploader)
    return found


def parts(request: httpx.Request) -> list[tuple[str, str | None, bytes]]:
    head = b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.read())
    assert isinstance(message, email.message.EmailMessage)
    return [
        (
            str(part.get_param("name", header="content-disposition")),
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    ]


def test_the_upload_asks_for_a_policy_posts_the_form_and_names_an_oss_url(
    uploader: DashScopeUploader, tmp_path: Path
) -> None:
    clip = tmp_path / "in.mov"
    clip.write_bytes(b"\x00\x00\x00\x14ftypqt  " + b"\x07" * 300)
    flow = uploader.upload(clip, model="wan2.7-videoedit")

    policy_call = next(flow)
    request = policy_call.request
    assert (request.method, str(request.url)) == (
        "GET",
        f"{BASE}/uploads?action=getPolicy&model=wan2.7-videoedit",
    )
    assert request.headers["Authorization"] == "Bearer sk-up"
    assert request.headers["X-DashScope-WorkSpace"] == "ws-9"
    assert policy_call.retry is Retry.IDEMPOTENT

    form_call = flow.send(httpx.Response(200, json={"request_id": "r", "data": POLICY}))
    form = form_call.request
    assert (form.method, str(form.url)) == ("POST", POLICY["upload_host"])
    assert "Authorization" not in form.headers
    assert form.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    key = f"{POLICY['upload_dir']}/in.mov"
    assert parts(form) == [
        ("OSSAccessKeyId", None, b"LTAI5tOssAccessKey"),
        ("Signature", None, b"c2lnbmF0dXJl"),
        ("policy", None, b"eyJleHBpcmF0aW9uIjoi"),
        ("key", None, key.encode()),
        ("x-oss-object-acl", None, b"private"),
        ("x-oss-forbid-overwrite", None, b"true"),
        ("success_action_status", None, b"200"),
        ("x-oss-content-type", None, b"video/quicktime"),
        ("file", "in.mov", clip.read_bytes()),  # last, as OSS requires
    ]
    # Overwriting is forbidden, so a repeat after the body left could only fail.
    assert form_call.retry is Retry.UNSENT_ONLY

    with pytest.raises(StopIteration) as done:
        flow.send(httpx.Response(200))
    assert done.value.value == f"oss://{key}"


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("my clip (1).mp4", "my_clip_1_.mp4"),
        ("视频.mp4", "_.mp4"),
        ("clip;rm -rf ~.mp4", "clip_rm_-rf_.mp4"),
    ],
)
def test_the_object_name_is_made_safe(
    uploader: DashScopeUploader, tmp_path: Path, name: str, stored: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    flow = uploader.upload(path, model="wan2.7-videoedit")
    next(flow)
    form = flow.send(httpx.Response(200, json={"data": POLICY})).request
    assert ("key", None, f"{POLICY['upload_dir']}/{stored}".encode()) in parts(form)


@pytest.mark.parametrize(
    "body",
    [
        {"data": {k: v for k, v in POLICY.items() if k != "upload_host"}},
        {"data": "nope"},
        {"request_id": "r"},
    ],
    ids=["no-host", "data-not-object", "no-data"],
)
def test_a_policy_without_its_fields_is_a_service_error(
    uploader: DashScopeUploader, tmp_path: Path, body: object
) -> None:
    path = tmp_path / "in.mp4"
    path.write_bytes(b"x")
    flow = uploader.upload(path, model="wan2.7-videoedit")
    next(flow)
    with pytest.raises(ServiceError) as caught:
        flow.send(httpx.Response(200, json=body))
    assert caught.value.code == "MalformedResponse"
    assert "upload_host" in str(caught.value)


def test_defaults_fill_the_optional_policy_fields(
    uploader: DashScopeUploader, tmp_path: Path
) -> None:
    path = tmp_path / "in.mp4"
    path.write_bytes(b"x")
    minimal = {k: v for k, v in POLICY.items() if not k.startswith("x_oss")}
    flow = uploader.upload(path, model="wan2.7-videoedit")
    next(flow)
    fields = parts(flow.send(httpx.Response(200, json={"data": minimal})).request)
    assert ("x-oss-object-acl", None, b"private") in fields
    assert ("x-oss-forbid-overwrite", None, b"true") in fields
