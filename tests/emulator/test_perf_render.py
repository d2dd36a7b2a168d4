"""The renderer's speed settings change how a render is computed, never what it shows.

- the marks are blended band by band (text along the top, thumbnails and watermark along the
  bottom) instead of as one full-frame layer: the frames must be identical;
- decoders and the filter graph run one thread each, the encoder the threads it is given;
- an input is probed once per content (by stat signature), not once per render.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from render_media import flat_clip, solid_image

from videoedit_emulator import render as render_module
from videoedit_emulator.render import RenderJob, Repaint, ffmpeg_path, probes
from videoedit_emulator.render.filtergraph import Command, build_command

LONG_PROMPT = (
    "a claymation remake of the whole clip with warm light, soft shadows and a slow dolly-in; "
    "keep the colours of the original, add film grain, 粘土风格 温暖的光线, and end on a wide shot "
    "of the street at dusk with every window lit"
)


def build(job: RenderJob, *, banded: bool = True, threads: int = 1) -> Command:
    exe = ffmpeg_path()
    return build_command(
        job, "out.mp4", ffmpeg=exe, probe=render_module._probe(exe), threads=threads, banded=banded
    )


def run(command: Command, work: Path) -> list[str]:
    """Run ``command`` in ``work`` and return the MD5 of every decoded frame of its output."""
    work.mkdir(parents=True)
    for name, text in command.text_files.items():
        (work / name).write_text(text, encoding="utf-8")
    for name, target in command.links.items():
        (work / name).symlink_to(target)
    subprocess.run(command.argv, cwd=work, check=True, capture_output=True)
    decoded = subprocess.run(
        [
            ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(work / "out.mp4"),
            "-map",
            "0:v",
            "-f",
            "framemd5",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in decoded.splitlines() if line[:1] != "#"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("perf-render")
    return {
        "clip": flat_clip(d / "gray.mp4", "gray", 0.5, 320, 240),
        "red": solid_image(d / "red.png", "red"),
        "blue": solid_image(d / "blue.jpg", "blue", 90, 160),
    }


@pytest.mark.parametrize(
    ("width", "height", "images", "watermark"),
    [
        (320, 240, ("red", "blue"), True),  # both bands, the bottom one set by the thumbnails
        (640, 360, (), True),  # the bottom band set by the watermark alone
        (240, 320, ("red",), False),  # portrait, thumbnails only
    ],
)
def test_banded_marks_give_the_same_frames_as_one_full_frame_layer(
    media: dict[str, Path],
    tmp_path: Path,
    width: int,
    height: int,
    images: tuple[str, ...],
    watermark: bool,
) -> None:
    job = RenderJob(
        width=width,
        height=height,
        duration=0.5,
        source=media["clip"],
        audio="none",
        watermark=watermark,
        caption="videoedit emulator stand-in · wan2.7-videoedit · 720P 16:9",
        prompt=LONG_PROMPT,
        images=tuple(media[name] for name in images),
        source_note="input.media[1].url was not fetched",
    )
    banded, full = build(job), build(job, banded=False)
    assert banded.argv != full.argv

    assert run(banded, tmp_path / "banded") == run(full, tmp_path / "full")


def test_marks_are_blended_in_bands_that_leave_the_middle_of_the_frame_alone(
    media: dict[str, Path],
) -> None:
    job = RenderJob(
        width=1280,
        height=720,
        duration=0.5,
        source=media["clip"],
        audio="none",
        watermark=True,
        caption="videoedit emulator stand-in",
        prompt="claymation",
        images=(media["red"],),
    )
    graph = build(job).argv[build(job).argv.index("-filter_complex") + 1]

    layers = [int(h) for h in re.findall(r"color=c=black@0:size=1280x(\d+)", graph)]
    overlays = re.findall(r"overlay=x=0:y=(\d+):eof_action=repeat", graph)
    assert len(layers) == 2
    assert overlays == ["0", str(720 - layers[1])]
    assert sum(layers) < 720 / 2


def test_a_small_frame_whose_bands_would_meet_gets_one_full_frame_layer(
    media: dict[str, Path],
) -> None:
    job = RenderJob(
        width=64,
        height=48,
        duration=0.5,
        source=media["clip"],
        audio="none",
        watermark=True,
        caption="videoedit emulator stand-in",
        prompt=LONG_PROMPT,
        images=(media["red"],),
    )
    graph = build(job).argv[build(job).argv.index("-filter_complex") + 1]

    assert re.findall(r"color=c=black@0:size=(\d+x\d+)", graph) == ["64x48"]


def test_decoders_and_filters_run_one_thread_and_the_encoder_the_threads_given(
    media: dict[str, Path],
) -> None:
    job = RenderJob(
        width=320,
        height=240,
        duration=0.5,
        source=media["clip"],
        audio="none",
        watermark=False,
        caption="c",
        mode=Repaint("depth", strength=0.5),
        images=(media["red"],),
    )
    argv = build(job, threads=3).argv

    inputs = [i for i, arg in enumerate(argv) if arg == "-i"]
    assert len(inputs) == 2
    assert all(argv[i - 2 : i] == ["-threads", "1"] for i in inputs)
    assert argv[argv.index("-filter_complex_threads") + 1] == "1"
    encoder = argv.index("libx264")
    assert argv[argv.index("-threads", encoder) + 1] == "3"


@pytest.fixture
def probe_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ffmpeg probes from now on (the memo emptied first: an identical clip
    probed by an earlier test would be a hit)."""
    runs: list[Path] = []
    real = render_module._run_probe

    def counting(ffmpeg: str, path: Path, name: str) -> object:
        runs.append(path)
        return real(ffmpeg, path, name)

    monkeypatch.setattr(render_module, "_run_probe", counting)
    probes.clear()
    return runs


