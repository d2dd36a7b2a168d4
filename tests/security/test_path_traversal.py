"""The emulator serves no file outside its storage, and writes none there, whatever the path.

The file routes are the OSS result links (GET and HEAD) and the OSS upload host (which
writes). Paths are sent raw over a socket, so that no client normalises ``..`` away first,
and result links are signed with the emulator's own secret (the worst case: an attacker who
could sign anything still reads nothing outside the results). A marker file sits beside the
storage directory; it must never come back.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from resilience_wire import auth

from videoedit_emulator.server import EmulatorServer

MARKER = b"THIS-FILE-IS-OUTSIDE-THE-EMULATOR-STORAGE"

#: Object keys that try to climb out of the results folder, plain and encoded.
KEYS = [
    "../../secret.mp4",
    "../../../../../../etc/passwd",
    "..\\..\\secret.mp4",
    "/secret.mp4",
    "results/../../secret.mp4",
    "....//....//secret.mp4",
    "..;/..;/secret.mp4",
    "%2e%2e/%2e%2e/secret.mp4",
    "..%2f..%2fsecret.mp4",
    "%252e%252e%252fsecret.mp4",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/secret.mp4",
    "secret.mp4%00.mp4",
    "../uploads",
    "../cache",
    ".",
    "..",
]
#: The same, written straight into the request line (percent-encodings decoded by the server).
RAW_PATHS = [
    "/oss/dashscope-result/../../secret.mp4",
    "/oss/dashscope-result/..%2f..%2fsecret.mp4",
    "/oss/dashscope-result/%2e%2e%2f%2e%2e%2fsecret.mp4",
    "/oss/dashscope-result/%2E%2E/%2E%2E/secret.mp4",
    "/oss/dashscope-result/..%5c..%5csecret.mp4",
    "/oss/dashscope-result/%252e%252e%252fsecret.mp4",
    "/oss/dashscope-result//etc/passwd",
    "/oss/dashscope-result/%00/../secret.mp4",
    "/oss/dashscope-result/..%c0%af..%c0%afsecret.mp4",
    "/oss/../secret.mp4",
    "/oss/dashscope-file-mgr/../../secret.mp4",
    "/api/v1/../../secret.mp4",
]


def raw_request(port: int, method: str, target: str) -> tuple[int, bytes]:
    """Send ``METHOD target HTTP/1.1`` verbatim; the status and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1")
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), answer


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorServer, Path]]:
    """An emulator whose storage is ``<tmp>/storage``, with a marker file beside it."""
    root = tmp_path_factory.mktemp("traversal")
    (root / "secret.mp4").write_bytes(MARKER)
    (root / "storage").mkdir()
    with EmulatorServer(storage_dir=root / "storage") as server:
        yield server, root


def outside(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if "storage" not in p.relative_to(root).parts)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_signed_link_to_a_key_outside_the_results_serves_nothing(
    sandbox: tuple[EmulatorServer, Path], key: str, method: str
) -> None:
    server, _ = sandbox
    link = server.engine.store.result_url(key, server.url, int(time.time()) + 3600)
    target = link.removeprefix(server.url)
    status, answer = raw_request(server.port or 0, method, target)
    assert status in (400, 403, 404), answer[:300]
    assert MARKER not in answer
    assert b"root:" not in answer
    if method == "GET":
        assert b"<Error>" in answer  # OSS's own refusal


@pytest.mark.parametrize("target", RAW_PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_raw_path_that_climbs_serves_nothing(
    sandbox: tuple[EmulatorServer, Path], target: str, method: str
) -> None:
    server, _ = sandbox
    status, answer = raw_request(server.port or 0, method, target)
    assert 400 <= status < 500, answer[:300]
    assert MARKER not in answer
    assert b"root:" not in answer


@pytest.mark.parametrize(
    "name",
    [
        "../../../escaped.mp4",
        "..\\..\\escaped.mp4",
        "/tmp/escaped.mp4",
        "a/../../../../escaped.mp4",
        "%2e%2e%2fescaped.mp4",
        "\x00escaped.mp4",
    ],
)
def test_an_upload_whose_key_climbs_is_kept_inside_the_storage(
    sandbox: tuple[EmulatorServer, Path], name: str
) -> None:
    server, root = sandbox
    before = outside(root)
    with httpx.Client(timeout=30, trust_env=False) as http:
        data = http.get(
            server.base_url("dashscope-beijing") + "/uploads",
            params={"action": "getPolicy", "model": "wan2.7-videoedit"},
            headers=auth(),
        ).json()["data"]
        key = f"{data['upload_dir']}/{name}"
        response = http.post(
            data["upload_host"],
            data={
                "OSSAccessKeyId": data["oss_access_key_id"],
                "Signature": data["signature"],
                "policy": data["policy"],
                "key": key,
                "x-oss-object-acl": "private",
                "x-oss-forbid-overwrite": "true",
                "success_action_status": "200",
            },
            files={"file": ("clip.mp4", b"uploaded-bytes")},
        )
    assert response.status_code == 200, response.text
    assert outside(root) == before  # nothing written beside the storage
    stored = {o.key: o for o in server.engine.store.objects()}[key]
    storage = (root / "storage").resolve()
    assert storage in stored.path.resolve().parents
    assert stored.path.read_bytes() == b"uploaded-bytes"


def test_an_input_pointing_at_a_local_file_is_not_read(
    sandbox: tuple[EmulatorServer, Path],
) -> None:
    server, root = sandbox
    secret = root / "secret.mp4"
    with httpx.Client(timeout=30, trust_env=False) as http:
        for url in (secret.as_uri(), f"oss://{secret}", f"oss://../../{secret.name}"):
            created = http.post(
                server.base_url("dashscope-beijing")
                + "/services/aigc/video-generation/video-synthesis",
                json={
                    "model": "wan2.7-videoedit",
                    "input": {"media": [{"type": "video", "url": url}]},
                    "parameters": {"resolution": "720P", "duration": 2},
                },
                headers={**auth(), "X-DashScope-OssResourceResolve": "enable"},
            )
            if created.status_code != 200:
                assert created.status_code == 400
                continue
            task_id = created.json()["output"]["task_id"]
            assert server.engine.drain(60)
            output = http.get(
                server.base_url("dashscope-beijing") + f"/tasks/{quote(task_id)}",
                headers=auth(),
            ).json()["output"]
            if output["task_status"] == "SUCCEEDED":  # a stand-in: the file was not read
                assert "was not fetched" in output["emulator_note"]
            else:
                assert output["message"].startswith("Failed to download input.media[0].url")
