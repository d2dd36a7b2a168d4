"""Lenient readers for the loosely typed JSON that providers answer with.

Gateways print numbers as strings, timestamps as epoch seconds or milliseconds, and the same
field in several shapes. Providers share these readers so that every one of them is equally
forgiving of what it reads and equally strict about what it returns.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["as_number", "epoch_to_datetime", "url_expiry"]

#: Above this an epoch figure is in milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 1e11


def as_number(value: Any) -> float | None:
    """A number from an int, a float or a numeric string; ``None`` for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def epoch_to_datetime(value: Any) -> datetime | None:
    """Epoch seconds (or milliseconds, when the figure is that large) as an aware UTC datetime."""
    number = as_number(value)
    if number is None or number <= 0:
        return None
    if number > _MILLISECONDS_FROM:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def url_expiry(url: str) -> datetime | None:
    """The expiry a pre-signed link carries in its query (OSS-style ``Expires=`` epoch seconds)."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(url).query)
    for key in ("Expires", "x-oss-expires"):
        if query.get(key):
            return epoch_to_datetime(query[key][0])
    return None
