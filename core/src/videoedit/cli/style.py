"""Colour for a person at a terminal, and none anywhere else.

Colour is on when the stream is a terminal, ``TERM`` is not ``dumb`` and ``NO_COLOR`` is
unset or empty (https://no-color.org); ``FORCE_COLOR`` (non-empty) turns it on anyway, for
terminals that are not seen as such. A log file, a pipe or a CI log gets plain text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Style", "colour_enabled"]

_RESET = "\x1b[0m"
#: A task status -> its SGR colour: done green, failed red, stopped yellow, under way cyan.
_STATUS = {
    "SUCCEEDED": "32",
    "FAILED": "31",
    "CANCELED": "33",
    "UNKNOWN": "33",
    "RUNNING": "36",
    "PENDING": "2",
}
_ROLE = {"error": "1;31", "warning": "33", "strong": "1", "dim": "2"}


def colour_enabled(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` may carry colour codes."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True)
class Style:
    """Paints text when ``enabled``, and returns it untouched otherwise."""

    enabled: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        return cls(colour_enabled(stream))

    def _sgr(self, code: str | None, text: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if self.enabled and code else text

    def status(self, text: str, status: str) -> str:
        """``text`` in the colour of the task status ``status`` (``RUNNING``, …)."""
        return self._sgr(_STATUS.get(status), text)

    def role(self, text: str, role: str) -> str:
        """``text`` as an ``error``, ``warning``, ``strong`` or ``dim`` part of a line."""
        return self._sgr(_ROLE.get(role), text)
