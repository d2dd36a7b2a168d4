"""Hostile inputs to the emulator: files that name other files, servers that never finish,
text that is not text, numbers out of range, and links that outlive a reset.

Each test is one attack as an outsider would make it, over the wire, with the exact answer it
must get. The attacks and what each gets are listed in ``docs/reliability.md`` (Security).

- **Playlists.** An input that is an HLS playlist or an ffconcat list names other files;
  ffmpeg, left to pick a demuxer, opens them. The secret files here are *tripwires*: named
  pipes that count every open for reading, so "nothing was read" is observed, not inferred.
- **Slow inputs.** A loopback server drips a byte every 0.1 s: a read timeout never fires.
- **Lone surrogates.** ``"\\ud800"`` is valid JSON and no UTF-8 text can carry it.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from resilience_wire import (
    REMOTE_VIDEO,
    Control,
    auth,
    create_body,
    create_url,
    error_of,
    status,
    stub_renderer,
    task_id_of,
    task_state,
)

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.engine.tasks import DOWNLOAD_SLOTS
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.fileserver import LoopbackFiles

SECRET = b"SECRET-OF-ANOTHER-TENANT-3f9a"
#: Seconds a whole fetch may take in this module's emulator.
FETCH_TIMEOUT = 4.0
VACE = "wanx2.1-vace-plus"  # the Beijing id


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "storage"


@pytest.fixture(scope="module")
def server(storage: Path) -> Iterator[EmulatorServer]:
    """A stub-rendering emulator with its storage where the tests can see it, two render
    workers (so that its capacity does not depend on the machine) and a short fetch timeout."""
    config = EmulatorConfig(
        storage_dir=storage,
        fetch_timeout=FETCH_TIMEOUT,
        render_workers=2,
        render_cache_bytes=0,
    )
    with EmulatorServer(engine=TaskEngine(config, renderer=stub_renderer)) as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> EmulatorServer:
    server.reset()
    return server


@pytest.fixture(scope="module")
def files() -> Iterator[LoopbackFiles]:
    """Files served on loopback under their own names (``…/playlist.m3u8``)."""
    with LoopbackFiles() as served:
        yield served


class Tripwire:
    """A named pipe standing where a secret file would be: every open of it for reading is
    counted (and served :data:`SECRET`), however briefly the reader holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened = 0
        os.mkfifo(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:  # succeeds only while a reader has the pipe open (or waits to)
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno not in (errno.ENXIO, errno.ENOENT):
                    raise
                time.sleep(0.005)
                continue
            self.opened += 1
            try:
                os.set_blocking(fd, True)
                os.write(fd, SECRET)
            except OSError:
                pass
            finally:
                os.close(fd)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def tripwires() -> Iterator[list[Tripwire]]:
    made: list[Tripwire] = []
    yield made
    for wire in made:
        wire.close()


def beijing(http: httpx.Client, server: EmulatorServer, body: Any) -> httpx.Response:
    return http.post(
        create_url(server, "dashscope-beijing"),
        json=body,
        headers={**auth(), "X-DashScope-OssResourceResolve": "enable"},
    )


def wan27(video: str) -> dict[str, Any]:
    return create_body("dashscope-beijing", video=video, duration=0)


def vace_outpainting(video: str) -> dict[str, Any]:
    return {
        "model": VACE,
        "input": {"function": "video_outpainting", "video_url": video},
        "parameters": {"left_scale": 1.5},
    }


def vace_extension(clip: str) -> dict[str, Any]:
    return {
        "model": VACE,
        "input": {"function": "video_extension", "prompt": "and then", "first_clip_url": clip},
    }


MODELS = {
    "wan27": (wan27, "input.media[0].url"),
    "vace-outpainting": (vace_outpainting, "input.video_url"),
    "vace-extension": (vace_extension, "input.first_clip_url"),
}


def everything_said(http: httpx.Client, server: EmulatorServer) -> str:
    """Every answer a caller or a test can read about the emulator's tasks and requests."""
    control = Control(http, server)
    answers = [
        http.get(server.base_url("dashscope-beijing") + "/tasks", headers=auth()).text,
        control.get("/tasks").text,
        control.get("/journal").text,
    ]
    for task in control.get("/tasks").json()["tasks"]:
        realm = task["realm"]
        if realm.startswith("dashscope-"):
            answers.append(status(http, server, realm, task["task_id"]).text)
    return "\n".join(answers)


def policy(http: httpx.Client, server: EmulatorServer) -> dict[str, Any]:
    """An upload policy for wan2.7-videoedit (getPolicy's ``data``)."""
    return dict(
        http.get(
            server.base_url("dashscope-beijing") + "/uploads",
            params={"action": "getPolicy", "model": "wan2.7-videoedit"},
            headers=auth(),
        ).json()["data"]
    )


def form(data: dict[str, Any], key: str) -> dict[str, str]:
    """The PostObject form fields that upload under ``key`` with the policy ``data``."""
    return {
        "OSSAccessKeyId": data["oss_access_key_id"],
        "Signature": data["signature"],
        "policy": data["policy"],
        "key": key,
        "x-oss-object-acl": "private",
        "success_action_status": "200",
    }


# --------------------------------------------------------------------------- 1. playlists

#: Files that name another file, and the refusal each gets: (served as, text, rule).
PLAYLISTS = {
    "hls": (
        "playlist.m3u8",
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{absolute}\n#EXT-X-ENDLIST\n",
        "is not a video: ffmpeg finds no video stream in it",
    ),
    "ffconcat": (
        "list.ffconcat",
        "ffconcat version 1.0\nfile {name}\n",
        "has container 'concat'; it must be mp4 or mov",
    ),
    "ffconcat-as-mp4": (
        "clip.mp4",
        "ffconcat version 1.0\nfile {name}\n",
        "has container 'concat'; it must be mp4 or mov",
    ),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("playlist", PLAYLISTS)
def test_a_playlist_input_reads_no_other_file(
    emulator: EmulatorServer,
    storage: Path,
    files: LoopbackFiles,
    tripwires: list[Tripwire],
    tmp_path: Path,
    http: httpx.Client,
    model: str,
    playlist: str,
) -> None:
    # The secrets: a file elsewhere on the machine, and another tenant's input in the store.
    outside = Tripwire(tmp_path / "secret.mp4")
    inside = Tripwire(storage / "inputs" / "victim.mp4")
    tripwires += [outside, inside]
    served_as, text, rule = PLAYLISTS[playlist]
    attack = tmp_path / "attack" / served_as
    attack.parent.mkdir()
    attack.write_text(text.format(absolute=outside.path, name=inside.path.name))
    body, field = MODELS[model]

    response = beijing(http, emulator, body(files.add(attack)))

    assert (outside.opened, inside.opened) == (0, 0)
    assert error_of("dashscope-beijing", response) == (400, "InvalidParameter", f"{field} {rule}")
    assert emulator.engine.all_tasks() == []
    said = everything_said(http, emulator) + response.text
    assert SECRET.decode() not in said
    assert str(storage) not in said


def test_a_playlist_cannot_replay_another_realms_result(
    tmp_path: Path, files: LoopbackFiles, http: httpx.Client, emulator_sample_clip: Path
) -> None:
    """The attack end to end: a Singapore tenant's result, read from the store by a Beijing
    caller's playlist, would come back rendered behind a link signed for Beijing."""
    storage = tmp_path / "storage"
    with EmulatorServer(storage_dir=storage, render_cache_bytes=0) as server:
        victim = http.post(
            create_url(server, "dashscope-singapore"),
            json=create_body("dashscope-singapore", video=files.add(emulator_sample_clip)),
            headers=auth(),
        )
        victim_id = task_id_of("dashscope-singapore", victim)
        assert server.engine.drain(120)
        word, _, _ = task_state(
            "dashscope-singapore", status(http, server, "dashscope-singapore", victim_id)
        )
        assert word == "SUCCEEDED"
        result = storage / "results" / f"{victim_id}.mp4"
        assert result.is_file()
        playlist = tmp_path / "replay.m3u8"
        playlist.write_text(
            f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{result}\n#EXT-X-ENDLIST\n"
        )

        response = beijing(http, server, vace_outpainting(files.add(playlist)))

        assert error_of("dashscope-beijing", response) == (
            400,
            "InvalidParameter",
            "input.video_url is not a video: ffmpeg finds no video stream in it",
        )
        assert [t.realm for t in server.engine.all_tasks()] == ["dashscope-singapore"]


@pytest.fixture(scope="module")
def mkv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("mkv") / "clip.mkv"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
         "-i", "testsrc=size=320x240:rate=30:duration=2", "-c:v", "libx264",
         "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("model", ["vace-outpainting", "vace-extension"])
def test_vace_checks_the_container_of_every_video(
    emulator: EmulatorServer, files: LoopbackFiles, mkv: Path, http: httpx.Client, model: str
) -> None:
    body, field = MODELS[model]
    response = beijing(http, emulator, body(files.add(mkv)))
    assert error_of("dashscope-beijing", response) == (
        400,
        "InvalidParameter",
        f"{field} has container 'matroska,webm'; it must be mp4 or mov",
    )


def test_an_sdp_input_is_refused_without_listening_for_it(
    emulator: EmulatorServer, files: LoopbackFiles, tmp_path: Path, http: httpx.Client
) -> None:
    sdp = tmp_path / "stream.sdp"
    sdp.write_text(
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
    )
    response = beijing(http, emulator, vace_outpainting(files.add(sdp)))
    assert error_of("dashscope-beijing", response) == (
        400,
        "InvalidParameter",
        "input.video_url has container 'sdp'; it must be mp4 or mov",
    )


def test_inputs_are_stored_under_names_that_mean_nothing_to_ffmpeg(
    emulator: EmulatorServer,
    storage: Path,
    files: LoopbackFiles,
    tmp_path: Path,
    http: httpx.Client,
    emulator_sample_clip: Path,
) -> None:
    served = tmp_path / "named" / "clip.m3u8"  # a real MP4 under a playlist's name
    served.parent.mkdir()
    served.write_bytes(emulator_sample_clip.read_bytes())
    fetched = beijing(http, emulator, wan27(files.add(served)))
    data = policy(http, emulator)
    uploaded = http.post(
        data["upload_host"],
        data=form(data, data["upload_dir"] + "/list.ffconcat"),
        files={"file": ("list.ffconcat", b"ffconcat version 1.0\n")},
    )

    assert (fetched.status_code, uploaded.status_code) == (200, 200)
    names = [p.name for sub in ("inputs", "uploads") for p in (storage / sub).iterdir()]
    assert len(names) == 2
    assert all(len(name) == 64 and set(name) <= set("0123456789abcdef") for name in names)


def test_no_path_of_the_store_appears_in_a_failed_render(
    files: LoopbackFiles, tmp_path: Path, http: httpx.Client
) -> None:
    """A picture that starts like a PNG and is not one fails the render; ffmpeg's complaint
    names the stored file, and the task's message must not."""
    storage = tmp_path / "storage"
    bad = tmp_path / "ref.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 64)
    with EmulatorServer(storage_dir=storage, render_cache_bytes=0) as server:
        body = {
            "model": VACE,
            "input": {"function": "image_reference", "ref_images_url": [files.add(bad)]},
            "parameters": {"size": "320*240"},
        }
        task_id = task_id_of("dashscope-beijing", beijing(http, server, body))
        assert server.engine.drain(120)
        word, code, message = task_state(
            "dashscope-beijing", status(http, server, "dashscope-beijing", task_id)
        )
        said = everything_said(http, server)

    assert (word, code) == ("FAILED", "InternalError")
    assert message is not None
    assert "images[0]: ffmpeg could not use <emulator storage>" in message
    assert str(storage) not in said
    assert str(storage.resolve()) not in said


# --------------------------------------------------------------------------- 2. slow inputs


class _Drip(BaseHTTPRequestHandler):
    """Announces a megabyte, then sends it a byte every 0.1 s (for a minute at most)."""

    server: DripServer

    def do_GET(self) -> None:
        self.server.opened()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            for _ in range(600):
                self.wfile.write(b"\x00")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the emulator hung up: what a deadline does
        finally:
            self.server.closed()

    def log_message(self, format: str, *args: object) -> None:
        pass


class DripServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Drip)
        self.lock = threading.Lock()
        self.open = self.total = self.most = self.hung_up = 0

    def opened(self) -> None:
        with self.lock:
            self.open += 1
            self.total += 1
            self.most = max(self.most, self.open)

    def closed(self) -> None:
        with self.lock:
            self.open -= 1
            self.hung_up += 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/clip.mp4"


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def until(condition: Any, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_a_dripping_input_fails_its_task_at_the_fetch_deadline(
    emulator: EmulatorServer, drip: DripServer, http: httpx.Client
) -> None:
    # The answer's own bound is the client's timeout: before the fix it never came.
    response = http.post(
        create_url(emulator, "dashscope-beijing"),
        json=wan27(drip.url),
        headers=auth(),
        timeout=FETCH_TIMEOUT + 20,
    )

    word, code, message = task_state(
        "dashscope-beijing",
        status(http, emulator, "dashscope-beijing", task_id_of("dashscope-beijing", response)),
    )
    assert (word, code) == ("FAILED", "InvalidParameter")
    assert message == (
        f"Failed to download input.media[0].url ({drip.url}): it did not arrive within "
        f"{FETCH_TIMEOUT:g} s (the emulator's fetch_timeout)"
    )
    (entry,) = emulator.journal.entries(route="create")
    assert entry.duration >= FETCH_TIMEOUT  # the whole timeout was given, then no more
    assert until(lambda: drip.hung_up == 1)  # the emulator hung up on the server


def test_slow_fetches_hold_up_no_create_that_fetches_nothing_nor_another_realms(
    emulator: EmulatorServer,
    drip: DripServer,
    files: LoopbackFiles,
    http: httpx.Client,
    emulator_sample_clip: Path,
) -> None:
    slow_creates = DOWNLOAD_SLOTS + 2  # more than the realm's slots: two of them wait
    with ThreadPoolExecutor(slow_creates) as pool:
        slow: list[Future[httpx.Response]] = [
            pool.submit(
                http.post,
                create_url(emulator, "dashscope-beijing"),
                json=wan27(drip.url),
                headers=auth(),
                timeout=FETCH_TIMEOUT + 20,
            )
            for _ in range(slow_creates)
        ]
        assert until(lambda: drip.total == DOWNLOAD_SLOTS)

        # While every Beijing download slot is held by the drip:
        nothing_to_fetch = http.post(
            create_url(emulator, "dashscope-beijing"),
            json=wan27(REMOTE_VIDEO),
            headers=auth(),
            timeout=FETCH_TIMEOUT + 20,
        )
        other_realm = http.post(
            create_url(emulator, "dashscope-singapore"),
            json=create_body("dashscope-singapore", video=files.add(emulator_sample_clip)),
            headers=auth(),
            timeout=FETCH_TIMEOUT + 20,
        )
        still_waiting = sum(not future.done() for future in slow)
        connections = drip.total
        answers = [future.result() for future in slow]

    assert (nothing_to_fetch.status_code, other_realm.status_code) == (200, 200)
    assert still_waiting == slow_creates  # answered while every slow create was pending
    assert connections == DOWNLOAD_SLOTS  # six creates, four downloads: the realm's bound
    for answer in answers:
        word, code, message = task_state(
            "dashscope-beijing",
            status(http, emulator, "dashscope-beijing", task_id_of("dashscope-beijing", answer)),
        )
        assert (word, code) == ("FAILED", "InvalidParameter")
        assert message is not None
        assert message.startswith(f"Failed to download input.media[0].url ({drip.url}): ")
        assert f"{FETCH_TIMEOUT:g} s (the emulator's fetch_timeout)" in message


# --------------------------------------------------------------------------- 3. lone surrogates

#: A create body as raw JSON, with ``{bad}`` where a lone surrogate goes; the field named.
RAW_BODIES = {
    "dashscope-prompt": (
        "dashscope-beijing",
        '{{"model":"wan2.7-videoedit","input":{{"prompt":"{bad}","media":[{{"type":"video",'
        '"url":"https://example.invalid/c.mp4"}}]}},"parameters":{{"resolution":"720P"}}}}',
        "input.prompt",
    ),
    "dashscope-url": (
        "dashscope-singapore",
        '{{"model":"wan2.7-videoedit","input":{{"media":[{{"type":"video",'
        '"url":"https://example.invalid/{bad}.mp4"}}]}}}}',
        "input.media[0].url",
    ),
    "dashscope-model": (
        "dashscope-beijing",
        '{{"model":"wan2.7-{bad}","input":{{}}}}',
        "model",
    ),
    "dashscope-key": (
        "dashscope-beijing",
        '{{"model":"wan2.7-videoedit","input":{{"pro{bad}mpt":"x"}}}}',
        "input.pro\\ud800mpt",
    ),
    "vtrix-prompt": (
        "vtrix",
        '{{"model":"wan27_videoedit","input":[{{"params":{{"input":{{"prompt":"{bad}",'
        '"media":[{{"type":"video","url":"https://example.invalid/c.mp4"}}]}}}}}}]}}',
        "input[0].params.input.prompt",
    ),
    "apimart-prompt": (
        "apimart",
        '{{"model":"wan2.7-videoedit","video_urls":["https://example.invalid/c.mp4"],'
        '"prompt":"{bad}"}}',
        "prompt",
    ),
}
NOT_TEXT = "is not valid Unicode text: it holds a lone surrogate, which no UTF-8 text can carry"


@pytest.mark.parametrize("case", RAW_BODIES)
def test_a_lone_surrogate_is_refused_at_the_edge_naming_the_field(
    emulator: EmulatorServer, http: httpx.Client, case: str
) -> None:
    provider, template, field = RAW_BODIES[case]
    response = http.post(
        create_url(emulator, provider),
        content=template.format(bad="\\ud800").encode(),
        headers={**auth(), "Content-Type": "application/json"},
    )

    assert error_of(provider, response) == (400, "InvalidParameter", f"{field} {NOT_TEXT}")
    assert emulator.engine.all_tasks() == []
    # The realm's task list and the journal (which keeps the refused body) still answer.
    listing = http.get(emulator.base_url("dashscope-beijing") + "/tasks", headers=auth())
    assert (listing.status_code, listing.json()["total"]) == (200, 0)
    (entry,) = Control(http, emulator).journal(route="create")
    assert entry["status"] == 400


def test_a_lone_surrogate_is_refused_by_the_example_adapter(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    response = http.post(
        emulator.base_url("acme-cloud") + "/v2/edits",
        content=b'{"source": {"url": "https://example.invalid/c.mp4"}, "instruction": "\\udfff"}',
        headers={"X-Acme-Key": "sk-acme", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request",
        "code": "InvalidParameter",
        "message": f"instruction {NOT_TEXT}",
        "param": "instruction",
    }


def multipart_unicode_escape(fields: dict[str, str]) -> bytes:
    """A form declared in the ``unicode_escape`` charset: ``\\ud800`` decodes to a surrogate."""
    body = b""
    for name, value in fields.items():
        body += f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += value.encode("ascii") + b"\r\n"
    body += b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.mp4"\r\n\r\n'
    return body + b"bytes\r\n--b--\r\n"


@pytest.mark.parametrize(
    ("field", "code", "message"),
    [
        (
            "key",
            "InvalidObjectName",
            "The specified object is not valid: formfield key must be UTF-8 text.",
        ),
        (
            "x-oss-content-type",
            "InvalidArgument",
            "Formfield x-oss-content-type is not valid UTF-8 text.",
        ),
    ],
)
def test_an_upload_form_field_that_is_not_text_is_an_oss_400(
    emulator: EmulatorServer, http: httpx.Client, field: str, code: str, message: str
) -> None:
    data = policy(http, emulator)
    fields = {**form(data, data["upload_dir"] + "/clip.mp4"), "x-oss-content-type": "video/mp4"}
    fields[field] += "\\ud800"
    response = http.post(
        data["upload_host"],
        content=multipart_unicode_escape(fields),
        headers={"Content-Type": "multipart/form-data; boundary=b; charset=unicode_escape"},
    )
    assert error_of("oss", response) == (400, code, message)
    assert emulator.engine.store.objects() == []


def test_a_stored_string_that_is_not_text_breaks_no_answer(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    """Whatever a plugin or a test stores, the answers that show it still go out."""
    created = http.post(
        create_url(emulator, "dashscope-beijing"),
        json=wan27(REMOTE_VIDEO),
        headers={**auth(), "X-Emulator-Progression": "polls=5"},
    )
    task_id = task_id_of("dashscope-beijing", created)
    emulator.engine.fail(task_id, "DataInspectionFailed", "flagged \ud800 text")
    emulator.engine.set_progression(task_id, "immediate")

    polled = status(http, emulator, "dashscope-beijing", task_id)
    listing = http.get(emulator.base_url("dashscope-beijing") + "/tasks", headers=auth())
    control = Control(http, emulator).get(f"/tasks/{task_id}")

    assert polled.json()["output"]["message"] == "flagged \ufffd text"
    assert listing.json()["data"][0]["message"] == "flagged \ufffd text"
    assert control.json()["error_message"] == "flagged \ufffd text"


def test_a_control_body_that_is_not_text_is_refused(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    task_id = task_id_of(
        "dashscope-beijing",
        http.post(
            create_url(emulator, "dashscope-beijing"),
            json=wan27(REMOTE_VIDEO),
            headers={**auth(), "X-Emulator-Progression": "polls=5"},
        ),
    )
    response = http.post(
        emulator.url + f"/_emulator/tasks/{task_id}/fail",
        content=b'{"code": "DataInspectionFailed", "message": "\\ud800"}',
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "kind": "invalid_parameter",
        "message": f"message {NOT_TEXT}",
        "field": "message",
    }


# --------------------------------------------------------------------------- 4. other 500s


@pytest.mark.parametrize("provider", ["dashscope-beijing", "vtrix", "apimart"])
@pytest.mark.parametrize("port", ["65536", "99999", "99999999999999999999"])
def test_a_port_beyond_65535_is_a_400_naming_the_field(
    emulator: EmulatorServer, http: httpx.Client, provider: str, port: str
) -> None:
    url = f"http://127.0.0.1:{port}/clip.mp4"
    response = http.post(
        create_url(emulator, provider), json=create_body(provider, video=url), headers=auth()
    )
    field = "video_urls[0]" if provider == "apimart" else "input.media[0].url"
    assert error_of(provider, response) == (
        400,
        "InvalidParameter",
        f"{field} is not a valid URL (Port out of range 0-65535)",
    )


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:99999999999999999999/clip.mp4")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_redirect_to_a_port_beyond_65535_is_a_failed_download(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    redirector = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=redirector.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{redirector.server_address[1]}/clip.mp4"
        response = beijing(http, emulator, wan27(url))
        word, code, message = task_state(
            "dashscope-beijing",
            status(http, emulator, "dashscope-beijing", task_id_of("dashscope-beijing", response)),
        )
    finally:
        redirector.shutdown()
        redirector.server_close()
    assert (word, code) == ("FAILED", "InvalidParameter")
    assert message == (
        f"Failed to download input.media[0].url ({url}): "
        "it redirects off this machine, which the emulator does not follow"
    )


@pytest.mark.parametrize("leaf", [".", ".."])
@pytest.mark.parametrize("whole", [False, True], ids=["in-the-upload-dir", "alone"])
def test_an_upload_key_that_names_a_folder_is_oss_invalid_object_name(
    emulator: EmulatorServer, http: httpx.Client, leaf: str, whole: bool
) -> None:
    data = policy(http, emulator)
    response = http.post(
        data["upload_host"],
        data=form(data, leaf if whole else f"{data['upload_dir']}/{leaf}"),
        files={"file": ("clip.mp4", b"bytes")},
    )
    assert error_of("oss", response) == (
        400,
        "InvalidObjectName",
        "The specified object is not valid: formfield key must not end in a '.' or '..' "
        "segment (that names a folder, not an object).",
    )
    assert emulator.engine.store.objects() == []


# --------------------------------------------------------------------------- 5. stale links


def test_a_link_from_before_a_reset_opens_nothing_after_it(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    def finished_link() -> tuple[str, str]:
        task_id = task_id_of(
            "dashscope-beijing",
            http.post(
                create_url(emulator, "dashscope-beijing"), json=wan27(REMOTE_VIDEO), headers=auth()
            ),
        )
        assert emulator.engine.drain(60)
        output = status(http, emulator, "dashscope-beijing", task_id).json()["output"]
        return task_id, output["video_url"]

    old_id, old_link = finished_link()
    emulator.reset()
    new_id, new_link = finished_link()

    assert new_id == old_id  # the seeded ids come back: the same key in the store
    assert error_of("oss", http.get(old_link))[:2] == (403, "SignatureDoesNotMatch")
    assert http.get(new_link).status_code == 200


def test_an_upload_policy_from_before_a_reset_is_refused_after_it(
    emulator: EmulatorServer, http: httpx.Client
) -> None:
    data = policy(http, emulator)
    emulator.reset()
    response = http.post(
        data["upload_host"],
        data=form(data, data["upload_dir"] + "/clip.mp4"),
        files={"file": ("clip.mp4", b"bytes")},
    )
    assert error_of("oss", response)[:2] == (403, "SignatureDoesNotMatch")
