"""How ffmpeg may open a task's input: one local file, through one named demuxer, nothing else.

Given ``-i`` and no ``-f``, ffmpeg tries every demuxer it has on a file, and some of them
open *other* files or URLs that the file names: an HLS playlist (``.m3u8``) its segments,
a concat or ffconcat list its entries, an SDP description network sockets, an image
sequence its neighbours, a DASH or IMF manifest its parts. An input that is such a file
would make ffmpeg read anything on this machine (another realm's result included) and the
renderer draw it into a stand-in served back to whoever sent it. So every input is opened:

- by the local-file protocol alone (``-protocol_whitelist file``), as ``file:<absolute
  path>``, so that no path is mistaken for an option or another protocol;
- through a demuxer the emulator names: ``mov`` for a video (mp4 and mov, the only
  containers the models take), the picture's own single-image demuxer for an image
  (``jpeg_pipe``, ``png_pipe``, ``bmp_pipe``, ``webp_pipe``), chosen by the file's first
  bytes and never by a name;
- from a name that means nothing to ffmpeg: the store keeps inputs under content hashes
  without an extension (``engine/store.py``).

A probe must still say which container a refused video is ("has container
'matroska,webm'"), so it lets ffmpeg *detect* the format but open the file only when it is
``mov`` (``-format_whitelist mov``); the detected name of anything else is read from ffmpeg's
debug line ``Format <name> probed with ...``, which is printed before any demuxer opens
anything (`refused_format`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "VIDEO_DEMUXER",
    "input_options",
    "input_url",
    "probe_argv",
    "refused",
    "refused_format",
    "still_demuxer",
]

#: The demuxer every input video is opened with (ffmpeg's "mov,mp4,m4a,3gp,3g2,mj2").
VIDEO_DEMUXER = "mov"
#: Single-picture demuxers by the first bytes of the file (WEBP is checked apart).
_STILLS = (
    (b"\xff\xd8\xff", "jpeg_pipe"),
    (b"\x89PNG\r\n\x1a\n", "png_pipe"),
    (b"BM", "bmp_pipe"),
)
_PROBED = re.compile(r"Format (\S+) probed with")
_REFUSED = "not on whitelist"


def still_demuxer(path: Path) -> str | None:
    """The demuxer for a picture (JPEG, PNG, BMP, WEBP) by its first bytes; ``None`` otherwise.

    A video given where a picture goes (its first frame is used) opens with ``mov``.
    """
    with open(path, "rb") as handle:
        head = handle.read(12)
    for magic, demuxer in _STILLS:
        if head.startswith(magic):
            return demuxer
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp_pipe"
    if head[4:8] == b"ftyp":
        return VIDEO_DEMUXER
    return None


def input_options(demuxer: str) -> list[str]:
    """The options that go before an input's ``-i``: its demuxer named, the local-file
    protocol alone allowed."""
    return ["-protocol_whitelist", "file", "-f", demuxer]


def input_url(path: Path) -> str:
    """What follows ``-i``: the absolute path behind the ``file:`` protocol."""
    return f"file:{os.fspath(path.resolve())}"


def probe_argv(ffmpeg: str, path: Path, *, debug: bool = False) -> list[str]:
    """``ffmpeg -i`` of a video that opens it only if it is mp4 or mov (see the module
    docstring); ``debug`` adds the line that names a refused format."""
    argv = [ffmpeg, "-hide_banner", "-nostdin"]
    if debug:
        argv += ["-loglevel", "debug"]
    argv += ["-protocol_whitelist", "file", "-format_whitelist", VIDEO_DEMUXER]
    return [*argv, "-i", input_url(path)]


def refused(stderr: str) -> bool:
    """Whether a probe stopped because the file's format is not ``mov``."""
    return _REFUSED in stderr


def refused_format(debug_stderr: str) -> str:
    """The name ffmpeg detected for a refused file (from a ``debug`` probe), or ``unknown``."""
    found = _PROBED.search(debug_stderr)
    return found[1] if found else "unknown"
