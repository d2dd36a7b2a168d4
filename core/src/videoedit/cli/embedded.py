"""``--emulator``: run a command against an emulator started inside this process.

The emulator is a separate distribution (``videoedit-emulator``: Starlette, uvicorn and a
static ffmpeg), kept out of the core so that a production install stays light. It comes with
the ``videoedit[emulator]`` extra; without it the command says what to install.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from videoedit.errors import PluginLoadError

if TYPE_CHECKING:
    from videoedit_emulator.server import EmulatorServer

__all__ = ["INSTALL_HINT", "MissingExtraError", "embedded_emulator", "require_emulator"]

INSTALL_HINT = "install it with: pip install 'videoedit[emulator]'  (in a uv project: uv add videoedit-emulator)"


class MissingExtraError(PluginLoadError):
    """An optional part of videoedit that a command needs is not installed."""


def require_emulator(what: str) -> None:
    """Raise :class:`MissingExtraError` naming ``what`` needs it, unless the emulator imports."""
    try:
        import videoedit_emulator.server  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"{what} needs the offline emulator (the videoedit-emulator package), which is "
            f"not installed ({exc})",
            code="MissingExtra",
            hint=INSTALL_HINT,
        ) from None


@contextlib.contextmanager
def embedded_emulator(progression: str) -> Iterator[EmulatorServer]:
    """An emulator on 127.0.0.1 (a port the OS picks) for the duration of the block."""
    require_emulator("--emulator")
    from videoedit_emulator.config import Progression
    from videoedit_emulator.server import EmulatorServer

    with EmulatorServer(progression=Progression.parse(progression)) as server:
        yield server
