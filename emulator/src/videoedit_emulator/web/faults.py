"""Fault rules: make the emulator misbehave the way real services do, on purpose.

A `FaultRule` names where it applies (a provider and one of its routes, see
`ROUTES`) and what goes wrong there:

==================  ========================================================================
kind                what the caller sees
==================  ========================================================================
``status``          an HTTP error (``status`` 400–599) with the body in that provider's own
                    error format (DashScope JSON, Vtrix/APIMart envelopes, OSS XML), with
                    ``code``, ``message`` and ``Retry-After`` (``retry_after``) when given
``rate_limit``      429 in the provider's words (OSS: 503 ``SlowDown``, as OSS throttles),
                    with ``Retry-After: <retry_after>`` only when ``retry_after`` is set
``latency``         the normal answer, ``seconds`` later
``reset``           the connection is dropped without an answer (a TCP reset)
``malformed``       ``status`` (200 by default) with a body that is not valid JSON
                    (JSON routes only: a download cannot be "malformed JSON")
``task_failure``    the create call succeeds, and the task it made ends FAILED with ``code``
                    and ``message`` (e.g. ``DataInspectionFailed``, or ``InvalidParameter``
                    "Failed to download …"); create routes only
==================  ========================================================================

``when`` says whether the fault strikes ``before`` the request reaches the engine (nothing
happened: a refused or lost request) or ``after`` it (the engine did the work and the
*answer* is lost, slowed or replaced: the case where a client cannot know whether its task
exists). A ``reset`` after the work sends the head and half the body, then drops the line.

Which requests a rule takes: the ``skip`` first matching requests go through untouched;
then each matching request is hit with ``probability`` (drawn from a generator seeded with
``seed``, so a run is repeatable when requests arrive in the same order); after ``times``
hits (``None``: no limit) the rule is spent. Rules are checked in the order they were added;
every ``latency`` and ``task_failure`` rule that hits applies, and the first hit among the
other kinds decides the answer.

The same rule can be written as JSON (the control plane, `FaultRule.from_json`) or as
a one-line spec (``--fault`` of ``videoedit-emulator serve``, `parse_spec`)::

    create:status=503                      dashscope/status:rate_limit=2,probability=0.2
    vtrix/create:reset,when=after,times=1  download:latency=0.5
    create:task_failure=DataInspectionFailed,message=Input data may contain inappropriate content.
"""

from __future__ import annotations

import enum
import json
import math
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = [
    "PROVIDERS",
    "ROUTES",
    "Decision",
    "FaultError",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "RouteInfo",
    "classify",
    "parse_spec",
]

#: Every provider a rule can name (``dashscope`` names both regions; ``*`` any provider).
PROVIDERS = ("dashscope-beijing", "dashscope-singapore", "vtrix", "apimart", "oss")
#: The routes of each provider, by the names rules use (``*`` matches any route).
ROUTES: Mapping[str, tuple[str, ...]] = {
    "dashscope-beijing": ("create", "status", "cancel", "list", "upload_policy", "other"),
    "dashscope-singapore": ("create", "status", "cancel", "list", "upload_policy", "other"),
    "vtrix": ("create", "status", "other"),
    "apimart": ("create", "status", "other"),
    "oss": ("upload", "download", "other"),
}
_ALL_ROUTES = frozenset(r for routes in ROUTES.values() for r in routes)
_CODE = re.compile(r"^[A-Za-z][\w.]{0,63}$")
#: A message travels in a header (``task_failure``): printable ASCII, no line breaks.
_MESSAGE = re.compile(r"^[\x20-\x7e]{0,500}$")


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
    """Which provider and route a request is for (``provider`` ``None``: not a provider's)."""

    provider: str | None
    route: str


_DASHSCOPE_PREFIXES = (("/intl/api/v1", "dashscope-singapore"), ("/api/v1", "dashscope-beijing"))
_TASK = re.compile(r"^/tasks/[^/]+/?$")
_CANCEL = re.compile(r"^/tasks/[^/]+/cancel/?$")


def _under(path: str, prefix: str) -> str | None:
    if path == prefix:
        return ""
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return None


