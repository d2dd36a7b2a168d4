"""What every benchmark shares: the emulator process, input clips, DashScope wire calls,
statistics and the report format.

Rules every benchmark follows (see ``bench/README.md`` and ``docs/performance.md``):

- a figure is a ratio or a count measured within one run (ours against a baseline run
  interleaved with it, on the same machine at the same moment), so a loaded machine still
  gives a fair answer; absolute seconds are printed beside it for context;
- the emulator runs in a process of its own (``bench.serve``), so the measuring code never
  shares its GIL, and its memory and CPU are read from ``/proc``;
- every report says the machine's cores and load average and how to reproduce it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from videoedit_emulator.render import ffmpeg_path
from videoedit_emulator.render.cache import CACHE_DIR_ENV
from videoedit_emulator.web.discovery import provider_prefixes

__all__ = [
    "KEY",
    "MODEL",
    "ROOT",
    "Emulator",
    "Figure",
    "Report",
    "create_task",
    "edit_body",
    "make_clip",
    "median",
    "percentile",
    "poll_until_done",
    "upload",
    "work_dir",
]

ROOT = Path(__file__).resolve().parent.parent
MODEL = "wan2.7-videoedit"
KEY = "sk-bench"
AUTH = {"Authorization": f"Bearer {KEY}"}
CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
SIZES = {"720P": (1280, 720), "1080P": (1920, 1080)}


# --------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- the report


@dataclass
class Figure:
    """One measured figure beside its target (``ok=None``: informational, no target)."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.ok]


@dataclass
class Report:
    """The figures of one benchmark, printed as a table with the command that reproduces it."""

    title: str
    reproduce: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)

    def add(
        self, name: str, value: str, target: str = "", ok: bool | None = None, note: str = ""
    ) -> None:
        self.figures.append(Figure(name, value, target, ok, note))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        load_after = os.getloadavg()
        lines = [f"== {self.title}"]
        width = max([len(f.name) for f in self.figures] + [10])
        vwidth = max([len(f.value) for f in self.figures] + [8])
        twidth = max([len(f.target) for f in self.figures] + [6])
        for f in self.figures:
            row = (
                f"  {f.name:<{width}}  {f.value:>{vwidth}}  {f.target:<{twidth}}  {f.verdict():<6}"
            )
            lines.append((row + (f"  {f.note}" if f.note else "")).rstrip())
        for text in self.notes:
            lines.append(f"  - {text}")
        lines.append(
            f"  load average {_load(self.load_before)} before, {_load(load_after)} after "
            f"({os.cpu_count()} cores)"
        )
        lines.append(f"  reproduce: {self.reproduce}")
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        return all(f.ok is not False for f in self.figures)


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def machine() -> str:
    """One line about where the figures come from."""
    version = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout.split("\n", 1)[0]
    return (
        f"{platform.node()}: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {version.split(' Copyright')[0]}"
    )


# --------------------------------------------------------------------------- the emulator


