"""``videoedit estimate MANIFEST|FILE...`` and ``batch run --dry-run``: what edits will bill.

Each edit's billable seconds come from the documented rules (`videoedit.billing`); local
inputs are measured, a URL gets the documented upper bound and says so. Given
``--prices PATH`` (a table the user supplies, `videoedit.prices`), each edit's money too.
Nothing is sent, no client is made, no ledger is written. ``batch run --prices`` uses the
same table to set the money of what was billed against the estimate's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from videoedit.batch import Estimator, RowEstimate
from videoedit.batch_report import BatchReport
from videoedit.billing import Estimate, estimate
from videoedit.cli.commands import Context, build_request, lookup_provider, provider_name
from videoedit.cli.exits import ExitCode
from videoedit.cli.output import table
from videoedit.errors import InvalidRequestError
from videoedit.manifest import FORMATS, Manifest, ManifestRow, read_manifest
from videoedit.prices import Cost, PriceTable, load_prices
from videoedit.requests import EditRequest

__all__ = [
    "Priced",
    "cmd_estimate",
    "estimate_document",
    "estimate_report_lines",
    "manifest_items",
    "money_against_report",
    "money_lines",
    "priced",
    "row_estimator",
]


@dataclass(frozen=True)
class Priced:
    """One edit: where it came from, its estimate (``None``: no rule) and its money."""

    source: str
    id: str | None
    line: int | None
    estimate: Estimate | None
    cost: Cost | None = None

    def as_json(self) -> dict[str, Any]:
        found = self.estimate
        return {
            "source": self.source,
            "id": self.id,
            "line": self.line,
            "seconds": found.seconds if found else None,
            "exact": found.exact if found else None,
            "note": found.note if found else "no billing rule for this request type",
            "input_seconds": found.input_seconds if found else None,
            "output_seconds": found.output_seconds if found else None,
            "model": found.model if found else None,
            "resolution": found.resolution if found else None,
            "cost": _cost_json(self.cost),
        }


def _cost_json(cost: Cost | None) -> dict[str, str] | None:
    if cost is None:
        return None
    return {
        "amount": f"{cost.amount:f}",
        "currency": cost.currency,
        "unit_price": f"{cost.unit_price:f}",
    }


def priced(
    source: str,
    request: EditRequest,
    provider: str,
    prices: PriceTable | None,
    *,
    id: str | None = None,
    line: int | None = None,
) -> Priced:
    """One request estimated at ``provider`` and, with ``prices``, priced."""
    found = estimate(request, provider, bills=prices.bills(provider) if prices else "model")
    cost = prices.cost(provider, found) if prices is not None and found is not None else None
    return Priced(source, id, line, found, cost)


def manifest_items(manifest: Manifest, provider: str, prices: PriceTable | None) -> list[Priced]:
    name = manifest.path.name
    return [
        priced(name, row.request, provider, prices, id=row.id, line=row.line)
        for row in manifest.rows
    ]


def _totals(items: Sequence[Priced]) -> dict[str, Any]:
    known = [i.estimate for i in items if i.estimate is not None]
    money: dict[str, Decimal] = {}
    for item in items:
        if item.cost is not None:
            money[item.cost.currency] = money.get(item.cost.currency, Decimal(0)) + item.cost.amount
    return {
        "edits": len(items),
        "seconds": round(sum(e.seconds for e in known), 2),
        "exact": all(e.exact for e in known) and len(known) == len(items),
        "cost": {currency: f"{amount:f}" for currency, amount in money.items()} or None,
    }


def estimate_document(
    items: Sequence[Priced], provider: str, bad_rows: Sequence[str], prices: PriceTable | None
) -> dict[str, Any]:
    """The ``--json`` document of an estimate (``estimate``, ``batch run --dry-run``)."""
    return {
        "provider": provider,
        "prices": prices.source if prices is not None else None,
        "edits": [item.as_json() for item in items],
        "totals": _totals(items),
        "bad_rows": list(bad_rows),
    }


def estimate_report_lines(items: Sequence[Priced], *, money: bool) -> list[str]:
    """A row per edit (billable seconds, money, why a figure is an upper bound), a total."""
    rows = []
    for item in items:
        found = item.estimate
        where = item.source + (f":{item.line}" if item.line is not None else "")
        cells = [item.id or "-", where]
        if found is None:
            rows.append([*cells, "-", *(["-"] if money else []), "no billing rule for this type"])
            continue
        bound = "" if found.exact else "at most "
        note = "exact" if found.exact else found.note or "an upper bound"
        cost = [f"{bound}{item.cost}" if item.cost else "-"] if money else []
        rows.append([*cells, f"{bound}{found.seconds:g} s", *cost, note])
    headers = ["EDIT", "FROM", "BILLABLE", *(["MONEY"] if money else []), "NOTE"]
    lines = table(rows, headers) if rows else ["no edits"]
    totals = _totals(items)
    bound = "" if totals["exact"] else "at most "
    spent = ""
    if totals["cost"]:
        spent = " = " + " + ".join(f"{bound}{a} {c}" for c, a in totals["cost"].items())
    lines.append(
        f"total     {bound}{totals['seconds']:g} s billable over {len(items)} edit(s){spent}; "
        "nothing was sent"
    )
    return lines


def row_estimator(prices: PriceTable) -> Estimator:
    """A batch's estimator that counts the seconds ``prices`` says each provider bills."""

    def estimate_row(row: ManifestRow, provider: str) -> RowEstimate | None:
        found = estimate(row.request, provider, bills=prices.bills(provider))
        return None if found is None else RowEstimate(found.seconds, found.exact, found.note)

    return estimate_row


