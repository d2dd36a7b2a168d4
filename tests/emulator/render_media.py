"""Small media files and frame reading for the renderer's tests (plain helpers, no fixtures).

Flat colours make the stand-in's looks testable: a pixel away from the marks says what the
mode did (a magenta mask, a slate outpainted border, black edges of a flat frame...).
"""

from __future__ import annotations

import base64
import math
import struct
import subprocess
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from videoedit_emulator.render import RenderJob, ffmpeg_path


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def solid_image(path: Path, color: str, width: int = 160, height: int = 120) -> Path:
    """A one-colour PNG/JPEG (by the path's suffix)."""
    ffmpeg("-f", "lavfi", "-i", f"color=c={color}:s={width}x{height}", "-frames:v", "1", str(path))
    return path


def mask_image(path: Path, width: int, height: int, box: tuple[int, int, int, int]) -> Path:
    """Black PNG with a white rectangle (x, y, w, h): the region to edit."""
    x, y, w, h = box
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"color=c=black:s={width}x{height},drawbox=x={x}:y={y}:w={w}:h={h}:color=white:t=fill",
        "-frames:v",
        "1",
        str(path),
    )
    return path


def flat_clip(
    path: Path,
    color: str,
    seconds: float,
    width: int = 320,
    height: int = 240,
    audio: bool = False,
    then: str | None = None,
    sound: str = "sine",
) -> Path:
    """A one-colour H.264 clip at 30 fps (``then``: a second one as long), optionally with an
    audio track (``sound``: its lavfi source, a tone by default; ``anullsrc`` is silence)."""
    size = f"{width}x{height}"
    graph = f"color=c={color}:s={size}:r=30:d={seconds}"
    if then is not None:
        graph += f"[a];color=c={then}:s={size}:r=30:d={seconds}[b];[a][b]concat=n=2:v=1"
    args = ["-f", "lavfi", "-t", str(seconds), "-i", sound] if audio else []
    args += ["-filter_complex", f"{graph},format=yuv420p[v]", "-map", "[v]"]
    args += ["-map", "0:a", "-c:a", "aac"] if audio else []
    ffmpeg(*args, "-c:v", "libx264", str(path))
    return path


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = (y * self.width + x) * 3
        return self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]

    def region(self, x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int, int]]:
        return [self.pixel(x, y) for y in range(y0, y1) for x in range(x0, x1)]


def frame(path: Path, index: int, width: int, height: int) -> Frame:
    """Decode frame ``index`` (0-based) of a video as RGB24."""
    argv = [ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path)]
    argv += ["-vf", f"select=eq(n\\,{index})", "-frames:v", "1"]
    argv += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(
        argv,
        check=True,
        capture_output=True,
    )
    assert len(proc.stdout) == width * height * 3, f"frame {index} missing from {path}"
    return Frame(width, height, proc.stdout)


def close(actual: tuple[int, int, int], expected: tuple[int, int, int], tol: int = 24) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))


def loudness(path: Path) -> float:
    """The RMS level of a file's first audio track, as a fraction of full scale (0: silence)."""
    argv = [ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path)]
    argv += ["-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "-"]
    samples = array("h", subprocess.run(argv, check=True, capture_output=True).stdout)
    assert samples, f"no audio decoded from {path}"
    return math.sqrt(sum(x * x for x in samples) / len(samples)) / 32768


def tiny_png_uri(width: int = 16, height: int = 16) -> str:
    """A one-colour PNG as a ``data:`` URI, built in memory (no ffmpeg, nothing to fetch)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = (b"\x00" + b"\xe0\x60\x20" * width) * height
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    png += chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def small_job(source: Path | None, **overrides: object) -> RenderJob:
    """A 320x240 restyle of ``source`` with its audio and the marks: cheap to render, and
    any one field changed makes another cache key."""
    fields: dict[str, object] = {
        "width": 320,
        "height": 240,
        "duration": None,
        "source": source,
        "audio": "origin",
        "watermark": True,
        "caption": "videoedit emulator stand-in · wan2.7-videoedit",
        "prompt": "claymation",
    }
    fields.update(overrides)
    return RenderJob(**fields)  # type: ignore[arg-type]
