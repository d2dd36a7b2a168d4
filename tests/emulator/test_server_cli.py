"""Ways to run the emulator: the thread server, the command line, the demo, the pytest plugin."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from serve_process import start_serve

import videoedit
from videoedit_emulator.cli import build_parser, exposure_warning, main
from videoedit_emulator.demo import NEXT_STEPS, run_demo
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer


# -- EmulatorServer -----------------------------------------------------------------------------------
def test_the_server_binds_loopback_on_an_os_chosen_port() -> None:
    server = EmulatorServer()
    with server:
        assert server.port
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/_emulator/health").json()["status"] == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_emulator/health")


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("dashscope-beijing", "/api/v1"),
        ("dashscope", "/api/v1"),
        ("dashscope-cn", "/api/v1"),
        ("dashscope-singapore", "/intl/api/v1"),
        ("dashscope-intl", "/intl/api/v1"),
        ("vtrix", "/vtrix"),
        ("apimart", "/apimart"),
    ],
)
def test_base_urls_of_each_provider_and_alias(
    emulator: EmulatorServer, provider: str, path: str
) -> None:
    assert emulator.base_url(provider) == emulator.url + path


def test_an_unknown_provider_has_no_base_url(emulator: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="serves no provider 'openai'"):
        emulator.base_url("openai")


def test_client_is_bound_to_the_emulator(emulator: EmulatorServer) -> None:
    with emulator.client("dashscope-singapore") as client:
        assert isinstance(client, videoedit.Client)
        assert client.base_url == emulator.url + "/intl/api/v1"
        assert client.list().total == 0


def test_two_servers_keep_separate_state(emulator: EmulatorServer) -> None:
    with EmulatorServer() as other, other.client("dashscope-beijing") as client:
        client.submit(
            videoedit.VideoEdit(
                video="https://example.invalid/x.mp4", resolution="720P", duration=2
            )
        )
        assert len(other.engine.all_tasks()) == 1
    assert emulator.engine.all_tasks() == []


# -- command line -------------------------------------------------------------------------------------
def test_serve_prints_each_providers_base_url_and_answers(tmp_path: Path) -> None:
    proc = start_serve("--progression", "polls=2")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("videoedit-emulator serving on http://127.0.0.1:")
        assert "progression polls=2" in first
        root = first.split()[3]
        lines = [proc.stdout.readline().strip() for _ in range(6)]
        assert lines[0] == f"dashscope-beijing    {root}/api/v1"
        assert lines[1] == f"dashscope-singapore  {root}/intl/api/v1"
        assert (
            lines[5]
            == f"Official SDK: DASHSCOPE_HTTP_BASE_URL={root}/api/v1  (any non-empty DASHSCOPE_API_KEY)"
        )
        health = httpx.get(root + "/_emulator/health", timeout=10).json()
        assert health["progression"] == "polls=2"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--progression", "sometimes"], "progression 'sometimes'"),
        (["serve", "--key", "abc"], "must read KEY=REALM"),
        (["serve", "--task-ttl", "0"], "must be > 0"),
        (["serve", "--workers", "-2"], "must be an integer > 0"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_keys_bind_to_realms_on_the_command_line() -> None:
    args = build_parser().parse_args(
        ["serve", "--key", "sk-a=dashscope-beijing", "--key", "x=y=vtrix"]
    )
    assert args.key == [("sk-a", "dashscope-beijing"), ("x=y", "vtrix")]


@pytest.mark.parametrize(
    ("host", "warns"),
    [("127.0.0.1", False), ("::1", False), ("0.0.0.0", True), ("192.168.1.5", True)],
)
def test_serving_beyond_loopback_warns(host: str, warns: bool) -> None:
    warning = exposure_warning(host)
    assert (warning is not None) is warns
    if warning:
        assert warning.startswith(f"WARNING: bound to {host}, not loopback")


# -- demo ---------------------------------------------------------------------------------------------
def test_the_demo_writes_a_playable_mp4_and_says_what_it_holds(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "edited.mp4"
    printed = io.StringIO()
    assert run_demo(out=out, stream=printed) == 0
    info = probe_output(out)
    assert (info.codec, info.pix_fmt, info.width, info.height, info.fps) == (
        "h264",
        "yuv420p",
        1280,
        720,
        30.0,
    )
    assert (info.duration, info.has_audio, info.faststart) == (4.0, True, True)
    text = printed.getvalue()
    assert "uploaded    video -> oss://dashscope-instant/" in text
    assert [line.split()[-1] for line in text.splitlines() if " polled " in line] == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]  # one line per status, not per poll
    [saved] = [line for line in text.splitlines() if "saved" in line]  # said once
    assert saved.endswith(f"] saved       {out}")
    assert "1280x720, 4.00 s, 30 fps, h264 yuv420p, audio: aac" in text
    # The closing advice is commands to type, not the demo's code.
    assert text.rstrip().splitlines()[-len(NEXT_STEPS) :] == [f"  {s}" for s in NEXT_STEPS]
    assert "videoedit edit clip.mp4" in NEXT_STEPS[0]
    assert "--emulator" in NEXT_STEPS[0]
    assert "base_url" not in text


# -- pytest plugin -----------------------------------------------------------------------------------
def test_the_plugin_resets_state_between_tests(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import videoedit

            def test_first(emulator, emulator_client):
                client = emulator_client("dashscope-beijing")
                client.submit(videoedit.VideoEdit(video="https://example.invalid/x.mp4", resolution="720P", duration=2))
                assert client.list().total == 1

            def test_second_sees_a_clean_emulator(emulator, emulator_client):
                assert emulator_client("dashscope-beijing").list().total == 0
                assert emulator.engine.all_tasks() == []

            def test_the_server_is_shared(emulator_server, emulator):
                assert emulator is emulator_server

            def test_the_sample_clip(emulator_sample_clip):
                assert emulator_sample_clip.stat().st_size > 0
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
