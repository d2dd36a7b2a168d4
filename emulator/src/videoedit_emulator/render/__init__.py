"""The emulator's renderer: a `RenderJob` in, a real, playable stand-in MP4 out.

Stand-ins are honest: the output is the input transcoded (or, when the input could not be
fetched offline, a ``testsrc2`` test pattern that says so), never a pretend edit, and every
frame carries a visible mark: the caller's caption, a line saying what the mode did, the
prompt, thumbnails of the reference images, and the service's watermark when asked.

API
---
``RenderJob(width, height, duration, source, audio, watermark, caption, prompt=None, images=(),
mode=Restyle(), fit="cover", source_note=None)``
    ``width``/``height``: even pixels (16-4096). ``duration``: seconds, ``None`` = the source's
    length. ``source``: input video, ``None`` = test pattern. ``audio``: ``"none" | "origin" |
    "tone"``. ``watermark``: draw "AI生成" (Latin fallback without a CJK font). ``caption``:
    first line of the mark. ``prompt``: drawn wrapped. ``images``: reference thumbnails.
    ``source_note``: an extra line (e.g. "input URL not fetched offline").
``render(job, out, *, cache=None, ffmpeg=None, threads=None, timeout=600) -> RenderResult``
    Blocking (run it in a worker thread). Writes ``out`` atomically. With a
    `RenderCache`, an identical job (same parameters, same input
    bytes) is served from the cache as a hard link (a copy across filesystems) with
    ``cache_hit=True``; treat ``out`` as read-only. Raises `RenderError` (naming the input
    at fault, or with the tail of ffmpeg's stderr) and ``ValueError`` for a malformed job.
``make_sample_clip(path, seconds=4, width=1280, height=720, audio=True) -> Path``
    A plain input clip (moving test card + 440 Hz tone) for demos and tests.
``RenderResult``: path, width, height, duration (frames / 30), fps, frames, has_audio,
    size_bytes, cache_hit.
``probe_output(path) -> OutputInfo``
    codec, pix_fmt, size, fps, duration, exact frame count, audio, faststart, rotation.

Output (every job)
------------------
MP4, H.264 (libx264 ``-preset ultrafast -crf 23``), yuv420p, exactly 30 fps, exactly
``round(duration × 30)`` frames (``duration=None``: the source's length; 5 s without a source),
``+faststart``, no metadata carried over; audio is AAC 128k when present.

* ``audio="origin"`` keeps the source's audio (cut or padded with silence to the duration); a
  source without audio gives an output without audio. ``"tone"`` is a 440 Hz sine stand-in.
* Geometry: ``fit="cover"`` (default) scales the source to cover ``width×height`` and crops the
  overflow centred, the way a model fills the requested frame; ``fit="contain"`` letterboxes.
  Reference images (``ImageReference``) are always contained; ``Outpaint`` is always fitted.
* Duration: cut from the start; when the output is longer than the source (vace extension) the
  last frame is carried on (``tpad`` clone).

Modes (``job.mode``; see `videoedit_emulator.render.job` for each one's fields)
---------------------------------------------------------------------------------
``Restyle()`` (default; wan2.7 instruction edit), ``ImageReference(obj_or_bg)``,
``Repaint(control_condition, strength)``, ``MaskedEdit(mask_image | mask_video, mask_type,
expand_ratio, mask_frame_id)``, ``Extension(first_clip, last_clip, first_frame, last_frame)``,
``Outpaint(top, bottom, left, right)``. A mode that needs an input it was not given draws the
test pattern in its place. vace jobs should pass ``audio="none"`` and at most 720P / 5 s.

Speed
-----
One ffmpeg process, one filter graph. ``ultrafast`` costs ~1.7x less CPU than ``veryfast`` here
for 2-2.7x the bytes (stand-ins are short and served over loopback). The marks are drawn once
and blended band by band (only the rows they occupy); the input is decoded only as far as the
output needs, and probed once per content (memoized on its stat signature). libx264 gets
``threads`` (default: the cores, at most 4); decoders and the filter graph run one thread
each. The engine passes the cores divided among the renders it runs at once (one each under
load). Measurements: ``docs/performance.md``; the cache: ``docs/stand-ins.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videoedit.probe import VideoInfo, parse_ffmpeg_banner

from . import probes
from .cache import RenderCache, link_or_copy
from .filtergraph import Command, Prober, build_command, settings_fingerprint
from .job import (
    FPS,
    AudioMode,
    ControlCondition,
    Extension,
    ImageReference,
    MaskedEdit,
    MaskType,
    Outpaint,
    RenderError,
    RenderJob,
    RenderMode,
    RenderResult,
    Repaint,
    Restyle,
)

__all__ = [
    "FPS",
    "RENDERER_VERSION",
    "AudioMode",
    "ControlCondition",
    "Extension",
    "ImageReference",
    "MaskType",
    "MaskedEdit",
    "Outpaint",
    "OutputInfo",
    "RenderCache",
    "RenderError",
    "RenderJob",
    "RenderMode",
    "RenderResult",
    "Repaint",
    "Restyle",
    "ffmpeg_path",
    "job_key",
    "make_sample_clip",
    "probe_output",
    "render",
]

RENDERER_VERSION = 1
"""Part of every cache key: bump it whenever a change to the graph changes output bytes."""

DEFAULT_TIMEOUT = 600.0
_STDERR_TAIL_LINES = 15


def ffmpeg_path() -> str:
    """imageio-ffmpeg's static ffmpeg (a dependency of the emulator, so always present)."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def default_threads() -> int:
    """Encoder threads: the cores, at most 4 (more only adds latency on short clips)."""
    return max(1, min(os.cpu_count() or 1, 4))


