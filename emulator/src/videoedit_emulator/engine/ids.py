"""Ids drawn from generators seeded with ``config.seed``.

The same sequence of calls yields the same task ids, request ids and upload directories in
every run, so a test can name what it will get. Each kind has a generator of its own, so
drawing one kind does not shift the others.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Container, Sequence
from typing import Any

__all__ = ["SeededIds"]


class SeededIds:
    """Task ids, request ids and upload tokens from ``seed`` (the engine's lock guards it)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tasks = random.Random(f"task:{seed}")
        self._requests = random.Random(f"request:{seed}")
        self._tokens = random.Random(f"upload:{seed}")

    def getstate(self) -> list[Any]:
        """Where the three sequences stand (``state.py`` keeps it across a restart)."""
        return [self._tasks.getstate(), self._requests.getstate(), self._tokens.getstate()]

    def setstate(self, state: Sequence[Any]) -> None:
        """Go on from a `getstate` of an earlier run."""
        for generator, saved in zip(
            (self._tasks, self._requests, self._tokens), state, strict=True
        ):
            generator.setstate(saved)

    def request_id(self) -> str:
        return str(uuid.UUID(int=self._requests.getrandbits(128), version=4))

    def task_id(self, taken: Container[str]) -> str:
        """The next task id that is not in ``taken``."""
        while True:
            candidate = str(uuid.UUID(int=self._tasks.getrandbits(128), version=4))
            if candidate not in taken:
                return candidate

    def upload_token(self) -> str:
        return uuid.UUID(int=self._tokens.getrandbits(128), version=4).hex
