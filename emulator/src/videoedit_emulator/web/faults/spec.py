"""The one-line form of a fault rule (``--fault`` of ``videoedit-emulator serve``)."""

from __future__ import annotations

import json
import re
from typing import Any

from videoedit_emulator.web.faults.rule import VALUE_OF, FaultError, FaultRule, kind_of

__all__ = ["parse_spec"]

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
    kind = kind_of(kind_word.strip())
    values["kind"] = kind
    if eq:
        name = VALUE_OF.get(kind)
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
