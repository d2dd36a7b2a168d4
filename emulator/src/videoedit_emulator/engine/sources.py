"""Turn a request's media URLs into local files, without ever touching the internet.

What each kind of URL becomes:

- ``oss://<key>``: a file uploaded to this emulator (for the same model, not expired);
- a link to one of this emulator's own results: the file itself, if the signature holds;
- ``data:<mime>;base64,<data>``: the decoded bytes;
- ``http(s)://`` on this machine (``localhost``, ``127.0.0.0/8``, ``::1``): fetched, with a
  size cap and one deadline for the whole fetch (``fetch_timeout``: a server that drips a
  byte a second is cut off at it), following redirects only while they stay on this machine. No name
  is ever looked up: ``localhost`` and ``*.localhost`` are sent to 127.0.0.1 (with their own
  ``Host`` header and TLS server name), so neither DNS nor a proxy setting in the environment
  can turn a fetch towards another address;
- any other URL: **not fetched**. The render uses a synthesized test pattern in its place
  and the task's output carries a note saying so.

A URL that should be fetchable but is not (an unknown ``oss://`` key, a 404 on loopback)
raises `DownloadFailed`; the engine then fails the task the way the service does
(``Reason.DOWNLOAD_FAILED``, ``Failed to download ...``; DashScope says ``InvalidParameter``). Content that is not media at all raises
an `ApiError` (a 400 at creation).

Whatever the URL, the file is kept under its content hash, without an extension, and probed
(mp4 and mov only, `videoedit_emulator.render.probes`): no name it came with means anything to
ffmpeg, and no playlist in it is followed. No path of the store appears in any message.

Everything here blocks (disk, loopback HTTP, ffmpeg): the engine calls it from a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urljoin, urlsplit

import httpx

from videoedit_emulator.engine.errors import ApiError
from videoedit_emulator.engine.models.base import MediaInput, ResolvedMedia, check_container
from videoedit_emulator.engine.store import RESULT_BUCKET, Store

__all__ = [
    "OSS_HEADER",
    "DownloadFailed",
    "SourceContext",
    "check_oss_allowed",
    "is_loopback_host",
    "loopback_target",
    "needs_fetch",
    "resolve",
]

OSS_HEADER = "X-DashScope-OssResourceResolve"
_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL | re.IGNORECASE
)
_DATA_MIMES = ("image/jpeg", "image/png", "image/bmp", "image/webp")
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
    #: Seconds a whole fetch may take; ``deadline`` (a ``time.monotonic()`` instant), when
    #: given, is when it must be over (the engine counts from the request's arrival).
    timeout: float = 10.0
    deadline: float | None = None
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


def _split(item: MediaInput) -> SplitResult:
    """The URL's parts; a 400 for a URL no client could send (``http://[::1``, a port
    beyond 65535 or not a number)."""
    try:
        parts = urlsplit(item.url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ApiError.invalid(item.field, f"is not a valid URL ({exc})") from None
    return parts


def _is_own_result(parts: SplitResult, ctx: SourceContext) -> bool:
    return parts.netloc.lower() in ctx.own_netlocs and parts.path.startswith(
        f"/oss/{RESULT_BUCKET}/"
    )


def needs_fetch(item: MediaInput, ctx: SourceContext) -> bool:
    """Whether resolving ``item`` downloads it from a server on this machine (the slow kind
    of input, which the engine gives a download slot). A 400 for a malformed URL."""
    if item.url.split(":", 1)[0].lower() in ("oss", "data"):
        return False
    parts = _split(item)
    return not _is_own_result(parts, ctx) and is_loopback_host(parts.hostname)


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
    parts = _split(item)
    if _is_own_result(parts, ctx):
        key = unquote(parts.path[len(f"/oss/{RESULT_BUCKET}/") :])
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        try:
            path = ctx.store.open_result(
                key, query.get("Expires"), query.get("OSSAccessKeyId"), query.get("Signature")
            )
        except ApiError as exc:
            raise DownloadFailed(item.field, url, exc.detail or str(exc.reason)) from None
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
        from videoedit_emulator.render import ffmpeg_path, probes

        info = probes.lookup(path)  # probed once per content, shared with the renderer
        if info is None:
            try:
                info = probes.run_probe(path, ffmpeg_path())
            except probes.ContainerRefused as exc:
                check_container(item.field, exc.name)  # refuses: mp4 and mov are never refused
                raise ApiError.invalid(item.field, str(exc)) from None
            except ValueError:
                raise ApiError.invalid(
                    item.field, "is not a video: ffmpeg finds no video stream in it"
                ) from None
            probes.remember(path, info)
    return ResolvedMedia(
        field=item.field, url=item.url, kind=item.kind, path=path, size=size, info=info
    )


def _decode_data_uri(item: MediaInput, ctx: SourceContext) -> Path:
    match = _DATA_URI.match(item.url)
    if not match:
        raise ApiError.invalid(item.field, "must read data:{mime};base64,{data}")
    mime = match["mime"].lower()
    if mime not in _DATA_MIMES:
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
    path = ctx.store.input_path(hashlib.sha256(payload).hexdigest())
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
    """The literal loopback address to GET ``url`` from; `_NotLoopback` otherwise.

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
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise _NotLoopback(f"its port {parsed.port} is not in 1-65535")
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


