"""Request bodies and uploads are bounded: 100 MB by default, configurable, and a body one
byte over the limit is refused in the provider's own words, whether or not it announces its
length (a chunked body is counted as it arrives)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from resilience_wire import PROVIDERS, auth, create_body, create_url, error_of

from videoedit_emulator.cli import build_parser
from videoedit_emulator.engine.config import MIB, EmulatorConfig
from videoedit_emulator.server import EmulatorServer

LIMIT = 8 * 1024
#: Room the upload host allows around the file for the form's other fields.
FORM_SLACK = 64 * 1024
CODES = {
    "dashscope-beijing": "RequestTooLarge",
    "dashscope-singapore": "RequestTooLarge",
    "vtrix": "request_too_large",
    "apimart": "request_too_large",
}


@pytest.fixture(scope="module")
def small() -> Iterator[EmulatorServer]:
    with EmulatorServer(max_body_bytes=LIMIT) as server:
        yield server


def padded(provider: str, size: int) -> bytes:
    """A valid create body grown to exactly ``size`` bytes (white space after the JSON)."""
    body = httpx.Request("POST", "/", json=create_body(provider)).content
    assert len(body) <= size
    return body + b" " * (size - len(body))


def chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_the_limit_is_100_mb_by_default_in_the_config_and_the_cli() -> None:
    assert EmulatorConfig().max_body_bytes == 100 * MIB
    assert build_parser().parse_args(["serve"]).max_body_mb == 100
    assert build_parser().parse_args(["serve", "--max-body-mb", "5"]).max_body_mb == 5


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_create_body_over_the_limit_is_refused_in_the_providers_format(
    small: EmulatorServer, http: httpx.Client, provider: str, chunked: bool
) -> None:
    data = padded(provider, LIMIT + 1)
    content: Any = chunks(data) if chunked else data
    response = http.post(
        create_url(small, provider),
        content=content,
        headers={**auth(), "Content-Type": "application/json"},
    )
    status, code, message = error_of(provider, response)
    assert (status, code) == (413, CODES[provider])
    limit_words = f"the limit is {LIMIT} bytes"
    assert limit_words in message
    assert small.engine.all_tasks() == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_create_body_of_exactly_the_limit_is_taken(
    small: EmulatorServer, http: httpx.Client, provider: str
) -> None:
    response = http.post(
        create_url(small, provider),
        content=padded(provider, LIMIT),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def policy(http: httpx.Client, server: EmulatorServer) -> dict[str, Any]:
    response = http.get(
        server.base_url("dashscope-beijing") + "/uploads",
        params={"action": "getPolicy", "model": "wan2.7-videoedit"},
        headers=auth(),
    )
    return dict(response.json()["data"])


def upload(http: httpx.Client, data: dict[str, Any], size: int) -> httpx.Response:
    return http.post(
        data["upload_host"],
        data={
            "OSSAccessKeyId": data["oss_access_key_id"],
            "Signature": data["signature"],
            "policy": data["policy"],
            "key": data["upload_dir"] + "/clip.mp4",
            "x-oss-object-acl": "private",
            "success_action_status": "200",
        },
        files={"file": ("clip.mp4", b"\x00" * size)},
    )


def test_the_upload_policy_says_the_limit(small: EmulatorServer, http: httpx.Client) -> None:
    data = policy(http, small)
    assert data["max_file_size_mb"] == 0  # 8 KiB, in whole MB
    with EmulatorServer() as default:
        assert policy(http, default)["max_file_size_mb"] == 100


def test_an_upload_over_the_limit_is_refused_as_oss_refuses_it(
    small: EmulatorServer, http: httpx.Client
) -> None:
    response = upload(http, policy(http, small), LIMIT + 1)
    status, code, message = error_of("oss", response)
    assert (status, code) == (400, "EntityTooLarge")
    assert f"[0, {LIMIT}] bytes" in message
    assert small.engine.store.objects() == []


def test_an_upload_of_exactly_the_limit_is_kept(small: EmulatorServer, http: httpx.Client) -> None:
    assert upload(http, policy(http, small), LIMIT).status_code == 200
    assert [o.size for o in small.engine.store.objects()] == [LIMIT]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_body_far_over_the_limit_is_cut_off_as_it_arrives(
    small: EmulatorServer, http: httpx.Client, chunked: bool
) -> None:
    size = LIMIT + FORM_SLACK + 1
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'
    body += b"\x00" * size
    content: Any = chunks(body, 16 * 1024) if chunked else body
    response = http.post(
        small.url + "/oss/dashscope-file-mgr",
        content=content,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    status, code, message = error_of("oss", response)
    assert (status, code) == (400, "EntityTooLarge")
    assert f"> {LIMIT + FORM_SLACK} bytes" in message
