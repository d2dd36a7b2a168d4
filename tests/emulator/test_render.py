"""The renderer's output contract: format, size, frame count, audio, marks and errors.

Every assertion probes the real MP4 with ``probe_output`` (or decodes a frame of it).
Clips are small (320×240, 2 s) wherever the size does not matter.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from render_media import close, ffmpeg, flat_clip, frame, solid_image

from videoedit_emulator.render import (
    ImageReference,
    MaskedEdit,
    Outpaint,
    RenderError,
    RenderJob,
    Repaint,
    fonts,
    make_sample_clip,
    probe_output,
    render,
)
from videoedit_emulator.render.filtergraph import build_command, wrap_text

CAPTION = "videoedit emulator stand-in · wan2.7-videoedit"
HOSTILE_PROMPT = (
    'It\'s a "test": 100% {braces} [brackets] ; semi, comma \\ back\\slash\n'
    "second line\ttab\r\nthird: %{pts} %{localtime} 'quote' drawtext=text=x:fontfile=/etc/passwd\n"
    "粘土风格，温暖的光线 · émojis 🎬 and RTL שלום"
)


def job(**overrides: object) -> RenderJob:
    fields: dict[str, object] = {
        "width": 320,
        "height": 240,
        "duration": None,
        "source": None,
        "audio": "none",
        "watermark": False,
        "caption": CAPTION,
    }
    fields.update(overrides)
    return RenderJob(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("render-refs")
    return solid_image(d / "red.png", "red"), solid_image(d / "blue.jpg", "blue", 90, 160)


# --------------------------------------------------------------------------- format


def test_output_is_h264_yuv420p_30fps_faststart_at_the_requested_size(
    emulator_sample_clip: Path, tmp_path: Path
) -> None:
    result = render(job(source=emulator_sample_clip), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert (info.codec, info.pix_fmt, info.fps) == ("h264", "yuv420p", 30.0)
    assert (info.width, info.height) == (320, 240)
    assert info.faststart is True
    assert (result.width, result.height, result.fps) == (320, 240, 30)
    assert result.size_bytes == (tmp_path / "out.mp4").stat().st_size
    assert result.cache_hit is False


def test_no_duration_keeps_the_source_length(emulator_sample_clip: Path, tmp_path: Path) -> None:
    result = render(job(source=emulator_sample_clip), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert info.frames == result.frames == 60
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert result.duration == 2.0


def test_duration_cuts_the_source_from_the_start(tmp_path: Path) -> None:
    # the first second is red, the second one blue: a 1 s cut must end on red
    source = flat_clip(tmp_path / "src.mp4", "red", 1, then="blue")

    result = render(job(source=source, duration=1), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert info.frames == 30
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert close(frame(result.path, 29, 320, 240).pixel(160, 200), (255, 0, 0), tol=40)


def test_duration_beyond_the_source_carries_its_last_frame_on(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "src.mp4", "green", 1, audio=True)

    result = render(job(source=source, duration=2.5, audio="origin"), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert info.frames == 75
    assert info.duration == pytest.approx(2.5, abs=0.05)
    assert info.has_audio
    assert frame(result.path, 74, 320, 240).rgb == frame(result.path, 40, 320, 240).rgb


@pytest.mark.parametrize(("width", "height"), [(240, 426), (426, 240), (960, 960), (16, 16)])
def test_any_even_size_is_honoured(
    emulator_sample_clip: Path, tmp_path: Path, width: int, height: int
) -> None:
    out = render(
        job(source=emulator_sample_clip, width=width, height=height, duration=0.5),
        tmp_path / "out.mp4",
    )

    info = probe_output(out.path)
    assert (info.width, info.height, info.frames) == (width, height, 15)


def test_contain_letterboxes_instead_of_cropping(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "wide.mp4", "white", 0.5, width=640, height=240)

    result = render(job(source=source, fit="contain", height=320), tmp_path / "out.mp4")

    picture = frame(result.path, 0, 320, 320)
    assert picture.pixel(160, 300) == pytest.approx((0, 0, 0), abs=20)  # letterbox
    assert min(picture.pixel(160, 160)) > 200  # picture


def test_a_rotated_source_is_shown_upright(tmp_path: Path) -> None:
    landscape = flat_clip(tmp_path / "land.mp4", "red", 0.5, width=320, height=240)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(landscape), "-c", "copy", str(rotated))
    assert probe_output(rotated).rotation != 0

    result = render(job(source=rotated, fit="contain", width=240, height=320), tmp_path / "o.mp4")

    info = probe_output(result.path)
    assert (info.width, info.height, info.rotation) == (240, 320, 0)  # coded upright
    # upright, the 240x320 picture fills the frame; sideways it would be letterboxed
    assert frame(result.path, 0, 240, 320).pixel(120, 300)[0] > 180


def test_a_full_range_source_is_encoded_in_limited_range(tmp_path: Path) -> None:
    full = tmp_path / "full.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:d=0.5", "-pix_fmt", "yuvj420p", str(full))
    assert probe_output(full).pix_fmt == "yuvj420p"

    result = render(job(source=full), tmp_path / "out.mp4")

    assert probe_output(result.path).pix_fmt == "yuv420p"


# --------------------------------------------------------------------------- audio


def test_origin_keeps_the_source_audio(emulator_sample_clip: Path, tmp_path: Path) -> None:
    result = render(job(source=emulator_sample_clip, audio="origin"), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert (result.has_audio, info.has_audio) == (True, True)
    assert info.audio_codec == "aac"


def test_origin_of_a_silent_source_has_no_audio(portrait_clip: Path, tmp_path: Path) -> None:
    result = render(job(source=portrait_clip, audio="origin"), tmp_path / "out.mp4")

    assert not result.has_audio
    assert not probe_output(result.path).has_audio


def test_tone_adds_a_track_to_a_silent_source(portrait_clip: Path, tmp_path: Path) -> None:
    result = render(job(source=portrait_clip, audio="tone"), tmp_path / "out.mp4")

    assert result.has_audio
    assert probe_output(result.path).audio_codec == "aac"


def test_none_drops_the_source_audio(emulator_sample_clip: Path, tmp_path: Path) -> None:
    result = render(job(source=emulator_sample_clip, audio="none"), tmp_path / "out.mp4")

    assert not result.has_audio
    assert not probe_output(result.path).has_audio


# --------------------------------------------------------------------------- test pattern


def test_without_a_source_a_5_second_test_pattern_is_rendered(tmp_path: Path) -> None:
    result = render(job(audio="tone"), tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert (info.frames, info.width, info.height, info.has_audio) == (150, 320, 240, True)
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_the_test_pattern_says_so_on_the_frame() -> None:
    command = build_command(job(), "o.mp4", ffmpeg="ffmpeg", probe=_no_probe, threads=1)

    assert "testsrc2=" in command.argv[command.argv.index("-filter_complex") + 1]
    assert "test pattern" in command.text_files["block.txt"]


def test_the_test_pattern_honours_the_duration(tmp_path: Path) -> None:
    result = render(job(duration=1.5), tmp_path / "out.mp4")

    assert probe_output(result.path).frames == 45


def test_origin_audio_without_a_source_means_no_audio(tmp_path: Path) -> None:
    result = render(job(duration=1, audio="origin"), tmp_path / "out.mp4")

    assert not probe_output(result.path).has_audio


# --------------------------------------------------------------------------- marks


def test_marks_with_hostile_text_do_not_break_the_output(
    emulator_sample_clip: Path, refs: tuple[Path, Path], tmp_path: Path
) -> None:
    hostile = job(
        source=emulator_sample_clip,
        duration=1,
        audio="origin",
        watermark=True,
        caption="cap: 'x' \\ %{n} ;[]",
        prompt=HOSTILE_PROMPT,
        images=refs,
        source_note="https://example.com/a:b?c=%20 was not fetched",
    )

    result = render(hostile, tmp_path / "out.mp4")

    info = probe_output(result.path)
    assert (info.codec, info.width, info.height, info.frames, info.has_audio) == (
        "h264",
        320,
        240,
        30,
        True,
    )


def test_text_reaches_drawtext_verbatim_through_a_file() -> None:
    command = build_command(
        job(prompt=HOSTILE_PROMPT, width=1920, height=1080),
        "o.mp4",
        ffmpeg="ffmpeg",
        probe=_no_probe,
        threads=1,
    )

    graph = command.argv[command.argv.index("-filter_complex") + 1]
    block = command.text_files["block.txt"]
    assert "textfile=block.txt:expansion=none" in graph
    for fragment in ("%{pts}", 'It\'s a "test": 100% {braces}', "粘土风格", "\\ back\\slash"):
        assert fragment in block
    assert not {"\t", "\r"} & set(block)
    for fragment in ("粘土风格", "passwd", "%{pts}"):  # no text in the graph itself
        assert fragment not in graph


def test_the_watermark_is_drawn_in_the_lower_right(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "gray.mp4", "gray", 0.5)
    plain = render(job(source=source), tmp_path / "plain.mp4")
    marked = render(job(source=source, watermark=True), tmp_path / "marked.mp4")

    before = frame(plain.path, 0, 320, 240)
    after = frame(marked.path, 0, 320, 240)
    lower_right = (200, 190, 320, 240)
    assert before.region(*lower_right) != after.region(*lower_right)
    assert before.region(0, 100, 160, 180) == after.region(0, 100, 160, 180)


def test_the_caption_block_darkens_the_top_left(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "white.mp4", "white", 0.5)

    result = render(job(source=source), tmp_path / "out.mp4")

    top_left = frame(result.path, 0, 320, 240).region(0, 0, 150, 20)
    assert sum(1 for p in top_left if max(p) < 120) > len(top_left) // 3  # the box
    assert any(min(p) > 200 for p in top_left)  # white text on it


def test_reference_images_appear_as_thumbnails(refs: tuple[Path, Path], tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "gray.mp4", "gray", 0.5)

    result = render(job(source=source, images=refs), tmp_path / "out.mp4")

    strip = frame(result.path, 0, 320, 240).region(0, 180, 200, 235)
    assert any(r > 200 and g < 60 and b < 60 for r, g, b in strip)  # the red one
    assert any(b > 200 and r < 60 and g < 60 for r, g, b in strip)  # the blue one


def test_the_latin_watermark_stands_in_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)

    command = build_command(
        job(watermark=True), "o.mp4", ffmpeg="ffmpeg", probe=_no_probe, threads=1
    )

    assert command.text_files["watermark.txt"] == "AI-generated"


def test_a_cjk_font_gives_the_service_watermark(monkeypatch: pytest.MonkeyPatch) -> None:
    font = fonts.latin_font()
    if font is None:
        pytest.skip("no font file on this machine")
    monkeypatch.setenv(fonts.CJK_FONT_ENV, str(font))
    fonts.clear_cache()
    try:
        command = build_command(
            job(watermark=True), "o.mp4", ffmpeg="ffmpeg", probe=_no_probe, threads=1
        )
    finally:
        monkeypatch.delenv(fonts.CJK_FONT_ENV)
        fonts.clear_cache()

    assert command.text_files["watermark.txt"] == "AI生成"
    assert command.links[f"font-cjk{font.suffix.lower()}"] == font


def test_wrap_text_keeps_lines_within_the_width() -> None:
    lines = wrap_text("lorem ipsum dolor sit amet " * 20, max_em=20, max_lines=3)

    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(len(line) <= 40 for line in lines)


def test_wrap_text_honours_line_breaks_and_wide_characters() -> None:
    assert wrap_text("a\nb", max_em=20, max_lines=4) == ["a", "b"]
    cjk = wrap_text("粘" * 30, max_em=10, max_lines=5)
    assert [len(line) for line in cjk] == [10, 10, 10]


# --------------------------------------------------------------------------- errors


def test_an_unreadable_source_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))

    with pytest.raises(RenderError, match=r"^source: ffmpeg cannot read .*junk\.mp4") as caught:
        render(job(source=junk), tmp_path / "out.mp4")

    assert caught.value.input == junk
    assert not (tmp_path / "out.mp4").exists()


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"source: no such file: .*nope\.mp4"):
        render(job(source=tmp_path / "nope.mp4"), tmp_path / "out.mp4")


def test_an_unreadable_image_is_named(emulator_sample_clip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")

    with pytest.raises(RenderError, match=r"^images\[1\]: ffmpeg could not use .*bad\.png"):
        render(
            job(source=emulator_sample_clip, images=(emulator_sample_clip, bad)),
            tmp_path / "out.mp4",
        )


def test_an_unreadable_mask_is_named(emulator_sample_clip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "mask.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")

    with pytest.raises(RenderError, match=r"^mask_image: "):
        render(
            job(source=emulator_sample_clip, mode=MaskedEdit(mask_image=bad)),
            tmp_path / "out.mp4",
        )


def test_an_ffmpeg_failure_carries_the_tail_of_its_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'line one' >&2\necho 'Conversion failed!' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)

    with pytest.raises(RenderError, match=r"ffmpeg failed \(exit 3\)") as caught:
        render(job(), tmp_path / "out.mp4", ffmpeg=str(fake))

    assert caught.value.stderr_tail == "line one\nConversion failed!"
    assert list(tmp_path.iterdir()) == [fake]  # no temp files left behind


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"width": 321}, r"RenderJob\.width: must be an even number"),
        ({"height": 8}, r"RenderJob\.height: must be an even number"),
        ({"duration": 0}, r"RenderJob\.duration: must be None or seconds"),
        ({"audio": "auto"}, r"RenderJob\.audio: must be 'none', 'origin' or 'tone'"),
        ({"fit": "stretch"}, r"RenderJob\.fit"),
        ({"images": [Path("a.png")]}, r"RenderJob\.images: must be a tuple"),
        (
            {"images": (Path("a.png"),), "mode": ImageReference(("obj", "bg"))},
            r"one tag per image \(1 images, 2 tags\)",
        ),
    ],
)
def test_malformed_jobs_are_refused_naming_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        job(**overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Repaint("canny"), r"Repaint\.control_condition"),  # type: ignore[arg-type]
        (lambda: Repaint("depth", 1.5), r"Repaint\.strength: must be within \[0\.0, 1\.0\]"),
        (lambda: MaskedEdit(), r"exactly one of mask_image and mask_video"),
        (
            lambda: MaskedEdit(mask_image=Path("m.png"), mask_video=Path("m.mp4")),
            r"exactly one of mask_image and mask_video",
        ),
        (lambda: MaskedEdit(mask_image=Path("m.png"), expand_ratio=2), r"expand_ratio"),
        (lambda: Outpaint(left=2.5), r"Outpaint\.left: must be within \[1\.0, 2\.0\]"),
        (lambda: ImageReference(("obj", "fg")), r"ImageReference\.obj_or_bg\[1\]"),  # type: ignore[arg-type]
    ],
)
def test_malformed_modes_are_refused_naming_the_field(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


# --------------------------------------------------------------------------- helpers


def test_make_sample_clip_has_the_requested_shape(tmp_path: Path) -> None:
    clip = make_sample_clip(tmp_path / "s.mp4", seconds=1, width=320, height=180, audio=False)

    info = probe_output(clip)
    assert (info.codec, info.width, info.height, info.frames, info.has_audio) == (
        "h264",
        320,
        180,
        30,
        False,
    )


def test_probe_output_tells_a_file_without_faststart(tmp_path: Path) -> None:
    late = tmp_path / "late.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.2", "-c:v", "libx264", str(late))

    assert probe_output(late).faststart is False


def _no_probe(path: Path, name: str) -> object:
    raise AssertionError(f"no input should be probed, got {name}={path}")
