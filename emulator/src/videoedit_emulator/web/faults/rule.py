"""One fault rule: what goes wrong, where, how often; checked, written and read back.

The kinds and options are described in [`videoedit_emulator.web.faults`][videoedit_emulator.web.faults].
A rule checks its own shape when made (a field that cannot be, named with the rule it
breaks); whether its provider and route exist is for the adapters served to say
(`FaultTargets`, checked when the rule joins a `FaultPlan`).
"""

from __future__ import annotations

import enum
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "VALUE_OF",
    "FaultError",
    "FaultKind",
    "FaultRule",
    "FaultTargets",
    "RouteInfo",
    "kind_of",
]

_CODE = re.compile(r"^[A-Za-z][\w.]{0,63}$")
#: A message travels in a header (``task_failure``): printable ASCII, no line breaks.
_MESSAGE = re.compile(r"^[\x20-\x7e]{0,500}$")
#: What a provider or route name may look like (the adapters say which exist).
_NAME = re.compile(r"^(\*|[A-Za-z0-9][\w.-]{0,63})$")


class FaultKind(str, enum.Enum):
    STATUS = "status"
    RATE_LIMIT = "rate_limit"
    LATENCY = "latency"
    RESET = "reset"
    MALFORMED = "malformed"
    TASK_FAILURE = "task_failure"

    def __str__(self) -> str:
        return self.value


#: Kinds that decide the answer (the others only add to it).
_TERMINAL = frozenset(
    {FaultKind.STATUS, FaultKind.RATE_LIMIT, FaultKind.RESET, FaultKind.MALFORMED}
)


