"""The ``videoedit`` command line: ``providers``, ``edit``, ``status``, ``wait``, ``cancel``,
``list`` and ``demo`` (see ``docs/cli.md``).

It uses only the standard library's argparse on top of the core, so it ships with
``videoedit`` itself; ``--emulator`` and ``demo`` need the ``videoedit[emulator]`` extra.
"""

from __future__ import annotations

from videoedit.cli.exits import ExitCode, exit_code_for
from videoedit.cli.main import main

__all__ = ["ExitCode", "exit_code_for", "main"]
