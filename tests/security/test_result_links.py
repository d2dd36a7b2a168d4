"""A result link opens its MP4 only while it is signed, unaltered and unexpired; any change
to the key, the expiry or the signature, a link from another emulator, or a link past its
time is refused the way OSS refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from resilience_wire import auth, create, error_of, status, stub_renderer, task_id_of

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.server import EmulatorServer

RESULT_TTL = 3600.0


@pytest.fixture
def clocked(http: httpx.Client) -> Iterator[tuple[EmulatorServer, ManualClock, list[str]]]:
    """An emulator on a manual clock, with two finished tasks and their links."""
    clock = ManualClock(1_800_000_000.0)
    config = EmulatorConfig(clock=clock, result_ttl=RESULT_TTL, render_cache_bytes=0)
    with EmulatorServer(engine=TaskEngine(config, renderer=stub_renderer)) as server:
        links = []
        for _ in range(2):
            task_id = task_id_of("dashscope-beijing", create(http, server, "dashscope-beijing"))
            assert server.engine.drain(60)
            output = status(http, server, "dashscope-beijing", task_id).json()["output"]
            assert output["task_status"] == "SUCCEEDED"
            links.append(output["video_url"])
        yield server, clock, links


def altered(link: str, **changes: str | None) -> str:
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query=urlencode(query)).geturl()


def test_a_signed_link_serves_the_whole_file_and_ranges(
    clocked: tuple[EmulatorServer, ManualClock, list[str]], http: httpx.Client
) -> None:
    _, _, (link, _) = clocked
    whole = http.get(link)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.content[4:8] == b"ftyp"
    part = http.get(link, headers={"Range": "bytes=0-99"})
    assert (part.status_code, part.content) == (206, whole.content[:100])
    assert http.head(link).status_code == 200


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "SignatureDoesNotMatch"),
        ({"Signature": "ünïcødé"}, "SignatureDoesNotMatch"),
        ({"Expires": "4102444800"}, "SignatureDoesNotMatch"),  # a later expiry: not signed
        ({"OSSAccessKeyId": "LTAI-someone-else"}, "InvalidAccessKeyId"),
        ({"Signature": None}, "AccessDenied"),
        ({"Expires": None}, "AccessDenied"),
        ({"OSSAccessKeyId": None}, "AccessDenied"),
        ({"Expires": "soon"}, "AccessDenied"),
    ],
)
def test_an_altered_link_is_refused(
    clocked: tuple[EmulatorServer, ManualClock, list[str]],
    http: httpx.Client,
    changes: dict[str, str | None],
    code: str,
) -> None:
    _, _, (link, _) = clocked
    response = http.get(altered(link, **changes))
    assert error_of("oss", response)[:2] == (403, code)


def test_one_tasks_signature_does_not_open_another_tasks_file(
    clocked: tuple[EmulatorServer, ManualClock, list[str]], http: httpx.Client
) -> None:
    _, _, (first, second) = clocked
    other_key = urlsplit(second).path
    swapped = urlsplit(first)._replace(path=other_key).geturl()
    assert error_of("oss", http.get(swapped))[:2] == (403, "SignatureDoesNotMatch")


def test_a_link_expires_after_the_result_lifetime(
    clocked: tuple[EmulatorServer, ManualClock, list[str]], http: httpx.Client
) -> None:
    _, clock, (link, _) = clocked
    clock.advance(RESULT_TTL - 5)
    assert http.get(link).status_code == 200
    clock.advance(10)
    status_code, code, message = error_of("oss", http.get(link))
    assert (status_code, code, message) == (403, "AccessDenied", "Request has expired.")


def test_a_link_of_another_emulator_opens_nothing_here(
    clocked: tuple[EmulatorServer, ManualClock, list[str]], http: httpx.Client
) -> None:
    _, _, (link, _) = clocked
    with EmulatorServer(engine=TaskEngine(renderer=stub_renderer)) as other:
        task_id = task_id_of("dashscope-beijing", create(http, other, "dashscope-beijing"))
        assert other.engine.drain(60)
        foreign = status(http, other, "dashscope-beijing", task_id).json()["output"]["video_url"]
    here = urlsplit(link)
    transplanted = urlsplit(foreign)._replace(netloc=here.netloc).geturl()
    assert error_of("oss", http.get(transplanted))[0] == 403


def test_links_are_given_only_to_a_caller_with_a_key(
    clocked: tuple[EmulatorServer, ManualClock, list[str]], http: httpx.Client
) -> None:
    server, _, _ = clocked
    task_id = server.engine.all_tasks()[0].task_id
    url = server.base_url("dashscope-beijing") + f"/tasks/{task_id}"
    assert http.get(url).status_code == 401
    assert "video_url" in http.get(url, headers=auth()).json()["output"]
