"""Media fields of the vace requests: what each accepts, and the checks on local files.

Every media field takes an http(s) URL, an ``oss://`` URL from a temporary upload, or a local
path (uploaded by the client before the call); image fields also take a ``data:`` URI.
Local videos are probed with ffmpeg (the ``videoedit[probe]`` extra) against the limits the
documentation gives for that field, so a clip that is too long fails here and not after an
upload and a five-minute wait. URLs cannot be probed: the service checks those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from videoedit.media import (
    MediaKind,
    classify,
    local_path,
    validate_image_source,
    validate_video_source,
)
from videoedit.probe import probe_video

__all__ = [
    "MAX_CLIP_SECONDS",
    "MAX_REPAINT_BYTES",
    "MAX_REPAINT_SECONDS",
    "ClipSource",
    "ImageSource",
    "RepaintVideoSource",
    "VideoSource",
    "check_local_video",
]

#: ``video_repainting``: the input video is an MP4 of at most 50 MB and 5 s.
MAX_REPAINT_BYTES = 50 * 1024 * 1024
MAX_REPAINT_SECONDS = 5.0
#: ``video_extension``: first and last clips last at most 3 s each.
MAX_CLIP_SECONDS = 3.0
#: ffmpeg reports container durations with a little slack (rounding, the last frame).
_SLACK = 0.05


def check_local_video(
    path: Path, *, max_seconds: float | None = None, max_bytes: int | None = None
) -> None:
    """Apply a field's documented limits to a local video; raise ``ValueError`` naming the rule.

    Only the limits the vace documentation states are applied (no minimum length, no side
    limits: those are wan2.7's rules). Without ffmpeg only the byte size is checked.
    """
    if max_bytes is not None:
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(
                f"{path.name} is {size / 2**20:.1f} MB; the limit is {max_bytes // 2**20} MB"
            )
    try:
        info = probe_video(path)
    except ValueError as exc:  # ffmpeg found no video stream in it
        raise ValueError(f"{path.name}: {exc}") from None
    if info is None:
        return
    if max_seconds is not None and info.duration > max_seconds + _SLACK:
        raise ValueError(f"{path.name} lasts {info.duration:.2f} s; the limit is {max_seconds:g} s")


def _text(value: Any) -> str:
    if isinstance(value, Path):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be a URL, an oss:// URL or a local path")
    return value


def _image(value: Any) -> str:
    return validate_image_source(_text(value))


def _video_validator(
    *,
    suffixes: frozenset[str] = frozenset({".mp4", ".mov"}),
    max_seconds: float | None = None,
    max_bytes: int | None = None,
) -> BeforeValidator:
    def validate(value: Any) -> str:
        source = validate_video_source(_text(value), suffixes=suffixes)
        if classify(source) is MediaKind.LOCAL:
            check_local_video(local_path(source), max_seconds=max_seconds, max_bytes=max_bytes)
        return source

    return BeforeValidator(validate)


#: An image: URL, ``oss://`` URL, ``data:`` URI (jpeg, png, bmp, webp) or local path.
ImageSource = Annotated[str, BeforeValidator(_image)]
#: A video without documented limits of its own (mp4 or mov when local; probed to be a video).
VideoSource = Annotated[str, _video_validator()]
#: ``video_repainting``'s input: MP4, at most 50 MB and 5 s.
RepaintVideoSource = Annotated[
    str,
    _video_validator(
        suffixes=frozenset({".mp4"}), max_seconds=MAX_REPAINT_SECONDS, max_bytes=MAX_REPAINT_BYTES
    ),
]
#: ``video_extension``'s first or last clip: at most 3 s.
ClipSource = Annotated[str, _video_validator(max_seconds=MAX_CLIP_SECONDS)]