def _probe(ffmpeg: str) -> Prober:
    """``probe(path, field)``: an input's facts from ``ffmpeg -i``, or RenderError naming it.

    Probed once per content: see `videoedit_emulator.render.probes`.
    """

    def probe(path: Path, name: str) -> VideoInfo:
        if not path.is_file():
            raise RenderError(f"{name}: no such file: {path}", input=path)
        known = probes.lookup(path)
        if known is not None:
            return known
        info = _run_probe(ffmpeg, path, name)
        probes.remember(path, info)
        return info

    return probe


def _run_probe(ffmpeg: str, path: Path, name: str) -> VideoInfo:
    """One probe (mp4 and mov only: `videoedit_emulator.render.probes.run_probe`), or
    RenderError naming the input."""
    try:
        return probes.run_probe(path, ffmpeg)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{name}: cannot probe {path} ({exc})", input=path) from None
    except ValueError as exc:  # ContainerRefused included
        raise RenderError(
            f"{name}: ffmpeg cannot read {path} as a video ({exc})", input=path
        ) from None


def _tail(stderr: str, lines: int = _STDERR_TAIL_LINES) -> str:
    return "\n".join(stderr.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- cache key


def _canonical(value: Any, digest: Any) -> Any:
    if isinstance(value, Path):
        return {"file": digest(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "type": type(value).__name__,
            **{
                f.name: _canonical(getattr(value, f.name), digest)
                for f in dataclasses.fields(value)
            },
        }
    if isinstance(value, (tuple, list)):
        return [_canonical(v, digest) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def job_key(job: RenderJob, cache: RenderCache) -> str:
    """The content address of a job: its parameters with every input file replaced by its hash.

    Raises `RenderError` naming an input that does not exist.
    """

    def digest(path: Path) -> str:
        try:
            return cache.file_digest(path)
        except OSError as exc:
            raise RenderError(
                f"input file not readable: {path} ({exc.strerror})", input=path
            ) from None

    payload = {
        "renderer": RENDERER_VERSION,
        "settings": settings_fingerprint(),
        "job": _canonical(job, digest),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- render


def render(
    job: RenderJob,
    out: Path | str,
    *,
    cache: RenderCache | None = None,
    ffmpeg: str | None = None,
    threads: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RenderResult:
    """Render ``job`` to ``out`` (an MP4, replaced atomically). Blocking; thread-safe."""
    out = Path(out)
    if cache is None:
        return _render_to(job, out, ffmpeg=ffmpeg, threads=threads, timeout=timeout)
    key = job_key(job, cache)
    with cache.lock(key):
        entry = cache.get(key)
        if entry is not None:
            try:
                link_or_copy(entry.mp4, out)
            except FileNotFoundError:
                entry = None  # evicted between get() and link: render again
            else:
                return _result(out, entry.meta, cache_hit=True)
        cache.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".render-", dir=cache.directory) as work:
            rendered = Path(work) / "out.mp4"
            result = _render_to(
                job, rendered, ffmpeg=ffmpeg, threads=threads, timeout=timeout, work=Path(work)
            )
            meta = {
                "width": result.width,
                "height": result.height,
                "frames": result.frames,
                "has_audio": result.has_audio,
            }
            entry = cache.put(key, rendered, meta)
            link_or_copy(entry.mp4, out)
    return _result(out, meta, cache_hit=False)


def _result(out: Path, meta: dict[str, Any], *, cache_hit: bool) -> RenderResult:
    frames = int(meta["frames"])
    return RenderResult(
        path=out,
        width=int(meta["width"]),
        height=int(meta["height"]),
        duration=frames / FPS,
        fps=FPS,
        frames=frames,
        has_audio=bool(meta["has_audio"]),
        size_bytes=out.stat().st_size,
        cache_hit=cache_hit,
    )


def _render_to(
    job: RenderJob,
    out: Path,
    *,
    ffmpeg: str | None,
    threads: int | None,
    timeout: float,
    work: Path | None = None,
) -> RenderResult:
    exe = ffmpeg or ffmpeg_path()
    with contextlib.ExitStack() as stack:
        if work is None:
            out.parent.mkdir(parents=True, exist_ok=True)
            work = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix=".render-", dir=out.parent))
            )
        command = build_command(
            job, "render.mp4", ffmpeg=exe, probe=_probe(exe), threads=threads or default_threads()
        )
        _materialize(command, work)
        _run(command, work, timeout)
        os.replace(work / "render.mp4", out)
    meta = {
        "width": job.width,
        "height": job.height,
        "frames": command.frames,
        "has_audio": command.has_audio,
    }
    return _result(out, meta, cache_hit=False)


def _materialize(command: Command, work: Path) -> None:
    for name, text in command.text_files.items():
        (work / name).write_text(text, encoding="utf-8", errors="replace")
    for name, target in command.links.items():
        link = work / name
        if link.exists() or link.is_symlink():
            continue
        try:
            link.symlink_to(target)
        except OSError:
            shutil.copyfile(target, link)


def _run(command: Command, work: Path, timeout: float) -> None:
    try:
        proc = subprocess.run(
            command.argv,
            cwd=work,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"ffmpeg did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise RenderError(f"cannot run ffmpeg ({command.argv[0]}): {exc}") from None
    if proc.returncode == 0 and (work / "render.mp4").is_file():
        return
    tail = _tail(proc.stderr)
    culprit = _culprit(command, proc.stderr)
    if culprit is not None:
        name, path = culprit
        raise RenderError(
            f"{name}: ffmpeg could not use {path} (exit {proc.returncode})",
            stderr_tail=tail,
            input=path,
        )
    raise RenderError(f"ffmpeg failed (exit {proc.returncode})", stderr_tail=tail)


_INPUT_REF = re.compile(r"(?:\bin#|ist#|\binput )(\d+)")


def _culprit(command: Command, stderr: str) -> tuple[str, Path] | None:
    """The input ffmpeg complained about: by its path, else by its index (``in#1``, ``ist#1:0``)."""
    inputs = command.inputs
    for name, path in inputs:
        if os.fspath(path.resolve()) in stderr:
            return name, path
    for match in _INPUT_REF.finditer(stderr):
        index = int(match[1])
        if index < len(inputs):
            return inputs[index]
    return None


# --------------------------------------------------------------------------- samples


def make_sample_clip(
    path: Path | str,
    seconds: float = 4,
    width: int = 1280,
    height: int = 720,
    audio: bool = True,
    *,
    ffmpeg: str | None = None,
) -> Path:
    """Write a plain input clip: ffmpeg's moving ``testsrc`` card, 30 fps, H.264, a 440 Hz tone.

    Not a stand-in (no marks): it plays the part of a user's video in demos and tests.
    """
    path = Path(path)
    if seconds <= 0 or width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(
            "make_sample_clip: seconds must be positive and width/height even and >= 16, "
            f"got {seconds}, {width}x{height}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.mp4")
    argv = [
        ffmpeg or ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate={FPS}:duration={seconds}",
    ]  # fmt: skip
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "96k"] if audio else ["-an"]
    argv += ["-movflags", "+faststart", "-f", "mp4", os.fspath(tmp)]
    proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode != 0:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise RenderError("make_sample_clip: ffmpeg failed", stderr_tail=_tail(proc.stderr))
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- probing


@dataclass(frozen=True)
class OutputInfo:
    """What an MP4 holds, as ffmpeg reads it (there is no ffprobe here)."""

    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float | None
    duration: float
    frames: int
    has_audio: bool
    audio_codec: str | None
    faststart: bool
    """True when the ``moov`` box precedes ``mdat`` (playable while downloading)."""
    rotation: int = 0
    """Degrees of the display matrix; stand-ins are coded upright, so always 0 for them."""


_PIX_FMT = re.compile(r"Video:\s*\w+[^,]*,\s*(\w+)")
_AUDIO_CODEC = re.compile(r"Audio:\s*(\w+)")
_FRAME = re.compile(r"frame=\s*(\d+)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")


def _moov_first(path: Path) -> bool:
    with path.open("rb") as fh:
        offset = 0
        while True:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            if size < 8:
                return False
            offset += size


def probe_output(path: Path | str, *, ffmpeg: str | None = None) -> OutputInfo:
    """Describe an MP4: one ``ffmpeg -i … -c copy -f null`` pass (exact frame count, no decode)."""
    path = Path(path)
    exe = ffmpeg or ffmpeg_path()
    argv = [exe, "-hide_banner", "-nostdin", "-i", f"file:{os.fspath(path)}"]
    argv += ["-map", "0:v:0", "-c", "copy", "-f", "null", "-"]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
        check=False,
    )
    try:
        info = parse_ffmpeg_banner(proc.stderr)
    except ValueError as exc:
        raise RenderError(
            f"{path}: not a readable video ({exc})", stderr_tail=_tail(proc.stderr)
        ) from None
    pix = _PIX_FMT.search(proc.stderr)
    audio = _AUDIO_CODEC.search(proc.stderr)
    frames = _FRAME.findall(proc.stderr)
    return OutputInfo(
        codec=info.codec,
        pix_fmt=pix[1] if pix else "",
        width=info.width,
        height=info.height,
        fps=info.fps,
        duration=info.duration,
        frames=int(frames[-1]) if frames else 0,
        has_audio=info.has_audio,
        audio_codec=audio[1] if audio else None,
        faststart=_moov_first(path),
        rotation=round(float(rotation[1])) if (rotation := _ROTATION.search(proc.stderr)) else 0,
    )