def money_against_report(items: Sequence[Priced], report: BatchReport) -> dict[str, Any]:
    """``batch run --prices``: each row's estimated money against the money of what was
    billed (the row's unit price × its billed seconds), and the totals by currency."""
    by_id = {item.id: item for item in items if item.cost is not None}
    rows: dict[str, dict[str, str | None]] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    for row in report.rows:
        item = by_id.get(row.row_id)
        if item is None or item.cost is None:
            continue
        cost = item.cost
        billed = (
            cost.unit_price * Decimal(str(row.billed_seconds))
            if row.billed_seconds is not None
            else None
        )
        rows[row.row_id] = {
            "currency": cost.currency,
            "estimated": f"{cost.amount:f}",
            "billed": None if billed is None else f"{billed:f}",
        }
        total = totals.setdefault(cost.currency, {"estimated": Decimal(0), "billed": Decimal(0)})
        total["estimated"] += cost.amount
        total["billed"] += billed or Decimal(0)
    return {
        "rows": rows,
        "totals": {c: {k: f"{v:f}" for k, v in t.items()} for c, t in totals.items()},
    }


def money_lines(money: dict[str, Any]) -> list[str]:
    """The report's money line: what was billed, at the table's prices, against the estimate."""
    return [
        f"money     billed {t['billed']} {currency} (estimated {t['estimated']} {currency}, "
        "at your price table's prices)"
        for currency, t in money["totals"].items()
    ]


def cmd_estimate(args: argparse.Namespace, ctx: Context) -> int:
    info = lookup_provider(provider_name(args))
    prices = load_prices(args.prices) if args.prices is not None else None
    items: list[Priced] = []
    bad_rows: list[str] = []
    for source in args.inputs:
        path = Path(source)
        if path.suffix.lower() in FORMATS:
            if not path.is_file():
                raise InvalidRequestError(
                    f"MANIFEST: {source!r} is not a file",
                    field="MANIFEST",
                    rule="an existing .jsonl, .ndjson or .csv file",
                )
            manifest = read_manifest(path, provider=info.id)
            for error in manifest.errors:
                bad_rows.append(f"{path.name} {error}")
                ctx.console.say(
                    f"{ctx.console.style.role('videoedit: bad row:', 'error')} {path.name} {error}"
                )
            items += manifest_items(manifest, info.id, prices)
            continue
        request = build_request(argparse.Namespace(**{**vars(args), "video": source}))
        items.append(priced(source, request, info.id, prices))
    document = estimate_document(items, info.id, bad_rows, prices)
    ctx.console.result(document, estimate_report_lines(items, money=prices is not None))
    return ExitCode.BATCH_INCOMPLETE if bad_rows else 0
