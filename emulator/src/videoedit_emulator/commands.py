"""What the emulator adds to the ``videoedit`` command line: ``edit --emulator`` and ``demo``.

Loaded through the emulator's ``videoedit`` entry point (``emulator``), like any plugin, and
answering the ``register_commands`` hook: the core's command line never imports the emulator,
and without it those words say what to install. Importing this module is cheap; the server
(Starlette, uvicorn, ffmpeg) is imported only when a command starts it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from videoedit.cli.extension import Endpoint
from videoedit.cli.parser import DEFAULT_PROVIDER
from videoedit.errors import InvalidRequestError, ProviderNotFoundError, TaskFailedError
from videoedit.hookspecs import CommandLine, hookimpl

if TYPE_CHECKING:
    from videoedit.cli.commands import Context
    from videoedit.plugins import ProviderInfo
    from videoedit.provider import Uploader

__all__ = ["DEFAULT_PROGRESSION", "EmbeddedEmulator", "register_commands", "run_demo_command"]

#: The embedded emulator's progression unless told otherwise: long enough to see progress.
DEFAULT_PROGRESSION = "seconds=2"


class EmbeddedEmulator:
    """``videoedit edit --emulator``: the edit runs against an emulator inside the command."""

    def check(self, args: argparse.Namespace) -> None:
        if args.no_wait:
            raise InvalidRequestError(
                "--no-wait cannot be combined with --emulator: the embedded emulator, and "
                "the task with it, ends with the command",
                field="--no-wait",
                rule="not with --emulator",
                hint="run `videoedit-emulator serve` and pass --base-url to submit without waiting",
            )

    @contextlib.contextmanager
    def serve(self, args: argparse.Namespace, info: ProviderInfo) -> Iterator[Endpoint]:
        """An emulator on 127.0.0.1 (a port the OS picks) for the duration of the block."""
        from videoedit_emulator.engine.config import Progression
        from videoedit_emulator.server import EmulatorServer

        try:
            progression = Progression.parse(args.emulator_progression)
        except ValueError as exc:  # a malformed progression spec
            raise InvalidRequestError(
                f"--emulator-progression: {exc}",
                field="--emulator-progression",
                rule="immediate, polls=N or seconds=S",
            ) from None
        with EmulatorServer(progression=progression) as server:
            try:
                base_url = server.base_url(info.id)
            except ValueError as exc:
                raise ProviderNotFoundError(
                    f"the embedded emulator does not serve provider {info.id!r}: {exc}",
                    code="NotEmulated",
                    hint="pick a provider the emulator serves (see docs/emulator.md), or "
                    "install the plugin's emulator adapter",
                ) from None
            yield Endpoint(
                base_url=base_url,
                api_key="sk-emulator",
                note=f"emulator   {server.url} (offline: the result is a stand-in)",
                ephemeral="ends with the emulator embedded in this command (to keep tasks "
                "across commands, run `videoedit-emulator serve` and pass --base-url instead)",
                files=loopback_uploader,
            )


@contextlib.contextmanager
def loopback_uploader() -> Iterator[Uploader]:
    """Local files served on loopback, for providers without an upload API (a gateway)."""
    from videoedit_emulator.web.fileserver import LoopbackFiles

    with LoopbackFiles() as files:
        yield files.uploader()


def run_demo_command(args: argparse.Namespace, ctx: Context) -> int:
    """``videoedit demo``: the emulator's offline demo, its result as JSON with ``--json``."""
    from videoedit_emulator.demo import DEFAULT_OUT, run_demo

    out = (args.output or DEFAULT_OUT).expanduser().resolve()
    stream = ctx.console.err if args.json else ctx.console.out
    code = run_demo(out=out, provider=args.provider, stream=stream)
    if code != 0:
        raise TaskFailedError("the demo edit did not complete (see above)", code="DemoFailed")
    if args.json:
        ctx.console.result({"saved": str(out), "provider": args.provider})
    return 0


@hookimpl
def register_commands(cli: CommandLine) -> None:
    offline = cli.command("edit").add_argument_group("offline")
    offline.add_argument(
        "--emulator",
        dest="embedded",
        action="store_const",
        const=EmbeddedEmulator(),
        help="run against an emulator started in this process: no key, no network, a "
        "stand-in result (needs videoedit[emulator])",
    )
    offline.add_argument(
        "--emulator-progression",
        default=DEFAULT_PROGRESSION,
        metavar="SPEC",
        help=f"how the emulated task progresses: immediate, polls=N or seconds=S "
        f"(default: {DEFAULT_PROGRESSION})",
    )
    demo = cli.add_command(
        "demo",
        run_demo_command,
        help="an offline edit of a sample clip on the embedded emulator (no key, no network)",
        description="Start the emulator in this process, make a sample clip, and edit it "
        "through the real client path (needs videoedit[emulator]).",
    )
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the MP4 (default: videoedit-demo/edited.mp4)",
    )
    demo.add_argument(
        "-p",
        "--provider",
        default=DEFAULT_PROVIDER,
        metavar="ID",
        help=f"provider route to use (default: {DEFAULT_PROVIDER})",
    )
