"""The console's pages over HTTP: who may see them, what they show, and how they escape it.
(What a browser does with them is tests/browser/test_console_in_chromium.py.)"""

from __future__ import annotations

import httpx
from emulator_wire import REMOTE_VIDEO, DashScopeWire, wan27_body
from starlette.requests import Request

from videoedit import VideoEdit
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.browser_guard import loopback_refusal

UI = "/_emulator/ui"


def request(peer: str, host: str, method: str = "GET", path: str = UI, **headers: str) -> Request:
    """What the console's routes are handed for a request from ``peer`` naming ``host``."""
    raw = [(b"host", host.encode())] + [
        (k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()
    ]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "scheme": "http",
        "headers": raw,
        "client": (peer, 5000),
        "server": ("127.0.0.1", 8765),
        "query_string": b"",
    }
    return Request(scope)


def test_a_client_from_another_machine_is_refused() -> None:
    refusal = loopback_refusal(request("192.0.2.7", "127.0.0.1:8765"))
    assert refusal == "the console answers loopback clients only (this one is 192.0.2.7)"


def test_a_loopback_client_under_another_hosts_name_is_refused() -> None:
    # DNS rebinding: a page of evil.example whose name was made to resolve to 127.0.0.1.
    refusal = loopback_refusal(request("127.0.0.1", "evil.example:8765"))
    assert refusal is not None
    assert "the Host header says 'evil.example:8765'" in refusal


def test_a_loopback_client_under_a_loopback_name_may_see_the_console() -> None:
    for peer, host in (
        ("127.0.0.1", "127.0.0.1:8765"),
        ("::1", "[::1]:80"),
        ("127.0.0.1", "localhost"),
    ):
        assert loopback_refusal(request(peer, host)) is None, host


def test_the_pages_answer_403_saying_why(emulator: EmulatorServer, http: httpx.Client) -> None:
    port = emulator.port
    for path in ("/", "/journal", "/static/console.js"):
        answer = http.get(f"{emulator.url}{UI}{path}", headers={"Host": f"evil.example:{port}"})
        assert answer.status_code == 403, path
        assert "the console answers only under a loopback name" in answer.text
    answer = http.get(f"{emulator.url}{UI}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_a_state_change_a_browser_sends_from_another_origin_is_refused(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    url = emulator.url + "/_emulator/clock/advance"
    for headers in (
        {"Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ):
        # A text/plain form: what any page can make a browser send without asking.
        answer = http.post(url, content=b'{"seconds": 1e6}', headers=headers)
        assert answer.status_code == 403, headers
        assert answer.json()["error"]["field"] == "origin"
    assert "ManualClock" not in http.get(emulator.url + "/_emulator/health").json()["clock"]


def test_a_state_change_from_the_same_origin_or_no_browser_goes_through(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    url = emulator.url + "/_emulator/progression"
    same = {"Origin": emulator.url, "Sec-Fetch-Site": "same-origin"}
    assert http.put(url, json={"progression": "polls=2"}, headers=same).status_code == 200
    assert http.put(url, json={"progression": "polls=4"}).json() == {"progression": "polls=4"}
    read = http.get(url, headers={"Origin": "http://evil.example"})  # reading changes nothing
    assert read.json() == {"progression": "polls=4"}


def test_a_prompt_with_markup_is_shown_as_text(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    task_id = wire.submit(wan27_body(prompt='<script>alert("x")</script> & "claymation"'))
    page = http.get(f"{emulator.url}{UI}/tasks/{task_id}").text
    assert "<script>alert" not in page
    assert (
        '<p class="prompt" id="prompt">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; '
        "&amp; &#34;claymation&#34;</p>"
    ) in page


def test_a_header_with_markup_is_shown_as_text_in_the_journal(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    wire.create(wan27_body(), headers={"X-Note": "<img src=x onerror=alert(1)>"})
    page = http.get(f"{emulator.url}{UI}/journal").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_task_page_shows_the_create_call_redacted_and_its_answer(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    task_id = wire.submit()
    page = http.get(f"{emulator.url}{UI}/tasks/{task_id}").text
    assert "sk-test" not in page
    assert "&#34;authorization&#34;: &#34;Bearer ***&#34;" in page
    assert f"&#34;task_id&#34;: &#34;{task_id}&#34;" in page  # the answer, from the journal
    # The input is on no machine of ours: shown, not played.
    assert "https://example.invalid/clip.mp4</span> (not on this machine" in page


def test_the_task_table_pages_its_rows_newest_first(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    ids = [wire.submit() for _ in range(3)]
    first = http.get(f"{emulator.url}{UI}/tasks/rows?size=2").text
    second = http.get(f"{emulator.url}{UI}/tasks/rows?size=2&page=2").text
    assert "3 tasks, page 1 of 2" in first
    assert [i for i in ids if f'data-task="{i}"' in first] == ids[1:]
    assert [i for i in ids if f'data-task="{i}"' in second] == ids[:1]


def test_a_bad_filter_is_answered_400_naming_it(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    answer = http.get(f"{emulator.url}{UI}/?status=DONE")
    assert answer.status_code == 400
    assert (
        "status must be one of PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, UNKNOWN"
        in answer.text
    )
    for page in ("0", "²", "9" * 5000):
        answer = http.get(f"{emulator.url}{UI}/?page={page}")
        assert answer.status_code == 400, page
        assert "page must be an integer from 1 to 1000000" in answer.text
    answer = http.get(f"{emulator.url}{UI}/journal?colour=red")
    assert answer.status_code == 400
    assert "colour is not a filter" in answer.text


def test_an_unknown_task_is_a_404_page(emulator: EmulatorServer, http: httpx.Client) -> None:
    answer = http.get(f"{emulator.url}{UI}/tasks/no-such-task")
    assert answer.status_code == 404
    assert "task no-such-task is unknown or has expired" in answer.text


def test_the_console_itself_is_not_journaled(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    task_id = wire.submit()
    assert emulator.engine.drain(timeout=60)  # its stand-in is written
    http.get(f"{emulator.url}{UI}/tasks/{task_id}")
    assert http.get(f"{emulator.url}{UI}/tasks/{task_id}/result.mp4").status_code == 200
    assert [e.route for e in emulator.journal.entries()] == ["create"]


def test_the_journal_shows_every_request_about_a_task_or_one_entry(
    emulator: EmulatorServer, wire: DashScopeWire, http: httpx.Client
) -> None:
    task_id, other = wire.submit(), wire.submit()
    wire.output(task_id)
    wire.output(other)
    about = http.get(f"{emulator.url}{UI}/journal?concerning={task_id}").text
    assert "2 requests;" in about  # its create and its poll, not the other task's
    one = http.get(f"{emulator.url}{UI}/journal?seq=3").text
    assert "1 request;" in one
    assert '<tr id="entry-3"' in one


def test_a_gateway_tasks_page_finds_its_create_whose_wire_id_wraps_the_engines(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    client = emulator.client("apimart")
    try:
        task = client.submit(VideoEdit(video=REMOTE_VIDEO, prompt="film grain", resolution="720P"))
    finally:
        client.close()
    engine_id = task.task_id.removeprefix("task_")
    page = http.get(f"{emulator.url}{UI}/tasks/{engine_id}").text
    assert "POST /apimart/v1/videos/generations" in page
    assert f"&#34;task_id&#34;: &#34;{task.task_id}&#34;" in page  # APIMart's answer, as sent
    by_wire_id = http.get(f"{emulator.url}{UI}/tasks/{task.task_id}")  # the journal's link
    assert by_wire_id.status_code == 200
    assert f'Task <span class="mono">{engine_id}</span>' in by_wire_id.text
