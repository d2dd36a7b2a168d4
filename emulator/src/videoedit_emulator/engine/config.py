"""Emulator configuration: one frozen object, passed in, never read from globals.

Everything a test may want to pin (the seed behind task ids, how fast tasks progress, how
long ids and links live, which keys are accepted where, the clock) is a field here, so two
emulators in one process never share state.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from videoedit_emulator.engine.clock import Clock, SystemClock

__all__ = ["DAY", "MIB", "EmulatorConfig", "Progression"]

DAY = 24 * 3600.0
MIB = 1024 * 1024

_SPEC = re.compile(r"^\s*(?P<mode>immediate|polls|seconds)\s*(?:[=:]\s*(?P<value>[0-9.]+))?\s*$")


@dataclass(frozen=True)
class Progression:
    """How a task moves from PENDING to its end (moto-style).

    - ``immediate``: the task leaves PENDING at once and ends as soon as its MP4 exists.
    - ``polls=N``: the N-th status query of the task sees it end; the queries before see
      PENDING for the first half and RUNNING for the rest (``polls=3``: PENDING, RUNNING,
      SUCCEEDED). Before its first query a task is PENDING, so it can still be canceled.
    - ``seconds=S``: PENDING for the first S/2 seconds after submission, RUNNING until S,
      then ended (times read from the emulator's clock).

    In every mode a task reports SUCCEEDED only once its MP4 has been written; until then a
    task that is due stays RUNNING.
    """

    mode: Literal["immediate", "polls", "seconds"] = "immediate"
    polls: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("immediate", "polls", "seconds"):
            raise ValueError(f"progression mode {self.mode!r}: must be immediate, polls or seconds")
        if self.mode == "polls" and (isinstance(self.polls, bool) or self.polls < 1):
            raise ValueError("progression polls=N: N must be an integer >= 1")
        if self.mode == "seconds" and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError("progression seconds=S: S must be a number > 0")

    @classmethod
    def immediate(cls) -> Progression:
        return cls("immediate")

    @classmethod
    def after_polls(cls, polls: int) -> Progression:
        return cls("polls", polls=polls)

    @classmethod
    def after_seconds(cls, seconds: float) -> Progression:
        return cls("seconds", seconds=float(seconds))

    @classmethod
    def parse(cls, spec: str) -> Progression:
        """``immediate``, ``polls=N`` or ``seconds=S`` (``:`` works in place of ``=``)."""
        match = _SPEC.match(spec) if isinstance(spec, str) else None
        if not match:
            raise ValueError(
                f"progression {spec!r}: must be 'immediate', 'polls=N' (N >= 1) or 'seconds=S' (S > 0)"
            )
        mode, value = match["mode"], match["value"]
        if mode == "immediate":
            if value is not None:
                raise ValueError("progression 'immediate' takes no value")
            return cls.immediate()
        if value is None:
            raise ValueError(f"progression {mode!r} needs a value: {mode}=...")
        if mode == "polls":
            if not value.isdigit():
                raise ValueError("progression polls=N: N must be an integer >= 1")
            return cls.after_polls(int(value))
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError("progression seconds=S: S must be a number > 0") from None
        return cls.after_seconds(seconds)

    def __str__(self) -> str:
        if self.mode == "polls":
            return f"polls={self.polls}"
        if self.mode == "seconds":
            return f"seconds={self.seconds:g}"
        return "immediate"


def _frozen_keys(keys: Mapping[str, str]) -> Mapping[str, str]:
    for key, realm in keys.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError("keys: every key must be a non-empty string")
        if not isinstance(realm, str) or not realm.strip():
            raise ValueError(f"keys: the realm of a key must be a non-empty string, got {realm!r}")
    return MappingProxyType({k.strip(): v for k, v in keys.items()})


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one emulator instance (see ``docs/emulator.md``).

    ``keys`` maps an API key to the realm it is bound to: each adapter declares its realms
    (``dashscope-beijing``, ``dashscope-singapore``, ``vtrix``, ``apimart``, a plugin's
    own), and the web app refuses a key bound to a realm no adapter serves. With no keys,
    any non-empty key is accepted everywhere. A realm accepts the keys bound to it; a key
    bound to another realm is refused (401, like a Beijing key in Singapore: the DashScope
    regions are separate realms, as in the real service); an unbound key is accepted only
    by a realm that has no keys bound.
    """

    seed: int = 0
    progression: Progression = field(default_factory=Progression.immediate)
    task_ttl: float = DAY
    result_ttl: float = DAY
    upload_ttl: float = 2 * DAY
    keys: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 100 * MIB
    max_fetch_bytes: int = 100 * MIB
    fetch_timeout: float = 10.0
    render_workers: int | None = None
    render_cache_bytes: int = 512 * MIB
    #: Where rendered stand-ins are kept between runs: ``None`` for the default (see
    #: `render_cache_location`), a directory, or ``"off"``.
    render_cache_dir: Path | str | None = None
    storage_dir: Path | None = None
    #: Keep tasks, uploads, results, fault rules and the journal here across restarts
    #: (``None``: nothing outlives the emulator). See ``docs/emulator.md``.
    state_dir: Path | None = None
    clock: Clock = field(default_factory=SystemClock)
    public_url: str | None = None
    #: Task queries an account (a key) may make a second, as DashScope's 20; ``None`` (the
    #: default) lifts the quota, because the core's loopback poll schedule makes up to 100
    #: queries a second per client and suites that wait for many tasks would trip it (see
    #: ``QueryQuota`` in ``engine/quotas.py`` and docs/emulator.md). Benches and tests turn it on.
    task_queries_per_second: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", _frozen_keys(self.keys))
        for name in ("task_ttl", "result_ttl", "upload_ttl", "fetch_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name}: must be a number of seconds > 0")
        for name in ("max_body_bytes", "max_fetch_bytes"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value > 0):
                raise ValueError(f"{name}: must be an integer number of bytes > 0")
        if not isinstance(self.render_cache_bytes, int) or self.render_cache_bytes < 0:
            raise ValueError("render_cache_bytes: must be an integer >= 0 (0 turns the cache off)")
        if isinstance(self.render_cache_dir, str):
            if not self.render_cache_dir.strip():
                raise ValueError("render_cache_dir: must be a directory, 'off' or None")
            if self.render_cache_dir.strip().lower() != "off":
                object.__setattr__(self, "render_cache_dir", Path(self.render_cache_dir))
        elif self.render_cache_dir is not None and not isinstance(self.render_cache_dir, Path):
            raise ValueError("render_cache_dir: must be a directory, 'off' or None")
        if self.state_dir is not None:
            if not isinstance(self.state_dir, (str, Path)) or not str(self.state_dir).strip():
                raise ValueError("state_dir: must be a directory or None")
            object.__setattr__(self, "state_dir", Path(self.state_dir).expanduser())
        if self.render_workers is not None and self.render_workers < 1:
            raise ValueError("render_workers: must be >= 1 (or None for one per core)")
        queries = self.task_queries_per_second
        if queries is not None and (
            isinstance(queries, bool) or not isinstance(queries, int) or queries < 1
        ):
            raise ValueError(
                "task_queries_per_second: must be an integer >= 1 (or None for no quota)"
            )
        if self.public_url is not None:
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    @property
    def workers(self) -> int:
        """Render workers: as configured, else one per core."""
        return self.render_workers or os.cpu_count() or 1

    def render_cache_location(self) -> Path | None:
        """The render cache's directory, or ``None`` when it is off.

        Off when ``render_cache_bytes`` is 0 or ``render_cache_dir`` is ``"off"``; a directory
        given here wins; otherwise the default of
        ``videoedit_emulator.render.cache.default_cache_dir``: the
        ``VIDEOEDIT_EMULATOR_CACHE_DIR`` variable (a directory, or ``off``), else the user's
        cache directory. The one setting read from the environment, and only here, when an
        engine starts: it is how a CI job or a developer moves the cache of every emulator a
        test suite starts without editing the suite.
        """
        if not self.render_cache_bytes or self.render_cache_dir == "off":
            return None
        if isinstance(self.render_cache_dir, Path):
            return self.render_cache_dir.expanduser()
        from videoedit_emulator.render.cache import default_cache_dir

        return default_cache_dir()

    def accepts_key(self, key: str, realm: str) -> bool:
        """Whether ``key`` may call ``realm`` (the rule in the class docstring)."""
        key = key.strip()
        if not key:
            return False
        if not self.keys:
            return True
        bound = self.keys.get(key)
        if bound is not None:
            return bound == realm
        return realm not in self.keys.values()
