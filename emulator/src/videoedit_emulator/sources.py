"""Turn a request's media URLs into local files, without ever touching the internet.

What each kind of URL becomes:

- ``oss://<key>``: a file uploaded to this emulator (for the same model, not expired);
- a link to one of this emulator's own results: the file itself, if the signature holds;
- ``data:<mime>;base64,<data>``: the decoded bytes;
- ``http(s)://`` on this machine (``localhost``, ``127.0.0.0/8``, ``::1``): fetched, with a
  size cap and a timeout, following redirects only while they stay on this machine. No name
  is ever looked up: ``localhost`` and ``*.localhost`` are sent to 127.0.0.1 (with their own
  ``Host`` header and TLS server name), so neither DNS nor a proxy setting in the environment
  can turn a fetch towards another address;
- any other URL: **not fetched**. The render uses a synthesized test pattern in its place
  and the task's output carries a note saying so.

A URL that should be fetchable but is not (an unknown ``oss://`` key, a 404 on loopback)
raises :class:`DownloadFailed`; the engine then fails the task the way the service does
(``InvalidParameter`` / ``Failed to download ...``). Content that is not media at all raises
an :class:`~videoedit_emulator.errors.ApiError` (a 400 at creation).

Everything here blocks (disk, loopback HTTP, ffmpeg): the engine calls it from a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import httpx

from videoedit_emulator.errors import ApiError
from videoedit_emulator.models.base import MediaInput, ResolvedMedia
from videoedit_emulator.store import RESULT_BUCKET, Store

__all__ = [
    "OSS_HEADER",
    "DownloadFailed",
    "SourceContext",
    "check_oss_allowed",
    "is_loopback_host",
    "loopback_target",
    "resolve",
]

OSS_HEADER = "X-DashScope-OssResourceResolve"
_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL | re.IGNORECASE
)
_MIME_SUFFIX = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
}
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,5}$")
_MAX_REDIRECTS = 3
_CHUNK = 1 << 16


class DownloadFailed(Exception):
    """A URL that names something the emulator should have been able to read, but could not."""

    def __init__(self, field: str, url: str, reason: str) -> None:
        super().__init__(f"Failed to download {field} ({_short(url)}): {reason}")
        self.field = field
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class SourceContext:
    """What resolution needs to know about the request and the emulator."""

    store: Store
    model: str
    own_netlocs: frozenset[str] = frozenset()
    max_bytes: int = 100 * 1024 * 1024
    timeout: float = 10.0
    probe: bool = True


def _short(url: str) -> str:
    return url if len(url) <= 100 else url[:60] + "..." + url[-20:]


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` (and ``*.localhost``), ``127.0.0.0/8`` and ``::1``; no DNS is consulted."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_oss_allowed(media: Iterable[MediaInput], header_value: str | None) -> None:
    """DashScope resolves ``oss://`` inputs only when asked to with the header; else a 400."""
    if header_value is not None and header_value.strip().lower() == "enable":
        return
    for item in media:
        if item.url.lower().startswith("oss://"):
            raise ApiError.invalid(
                item.field,
                f"is an oss:// URL, which is resolved only when the request carries the header "
                f"{OSS_HEADER}: enable",
            )


def resolve(item: MediaInput, ctx: SourceContext) -> ResolvedMedia:
    """Make one media input local (see the module docstring). Blocking."""
    url = item.url
    scheme = url.split(":", 1)[0].lower()
    if scheme == "oss":
        try:
            stored = ctx.store.lookup_upload(url, ctx.model)
        except LookupError as exc:
            raise DownloadFailed(item.field, url, str(exc)) from None
        return _finish(item, stored.path, ctx)
    if scheme == "data":
        return _finish(item, _decode_data_uri(item, ctx), ctx)
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "http://[::1" and other URLs no client could send
        raise ApiError.invalid(item.field, f"is not a valid URL ({exc})") from None
    if parts.netloc.lower() in ctx.own_netlocs and parts.path.startswith(f"/oss/{RESULT_BUCKET}/"):
        key = unquote(parts.path[len(f"/oss/{RESULT_BUCKET}/") :])
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        try:
            path = ctx.store.open_result(
                key, query.get("Expires"), query.get("OSSAccessKeyId"), query.get("Signature")
            )
        except ApiError as exc:
            raise DownloadFailed(item.field, url, f"{exc.code}: {exc.message}") from None
        return _finish(item, path, ctx)
    if is_loopback_host(parts.hostname):
        return _finish(item, _fetch(item, ctx), ctx)
    what = "a test pattern stands in for it" if item.kind == "video" else "the render leaves it out"
    note = (
        f"{item.field} was not fetched: {parts.hostname or url[:40]} is not on this machine and "
        f"the emulator never uses the internet; {what}"
    )
    return ResolvedMedia(field=item.field, url=url, kind=item.kind, path=None, note=note)


