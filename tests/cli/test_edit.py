"""``videoedit edit`` and ``videoedit demo``: a local file or a URL in, progress on stderr, an MP4 out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from cli_helpers import Run

import videoedit
from videoedit.cli.commands import build_request
from videoedit.cli.parser import REQUEST_FLAGS, build_parser
from videoedit.task import TaskStatus
from videoedit_emulator.render import probe_output
from videoedit_emulator.server import EmulatorServer


def test_edit_on_the_embedded_emulator_uploads_waits_and_saves_the_mp4(
    cli: Callable[..., Run], emulator_sample_clip: Path, tmp_path: Path
) -> None:
    run = cli(
        "edit",
        str(emulator_sample_clip),
        "--prompt",
        "claymation",
        "--resolution",
        "720P",
        "--ratio",
        "16:9",
        "--duration",
        "2",
        "--emulator",
        "--emulator-progression",
        "polls=3",
        "-o",
        "out.mp4",
        "--json",
    )

    assert run.code == 0, run.stderr
    task = run.json()
    assert task["status"] == "SUCCEEDED"
    assert task["provider"] == "dashscope-singapore"
    assert task["saved"] == "out.mp4"
    assert task["result"]["usage"]["output_seconds"] == 2.0
    info = probe_output(tmp_path / "out.mp4")
    assert (info.width, info.height, info.duration, info.codec) == (1280, 720, 2.0, "h264")
    # Progress went to stderr, in order: upload, the task id, then each status.
    lines = run.stderr.splitlines()
    firsts = [line.split()[0] for line in lines]
    assert firsts[:3] == ["emulator", "uploaded", "submitted"]
    assert f"submitted  task {task['task_id']} to dashscope-singapore (PENDING)" in lines
    statuses = [line.split()[1] for line in lines if line.startswith("status ")]
    assert statuses == ["PENDING", "RUNNING", "SUCCEEDED"]


def test_edit_shows_status_elapsed_time_and_the_providers_progress(
    cli: Callable[..., Run], on: Callable[[str], list[str]], emulator: EmulatorServer
) -> None:
    emulator.engine.set_default_progression("polls=4")

    run = cli(
        "edit",
        "https://example.com/clip.mp4",
        "--prompt",
        "watercolor",
        "--resolution",
        "720P",
        "--duration",
        "2",
        *on("vtrix"),
    )

    assert run.code == 0, run.stderr
    # Vtrix reports progress: the display shows it beside the status and the elapsed time.
    assert re.search(r"^status +RUNNING +\d+\.\d s +75%$", run.stderr, re.MULTILINE), run.stderr
    assert re.search(r"^status +SUCCEEDED +\d+\.\d s +100%$", run.stderr, re.MULTILINE)
    fields = dict(line.split(None, 1) for line in run.stdout.splitlines())
    assert fields["status"] == "SUCCEEDED"
    assert fields["provider"] == "vtrix"
    task_id = fields["task"]
    assert fields["save"] == (
        f"videoedit wait {task_id} --provider vtrix --base-url "
        f"{emulator.base_url('vtrix')} -o out.mp4"
    )


def test_edit_no_wait_prints_the_task_and_how_to_resume_it(
    cli: Callable[..., Run], on: Callable[[str], list[str]], emulator: EmulatorServer
) -> None:
    emulator.engine.set_default_progression("seconds=3600")

    run = cli("edit", "https://example.com/clip.mp4", "--no-wait", *on("dashscope-beijing"))

    assert run.code == 0, run.stderr
    fields = dict(line.split(None, 1) for line in run.stdout.splitlines())
    task_id = fields["task"]
    assert fields["status"] == "PENDING"
    assert fields["resume"] == (
        f"videoedit wait {task_id} --provider dashscope-beijing "
        f"--base-url {emulator.base_url('dashscope-beijing')}"
    )
    assert emulator.engine.get(task_id, poll=False).status is TaskStatus.PENDING


def test_demo_edits_a_sample_clip_offline(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("demo", "-o", "demo.mp4", "--json")

    assert run.code == 0, run.stderr
    assert run.json() == {"saved": str(tmp_path / "demo.mp4"), "provider": "dashscope-singapore"}
    info = probe_output(tmp_path / "demo.mp4")
    assert (info.width, info.height, info.fps) == (1280, 720, 30.0)
    assert "submitted" in run.stderr


def test_every_request_field_has_a_flag_that_reaches_the_request() -> None:
    assert set(REQUEST_FLAGS) == set(videoedit.VideoEdit.model_fields) - {"video"}
    args = build_parser().parse_args(
        [
            "edit",
            "https://example.com/in.mp4",
            "--model=wan2.7-videoedit",
            "--prompt=paper cut-out",
            "--negative-prompt=blur",
            "-r",
            "https://example.com/a.png",
            "--reference-image=https://example.com/b.png",
            "--resolution=720p",
            "--ratio=9:16",
            "--duration=5",
            "--audio-setting=origin",
            "--no-prompt-extend",
            "--watermark",
            "--seed=42",
        ]
    )

    request = build_request(args)

    assert request == videoedit.VideoEdit(
        video="https://example.com/in.mp4",
        prompt="paper cut-out",
        negative_prompt="blur",
        reference_images=["https://example.com/a.png", "https://example.com/b.png"],
        resolution="720P",
        ratio="9:16",
        duration=5,
        audio_setting="origin",
        prompt_extend=False,
        watermark=True,
        seed=42,
    )


def test_unset_flags_keep_the_request_defaults() -> None:
    args = build_parser().parse_args(["edit", "https://example.com/in.mp4"])

    assert build_request(args) == videoedit.VideoEdit(video="https://example.com/in.mp4")


def test_edit_on_the_embedded_emulator_serves_a_local_file_to_a_gateway(
    cli: Callable[..., Run], emulator_sample_clip: Path, tmp_path: Path
) -> None:
    # APIMart has no upload API: the emulator fetches the file from a loopback URL instead.
    run = cli(
        "edit",
        str(emulator_sample_clip),
        "--provider",
        "apimart",
        "--resolution",
        "720P",
        "--ratio",
        "1:1",
        "--emulator",
        "--emulator-progression",
        "immediate",
        "-o",
        "square.mp4",
    )

    assert run.code == 0, run.stderr
    uploaded = next(line for line in run.stderr.splitlines() if line.startswith("uploaded"))
    assert re.fullmatch(r"uploaded +video -> http://127\.0\.0\.1:\d+/\w+/sample\.mp4", uploaded)
    info = probe_output(tmp_path / "square.mp4")
    assert (info.width, info.height, info.duration) == (960, 960, 2.0)  # 720P at 1:1
