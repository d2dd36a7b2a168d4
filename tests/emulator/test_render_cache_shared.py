"""The render cache between processes: one encode for two emulators, and no entry that lies.

Entries outlive the process that wrote them (the point of the cache), so another process, or
the next run, must be able to trust what it finds: a torn, truncated or altered entry is
dropped and rendered again, never served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from render_media import small_job

from videoedit_emulator.render import job_key, make_sample_clip, probe_output, render
from videoedit_emulator.render.cache import RenderCache

CHILD = """
import json, sys, time
from pathlib import Path
from videoedit_emulator.render import RenderJob, render
from videoedit_emulator.render.cache import RenderCache

clip, cache_dir, out, go = map(Path, sys.argv[1:5])
job = RenderJob(width=320, height=240, duration=None, source=clip, audio="origin",
                watermark=True, caption="two processes", prompt="claymation")
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
result = render(job, out, cache=RenderCache(cache_dir))
print(json.dumps({"cache_hit": result.cache_hit}), flush=True)
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_clip(
        tmp_path_factory.mktemp("shared-src") / "in.mp4", seconds=1, width=320, height=240
    )


job = small_job


def entry_of(cache: RenderCache, key: str) -> tuple[Path, dict[str, object]]:
    mp4 = cache.directory / f"{key}.mp4"
    return mp4, json.loads((cache.directory / f"{key}.json").read_text("utf-8"))


def test_two_processes_rendering_the_same_job_at_once_encode_it_once(
    clip: Path, tmp_path: Path
) -> None:
    cache_dir, go = tmp_path / "cache", tmp_path / "go"
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(clip),
                str(cache_dir),
                str(tmp_path / f"{i}.mp4"),
                str(go),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    go.touch()  # both start together; each render takes far longer than the start-up skew
    answers = [json.loads(child.communicate(timeout=120)[0]) for child in children]

    assert sorted(a["cache_hit"] for a in answers) == [False, True]
    assert (tmp_path / "0.mp4").read_bytes() == (tmp_path / "1.mp4").read_bytes()
    assert probe_output(tmp_path / "0.mp4").frames == 30
    cache = RenderCache(cache_dir)
    (mp4,) = cache_dir.glob("*.mp4")
    assert cache.get(mp4.stem) is not None  # the one entry is whole: its size and hash agree


def test_a_truncated_entry_is_rendered_again(clip: Path, tmp_path: Path) -> None:
    render(job(clip), tmp_path / "a.mp4", cache=RenderCache(tmp_path / "cache"))
    later = RenderCache(tmp_path / "cache")  # the next run
    mp4, meta = entry_of(later, job_key(job(clip), later))
    os.truncate(mp4, mp4.stat().st_size // 2)

    again = render(job(clip), tmp_path / "b.mp4", cache=later)

    assert not again.cache_hit
    assert probe_output(again.path).frames == 30
    assert again.size_bytes == meta["size"]


def test_an_entry_whose_bytes_changed_is_rendered_again(clip: Path, tmp_path: Path) -> None:
    delivered = render(job(clip), tmp_path / "a.mp4", cache=RenderCache(tmp_path / "cache"))
    with open(delivered.path, "r+b") as fh:  # a caller wrote into its (hard-linked) result
        fh.seek(delivered.size_bytes // 2)
        fh.write(b"\0" * 64)
    later = RenderCache(tmp_path / "cache")

    again = render(job(clip), tmp_path / "b.mp4", cache=later)

    assert not again.cache_hit
    mp4, meta = entry_of(later, job_key(job(clip), later))
    assert later.file_digest(mp4) == meta["sha256"]


def test_an_entry_without_a_readable_record_is_rendered_again(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    render(job(clip), tmp_path / "a.mp4", cache=cache)
    (record,) = cache.directory.glob("*.json")
    record.write_text('{"width": 320, "hei', "utf-8")  # torn

    again = render(job(clip), tmp_path / "b.mp4", cache=cache)

    assert not again.cache_hit
    assert json.loads(record.read_text("utf-8"))["height"] == 240


def test_an_entry_another_process_is_reading_is_not_evicted(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache", max_bytes=10**9)
    first = render(job(clip, prompt="held"), tmp_path / "1.mp4", cache=cache)
    held = job_key(job(clip, prompt="held"), cache)
    os.utime(cache.directory / f"{held}.mp4", ns=(1, 1))  # the least recently used
    cache.max_bytes = first.size_bytes + first.size_bytes // 2  # room for one entry
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(cache.directory), held], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"

        render(job(clip, prompt="new"), tmp_path / "2.mp4", cache=cache)

        assert (cache.directory / f"{held}.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert cache.evict() == 1  # once the reader let go, the bound applies
    assert not (cache.directory / f"{held}.json").exists()


HOLD = """
import sys, time
from videoedit_emulator.render.cache import RenderCache

with RenderCache(sys.argv[1]).lock(sys.argv[2]):
    print("holding", flush=True)
    time.sleep(120)
"""


def test_the_leftovers_of_a_killed_render_are_swept(clip: Path, tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    dead = cache.directory / ".render-dead"
    dead.mkdir(parents=True)
    (dead / "render.mp4").write_bytes(b"half an encode")
    (cache.directory / "f00d.lock").touch()  # a lock file a killed process left
    an_hour_ago = time.time() - 3700
    for path in (dead / "render.mp4", dead, cache.directory / "f00d.lock"):
        os.utime(path, (an_hour_ago, an_hour_ago))

    render(job(clip), tmp_path / "a.mp4", cache=cache)

    assert not dead.exists()
    assert not (cache.directory / "f00d.lock").exists()
