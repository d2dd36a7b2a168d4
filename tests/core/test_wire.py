"""The lenient readers providers share for loosely typed JSON."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from videoedit import TaskStatus
from videoedit.wire import (
    as_integer,
    as_number,
    epoch_to_datetime,
    progress_fraction,
    status_from,
    url_expiry,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5.0), (2.5, 2.5), ("7.25", 7.25), ("x", None), (True, None), (None, None), ([], None)],
)
def test_as_number_reads_numbers_and_numeric_strings_but_not_bools(
    value: object, expected: float | None
) -> None:
    assert as_number(value) == expected


def test_epoch_to_datetime_reads_seconds_and_milliseconds_alike() -> None:
    expected = datetime(2025, 11, 15, 2, 45, 8, tzinfo=timezone.utc)
    assert epoch_to_datetime(1763174708) == expected
    assert epoch_to_datetime("1763174708000") == expected


@pytest.mark.parametrize("value", [0, -5, "soon", None, 1e30])
def test_epoch_to_datetime_gives_none_for_what_is_not_a_time(value: object) -> None:
    assert epoch_to_datetime(value) is None


def test_url_expiry_reads_an_oss_style_expires_parameter() -> None:
    url = "https://bucket.oss.example/out.mp4?Expires=1763174708&OSSAccessKeyId=a&Signature=b"
    assert url_expiry(url) == datetime(2025, 11, 15, 2, 45, 8, tzinfo=timezone.utc)
    assert url_expiry("https://cdn.example/out.mp4") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(720, 720), (720.0, 720), ("720", 720), (" 720 ", 720), (720.5, None), ("x", None)],
)
def test_as_integer_reads_whole_numbers_in_any_shape(value: object, expected: int | None) -> None:
    assert as_integer(value) == expected


@pytest.mark.parametrize("value", [True, None, float("nan"), float("inf"), [720]])
def test_as_integer_gives_none_for_what_is_no_whole_number(value: object) -> None:
    assert as_integer(value) is None


TABLE = {"queued": TaskStatus.PENDING, "completed": TaskStatus.SUCCEEDED}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("completed", TaskStatus.SUCCEEDED),
        (" Queued ", TaskStatus.PENDING),
        ("warming_up", TaskStatus.RUNNING),
        (None, TaskStatus.RUNNING),
        (3, TaskStatus.RUNNING),
    ],
)
def test_status_from_reads_a_word_through_the_table_and_defaults_to_running(
    word: object, expected: TaskStatus
) -> None:
    assert status_from(word, TABLE) is expected


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [(40, 100, 0.4), ("40", 100, 0.4), (140, 100, 1.0), (-3, 100, 0.0), (0.4, None, 0.4)],
)
def test_progress_fraction_scales_and_clamps(
    value: object, scale: float | None, expected: float
) -> None:
    assert progress_fraction(value, done=False, scale=scale) == pytest.approx(expected)


def test_progress_fraction_without_a_scale_reads_a_figure_above_1_as_a_percentage() -> None:
    assert progress_fraction(55, done=False) == pytest.approx(0.55)


def test_progress_fraction_without_a_figure_is_whole_once_done_and_unknown_before() -> None:
    assert progress_fraction(None, done=True) == 1.0
    assert progress_fraction("soon", done=False) is None