def classify(method: str, path: str) -> RouteInfo:
    """The provider and route name of a request, as fault rules and the journal name them."""
    method = method.upper()
    for prefix, provider in _DASHSCOPE_PREFIXES:
        rest = _under(path, prefix)
        if rest is None:
            continue
        if method == "POST" and rest == "/services/aigc/video-generation/video-synthesis":
            return RouteInfo(provider, "create")
        if method in ("GET", "HEAD") and rest == "/tasks":
            return RouteInfo(provider, "list")
        if method in ("GET", "HEAD") and _TASK.match(rest):
            return RouteInfo(provider, "status")
        if method == "POST" and _CANCEL.match(rest):
            return RouteInfo(provider, "cancel")
        if method in ("GET", "HEAD") and rest == "/uploads":
            return RouteInfo(provider, "upload_policy")
        return RouteInfo(provider, "other")
    rest = _under(path, "/vtrix")
    if rest is not None:
        if method == "POST" and rest == "/model/v1/generation":
            return RouteInfo("vtrix", "create")
        if method in ("GET", "HEAD") and re.match(r"^/model/v1/generation/task/[^/]+$", rest):
            return RouteInfo("vtrix", "status")
        return RouteInfo("vtrix", "other")
    rest = _under(path, "/apimart")
    if rest is not None:
        if method == "POST" and rest == "/v1/videos/generations":
            return RouteInfo("apimart", "create")
        if method in ("GET", "HEAD") and re.match(r"^/v1/tasks/[^/]+$", rest):
            return RouteInfo("apimart", "status")
        return RouteInfo("apimart", "other")
    rest = _under(path, "/oss")
    if rest is not None:
        if method == "POST" and rest in ("/dashscope-file-mgr", "/dashscope-file-mgr/"):
            return RouteInfo("oss", "upload")
        if method in ("GET", "HEAD") and rest.startswith("/dashscope-result/"):
            return RouteInfo("oss", "download")
        return RouteInfo("oss", "other")
    return RouteInfo(None, "index" if path == "/" else "other")


