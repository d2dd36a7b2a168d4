"""Where results go and what the terminal shows: -o and --force, the default file of
--emulator, "saved" said once, colour on a terminal only."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import COMMAND_TIMEOUT, Run, clean_env, command, remote_edit

import videoedit
from videoedit.cli.destination import emulator_output
from videoedit.cli.style import Style, colour_enabled
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer

REMOTE = ["https://example.com/clip.mp4", "--resolution", "720P", "--duration", "2"]
Clients = Callable[[str], videoedit.Client]


def test_an_edit_on_the_embedded_emulator_without_o_saves_beside_the_input_name(
    cli: Callable[..., Run], emulator_sample_clip: Path, tmp_path: Path
) -> None:
    shutil.copy(emulator_sample_clip, tmp_path / "clip.mp4")

    run = cli(
        "edit", "clip.mp4", "--duration", "2", "--emulator", "--emulator-progression", "immediate"
    )

    assert run.code == 0, run.stderr
    assert "output     clip-edited.mp4 (no -o: the emulator's link ends with it)" in run.stderr
    assert probe_output(tmp_path / "clip-edited.mp4").duration == 2.0
    fields = dict(line.split(None, 1) for line in run.stdout.splitlines())
    assert fields["saved"].startswith("clip-edited.mp4 (")


def test_an_existing_output_file_stops_the_edit_before_anything_is_sent(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    (tmp_path / "out.mp4").write_bytes(b"last week's result")

    run = cli("edit", *REMOTE, "-o", "out.mp4", *on("vtrix"))

    assert run.code == 3
    assert "videoedit: error: --output: 'out.mp4' exists." in run.stderr
    assert "To fix: Pass --force to replace it" in run.stderr
    assert emulator.journal.count(route="create") == 0
    assert (tmp_path / "out.mp4").read_bytes() == b"last week's result"


def test_force_replaces_the_existing_output_file(
    cli: Callable[..., Run], on: Callable[[str], list[str]], tmp_path: Path
) -> None:
    (tmp_path / "out.mp4").write_bytes(b"last week's result")

    run = cli("edit", *REMOTE, "-o", "out.mp4", "--force", *on("vtrix"))

    assert run.code == 0, run.stderr
    assert probe_output(tmp_path / "out.mp4").duration == 2.0


def test_wait_refuses_an_existing_output_file_too(
    cli: Callable[..., Run], on: Callable[[str], list[str]], client: Clients, tmp_path: Path
) -> None:
    task = client("apimart").submit(remote_edit())
    (tmp_path / "result.mp4").write_bytes(b"keep me")

    refused = cli("wait", task.task_id, "-o", "result.mp4", *on("apimart"))
    forced = cli("wait", task.task_id, "-o", "result.mp4", "-f", *on("apimart"))

    assert refused.code == 3
    assert "'result.mp4' exists" in refused.stderr
    assert forced.code == 0, forced.stderr
    assert probe_output(tmp_path / "result.mp4").duration == 2.0


def test_a_folder_given_as_the_output_is_refused_before_anything_is_sent(
    cli: Callable[..., Run],
    on: Callable[[str], list[str]],
    emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    (tmp_path / "results").mkdir()

    run = cli("edit", *REMOTE, "-o", "results", "--force", *on("vtrix"))

    assert run.code == 3
    assert "--output: 'results' is a folder" in run.stderr
    assert "To fix: Name the file, e.g. -o results/out.mp4; nothing was submitted." in run.stderr
    assert emulator.journal.count(route="create") == 0


def test_missing_output_folders_are_created(
    cli: Callable[..., Run], on: Callable[[str], list[str]], tmp_path: Path
) -> None:
    run = cli("edit", *REMOTE, "-o", "renders/monday/out.mp4", *on("apimart"))

    assert run.code == 0, run.stderr
    assert probe_output(tmp_path / "renders" / "monday" / "out.mp4").duration == 2.0


def test_saved_is_said_once(cli: Callable[..., Run], on: Callable[[str], list[str]]) -> None:
    run = cli("edit", *REMOTE, "-o", "out.mp4", *on("dashscope-beijing"))

    assert run.code == 0, run.stderr
    said = [line for line in (run.stdout + run.stderr).splitlines() if "saved" in line]
    assert len(said) == 1
    assert said[0].startswith("saved     out.mp4 (")


@pytest.mark.parametrize(
    ("video", "name"),
    [
        ("clip.mp4", "clip-edited.mp4"),
        ("/videos/holiday.final.mov", "holiday.final-edited.mp4"),
        ("https://cdn.example.com/a/b%20c.mov?sig=1", "b-c-edited.mp4"),
        ("../../etc/passwd", "passwd-edited.mp4"),
        ("https://cdn.example.com/", "video-edited.mp4"),
        ("oss://bucket/..", "video-edited.mp4"),
    ],
)
def test_the_default_output_is_a_plain_name_in_the_current_folder(video: str, name: str) -> None:
    assert emulator_output(video) == Path(name)


# -- colour ---------------------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "tty", "coloured"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # set but empty: no-color.org says it does not count
        ({"TERM": "dumb"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ],
)
def test_colour_needs_a_terminal_and_no_no_color(
    env: dict[str, str], tty: bool, coloured: bool
) -> None:
    stream = Terminal() if tty else io.StringIO()

    assert colour_enabled(stream, env) is coloured


def test_styles_paint_status_words_only_when_enabled() -> None:
    assert Style(True).status("SUCCEEDED", "SUCCEEDED") == "\x1b[32mSUCCEEDED\x1b[0m"
    assert Style(True).role("videoedit: error:", "error") == "\x1b[1;31mvideoedit: error:\x1b[0m"
    assert Style(False).status("FAILED", "FAILED") == "FAILED"


def test_a_log_gets_plain_text_and_force_color_colours_it(
    cli: Callable[..., Run], on: Callable[[str], list[str]]
) -> None:
    plain = cli("edit", *REMOTE, *on("vtrix"))
    forced = cli("edit", *REMOTE, *on("vtrix"), env={"FORCE_COLOR": "1"})
    refused = cli("edit", *REMOTE, *on("vtrix"), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})

    assert plain.code == forced.code == refused.code == 0
    assert "\x1b[" not in plain.stderr + refused.stderr
    assert "\x1b[32mSUCCEEDED" in forced.stderr
    assert "\x1b[" not in forced.stdout  # the result stays plain for scripts


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_on_a_terminal_the_status_line_is_redrawn_in_colour_with_a_progress_bar(
    on: Callable[[str], list[str]], emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.engine.set_default_progression("polls=4")
    primary, secondary = os.openpty()
    env = clean_env()
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    proc = subprocess.Popen(
        command("edit", *REMOTE, *on("vtrix")),
        stdout=subprocess.PIPE,
        stderr=secondary,
        cwd=tmp_path,
        env=env,
    )
    os.close(secondary)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(primary, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc.wait(timeout=COMMAND_TIMEOUT)
    reader.join(timeout=10)
    os.close(primary)
    screen = b"".join(chunks).decode("utf-8", "replace")

    assert proc.returncode == 0
    assert "\r\x1b[K" in screen  # the line is redrawn in place
    assert "\x1b[36mRUNNING" in screen
    assert "\x1b[32mSUCCEEDED" in screen
    assert "[###############     ]   75%" in screen
    assert "[####################]  100%" in screen