class Emulator:
    """``python -m bench.serve`` in a child process (see its docstring).

    Its render cache is a temp dir of its own (``cache_dir`` to choose one), never the user's
    cache directory: a figure that measures renders must not be served by an earlier run's.
    """

    def __init__(self, *args: str, cache_dir: Path | None = None) -> None:
        self.args = list(args)
        self.cache_dir = cache_dir
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.pid = 0
        self._own_cache: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Emulator:
        if self.cache_dir is None:
            self._own_cache = tempfile.TemporaryDirectory(prefix="videoedit-bench-cache-")
            cache = Path(self._own_cache.name)
        else:
            cache = self.cache_dir
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *(
                    os.environ["BENCH_SERVE"].split()
                    if os.environ.get("BENCH_SERVE")
                    else ["-m", "bench.serve"]
                ),
                *self.args,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, CACHE_DIR_ENV: str(cache)},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bench.serve exited before it served")
        info = json.loads(line)
        self.url, self.pid = info["url"], int(info["pid"])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._own_cache is not None:
            self._own_cache.cleanup()

    def base_url(self, provider: str = "dashscope-beijing") -> str:
        return self.url + provider_prefixes()[provider]

    def status(self) -> dict[str, int]:
        """``VmRSS`` and ``VmHWM`` (peak) of the emulator process, in KiB."""
        found: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status", encoding="ascii") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(rest.split()[0])
        return found

    def cpu_seconds(self) -> float:
        """CPU the emulator process has used so far (its own threads, not ffmpeg's)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


# --------------------------------------------------------------------------- inputs

PATTERNS = ("testsrc", "testsrc2", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "pal100bars")


def make_clip(
    path: Path, seconds: float, width: int, height: int, *, pattern: str = "testsrc"
) -> Path:
    """An input clip: a moving lavfi pattern at 30 fps, H.264, with a 440 Hz AAC tone."""
    if path.exists():
        return path
    moving = f"{pattern}=size={width}x{height}:rate=30:duration={seconds}"
    if pattern not in ("testsrc", "testsrc2"):  # static cards: scroll them so frames differ
        moving += ",scroll=h=0.002:v=0.001"
    argv = [ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", moving]
    argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    return path


@contextmanager
def work_dir(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"videoedit-bench-{name}-") as tmp:
        yield Path(tmp)


# --------------------------------------------------------------------------- DashScope wire


def upload(http: httpx.Client, base: str, path: Path) -> str:
    """Upload a local file the way DashScope clients do (getPolicy, then the OSS form)."""
    policy = (
        http.get(base + "/uploads", params={"action": "getPolicy", "model": MODEL}, headers=AUTH)
        .raise_for_status()
        .json()["data"]
    )
    key = f"{policy['upload_dir']}/{path.name}"
    with open(path, "rb") as fh:
        form: dict[str, Any] = {
            "OSSAccessKeyId": (None, policy["oss_access_key_id"]),
            "Signature": (None, policy["signature"]),
            "policy": (None, policy["policy"]),
            "key": (None, key),
            "x-oss-object-acl": (None, policy["x_oss_object_acl"]),
            "x-oss-forbid-overwrite": (None, policy["x_oss_forbid_overwrite"]),
            "success_action_status": (None, "200"),
            "file": (path.name, fh),
        }
        http.post(policy["upload_host"], files=form).raise_for_status()
    return f"oss://{key}"


def edit_body(
    video: str, prompt: str, resolution: str = "720P", duration: int = 5
) -> dict[str, Any]:
    """A wan2.7 edit that keeps the input's audio (so a bare ffmpeg command can match it)."""
    return {
        "model": MODEL,
        "input": {"prompt": prompt, "media": [{"type": "video", "url": video}]},
        "parameters": {
            "resolution": resolution,
            "ratio": "16:9",
            "duration": duration,
            "audio_setting": "origin",
        },
    }


def create_task(http: httpx.Client, base: str, body: dict[str, Any], **headers: str) -> str:
    sent = {**AUTH, "X-DashScope-Async": "enable", "X-DashScope-OssResourceResolve": "enable"}
    sent.update(headers)
    answer = http.post(base + CREATE_PATH, json=body, headers=sent)
    answer.raise_for_status()
    return str(answer.json()["output"]["task_id"])


def poll_until_done(
    http: httpx.Client, base: str, task_id: str, *, gap: float = 0.01, timeout: float = 600
) -> dict[str, Any]:
    """Query every ``gap`` seconds until the task ends; its last ``output``."""
    deadline = time.monotonic() + timeout
    while True:
        output: dict[str, Any] = http.get(f"{base}/tasks/{task_id}", headers=AUTH).json()["output"]
        if output["task_status"] in ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"):
            if output["task_status"] != "SUCCEEDED":
                raise RuntimeError(f"task {task_id} ended {output['task_status']}: {output}")
            return output
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} still {output['task_status']}")
        time.sleep(gap)


def child_json(argv: list[str], *, stdin: IO[str] | None = None, timeout: float = 600) -> Any:
    """Run a Python child in the repository and parse the JSON of its last output line."""
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
