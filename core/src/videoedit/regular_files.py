"""Opening a file the user named, refusing what only looks like one.

A path may name a FIFO (opening it to read waits for a writer that may never come), a
device (``/dev/zero`` never ends) or a socket, under any name and behind any symlink. Price
tables and manifests are read through `read_regular`, which says so at once instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["NOT_REGULAR", "read_regular"]

NOT_REGULAR = "it is not a regular file (a pipe, a device or a socket)"


def read_regular(path: str | os.PathLike[str], most: int | None = None) -> bytes:
    """The bytes of ``path``, at most ``most + 1`` of them (the caller tells "too big");
    `OSError` (``strerror`` the reason) when it cannot be read or is not a regular file."""
    # O_NONBLOCK: opening a FIFO to read returns at once; a regular file ignores the flag.
    fd = os.open(Path(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(0, NOT_REGULAR)
        return file.read() if most is None else file.read(most + 1)
