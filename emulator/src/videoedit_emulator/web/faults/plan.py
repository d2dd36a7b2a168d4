"""The fault rules of one emulator, and what they decide for each request."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from videoedit_emulator.web.faults.rule import (
    FaultKind,
    FaultRule,
    FaultTargets,
    RouteInfo,
    kind_of,
)
from videoedit_emulator.web.faults.spec import parse_spec

__all__ = ["TASK_FAILURE_MESSAGES", "Decision", "FaultPlan"]


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
    """The fault rules of one emulator (thread-safe: tests add rules from their own thread).

    ``targets`` are the providers and routes of the adapters served: a rule naming another
    is refused when added (`FaultError`). Without them any name is taken (a plan on its own).
    """

    def __init__(self, targets: FaultTargets | None = None) -> None:
        self.targets = targets
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
        return self.add_rule(FaultRule(kind_of(kind), **fields))

    def add_rule(self, rule: FaultRule) -> FaultRule:
        """Add ``rule`` (its provider and route checked against the targets); it gets an id."""
        if self.targets is not None:
            self.targets.check(rule)
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
