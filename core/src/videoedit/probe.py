"""Probe a local video's container, duration and frame size before it is uploaded.

Uses the ffmpeg that ``imageio-ffmpeg`` ships (the ``videoedit[probe]`` extra). Without it,
`probe_video` returns ``None`` and the content checks are skipped: the service will
still refuse a bad video, only later and after the upload.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["UnsupportedContainer", "VideoInfo", "ffmpeg_exe", "probe_video"]

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


class UnsupportedContainer(ValueError):
    """The file is of a container the models do not take (``format``: ffmpeg's name)."""

    def __init__(self, format: str) -> None:
        super().__init__(f"is a {format.split(',')[0]} file; the container must be mp4 or mov")
        self.format = format


#: The one demuxer a probe may open a file with: ffmpeg's "mov,mp4,m4a,3gp,3g2,mj2".
_DEMUXER = "mov"
_PROBED = re.compile(r"Format (\S+) probed with")
_TIMEOUT = 30.0


def _ffmpeg(exe: str, path: Path, *options: str) -> str:
    """ffmpeg's report on ``path``, opened as one local file through the ``mov`` demuxer.

    Without the whitelists a file named ``clip.mp4`` that is an ffconcat list, an HLS
    playlist or an SDP description makes ffmpeg open what it names: other files, a FIFO
    (a probe that hung for 30 s, then a raw ``TimeoutExpired``), network addresses. With
    them another container is refused before anything it names is opened.
    """
    argv = [exe, "-hide_banner", "-nostdin", *options]
    argv += ["-protocol_whitelist", "file", "-format_whitelist", _DEMUXER]
    argv += ["-i", f"file:{os.fspath(path.resolve())}"]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", timeout=_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ValueError(f"ffmpeg did not finish reading it within {_TIMEOUT:g} s") from None
    return proc.stderr


def probe_video(path: str | Path, *, exe: str | None = None) -> VideoInfo | None:
    """Read a video's header with ``ffmpeg -i``; ``None`` when no ffmpeg is available.

    Raises ``ValueError`` when ffmpeg finds no video stream in the file, and
    `UnsupportedContainer` (a ``ValueError``) for a container but mp4 or mov.
    """
    exe = exe or ffmpeg_exe()
    if exe is None:
        return None
    path = Path(path)
    report = _ffmpeg(exe, path)
    if "not on whitelist" in report:
        # Which container it is, from the line ffmpeg prints before it refuses to open it.
        probed = _PROBED.search(_ffmpeg(exe, path, "-v", "debug"))
        raise UnsupportedContainer(probed[1] if probed else "unknown")
    return parse_ffmpeg_banner(report)


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