def test_an_input_is_probed_once_until_its_file_changes(
    tmp_path: Path, probe_runs: list[Path]
) -> None:
    runs = probe_runs
    clip = flat_clip(tmp_path / "clip.mp4", "gray", 0.5, 160, 120)
    probe = render_module._probe(ffmpeg_path())

    first, again = probe(clip, "source"), probe(clip, "source")
    assert again == first
    assert runs == [clip]

    flat_clip(tmp_path / "other.mp4", "gray", 1.0, 320, 240)
    os.replace(tmp_path / "other.mp4", clip)  # new bytes under the same name
    changed = probe(clip, "source")
    assert (changed.width, changed.height) == (320, 240)
    assert runs == [clip, clip]


def test_the_same_bytes_under_another_name_are_not_probed_again(
    tmp_path: Path, probe_runs: list[Path]
) -> None:
    clip = flat_clip(tmp_path / "clip.mp4", "teal", 0.5, 160, 120)
    probe = render_module._probe(ffmpeg_path())
    first = probe(clip, "source")
    upload = tmp_path / "uploads" / "a3f9"  # the same clip uploaded again, as each test does
    upload.parent.mkdir()
    shutil.copyfile(clip, upload)

    assert probe(upload, "source") == first
    assert probe_runs == [clip]


def test_an_input_checked_when_the_task_was_created_is_not_probed_again_to_render_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from videoedit_emulator.engine.models.base import MediaInput
    from videoedit_emulator.engine.sources import SourceContext, resolve
    from videoedit_emulator.engine.store import Store

    clip = flat_clip(tmp_path / "clip.mp4", "gray", 0.5, 160, 120)
    store = Store(tmp_path / "store", lambda: 0.0, upload_ttl=60, max_upload_bytes=1 << 20)
    item = MediaInput("input.media[0].url", f"http://127.0.0.1:9/{clip.name}", "video", "video")
    monkeypatch.setattr("videoedit_emulator.engine.sources._fetch", lambda item, ctx: clip)
    resolved = resolve(item, SourceContext(store=store, model="wan2.7-videoedit"))
    runs: list[Path] = []
    monkeypatch.setattr(render_module, "_run_probe", lambda *args: runs.append(args[1]))

    info = render_module._probe(ffmpeg_path())(clip, "source")

    assert info == resolved.info
    assert (info.width, info.height) == (160, 120)
    assert runs == []
