"""Lenient readers for the loosely typed JSON that providers answer with.

Gateways print numbers as strings, timestamps as epoch seconds or milliseconds, and the same
field in several shapes. Providers share these readers so that every one of them is equally
forgiving of what it reads and equally strict about what it returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from videoedit.task import TaskStatus

__all__ = [
    "as_integer",
    "as_number",
    "epoch_to_datetime",
    "progress_fraction",
    "status_from",
    "url_expiry",
]

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


def as_integer(value: Any) -> int | None:
    """A whole number sent as ``720``, ``720.0`` or ``"720"``; ``None`` for anything else."""
    number = as_number(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def status_from(
    word: Any, table: Mapping[str, TaskStatus], default: TaskStatus = TaskStatus.RUNNING
) -> TaskStatus:
    """A provider's status word through its ``table`` (lower-case keys; case and surrounding
    spaces are ignored); ``default`` for a word the table lacks, or for what is no word.

    The gateways' pages list fewer words than they send: reading an unknown word as still
    running keeps ``wait`` polling instead of failing a task that may well succeed.
    """
    if not isinstance(word, str):
        return default
    return table.get(word.strip().lower(), default)


def progress_fraction(value: Any, *, done: bool, scale: float | None = None) -> float | None:
    """A progress figure as a fraction clamped to [0, 1]; 1.0 for a task ``done`` without one.

    ``scale`` is what the provider counts up to (100 for a percentage); without it a figure
    above 1 is read as a percentage and any other as a fraction already.
    """
    number = as_number(value)
    if number is None:
        return 1.0 if done else None
    if scale is not None:
        number /= scale
    elif number > 1:
        number /= 100
    return min(1.0, max(0.0, number))


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
