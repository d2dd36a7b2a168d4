"""How plugins extend the ``videoedit`` command line: the ``register_commands`` hook.

`Commands` is what the hook is handed: a plugin adds commands, or flags to the core's
commands. ``edit`` also runs against a service that a plugin starts inside the command
([`Embedded`][videoedit.cli.extension.Embedded]): a flag of the plugin stores one in ``args.embedded``. That is how the
emulator contributes ``videoedit demo`` and ``videoedit edit --emulator`` while the core never
imports it. When nothing contributed them (the emulator is not installed, or its plugin is not
loaded), stand-ins take the same words and say what to install.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from videoedit.errors import PluginLoadError
from videoedit.hookspecs import CommandRun
from videoedit.plugins import ProviderInfo
from videoedit.provider import Uploader

__all__ = [
    "INSTALL_HINT",
    "Commands",
    "Embedded",
    "Endpoint",
    "MissingExtraError",
    "add_stand_ins",
    "command_run",
]

INSTALL_HINT = "install it with: pip install 'videoedit[emulator]'  (in a uv project: uv add videoedit-emulator)"

#: Where a command's body is kept on the parsed arguments (``set_defaults``).
_RUN = "run_command"


class MissingExtraError(PluginLoadError):
    """An optional part of videoedit that a command needs is not installed."""


@dataclass(frozen=True)
class Endpoint:
    """A service answering for one provider inside this command, and what to say of it."""

    #: The provider's base URL on the service.
    base_url: str
    #: The key to send when the user gave none.
    api_key: str
    #: One line for the console when it starts (where it listens, that results are stand-ins).
    note: str
    #: Why a task cannot outlive the command (said instead of "goes on running").
    ephemeral: str
    #: Serves local files for a provider without an upload API (an uploader handing out URLs
    #: the service can fetch), for as long as the context is open.
    files: Callable[[], AbstractContextManager[Uploader]] | None = None


class Embedded(Protocol):
    """A service a plugin runs inside ``videoedit edit`` (the emulator's ``--emulator``)."""

    def check(self, args: argparse.Namespace) -> None:
        """Refuse flags it cannot go with (``--no-wait``), before anything starts."""

    def serve(
        self, args: argparse.Namespace, info: ProviderInfo
    ) -> AbstractContextManager[Endpoint]:
        """Start the service for provider ``info`` for the duration of the block."""
        ...


class Commands:
    """The command line being built, as the ``register_commands`` hook sees it."""

    def __init__(self, subparsers: Any, output_flags: argparse.ArgumentParser) -> None:
        self._subparsers = subparsers
        self._output_flags = output_flags

    def names(self) -> list[str]:
        """The commands there are so far, in the order of the listing."""
        return list(self._subparsers.choices)

    def command(self, name: str) -> argparse.ArgumentParser:
        """The parser of a command already there (``edit``, ``status``, ``batch run``…), to
        add flags to; a step of a command is named after it, with a space."""
        head, _, step = name.partition(" ")
        try:
            parser: argparse.ArgumentParser = self._subparsers.choices[head]
            if step:
                steps = next(
                    a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
                )
                parser = steps.choices[step]
        except (KeyError, StopIteration):
            raise ValueError(
                f"no command {name!r} to extend (there are {', '.join(self.names())})"
            ) from None
        return parser

    def add_command(self, name: str, run: CommandRun, **kwargs: Any) -> argparse.ArgumentParser:
        """Add the command ``name``, whose ``run(args, ctx)`` returns its exit code or raises.

        ``kwargs`` go to argparse's ``add_parser`` (``help``, ``description``…); the parser
        has the output flags of every command (``--json``, ``-q``, ``--debug``).
        """
        if name in self._subparsers.choices:
            raise ValueError(f"there already is a command {name!r}")
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, parents=[self._output_flags], **kwargs
        )
        parser.set_defaults(**{_RUN: run})
        return parser


def command_run(args: argparse.Namespace) -> CommandRun | None:
    """The body of a command a plugin added (``None`` for the core's own commands)."""
    run: CommandRun | None = getattr(args, _RUN, None)
    return run


# -- stand-ins for the emulator's contributions --------------------------------------------------
_EMULATOR = "the offline emulator (the videoedit-emulator package)"


def missing_emulator(what: str) -> MissingExtraError:
    """``what`` needs the emulator: say whether it is missing or only its plugin is not loaded."""
    if importlib.util.find_spec("videoedit_emulator") is None:
        why = "which is not installed"
    else:
        why = (
            "which is installed but whose videoedit plugin 'emulator' is not loaded "
            "(VIDEOEDIT_PLUGINS allow-lists the plugins loaded; a broken plugin is reported "
            "above)"
        )
    return MissingExtraError(
        f"{what} needs {_EMULATOR}, {why}", code="MissingExtra", hint=INSTALL_HINT
    )


class _MissingEmulator:
    """``--emulator`` when the emulator did not add it: refuses, naming what to install."""

    def check(self, args: argparse.Namespace) -> None:
        raise missing_emulator("--emulator")

    def serve(
        self, args: argparse.Namespace, info: ProviderInfo
    ) -> AbstractContextManager[Endpoint]:
        raise missing_emulator("--emulator")


def _missing_demo(args: argparse.Namespace, ctx: Any) -> int:
    raise missing_emulator("videoedit demo")


def add_stand_ins(cli: Commands) -> None:
    """``demo`` and ``edit --emulator`` where no plugin added them: the documented words are
    accepted, and the command says what to install instead of "invalid choice"."""
    edit = cli.command("edit")
    if "--emulator" not in edit._option_string_actions:
        group = edit.add_argument_group("offline")
        group.add_argument(
            "--emulator",
            dest="embedded",
            action="store_const",
            const=_MissingEmulator(),
            help="run against an emulator started in this process (needs videoedit[emulator], "
            "which is not installed)",
        )
        group.add_argument("--emulator-progression", help=argparse.SUPPRESS)
    _mirror_offline_flags(edit, cli.command("batch run"))
    if "demo" not in cli.names():
        demo = cli.add_command(
            "demo",
            _missing_demo,
            help="an offline edit on the embedded emulator (needs videoedit[emulator], which "
            "is not installed)",
        )
        demo.add_argument("-o", "--output", help=argparse.SUPPRESS)
        demo.add_argument("-p", "--provider", help=argparse.SUPPRESS)


def _mirror_offline_flags(edit: argparse.ArgumentParser, run: argparse.ArgumentParser) -> None:
    """``batch run`` takes the service ``edit --emulator`` starts (a plugin's, or the
    stand-in), unless the plugin gave ``batch run`` a flag of its own: the same
    [`Embedded`][videoedit.cli.extension.Embedded] serves one edit or a whole batch."""
    if "--emulator" in run._option_string_actions:
        return
    group = run.add_argument_group("offline")
    for flag in ("--emulator", "--emulator-progression"):
        action = edit._option_string_actions.get(flag)
        if action is not None:
            group._add_action(action)
