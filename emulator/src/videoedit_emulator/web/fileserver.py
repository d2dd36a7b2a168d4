"""Local files served on loopback, so that the emulator can fetch them like any input URL.

The emulator fetches ``http(s)`` URLs on this machine (see `videoedit_emulator.engine.sources`)
and nothing else. Providers without an upload API (Vtrix, the APIMart gateways, most
third-party ones) take URLs only; [`LoopbackFiles`][videoedit_emulator.web.fileserver.LoopbackFiles] gives a local file such a URL, and
[`LoopbackFiles.uploader`][videoedit_emulator.web.fileserver.LoopbackFiles.uploader] is a [`videoedit.Uploader`][videoedit.Uploader] that does it for every local
file of a request. Only the files explicitly added are served, read-only, on 127.0.0.1.

```pycon
>>> with LoopbackFiles() as files:
...     url = files.add("clip.mp4")              # http://127.0.0.1:PORT/<token>/clip.mp4
...     client = videoedit.Client("vtrix", base_url=..., uploader=files.uploader())
```
"""

from __future__ import annotations

import mimetypes
import secrets
import shutil
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from videoedit.provider import UploadFlow

__all__ = ["LoopbackFiles", "LoopbackUploader"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        path = self.server.files.get(unquote(urlsplit(self.path).path))
        if path is None or not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        if body:
            with open(path, "rb") as handle:
                shutil.copyfileobj(handle, self.wfile)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and CLIs own stderr
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, Path] = {}


class LoopbackFiles:
    """A read-only file server on 127.0.0.1 (a port the OS picks), in a daemon thread."""

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> LoopbackFiles:
        if self._server is None:
            self._server = _Server()
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="videoedit-loopback-files",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> LoopbackFiles:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LoopbackFiles: not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, path: str | Path) -> str:
        """Serve ``path`` (until `stop`) and return its URL; each call gets a fresh one."""
        file = Path(path).expanduser().resolve()
        if not file.is_file():
            raise FileNotFoundError(f"{file} is not a file")
        self.start()
        assert self._server is not None
        route = f"/{secrets.token_hex(8)}/{file.name}"
        with self._lock:
            self._server.files[route] = file
        return self.url + quote(route)

    def uploader(self) -> LoopbackUploader:
        """An uploader that serves each local file of a request from here."""
        return LoopbackUploader(self)


class LoopbackUploader:
    """A [`videoedit.Uploader`][videoedit.Uploader] whose "upload" is serving the file on loopback.

    It sends nothing (the generator returns at once), so it works with any provider whose
    requests reach an emulator on this machine, and with no real service.
    """

    def __init__(self, files: LoopbackFiles) -> None:
        self.files = files

    def upload(self, path: Path, *, model: str) -> UploadFlow:
        url = self.files.add(path)
        yield from ()  # a flow that makes no call
        return url