def _kind(value: Any) -> FaultKind:
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
        self.kind = _kind(self.kind)
        if self.provider not in ("*", "dashscope", *PROVIDERS):
            raise FaultError(
                "provider",
                f"must be *, dashscope or one of {', '.join(PROVIDERS)}, got {self.provider!r}",
            )
        if self.route != "*" and self.route not in _ALL_ROUTES:
            raise FaultError(
                "route", f"must be * or one of {', '.join(sorted(_ALL_ROUTES))}, got {self.route!r}"
            )
        if (
            self.provider in ROUTES
            and self.route != "*"
            and self.route not in ROUTES[self.provider]
        ):
            raise FaultError(
                "route",
                f"{self.route!r} is not a route of {self.provider} ({', '.join(ROUTES[self.provider])})",
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
        main = _VALUE_OF.get(self.kind)
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
        provider = where.provider
        if provider is None:
            return False
        if self.provider == "dashscope":
            if not provider.startswith("dashscope-"):
                return False
        elif self.provider not in ("*", provider):
            return False
        if self.route not in ("*", where.route):
            return False
        if self.kind is FaultKind.TASK_FAILURE:
            return where.route == "create"
        if self.kind is FaultKind.MALFORMED:
            return provider != "oss"
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


@dataclass(frozen=True)
class Decision:
    """What the faults do to one request."""

    latency_before: float = 0.0
    latency_after: float = 0.0
    terminal: FaultRule | None = None
    task_failure: tuple[str, str] | None = None
    applied: tuple[FaultRule, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.applied)


#: Default messages of task failures the service is known to report.
TASK_FAILURE_MESSAGES = {
    "DataInspectionFailed": "Input data may contain inappropriate content.",
    "InvalidParameter": "Failed to download input.media[0].url: the emulator was told to fail this download.",
}


class FaultPlan:
    """The fault rules of one emulator (thread-safe: tests add rules from their own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next = 1
        #: Called (outside the lock) after every change, counters included: how a state
        #: directory keeps the rules across restarts (``engine/state.py``).
        self.on_change: Callable[[], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def state(self) -> dict[str, Any]:
        """Every rule with its counters and its random generator's position (JSON)."""
        with self._lock:
            return {
                "next": self._next,
                "rules": [{**rule.to_json(), "rng": _rng_state(rule._rng)} for rule in self._rules],
            }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the rules with those of a `state` (no change is reported)."""
        rules = []
        for data in state.get("rules", []):
            data = dict(data)
            ident, matched, applied = data.pop("id"), data.pop("matched"), data.pop("applied")
            rng = data.pop("rng")
            data.pop("spent", None)
            rule = FaultRule.from_json(data)
            rule.id, rule.matched, rule.applied = ident, matched, applied
            rule._rng.setstate((rng[0], tuple(rng[1]), rng[2]))
            rules.append(rule)
        with self._lock:
            self._rules = rules
            self._next = int(state.get("next", len(rules) + 1))

    def add(self, kind: FaultKind | str = FaultKind.STATUS, **fields: Any) -> FaultRule:
        """Add a rule: ``plan.add("status", route="create", status=503, times=2)``."""
        return self.add_rule(FaultRule(_kind(kind), **fields))

    def add_rule(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = f"fault-{self._next}"
            self._next += 1
            self._rules.append(rule)
        self._changed()
        return rule

    def add_spec(self, spec: str) -> FaultRule:
        """Add a rule written as a one-line spec (see `parse_spec`)."""
        return self.add_rule(parse_spec(spec))

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            removed = len(self._rules) != before
        if removed:
            self._changed()
        return removed

    def clear(self) -> int:
        """Drop every rule; how many there were. Ids restart at ``fault-1``."""
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            self._next = 1
        self._changed()
        return count

    def rules(self) -> list[FaultRule]:
        """Snapshots of the rules, in order (their counters as of now)."""
        with self._lock:
            return [replace(rule) for rule in self._rules]

    def get(self, rule_id: str) -> FaultRule | None:
        with self._lock:
            found = next((r for r in self._rules if r.id == rule_id), None)
            return None if found is None else replace(found)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def decide(self, where: RouteInfo) -> Decision:
        """Count this request against every rule that covers it, and say what strikes it."""
        if where.provider is None:
            return Decision()
        with self._lock:
            if not self._rules:
                return Decision()
        decision = self._decide(where)
        self._changed()  # the counters moved
        return decision

    def _decide(self, where: RouteInfo) -> Decision:
        with self._lock:
            latency_before = latency_after = 0.0
            terminal: FaultRule | None = None
            failures: list[FaultRule] = []
            applied: list[FaultRule] = []
            for rule in self._rules:
                if rule.spent or not rule.covers(where):
                    continue
                if rule.terminal and terminal is not None:
                    continue  # the answer is decided: later ones keep their turn
                if rule.kind is FaultKind.TASK_FAILURE:
                    failures.append(rule)
                    continue
                if not rule._hit():
                    continue
                applied.append(rule)
                if rule.kind is FaultKind.LATENCY:
                    if rule.when == "before":
                        latency_before += rule.seconds
                    else:
                        latency_after += rule.seconds
                else:
                    terminal = rule
            task_failure = None
            if terminal is None or terminal.when == "after":
                for rule in failures:
                    if rule._hit():
                        applied.append(rule)
                        code = rule.code or "InternalError"
                        message = rule.message or TASK_FAILURE_MESSAGES.get(
                            code, f"The emulator was told to fail this task with {code}."
                        )
                        task_failure = (code, message)
                        break
            return Decision(
                latency_before=latency_before,
                latency_after=latency_after,
                terminal=None if terminal is None else replace(terminal),
                task_failure=task_failure,
                applied=tuple(replace(r) for r in applied),
            )


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


# -- the one-line spec ----------------------------------------------------------------------
#: The option a spec's ``kind=value`` sets, per kind.
_VALUE_OF = {
    FaultKind.STATUS: "status",
    FaultKind.RATE_LIMIT: "retry_after",
    FaultKind.LATENCY: "seconds",
    FaultKind.MALFORMED: "status",
    FaultKind.TASK_FAILURE: "code",
}
_INTEGERS = frozenset({"status", "times", "skip", "seed"})
_FLOATS = frozenset({"retry_after", "seconds", "probability"})
_STRINGS = frozenset({"when", "code", "message"})


def _convert(name: str, raw: str) -> Any:
    if name in _INTEGERS:
        if not re.fullmatch(r"-?[0-9]{1,19}", raw):
            raise FaultError(name, f"must be an integer, got {raw!r}")
        return int(raw)
    if name in _FLOATS:
        try:
            return float(raw)
        except ValueError:
            raise FaultError(name, f"must be a number, got {raw!r}") from None
    return raw


def parse_spec(spec: str) -> FaultRule:
    """``[provider/]route:kind[=value][,option=value...]`` as a `FaultRule`.

    ``value`` is the kind's main figure: the status of ``status`` and ``malformed``, the
    ``retry_after`` of ``rate_limit``, the ``seconds`` of ``latency``, the ``code`` of
    ``task_failure``. Options: ``times``, ``skip``, ``probability``, ``seed``, ``when``,
    ``code``, ``message`` (last, as it may hold commas), ``retry_after``. A spec starting
    with ``{`` is read as the rule's JSON.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise FaultError("spec", "must be a non-empty string such as create:status=503")
    text = spec.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise FaultError("spec", "starts with { but is not valid JSON") from None
        return FaultRule.from_json(data)
    where, sep, rest = text.partition(":")
    if not sep:
        raise FaultError(
            "spec", f"must read [provider/]route:kind[=value][,option=value...], got {spec!r}"
        )
    provider, slash, route = where.strip().rpartition("/")
    if not slash:
        provider = "*"
    head, _, options = rest.partition(",")
    kind_word, eq, value = head.strip().partition("=")
    values: dict[str, Any] = {"provider": provider.strip() or "*", "route": route.strip() or "*"}
    kind = _kind(kind_word.strip())
    values["kind"] = kind
    if eq:
        name = _VALUE_OF.get(kind)
        if name is None:
            raise FaultError("kind", f"{kind.value} takes no value (got {value!r})")
        values[name] = _convert(name, value.strip())
    remaining = options
    while remaining.strip():
        item, _, remaining = remaining.partition(",")
        name, eq, raw = item.strip().partition("=")
        name = name.strip()
        if not eq:
            raise FaultError("spec", f"option {item.strip()!r} must read name=value")
        if name == "message":  # the message takes the rest of the spec, commas included
            raw = raw + ("," + remaining if remaining else "")
            remaining = ""
        if name not in _INTEGERS | _FLOATS | _STRINGS:
            raise FaultError(name[:40], "is not an option of a fault spec")
        if name in values:
            raise FaultError(name, "is given twice")
        values[name] = _convert(name, raw.strip())
    return FaultRule(**values)