def _finish(item: MediaInput, path: Path, ctx: SourceContext) -> ResolvedMedia:
    size = path.stat().st_size
    info = None
    if item.kind == "video" and ctx.probe:
        from videoedit.probe import probe_video
        from videoedit_emulator import probes

        info = probes.lookup(path)  # probed once per content, shared with the renderer
        if info is None:
            try:
                info = probe_video(path)
            except ValueError:
                raise ApiError.invalid(
                    item.field, "is not a video: ffmpeg finds no video stream in it"
                ) from None
            if info is not None:
                probes.remember(path, info)
    return ResolvedMedia(
        field=item.field, url=item.url, kind=item.kind, path=path, size=size, info=info
    )


def _decode_data_uri(item: MediaInput, ctx: SourceContext) -> Path:
    match = _DATA_URI.match(item.url)
    if not match:
        raise ApiError.invalid(item.field, "must read data:{mime};base64,{data}")
    mime = match["mime"].lower()
    if mime not in _MIME_SUFFIX:
        raise ApiError.invalid(
            item.field,
            f"has mime type {mime!r}; a data URI must be image/jpeg, image/png, image/bmp or image/webp",
        )
    if len(match["data"]) * 3 // 4 > ctx.max_bytes:
        raise ApiError.invalid(item.field, f"decodes to more than {ctx.max_bytes} bytes")
    try:
        payload = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError.invalid(item.field, "carries data that is not valid base64") from None
    if not payload:
        raise ApiError.invalid(item.field, "carries no data")
    path = ctx.store.input_path(hashlib.sha256(payload).hexdigest(), _MIME_SUFFIX[mime])
    if not path.exists():
        _write_atomically(path, [payload])
    return path


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as sink:
            for chunk in chunks:
                sink.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _NotLoopback(ValueError):
    """A URL that, read the way the HTTP client reads it, does not point at this machine."""


@dataclass(frozen=True)
class _Target:
    """Where a loopback fetch connects: a literal loopback address, never a name."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


def loopback_target(url: str) -> _Target:
    """The literal loopback address to GET ``url`` from; :class:`_NotLoopback` otherwise.

    The URL is parsed by httpx, the very parser that will connect, so that no difference
    between two URL parsers (``http://127.0.0.1\\@example.com/``) can send a fetch
    elsewhere. A literal address must be a loopback one; ``localhost`` and ``*.localhost``
    go to 127.0.0.1 without any name lookup.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise _NotLoopback("it is not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise _NotLoopback(f"its scheme {parsed.scheme!r} is not http or https")
    host = parsed.host.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not address.is_loopback:
            raise _NotLoopback(f"{host} is not on this machine")
        return _Target(parsed, {}, {})
    if host == "localhost" or host.endswith(".localhost"):
        return _Target(
            parsed.copy_with(host="127.0.0.1"),
            {"Host": parsed.netloc.decode("ascii")},
            {"sni_hostname": host},
        )
    raise _NotLoopback(f"{host or 'its host'} is not on this machine")


def _fetch(item: MediaInput, ctx: SourceContext) -> Path:
    """GET a loopback URL into the store, capped at ``max_bytes`` and ``timeout``.

    ``trust_env=False``: a proxy set in the environment must not receive the request (it
    would be a connection to another address).
    """
    url = item.url
    suffix = PurePosixPath(urlsplit(url).path).suffix
    suffix = suffix if _SUFFIX.match(suffix) else ".bin"
    try:
        with httpx.Client(timeout=ctx.timeout, follow_redirects=False, trust_env=False) as http:
            for hop in range(_MAX_REDIRECTS + 1):
                try:
                    target = loopback_target(url)
                except _NotLoopback as exc:
                    reason = (
                        "it redirects off this machine, which the emulator does not follow"
                        if hop
                        else f"it is not a loopback URL as an HTTP client reads it: {exc}"
                    )
                    raise DownloadFailed(item.field, item.url, reason) from None
                with http.stream(
                    "GET", target.url, headers=target.headers, extensions=target.extensions
                ) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status_code != 200:
                        raise DownloadFailed(item.field, item.url, f"HTTP {response.status_code}")
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > ctx.max_bytes:
                        raise DownloadFailed(
                            item.field,
                            item.url,
                            f"it is {declared} bytes; the limit is {ctx.max_bytes}",
                        )
                    digest = hashlib.sha256()
                    fd, tmp = tempfile.mkstemp(dir=ctx.store.root / "inputs", prefix=".fetch-")
                    try:
                        total = 0
                        with os.fdopen(fd, "wb") as sink:
                            for chunk in response.iter_bytes(_CHUNK):
                                total += len(chunk)
                                if total > ctx.max_bytes:
                                    raise DownloadFailed(
                                        item.field,
                                        item.url,
                                        f"it exceeds the limit of {ctx.max_bytes} bytes",
                                    )
                                digest.update(chunk)
                                sink.write(chunk)
                        path = ctx.store.input_path(digest.hexdigest(), suffix)
                        os.replace(tmp, path)
                    finally:
                        Path(tmp).unlink(missing_ok=True)
                    return path
            raise DownloadFailed(item.field, item.url, "too many redirects")
    except httpx.HTTPError as exc:
        raise DownloadFailed(item.field, item.url, f"{type(exc).__name__}: {exc}") from None
