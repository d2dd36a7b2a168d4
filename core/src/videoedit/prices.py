"""Price tables the user supplies: what one billed second costs, by provider, model and
resolution. No price is built in: prices change, differ by account and region, and are not
ours to guess, so money is only ever shown from a table the user gave.

A table is TOML (``.toml``) or JSON (``.json``)::

    currency = "USD"                       # the table's currency (ISO 4217 code)

    [prices.dashscope-singapore."wan2.7-videoedit"]
    720P = "0.10"                          # per billed second; a string or a number
    1080P = "0.15"

    [prices.vtrix]
    currency = "CNY"                       # a provider may have its own
    bills = "model"                        # or "output": output seconds only (see below)
    "wan2.7-videoedit" = { 720P = 0.7 }    # quote a model id: its dot would nest tables

``bills`` (default ``"model"``: each model's documented rule) says which seconds a provider
bills; ``"output"`` counts the output's alone, for a reseller known to bill so (the APIMart
page's wording can be read that way; *unconfirmed*). It changes the seconds estimated for
that provider, and so the money and the ``--max-billed-seconds`` cap.

Amounts are `decimal.Decimal` (a TOML or JSON number is read through its text, so
``0.1`` is exactly one tenth). A bad table is refused as a whole, with the file, the key
path and the rule (`PriceTableError`); a price missing for an edit is an error naming
the key to add, never a zero.

TOML needs Python 3.11's ``tomllib`` (or the ``tomli`` package on 3.10); JSON always works.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from videoedit.billing import BASES, Basis, Estimate
from videoedit.errors import InvalidRequestError

__all__ = ["Cost", "PriceTable", "PriceTableError", "load_prices", "parse_prices"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_RESOLUTION = re.compile(r"^[1-9][0-9]{2,3}P$")
_TOP_KEYS = ("currency", "prices")


class PriceTableError(InvalidRequestError):
    """A price table breaks a rule (``field`` is the key path), or lacks a price needed."""


@dataclass(frozen=True)
class Cost:
    """An amount of money: ``unit_price`` × ``seconds``, in ``currency``."""

    amount: Decimal
    currency: str
    unit_price: Decimal
    seconds: float

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"


@dataclass(frozen=True)
class PriceTable:
    """Unit prices keyed by ``(provider, model, resolution)``, each with its currency."""

    source: str
    prices: Mapping[tuple[str, str, str], tuple[Decimal, str]]
    #: Providers whose ``bills`` is not the model's rule.
    bases: Mapping[str, Basis] = field(default_factory=dict)

    def bills(self, provider: str) -> Basis:
        """Which seconds ``provider`` bills, as the table says (default: the model's rule)."""
        return self.bases.get(provider, "model")

    def unit_price(self, provider: str, model: str, resolution: str) -> tuple[Decimal, str]:
        """The price of one billed second and its currency; `PriceTableError` if absent."""
        found = self.prices.get((provider, model, resolution.upper()))
        if found is not None:
            return found
        path = f"prices.{provider}.{model}.{resolution}"
        known = sorted({f"{p} {m} {r}" for p, m, r in self.prices if p == provider})
        has = f"it has for {provider}: {', '.join(known)}" if known else f"it has no {provider}"
        raise PriceTableError(
            f"{self.source}: no price for {provider} {model} at {resolution} ({has}); add {path}",
            field=path,
            rule="a unit price for every provider, model and resolution estimated",
        )

    def cost(self, provider: str, estimate: Estimate) -> Cost:
        """What ``estimate`` costs at ``provider`` (its model and resolution pick the price)."""
        if estimate.model is None or estimate.resolution is None:
            raise PriceTableError(
                f"{self.source}: the estimate names no model or resolution to price",
                field="prices",
                rule="an estimate with a model and a resolution",
            )
        unit, currency = self.unit_price(provider, estimate.model, estimate.resolution)
        return Cost(unit * Decimal(str(estimate.seconds)), currency, unit, estimate.seconds)


def load_prices(path: str | Path) -> PriceTable:
    """Read a price table from a ``.toml`` or ``.json`` file (see the module docstring)."""
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise PriceTableError(
            f"--prices: {name!r} must be a .toml or .json file",
            field="--prices",
            rule="a .toml or .json file",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PriceTableError(
            f"--prices: {name!r} cannot be read: {reason}",
            field="--prices",
            rule="a readable UTF-8 file",
        ) from None
    return parse_prices(
        _parse_toml(text, name) if suffix == ".toml" else _parse_json(text, name), name
    )


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PriceTableError(
            f"{name}: line {exc.lineno}: not JSON ({exc.msg})", field="--prices", rule="JSON"
        ) from None


def _parse_toml(text: str, name: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib as toml
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as toml  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise PriceTableError(
                f"{name}: reading TOML needs Python 3.11 or the tomli package "
                "(pip install tomli); or write the table as JSON",
                field="--prices",
                rule="a TOML reader",
            ) from None
    try:
        return toml.loads(text, parse_float=Decimal)
    except toml.TOMLDecodeError as exc:
        raise PriceTableError(f"{name}: not TOML ({exc})", field="--prices", rule="TOML") from None


def parse_prices(data: Any, source: str = "price table") -> PriceTable:
    """Check a table already read (a mapping) and index it; `PriceTableError` when bad."""

    def bad(path: str, rule: str) -> PriceTableError:
        return PriceTableError(f"{source}: {path}: {rule}", field=path, rule=rule)

    if not isinstance(data, Mapping):
        raise bad("(top)", "must be a table (an object) holding currency and prices")
    for key in data:
        if key not in _TOP_KEYS:
            raise bad(str(key), f"is not a key of a price table (keys: {', '.join(_TOP_KEYS)})")
    default = _currency(data.get("currency"), "currency", bad)
    providers = data.get("prices")
    if not isinstance(providers, Mapping) or not providers:
        raise bad("prices", "must be a table of providers, each a table of models")
    prices: dict[tuple[str, str, str], tuple[Decimal, str]] = {}
    bases: dict[str, Basis] = {}
    for provider, models in providers.items():
        where = f"prices.{provider}"
        if not isinstance(models, Mapping):
            raise bad(where, "must be a table of models, each a table of resolutions")
        currency = _currency(models.get("currency"), f"{where}.currency", bad) or default
        if currency is None:
            raise bad(where, "has no currency: set currency at the top or in this table")
        basis = models.get("bills", "model")
        if basis not in BASES:
            raise bad(f"{where}.bills", f"must be one of {', '.join(BASES)}, got {basis!r}")
        if basis != "model":
            bases[str(provider)] = basis
        entries = {k: v for k, v in models.items() if k not in ("currency", "bills")}
        if not entries:
            raise bad(where, "names no model")
        for model, tiers in entries.items():
            at = f"{where}.{model}"
            if not isinstance(tiers, Mapping) or not tiers:
                raise bad(at, "must be a table of resolutions (720P, 1080P) to unit prices")
            for resolution, value in tiers.items():
                key = f"{at}.{resolution}"
                if isinstance(value, Mapping):
                    raise bad(
                        key,
                        "must be a unit price, not a table (in TOML, quote a model id that "
                        'holds a dot: "wan2.7-videoedit")',
                    )
                if not _RESOLUTION.match(str(resolution).upper()):
                    raise bad(key, "must be a resolution such as 720P or 1080P")
                prices[(str(provider), str(model), str(resolution).upper())] = (
                    _price(value, key, bad),
                    currency,
                )
    return PriceTable(source, prices, bases)


def _currency(value: Any, path: str, bad: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise bad(
            path, f"must be a currency code of three capitals such as USD or CNY, got {value!r}"
        )
    return value


def _price(value: Any, path: str, bad: Any) -> Decimal:
    rule = "must be a price per billed second: a number >= 0, or a string holding one"
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise bad(path, f"{rule}, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise bad(path, f"{rule}, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise bad(path, f"{rule}, got {value!r}")
    return amount
