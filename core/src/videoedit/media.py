"""Media inputs: what a request may point at, and how each kind is recognised.

A request field that holds media accepts an http(s) URL, an ``oss://`` URL from a temporary
upload, a local path (``str``, `Path` or ``file://`` URL) and, for images, a
``data:`` URI. Local paths are uploaded by the client before the request is sent.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = [
    "IMAGE_MIME_TYPES",
    "IMAGE_SUFFIXES",
    "MediaKind",
    "classify",
    "local_path",
    "validate_data_uri",
    "validate_image_source",
    "validate_video_source",
]

IMAGE_MIME_TYPES = frozenset({"image/jpeg", "image/png", "image/bmp", "image/webp"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov"})
_URL_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


class MediaKind(str, enum.Enum):
    HTTP = "http"
    OSS = "oss"
    DATA = "data"
    LOCAL = "local"


def classify(source: str) -> MediaKind:
    """Tell which kind of source ``source`` is, from its scheme alone."""
    scheme = source.split(":", 1)[0].lower() if ":" in source else ""
    if scheme in ("http", "https"):
        return MediaKind.HTTP
    if scheme == "oss":
        return MediaKind.OSS
    if scheme == "data":
        return MediaKind.DATA
    return MediaKind.LOCAL


def _reject_foreign_scheme(source: str) -> None:
    """``ftp://…`` and friends are not local paths: say so instead of "file not found"."""
    match = _URL_SCHEME.match(source)
    if match and match["scheme"].lower() not in ("http", "https", "oss", "file"):
        raise ValueError(
            f"URL scheme {match['scheme']!r} is not supported: use an http(s) URL, an oss:// "
            "URL or a local path"
        )


def local_path(source: str) -> Path:
    """The filesystem path of a local source (a plain path or a ``file://`` URL)."""
    if source.lower().startswith("file://"):
        return Path(unquote(urlsplit(source).path))
    return Path(source).expanduser()


def validate_data_uri(source: str) -> str:
    match = _DATA_URI.match(source)
    if not match:
        raise ValueError("a data URI must read data:{mime};base64,{data}")
    mime = match["mime"].lower()
    if mime not in IMAGE_MIME_TYPES:
        allowed = ", ".join(sorted(IMAGE_MIME_TYPES))
        raise ValueError(f"data URI mime type {mime!r} is not one of {allowed}")
    payload = match["data"]
    if not payload:
        raise ValueError("data URI carries no data")
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data URI payload is not valid base64") from None
    return source


def _validate_url(source: str) -> str:
    parts = urlsplit(source)
    if not parts.netloc:
        raise ValueError(f"URL {source[:80]!r} has no host")
    if any(c.isspace() for c in source):
        raise ValueError("URL must not contain white space")
    return source


def _validate_local(source: str, suffixes: frozenset[str], kinds: str) -> str:
    try:
        path = local_path(source)
        is_file = path.is_file()
    except (OSError, RuntimeError) as exc:
        # "~nobody/x.mp4" (no such home), a name too long for the file system, …: the
        # caller gave a path that cannot be looked at, which is a fault in the request.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"local path {source[:80]!r} cannot be used: {reason}") from None
    if not is_file:
        raise ValueError(f"local file {str(path)!r} does not exist or is not a file")
    if path.suffix.lower() not in suffixes:
        raise ValueError(
            f"local file {path.name!r} must be one of {', '.join(sorted(suffixes))} ({kinds})"
        )
    return str(path)


def validate_video_source(source: str | Path, *, suffixes: frozenset[str] = VIDEO_SUFFIXES) -> str:
    """Check a video source's form (not its content); return it as a string."""
    text = str(source).strip() if isinstance(source, Path) else source.strip()
    if not text:
        raise ValueError("must not be empty")
    _reject_foreign_scheme(text)
    kind = classify(text)
    if kind is MediaKind.DATA:
        raise ValueError("a video cannot be a data URI: pass a URL or a local path")
    if kind is MediaKind.LOCAL:
        return _validate_local(text, suffixes, "container: mp4 or mov")
    return _validate_url(text)


def validate_image_source(source: str | Path) -> str:
    """Check an image source's form; data URIs are decoded to prove they are base64."""
    text = str(source).strip() if isinstance(source, Path) else source.strip()
    if not text:
        raise ValueError("must not be empty")
    _reject_foreign_scheme(text)
    kind = classify(text)
    if kind is MediaKind.DATA:
        return validate_data_uri(text)
    if kind is MediaKind.LOCAL:
        return _validate_local(text, IMAGE_SUFFIXES, "image: jpeg, png, bmp or webp")
    return _validate_url(text)
