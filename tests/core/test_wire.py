"""The lenient readers providers share for loosely typed JSON."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from videoedit.wire import as_number, epoch_to_datetime, url_expiry


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
