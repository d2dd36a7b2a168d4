"""Probe a local video's container, duration and frame size before it is uploaded.

Uses the ffmpeg that ``imageio-ffmpeg`` ships (the ``videoedit[probe]`` extra). Without it,
`probe_video` returns ``None`` and the content checks are skipped: the service will
still refuse a bad video, only later and after the upload.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VideoInfo", "ffmpeg_exe", "probe_video"]

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?Video:\s*(\w+).*?,\s*(\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*fps")
_ROTATE = re.compile(r"rotate\s*:\s*(-?\d+)|rotation of (-?\d+(?:\.\d+)?) degrees")


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg says of a file: display size (rotation applied), seconds, codec, audio."""

    width: int
    height: int
    duration: float
    fps: float | None
    codec: str
    has_audio: bool
    format: str


def ffmpeg_exe() -> str | None:
    """The path of imageio-ffmpeg's ffmpeg, or ``None`` when the extra is not installed."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def probe_video(path: str | Path, *, exe: str | None = None) -> VideoInfo | None:
    """Read a video's header with ``ffmpeg -i``; ``None`` when no ffmpeg is available.

    Raises ``ValueError`` when ffmpeg finds no video stream in the file.
    """
    exe = exe or ffmpeg_exe()
    if exe is None:
        return None
    proc = subprocess.run(
        [exe, "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        check=False,
    )
    return parse_ffmpeg_banner(proc.stderr)


def parse_ffmpeg_banner(text: str) -> VideoInfo:
    """Parse the stream description ``ffmpeg -i`` prints (it has no ffprobe here)."""
    video = _VIDEO.search(text)
    if not video:
        raise ValueError("no video stream found (is it a video file?)")
    duration_match = _DURATION.search(text)
    duration = 0.0
    if duration_match:
        h, m, s = duration_match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    width, height = int(video[2]), int(video[3])
    rotate = _ROTATE.search(text)
    if rotate:
        angle = abs(round(float(rotate[1] or rotate[2]))) % 180
        if angle == 90:
            width, height = height, width
    line_end = text.find("\n", video.start())
    fps_match = _FPS.search(text, video.start(), line_end if line_end > 0 else len(text))
    fmt = re.search(r"Input #0, ([\w,]+), from", text)
    return VideoInfo(
        width=width,
        height=height,
        duration=duration,
        fps=float(fps_match[1]) if fps_match else None,
        codec=video[1],
        has_audio=re.search(r"Stream #\S+.*?Audio:", text) is not None,
        format=fmt[1] if fmt else "",
    )
