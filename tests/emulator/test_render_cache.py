"""The content-addressed render cache: same job and same input bytes -> the same file, at once."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from render_media import small_job

from videoedit_emulator.render import (
    RenderError,
    RenderResult,
    job_key,
    make_sample_clip,
    probe_output,
    render,
)
from videoedit_emulator.render.cache import RenderCache


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_clip(
        tmp_path_factory.mktemp("cache-src") / "in.mp4", seconds=1, width=320, height=240
    )


job = small_job


def test_the_same_job_again_is_a_hit_with_identical_bytes(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")

    first = render(job(clip), tmp_path / "a.mp4", cache=cache)
    second = render(job(clip), tmp_path / "b.mp4", cache=cache)

    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert second.path == tmp_path / "b.mp4"
    assert (second.frames, second.has_audio, second.size_bytes) == (
        first.frames,
        first.has_audio,
        first.size_bytes,
    )


def test_a_hit_reports_what_the_file_holds(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    render(job(clip), tmp_path / "a.mp4", cache=cache)

    hit = render(job(clip), tmp_path / "b.mp4", cache=cache)

    info = probe_output(hit.path)
    assert hit == RenderResult(
        path=tmp_path / "b.mp4",
        width=info.width,
        height=info.height,
        duration=info.frames / 30,
        fps=30,
        frames=info.frames,
        has_audio=info.has_audio,
        size_bytes=(tmp_path / "b.mp4").stat().st_size,
        cache_hit=True,
    )


def test_the_same_bytes_under_another_name_are_a_hit(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    copy = tmp_path / "upload-7f3a.mp4"
    shutil.copyfile(clip, copy)
    render(job(clip), tmp_path / "a.mp4", cache=cache)

    assert render(job(copy), tmp_path / "b.mp4", cache=cache).cache_hit


def test_changed_source_bytes_are_a_miss(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    source = tmp_path / "in.mp4"
    shutil.copyfile(clip, source)
    render(job(source), tmp_path / "a.mp4", cache=cache)

    make_sample_clip(source, seconds=1, width=320, height=240, audio=False)
    again = render(job(source), tmp_path / "b.mp4", cache=cache)

    assert not again.cache_hit
    assert not probe_output(again.path).has_audio


@pytest.mark.parametrize(
    "change",
    [
        {"width": 240},
        {"duration": 0.5},
        {"audio": "none"},
        {"watermark": False},
        {"prompt": "claymation!"},
        {"caption": "another caption"},
        {"fit": "contain"},
    ],
)
def test_any_changed_parameter_is_a_miss(clip: Path, change: dict[str, object]) -> None:
    cache = RenderCache("/nonexistent/never-created")

    assert job_key(job(clip), cache) != job_key(job(clip, **change), cache)


def test_the_key_does_not_depend_on_where_the_inputs_live(clip: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.mp4"
    shutil.copyfile(clip, copy)
    cache = RenderCache(tmp_path / "cache")

    assert job_key(job(clip), cache) == job_key(job(copy), cache)


def test_a_missing_input_is_named_before_any_render(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")

    with pytest.raises(RenderError, match=r"input file not readable: .*gone\.mp4"):
        render(job(tmp_path / "gone.mp4"), tmp_path / "out.mp4", cache=cache)


def test_a_lost_entry_is_rendered_again(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    render(job(clip), tmp_path / "a.mp4", cache=cache)
    for entry in cache.directory.glob("*.mp4"):
        entry.unlink()

    again = render(job(clip), tmp_path / "b.mp4", cache=cache)

    assert not again.cache_hit
    assert probe_output(again.path).frames == 30


def test_the_least_recently_used_entries_are_evicted_beyond_max_bytes(
    clip: Path, tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache", max_bytes=10**9)
    first = render(job(clip, prompt="one"), tmp_path / "1.mp4", cache=cache)
    render(job(clip, prompt="two"), tmp_path / "2.mp4", cache=cache)
    entries = sorted(cache.directory.glob("*.mp4"), key=lambda p: p.stat().st_mtime_ns)
    os.utime(entries[0], ns=(1, 1))  # "one" is now clearly the least recently used
    render(job(clip, prompt="one"), tmp_path / "1b.mp4", cache=cache)  # a hit refreshes it
    cache.max_bytes = first.size_bytes * 2 + first.size_bytes // 2  # room for two entries

    render(job(clip, prompt="three"), tmp_path / "3.mp4", cache=cache)

    assert render(job(clip, prompt="one"), tmp_path / "x.mp4", cache=cache).cache_hit
    assert render(job(clip, prompt="three"), tmp_path / "y.mp4", cache=cache).cache_hit
    assert not render(job(clip, prompt="two"), tmp_path / "z.mp4", cache=cache).cache_hit
    assert cache.size_bytes() <= cache.max_bytes


def test_delivered_files_outlive_their_cache_entry(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    result = render(job(clip), tmp_path / "out.mp4", cache=cache)
    shutil.rmtree(cache.directory)

    assert probe_output(result.path).frames == 30


def test_concurrent_identical_jobs_render_once(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    results: list[RenderResult] = []
    barrier = threading.Barrier(3)

    def worker(i: int) -> None:
        barrier.wait()
        results.append(render(job(clip), tmp_path / f"{i}.mp4", cache=cache))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.cache_hit for r in results) == [False, True, True]
    assert len({(tmp_path / f"{i}.mp4").read_bytes() for i in range(3)}) == 1


def test_no_temporary_files_are_left_in_the_cache(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    render(job(clip), tmp_path / "a.mp4", cache=cache)
    with pytest.raises(RenderError, match="ffmpeg failed"):
        render(job(None), tmp_path / "b.mp4", cache=cache, ffmpeg="/bin/false")

    names = sorted(p.name for p in cache.directory.iterdir())
    assert len(names) == 3
    assert {Path(n).suffix for n in names} == {".mp4", ".json", ".lock"}
    assert len({Path(n).stem for n in names}) == 1  # one entry and its lock, nothing else


def test_max_bytes_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"RenderCache\.max_bytes: must be positive or None"):
        RenderCache(tmp_path, max_bytes=0)
