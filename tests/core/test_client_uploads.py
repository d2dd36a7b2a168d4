"""Local inputs on DashScope: getPolicy, a form POST to OSS, then oss:// URLs in the create body
with the resolve header (API-FACTS §1, "Temporary upload of local files")."""

from __future__ import annotations

import base64
import email.message
import email.parser
import email.policy
from pathlib import Path

import httpx
import pytest

import videoedit.probe
from videoedit import InvalidRequestError, PermissionDeniedError, TransportError, VideoEdit

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def form_fields(request: httpx.Request) -> list[tuple[str, str | None, bytes]]:
    """(name, file name, value) of each multipart part, in order."""
    head = b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    assert isinstance(message, email.message.EmailMessage)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        parts.append(
            (
                str(name),
                filename if filename is None else str(filename),
                part.get_payload(decode=True),
            )
        )
    return parts


@pytest.fixture
def local_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A local video (content checks off: these tests are about the upload) and image."""
    monkeypatch.setattr(videoedit.probe, "ffmpeg_exe", lambda: None)
    video = tmp_path / "my clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    image = tmp_path / "ref.png"
    image.write_bytes(PNG)
    return video, image


async def test_a_local_video_is_uploaded_and_sent_as_an_oss_url(
    client, service, local_inputs, callback
) -> None:
    video, _ = local_inputs
    await client.submit(VideoEdit(video=video, prompt="watercolor"), on_event=callback)

    policy, upload, create = service.requests
    assert (policy.method, policy.url.path, dict(policy.url.params)) == (
        "GET",
        "/api/v1/uploads",
        {"action": "getPolicy", "model": "wan2.7-videoedit"},
    )
    assert policy.headers["Authorization"] == f"Bearer {service.key}"

    assert (upload.method, str(upload.url)) == ("POST", service.oss_host)
    assert "Authorization" not in upload.headers  # the form carries OSS's own signature
    key = f"{service.upload_dir}/my_clip.mp4"
    assert form_fields(upload) == [
        ("OSSAccessKeyId", None, b"LTAI5tOssAccessKey"),
        ("Signature", None, b"c2lnbmF0dXJl"),
        ("policy", None, b"eyJleHBpcmF0aW9uIjoi"),
        ("key", None, key.encode()),
        ("x-oss-object-acl", None, b"private"),
        ("x-oss-forbid-overwrite", None, b"true"),
        ("success_action_status", None, b"200"),
        ("x-oss-content-type", None, b"video/mp4"),
        ("file", "my_clip.mp4", video.read_bytes()),
    ]

    body = service.json(create)
    assert body["input"]["media"] == [{"type": "video", "url": f"oss://{key}"}]
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert [e.detail for e in callback.of("uploaded")] == [f"video -> oss://{key}"]


async def test_local_reference_images_are_uploaded_too(client, service, local_inputs) -> None:
    _, image = local_inputs
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    edit = VideoEdit(
        video="https://cdn.example.com/in.mp4",
        reference_images=[str(image), "https://cdn.example.com/ref.jpg", data_uri],
    )
    await client.submit(edit)
    assert [service.route(r) for r in service.requests] == ["policy", "oss", "create"]
    upload, create = service.calls("oss"), service.calls("create")[0]
    assert ("x-oss-content-type", None, b"image/png") in form_fields(upload[0])
    assert service.json(create)["input"]["media"] == [
        {"type": "video", "url": "https://cdn.example.com/in.mp4"},
        {"type": "reference_image", "url": f"oss://{service.upload_dir}/ref.png"},
        {"type": "reference_image", "url": "https://cdn.example.com/ref.jpg"},
        {"type": "reference_image", "url": data_uri},  # data URIs go as they are
    ]
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"


async def test_without_local_files_nothing_is_uploaded(client, service) -> None:
    await client.submit(VideoEdit(video="https://cdn.example.com/in.mp4"))
    [create] = service.requests
    assert "X-DashScope-OssResourceResolve" not in create.headers


async def test_each_local_file_gets_its_own_policy(client, service, local_inputs) -> None:
    video, image = local_inputs
    await client.submit(VideoEdit(video=video, reference_images=[image]))
    assert [service.route(r) for r in service.requests] == [
        "policy",
        "oss",
        "policy",
        "oss",
        "create",
    ]


async def test_a_refused_upload_stops_before_the_task_is_created(
    client, service, local_inputs
) -> None:
    video, _ = local_inputs
    service.script(
        "oss",
        httpx.Response(
            403,
            text="<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
            "<Message>Invalid according to Policy: Policy expired.</Message></Error>",
        ),
    )
    with pytest.raises(PermissionDeniedError, match="Policy expired"):
        await client.submit(VideoEdit(video=video))
    assert service.calls("create") == []


async def test_a_malformed_policy_is_a_service_error(client, service, local_inputs) -> None:
    video, _ = local_inputs
    service.script("policy", httpx.Response(200, json={"data": {"policy": "p"}}))
    with pytest.raises(Exception, match="getPolicy answered without the fields") as caught:
        await client.submit(VideoEdit(video=video))
    assert getattr(caught.value, "code", None) == "MalformedResponse"
    assert [service.route(r) for r in service.requests] == ["policy"]


async def test_an_upload_lost_after_sending_is_not_repeated(client, service, local_inputs) -> None:
    """The policy forbids overwriting, so a repeat could only fail: it is not attempted."""
    video, _ = local_inputs
    service.script("oss", httpx.ReadTimeout("no answer"))
    with pytest.raises(
        TransportError, match=r"upload of video \(my clip\.mp4\) broke off"
    ) as caught:
        await client.submit(VideoEdit(video=video))
    assert caught.value.maybe_submitted is False  # no task exists yet
    assert "No task was created" in str(caught.value)
    assert len(service.calls("oss")) == 1
    assert service.calls("create") == []


async def test_a_provider_without_uploads_refuses_local_files(kind, local_inputs, plugins) -> None:
    from videoedit import Client

    plugins.register(__import__("acme_videoedit"), name="acme")
    video, _ = local_inputs
    with (
        Client("acme", api_key="k", plugins=plugins) as acme,
        pytest.raises(InvalidRequestError) as caught,
    ):
        acme.submit(VideoEdit(video=video))
    assert caught.value.field == "video"
    assert "provider 'acme' has no upload API" in str(caught.value)