class FaultError(ValueError):
    """A rule that cannot be: ``field`` names the part, the message the rule it breaks."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class RouteInfo:
    """Which provider and route a request is for, as its adapter classified it.

    ``provider`` is ``None`` for a path no adapter serves (the index, a stray path);
    ``group`` is the adapter's name, which a rule may give to mean all its providers
    (``dashscope`` for both regions); ``speaks_json`` whether the adapter answers JSON (a
    ``malformed`` rule can only garble JSON).
    """

    provider: str | None
    route: str
    group: str | None = None
    speaks_json: bool = True


@dataclass(frozen=True)
class FaultTargets:
    """The providers and routes rules may name: those of the adapters served.

    ``routes`` maps each provider id to its route names (its adapter's operations, then
    ``other``); ``groups`` each adapter name that is not itself a provider id to its
    providers. `check` refuses a rule naming anything else, saying what there is.
    """

    routes: Mapping[str, tuple[str, ...]]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def check(self, rule: FaultRule) -> None:
        """Raise `FaultError` if ``rule`` names a provider or a route no adapter has."""
        providers = ", ".join(self.routes)
        if (
            rule.provider != "*"
            and rule.provider not in self.routes
            and rule.provider not in self.groups
        ):
            words = ", ".join(["*", *self.groups])
            raise FaultError(
                "provider", f"must be {words} or one of {providers}, got {rule.provider!r}"
            )
        every = sorted({r for routes in self.routes.values() for r in routes})
        if rule.route != "*" and rule.route not in every:
            raise FaultError("route", f"must be * or one of {', '.join(every)}, got {rule.route!r}")
        own = self.routes.get(rule.provider)
        if own is not None and rule.route != "*" and rule.route not in own:
            raise FaultError(
                "route", f"{rule.route!r} is not a route of {rule.provider} ({', '.join(own)})"
            )


def kind_of(value: Any) -> FaultKind:
    try:
        return FaultKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in FaultKind)
        raise FaultError("kind", f"must be one of {kinds}, got {value!r}") from None


def _number(name: str, value: Any, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError(name, f"must be a number in [{low:g}, {high:g}]")
    if not (math.isfinite(value) and low <= value <= high):
        raise FaultError(name, f"must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _integer(name: str, value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(name, f"must be an integer in [{low}, {high}]")
    return value


@dataclass
class FaultRule:
    """One fault (see the module docstring). Counters ``matched`` and ``applied`` say what
    it has seen and done; ``id`` is given by the `FaultPlan` that holds it."""

    kind: FaultKind
    provider: str = "*"
    route: str = "*"
    when: str = "before"
    status: int | None = None
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    times: int | None = None
    skip: int = 0
    probability: float = 1.0
    seed: int = 0
    id: str = ""
    matched: int = 0
    applied: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kind = kind_of(self.kind)
        for name in ("provider", "route"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME.match(value):
                raise FaultError(
                    name, f"must be * or a name such as dashscope or create, got {value!r}"
                )
        if self.when not in ("before", "after"):
            raise FaultError("when", f"must be before or after, got {self.when!r}")
        if self.kind is FaultKind.STATUS:
            if self.status is None:
                raise FaultError("status", "is required for a status fault: an HTTP status 400-599")
            self.status = _integer("status", self.status, low=400, high=599)
        elif self.kind is FaultKind.MALFORMED:
            self.status = _integer(
                "status", 200 if self.status is None else self.status, low=200, high=599
            )
        elif self.status is not None:
            raise FaultError("status", f"does not apply to a {self.kind.value} fault")
        if self.kind is FaultKind.TASK_FAILURE:
            if self.code is None:
                raise FaultError(
                    "code", "is required for a task_failure: e.g. DataInspectionFailed"
                )
            if self.route not in ("*", "create"):
                raise FaultError(
                    "route",
                    "must be create (or *) for a task_failure: it fails the task a create makes",
                )
            if self.when != "before":
                raise FaultError(
                    "when", "does not apply to a task_failure (the task is made failing)"
                )
        if self.code is not None and not (isinstance(self.code, str) and _CODE.match(self.code)):
            raise FaultError(
                "code", "must be a word such as DataInspectionFailed or Throttling.RateQuota"
            )
        if self.message is not None and not (
            isinstance(self.message, str) and _MESSAGE.match(self.message)
        ):
            raise FaultError(
                "message", "must be printable ASCII of at most 500 characters, on one line"
            )
        if self.retry_after is not None:
            if self.kind not in (FaultKind.STATUS, FaultKind.RATE_LIMIT):
                raise FaultError("retry_after", f"does not apply to a {self.kind.value} fault")
            self.retry_after = _number("retry_after", self.retry_after, low=0, high=86400)
        self.seconds = _number("seconds", self.seconds, low=0, high=600)
        if self.kind is FaultKind.LATENCY and self.seconds <= 0:
            raise FaultError("seconds", "is required for a latency fault: a number of seconds > 0")
        if self.kind is not FaultKind.LATENCY and self.seconds:
            raise FaultError("seconds", f"does not apply to a {self.kind.value} fault")
        if self.times is not None:
            self.times = _integer("times", self.times, low=1, high=10**9)
        self.skip = _integer("skip", self.skip, low=0, high=10**9)
        self.probability = _number("probability", self.probability, low=0, high=1)
        self.seed = _integer("seed", self.seed, low=-(2**63), high=2**63)
        self._rng = random.Random(f"fault:{self.seed}")

    # -- reading and writing ----------------------------------------------------------------
    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        """A rule from its JSON form (``{"kind": "status", "status": 503, ...}``), or from
        ``{"spec": "create:status=503"}``. Raises `FaultError` naming the field."""
        if not isinstance(data, Mapping):
            raise FaultError("body", "must be a JSON object describing one fault")
        if "spec" in data:
            if len(data) != 1 or not isinstance(data["spec"], str):
                raise FaultError(
                    "spec", "must be the only field, a string such as create:status=503"
                )
            from videoedit_emulator.web.faults.spec import parse_spec  # it reads rules too

            return parse_spec(data["spec"])
        known = {f.name for f in fields(cls) if not f.name.startswith("_")} - {
            "id",
            "matched",
            "applied",
        }
        for name in data:
            if name not in known:
                raise FaultError(
                    str(name)[:40], f"is not a field of a fault ({', '.join(sorted(known))})"
                )
        if "kind" not in data:
            raise FaultError("kind", f"is required: one of {', '.join(k.value for k in FaultKind)}")
        for name in ("provider", "route", "when", "code", "message"):
            if name in data and data[name] is not None and not isinstance(data[name], str):
                raise FaultError(name, "must be a string")
        if not isinstance(data["kind"], str):
            raise FaultError("kind", "must be a string")
        values = {k: v for k, v in data.items() if v is not None or k in ("times",)}
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind.value}
        for name in ("provider", "route", "when", "status", "code", "message", "retry_after"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.kind is FaultKind.LATENCY:
            out["seconds"] = self.seconds
        out.update(
            times=self.times,
            skip=self.skip,
            probability=self.probability,
            seed=self.seed,
            matched=self.matched,
            applied=self.applied,
            spent=self.spent,
        )
        return out

    def to_spec(self) -> str:
        """The rule as a one-line spec (`parse_spec` reads it back to the same rule)."""
        main = VALUE_OF.get(self.kind)
        value = getattr(self, main) if main else None
        text = f"{self.provider}/{self.route}:{self.kind.value}"
        if value is not None:
            text += f"={value:g}" if isinstance(value, float) else f"={value}"
        options: list[str] = []
        if self.when != "before":
            options.append(f"when={self.when}")
        if self.times is not None:
            options.append(f"times={self.times}")
        if self.skip:
            options.append(f"skip={self.skip}")
        if self.probability < 1:
            options.append(f"probability={self.probability:g}")
        if self.seed:
            options.append(f"seed={self.seed}")
        if self.code is not None and main != "code":
            options.append(f"code={self.code}")
        if self.retry_after is not None and main != "retry_after":
            options.append(f"retry_after={self.retry_after:g}")
        if self.message is not None:
            options.append(f"message={self.message}")  # last: it may hold commas
        return ",".join([text, *options])

    def __str__(self) -> str:
        return self.to_spec()

    # -- matching -----------------------------------------------------------------------------
    @property
    def spent(self) -> bool:
        return self.times is not None and self.applied >= self.times

    @property
    def terminal(self) -> bool:
        return self.kind in _TERMINAL

    def covers(self, where: RouteInfo) -> bool:
        """Whether this rule concerns requests to ``where`` (whatever its counters say)."""
        if where.provider is None:
            return False
        if self.provider not in ("*", where.provider, where.group):
            return False
        if self.route not in ("*", where.route):
            return False
        if self.kind is FaultKind.TASK_FAILURE:
            return where.route == "create"
        if self.kind is FaultKind.MALFORMED:
            return where.speaks_json
        return True

    def _hit(self) -> bool:
        """Count a matching request; whether the fault strikes it."""
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.applied += 1
        return True


#: The option a spec's ``kind=value`` sets, per kind.
VALUE_OF = {
    FaultKind.STATUS: "status",
    FaultKind.RATE_LIMIT: "retry_after",
    FaultKind.LATENCY: "seconds",
    FaultKind.MALFORMED: "status",
    FaultKind.TASK_FAILURE: "code",
}