class _Watchdog:
    """Shuts a fetch's connections down when its deadline passes.

    A read timeout bounds each wait for bytes, not a whole download: a server that sends one
    byte a second (or one header line a second) never trips it. So each socket the fetch
    opens is noted as httpcore opens it (its ``trace`` extension) and shut down, from a timer
    thread, at the deadline; the blocked read then ends at once.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        sock = info["return_value"].get_extra_info("socket")
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """End both directions of a socket another thread may be reading (``close`` would not
    wake that read); the plain socket's method, so that a TLS socket is cut off too."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _fetch(item: MediaInput, ctx: SourceContext) -> Path:
    """GET a loopback URL into the store, capped at ``max_bytes``, all of it (redirects,
    headers, body) over by ``ctx.deadline`` (``timeout`` seconds from now when unset).

    ``trust_env=False``: a proxy set in the environment must not receive the request (it
    would be a connection to another address).
    """
    deadline = ctx.deadline if ctx.deadline is not None else time.monotonic() + ctx.timeout
    late = f"it did not arrive within {ctx.timeout:g} s (the emulator's fetch_timeout)"
    watchdog = _Watchdog(deadline)
    watchdog.start()
    try:
        return _download(item, ctx, watchdog, late)
    except DownloadFailed:
        raise
    except Exception as exc:
        if watchdog.fired:
            raise DownloadFailed(item.field, item.url, late) from None
        if isinstance(exc, (httpx.HTTPError, OverflowError)):
            raise DownloadFailed(item.field, item.url, f"{type(exc).__name__}: {exc}") from None
        raise
    finally:
        watchdog.stop()


def _download(item: MediaInput, ctx: SourceContext, watchdog: _Watchdog, late: str) -> Path:
    url = item.url
    with httpx.Client(follow_redirects=False, trust_env=False) as http:
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
            if watchdog.remaining() <= 0:
                raise DownloadFailed(item.field, item.url, late)
            with http.stream(
                "GET",
                target.url,
                headers=target.headers,
                extensions={**target.extensions, "trace": watchdog.trace},
                timeout=httpx.Timeout(watchdog.remaining()),
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
                return _keep(item, ctx, response, watchdog, late)
        raise DownloadFailed(item.field, item.url, "too many redirects")


def _keep(
    item: MediaInput, ctx: SourceContext, response: httpx.Response, watchdog: _Watchdog, late: str
) -> Path:
    """The body into the store, under its content hash once it is whole."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=ctx.store.root / "inputs", prefix=".fetch-")
    try:
        total = 0
        with os.fdopen(fd, "wb") as sink:
            for chunk in response.iter_bytes(_CHUNK):
                total += len(chunk)
                if total > ctx.max_bytes:
                    raise DownloadFailed(
                        item.field, item.url, f"it exceeds the limit of {ctx.max_bytes} bytes"
                    )
                digest.update(chunk)
                sink.write(chunk)
        if watchdog.fired:  # a body without a length just ends when its line is shut
            raise DownloadFailed(item.field, item.url, late)
        path = ctx.store.input_path(digest.hexdigest())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
