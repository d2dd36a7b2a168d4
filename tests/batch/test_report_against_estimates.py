"""The batch report flags a row the service billed more for than its estimate said."""

from __future__ import annotations

from pathlib import Path

from videoedit.batch_report import BatchReport, RowReport, RowState
from videoedit.cli.output import batch_report_lines


def row(row_id: str, billed: float | None, estimate: float | None) -> RowReport:
    return RowReport(
        row_id=row_id,
        line=1,
        state=RowState.SUCCEEDED,
        fingerprint="f" * 64,
        output=Path(f"{row_id}.mp4"),
        billed_seconds=billed,
        estimate_seconds=estimate,
        estimate_exact=True,
    )


def test_a_row_billed_beyond_its_estimate_is_named_in_the_report() -> None:
    report = BatchReport((row("dear", 7.0, 6.5), row("fair", 6.53, 6.5)))

    lines = batch_report_lines(report)

    assert "dear: billed 7 s, more than its estimate (6.5 s)" in lines
    assert not any(line.startswith("fair: billed") for line in lines)  # within rounding
    assert report.billed_minus_estimate == 0.53


def test_rows_not_billed_are_left_out_of_the_comparison() -> None:
    report = BatchReport((row("done", 4.0, 4.0), row("held", None, 12.0)))

    assert [r.row_id for r in report.compared] == ["done"]
    assert report.estimate_of_billed == 4.0
    assert report.as_json()["totals"]["estimate_seconds"] == 16.0
    assert (
        "billed 4 s (estimated 4 s for the rows billed, 16 s for all)"
        in (batch_report_lines(report)[-1])
    )
