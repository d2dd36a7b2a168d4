"""``videoedit --debug`` against a service that echoes the key back in response headers:
videoedit's own records are shown, the key is not (issue 11, item 7).

httpcore's DEBUG trace prints every response header; ``--debug`` used to switch it on for
the whole process, so a header echoing the ``Authorization`` value put the key on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from test_canary import REMOTE, leaks

from videoedit_emulator.engine.config import Progression
from videoedit_emulator.server import EmulatorServer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class EchoesTheKey:
    """ASGI middleware: every answer carries the request's key in two headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        auth = dict(scope.get("headers", [])).get(b"authorization", b"")

        async def echo(message: Message) -> None:
            if message["type"] == "http.response.start" and auth:
                headers = [*message.get("headers", [])]
                headers += [(b"x-echo-key", auth.removeprefix(b"Bearer ")), (b"x-echo-auth", auth)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, echo)


def run_debug(args: list[str], canary: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["DASHSCOPE_API_KEY"] = canary
    return subprocess.run(
        [sys.executable, "-m", "videoedit", *args, "--debug"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_debug_shows_videoedits_records_and_never_the_echoed_key(
    canary: str, tmp_path: Path
) -> None:
    server = EmulatorServer(progression=Progression.parse("polls=2"))
    server.app = EchoesTheKey(server.app)
    with server:
        base = ["-p", "dashscope-beijing", "--base-url", server.base_url("dashscope-beijing")]
        edit = run_debug(
            ["edit", REMOTE, *base, "--resolution", "720P", "--duration", "2", "-o", "out.mp4"],
            canary,
            tmp_path,
        )
        journal = server.journal.entries()

    assert edit.returncode == 0, edit.stderr
    assert (tmp_path / "out.mp4").stat().st_size > 1000
    assert any(entry.route == "create" for entry in journal)  # it did reach the emulator
    err = edit.stderr
    assert not leaks(edit.stdout + err, canary)
    assert "videoedit.client: submitted task" in err
    assert "is now SUCCEEDED" in err
    assert "videoedit.client: saved task" in err
    assert "httpx: HTTP Request: POST" in err
    assert "httpcore" not in err  # not the socket-level trace
