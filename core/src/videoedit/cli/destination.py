"""Where ``edit`` and ``wait`` write the result, checked before anything is sent.

Rules, the same for every command that saves:

- an existing file is replaced only with ``--force`` (an edit is billed: finding out after
  it ran that the file cannot be written, or overwriting last week's result, costs money);
- a path that is a folder is refused (name the file in it);
- folders that ``-o`` names but that do not exist yet are created, as ``Client.save`` does;
- ``edit --emulator`` without ``-o`` saves to ``<input name>-edited.mp4`` in the current
  folder: the embedded emulator, and the result's link with it, ends with the command.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from videoedit.errors import InvalidRequestError

__all__ = ["check_output", "emulator_output"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def emulator_output(video: str) -> Path:
    """``clip.mp4`` -> ``clip-edited.mp4`` (in the current folder; URLs by their last part)."""
    name = unquote(urlsplit(video).path) if "://" in video else video
    stem = Path(name.replace("\\", "/")).stem
    stem = _UNSAFE.sub("-", stem).strip(".-")[:64] or "video"
    return Path(f"{stem}-edited.mp4")


def check_output(path: Path | None, *, force: bool, default: bool = False) -> None:
    """Refuse ``path`` now, naming ``--output``, if the save at the end could not use it."""
    if path is None:
        return
    where = "the default output of --emulator" if default else "--output"
    if path.is_dir():
        raise InvalidRequestError(
            f"{where}: {str(path)!r} is a folder",
            field="--output",
            rule="must name a file",
            hint=f"name the file, e.g. -o {path / 'out.mp4'}; nothing was submitted",
        )
    if path.exists() and not force:
        raise InvalidRequestError(
            f"{where}: {str(path)!r} exists",
            field="--output",
            rule="an existing file is replaced only with --force",
            hint="pass --force to replace it, or choose another file with -o; nothing was "
            "submitted",
        )
