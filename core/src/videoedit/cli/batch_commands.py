"""``videoedit batch run|status|resolve``: many edits from a manifest, through a ledger.

``run`` reads the manifest (each bad row is said, with its line, field and rule; the good
rows run), opens the ledger beside it, and drives `videoedit.Batch` with one
progress display; it ends with the report, and exits 0 only when every row is saved
(16 otherwise: the report says which rows and why). ``status`` and ``resolve`` read and write
the ledger alone: neither calls the service.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

import anyio

from videoedit.batch import Batch, Estimator
from videoedit.batch_report import report_from_ledger
from videoedit.cli.commands import (
    Context,
    Interrupted,
    client_errors,
    lookup_provider,
    provider_name,
    provider_options,
)
from videoedit.cli.estimate_commands import (
    estimate_document,
    estimate_report_lines,
    manifest_items,
    money_against_report,
    money_lines,
    row_estimator,
)
from videoedit.cli.exits import ExitCode
from videoedit.cli.extension import Embedded, Endpoint
from videoedit.cli.output import batch_report_lines, table
from videoedit.cli.progress import BatchProgressView
from videoedit.client import DEFAULT_WAIT_TIMEOUT, AsyncClient
from videoedit.errors import InvalidRequestError
from videoedit.ledger import Ledger
from videoedit.manifest import Manifest, read_manifest
from videoedit.plugins import ProviderInfo
from videoedit.prices import load_prices

__all__ = ["default_ledger", "run_batch_step"]


def default_ledger(manifest: Path) -> Path:
    """Where a manifest's ledger is kept unless told: beside it, ``<name>.ledger``."""
    return manifest.with_name(f"{manifest.stem}.ledger")


def run_batch_step(args: argparse.Namespace, ctx: Context) -> int:
    step = args.batch_command
    if step == "run":
        return cmd_batch_run(args, ctx)
    if step == "status":
        return cmd_batch_status(args, ctx)
    return cmd_batch_resolve(args, ctx)


def _read(args: argparse.Namespace, ctx: Context, info: ProviderInfo) -> Manifest:
    path: Path = args.manifest
    if not path.is_file():
        raise InvalidRequestError(
            f"MANIFEST: {str(path)!r} is not a file",
            field="MANIFEST",
            rule="an existing .jsonl or .csv file",
        )
    manifest = read_manifest(path, provider=info.id, output_dir=args.output_dir)
    for error in manifest.errors:
        ctx.console.say(
            f"{ctx.console.style.role('videoedit: bad row:', 'error')} {path.name} {error}"
        )
    return manifest


def _dry_run(args: argparse.Namespace, ctx: Context, info: ProviderInfo, manifest: Manifest) -> int:
    """Each row's billable seconds (and money, given --prices); nothing sent, no ledger."""
    prices = load_prices(args.prices) if args.prices is not None else None
    items = manifest_items(manifest, info.id, prices)
    document = {
        "manifest": str(manifest.path),
        **estimate_document(items, info.id, [str(e) for e in manifest.errors], prices),
    }
    ctx.console.result(document, estimate_report_lines(items, money=prices is not None))
    return 0 if not manifest.errors else ExitCode.BATCH_INCOMPLETE


def cmd_batch_run(args: argparse.Namespace, ctx: Context) -> int:
    console = ctx.console
    info = lookup_provider(provider_name(args))
    embedded: Embedded | None = args.embedded
    if embedded is not None:
        embedded.check(args)
    manifest = _read(args, ctx, info)
    if args.dry_run:
        return _dry_run(args, ctx, info, manifest)
    # Priced before anything is sent, so that a price the table lacks stops the run here.
    priced = estimator = None
    if args.prices is not None:
        prices = load_prices(args.prices)
        priced = manifest_items(manifest, info.id, prices)
        estimator = row_estimator(prices)  # the seconds the table says the provider bills
    ledger_path: Path = args.ledger or default_ledger(args.manifest)
    with contextlib.ExitStack() as stack:
        ledger = stack.enter_context(Ledger(ledger_path))
        console.note(f"ledger     {ledger_path}")
        base_url, api_key = args.base_url, args.api_key
        endpoint: Endpoint | None = None
        if embedded is not None:
            endpoint = stack.enter_context(embedded.serve(args, info))
            base_url, api_key = endpoint.base_url, api_key or endpoint.api_key
            console.note(endpoint.note)
        view = BatchProgressView(console)
        report = None
        try:
            report = anyio.run(
                _run, args, info, manifest, ledger, base_url, api_key, view, endpoint, estimator
            )
        except KeyboardInterrupt:
            raise Interrupted(
                "interrupted; every task created so far is in the ledger: run the same command "
                "again to resume (nothing is submitted twice)"
            ) from None
        finally:
            view.finish()
    assert report is not None
    document: dict[str, Any] = {
        "manifest": str(manifest.path),
        "ledger": str(ledger_path),
        "provider": info.id,
        **report.as_json(),
    }
    lines = batch_report_lines(report)
    if priced is not None:
        document["money"] = money_against_report(priced, report)
        lines += money_lines(document["money"])
    console.result(document, lines)
    return 0 if report.ok else ExitCode.BATCH_INCOMPLETE


