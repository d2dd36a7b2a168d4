"""The hook specifications (`VideoEditHookSpecs`): everything a plugin can do.

A plugin is any module or object with functions marked ``@videoedit.hookimpl`` named after
the hooks below, published under the ``videoedit`` entry-point group::

    [project.entry-points.videoedit]
    acme = "acme_videoedit.plugin"

Built-in providers are published the same way; nothing is registered behind the user's back.

The class was first named ``VideoEditProvider``, although it specifies hooks and is no
provider; that name still works, with a `DeprecationWarning`.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

# Re-exported: a plugin author finds every type a hook hands over here.
from videoedit.encoding import EncodeContext
from videoedit.provider import Register

if TYPE_CHECKING:
    from videoedit.events import TaskEvent
    from videoedit.requests import EditRequest

__all__ = [
    "PROJECT",
    "CommandLine",
    "EncodeContext",
    "Register",
    "VideoEditHookSpecs",
    "hookimpl",
    "hookspec",
]

PROJECT = "videoedit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: A command's body: ``run(args, ctx)`` returns the exit code (0) or raises; ``ctx`` is the
#: command line's `videoedit.cli.commands.Context` (its console, how to resume).
CommandRun = Callable[[argparse.Namespace, Any], int]


class CommandLine(Protocol):
    """What [`VideoEditHookSpecs.register_commands`][videoedit.hookspecs.VideoEditHookSpecs.register_commands] is handed: the ``videoedit`` command
    line while it is being built (implemented by `videoedit.cli.extension.Commands`)."""

    def command(self, name: str) -> argparse.ArgumentParser:
        """The parser of a command already there (``edit``, ``status``, …), to add flags to."""
        ...

    def add_command(self, name: str, run: CommandRun, **kwargs: Any) -> argparse.ArgumentParser:
        """Add the command ``name`` and return its parser, to add arguments to.

        ``kwargs`` go to argparse's ``add_parser`` (``help``, ``description``…); the parser
        already has the output flags every command has (``--json``, ``-q``, ``--debug``).
        """
        ...


class VideoEditHookSpecs:
    """The hook specifications. Implement any subset; each is documented with its parameters."""

    @hookspec
    def register_providers(self, register: Register) -> None:
        """Register provider factories under their ids.

        :param register: call ``register(ProviderClass, aliases=("other-name",))`` once per
            provider. ``ProviderClass.id`` is the id; aliases are extra names for lookup.
            Registering an id or alias that another plugin already took is reported as a
            plugin error (a warning, or fatal in strict mode); the first registration wins.
        """

    @hookspec(firstresult=True)
    def encode_request(self, request: EditRequest, context: EncodeContext) -> dict[str, Any] | None:
        """Encode a request into the body of ``context.dialect``, or return ``None`` to pass.

        This is how request types travel over routes that do not import them: the vace plugin
        encodes its five function modes for the ``dashscope`` dialect, and every provider that
        speaks that dialect (both DashScope regions, the Vtrix envelope) gains them.

        :param request: the validated request, with local files already replaced by URLs.
        :param context: the provider, dialect, region and options of the destination.
        :returns: the body as a JSON-ready dict; the first non-``None`` answer wins.
        """

    @hookspec
    def register_commands(self, cli: CommandLine) -> None:
        """Add commands to the ``videoedit`` command line, or flags to its commands.

        Called once, when the command line is built, after the core's own commands (so what a
        plugin adds comes last, in the listing and in the help). This is how the emulator
        adds ``videoedit demo`` and ``videoedit edit --emulator`` without the core importing it.

        :param cli: ``cli.add_command(name, run, help=…)`` adds a command whose
            ``run(args, ctx)`` returns its exit code; ``cli.command("edit")`` is the parser
            of an existing command. A flag of ``edit`` that stores a
            [`videoedit.cli.extension.Embedded`][videoedit.cli.extension.Embedded] in ``args.embedded`` makes the edit run
            against the service it starts inside the command.
        """

    @hookspec
    def on_task_event(self, event: TaskEvent) -> None:
        """Observe a task event (upload, submission, poll, status change, retry, finish, save).

        Observers run in the caller's thread (or event loop) and should be quick; an exception
        raised by an observer is logged and swallowed, never allowed to lose a task.

        :param event: what happened, with the task as last seen.
        """


def __getattr__(name: str) -> type[VideoEditHookSpecs]:
    """``VideoEditProvider``, the class's first name, kept for code that named it."""
    if name == "VideoEditProvider":
        warnings.warn(
            "videoedit.hookspecs.VideoEditProvider is now VideoEditHookSpecs (it specifies "
            "hooks; it is no provider)",
            DeprecationWarning,
            stacklevel=2,
        )
        return VideoEditHookSpecs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