async def _run(
    args: argparse.Namespace,
    info: ProviderInfo,
    manifest: Manifest,
    ledger: Ledger,
    base_url: str | None,
    api_key: str | None,
    view: BatchProgressView,
    endpoint: Endpoint | None,
    estimator: Estimator | None = None,
) -> Any:
    async with contextlib.AsyncExitStack() as stack:
        with client_errors(info):
            client = AsyncClient(
                info.id,
                api_key=api_key,
                base_url=base_url,
                options=provider_options(args),
                ledger=ledger,
            )
        await stack.enter_async_context(client)
        if (
            endpoint is not None
            and endpoint.files is not None
            and client.provider.uploader() is None
            and any(row.request.local_files() for row in manifest.rows)
        ):
            # No upload API (a gateway): the embedded service serves the files itself.
            files = stack.enter_context(endpoint.files())
            await client.aclose()
            with client_errors(info):
                client = AsyncClient(
                    info.id,
                    api_key=api_key,
                    base_url=base_url,
                    options=provider_options(args),
                    ledger=ledger,
                    uploader=files,
                )
            await stack.enter_async_context(client)
        batch = Batch(
            client,
            manifest,
            concurrency=args.concurrency,
            max_billed_seconds=args.max_billed_seconds,
            on_progress=view,
            estimator=estimator,
            wait_timeout=float(args.timeout) if args.timeout else DEFAULT_WAIT_TIMEOUT,
        )
        return await batch.arun()


def _ledger_for_reading(args: argparse.Namespace) -> Path:
    path: Path | None = args.ledger
    if path is None and getattr(args, "manifest", None) is not None:
        path = default_ledger(args.manifest)
    if path is None:
        raise InvalidRequestError(
            "give the ledger (--ledger PATH) or the manifest it sits beside",
            field="--ledger",
            rule="a ledger file or a MANIFEST",
        )
    if not path.is_file():
        raise InvalidRequestError(
            f"--ledger: {str(path)!r} does not exist (no batch has run with it)",
            field="--ledger",
            rule="an existing ledger file",
        )
    return path


def cmd_batch_status(args: argparse.Namespace, ctx: Context) -> int:
    path = _ledger_for_reading(args)
    with Ledger(path) as ledger:
        key = str(args.manifest.resolve()) if args.manifest is not None else None
        report = report_from_ledger(ledger, key)
        undecided = [e for e in ledger.entries() if e.state.uncertain and e.task_id is None]
    document = {"ledger": str(path), **report.as_json()}
    lines = batch_report_lines(report) if report.rows else ["no rows filed in this ledger"]
    if undecided:
        lines.append("")
        lines += table(
            [[e.fingerprint[:16], e.state.value, e.error_message or "-"] for e in undecided],
            ["EDIT", "STATE", "WHY"],
        )
    ctx.console.result(document, lines)
    return 0


def cmd_batch_resolve(args: argparse.Namespace, ctx: Context) -> int:
    path = _ledger_for_reading(args)
    with Ledger(path) as ledger:
        wanted: str = args.edit
        by_row = {row.row_id: row.fingerprint for row in ledger.rows()}
        matches = {e.fingerprint for e in ledger.entries() if e.fingerprint.startswith(wanted)}
        if wanted in by_row:
            matches = {by_row[wanted]}
        if len(matches) != 1:
            raise InvalidRequestError(
                f"FINGERPRINT|ROW: {wanted!r} names "
                f"{'no edit' if not matches else f'{len(matches)} edits'} in {str(path)!r}",
                field="FINGERPRINT|ROW",
                rule="a row id, or the start of exactly one fingerprint (videoedit batch status)",
            )
        (fingerprint,) = matches
        entry = ledger.get(fingerprint)
        assert entry is not None
        if entry.task_id is not None:
            raise InvalidRequestError(
                f"edit {fingerprint[:16]} already has task {entry.task_id}: nothing to decide",
                field="FINGERPRINT|ROW",
                rule="an edit without a task",
            )
        ledger.resolve(fingerprint, task_id=args.task)
    decided = f"adopted task {args.task}" if args.task else "to be submitted on the next run"
    ctx.console.result(
        {"fingerprint": fingerprint, "task_id": args.task, "resubmit": bool(args.resubmit)},
        [f"edit {fingerprint[:16]}: {decided}"],
    )
    return 0
