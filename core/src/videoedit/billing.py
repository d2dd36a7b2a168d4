"""Billable seconds before an edit is sent: ``estimate(request, provider_id)``.

The rules are the documented ones (``docs/batches.md``, "Costs"), and each request type
carries its own model's rule ([`EditRequest.billable`][videoedit.EditRequest.billable]), so a
plugin's request types are estimated like the core's:

- ``wan2.7-videoedit`` bills the input's seconds plus the output's (failed tasks are free).
  The output lasts ``duration`` seconds, or, with ``duration`` 0, the input's length in
  whole seconds rounded down (a 3.99 s reading of a 4 s clip counts as 4: ffmpeg's figures
  get 0.05 s of slack), within [2, 10].
- ``wan2.1-vace-plus`` (``videoedit-vace``) bills the output's seconds: 5 s for
  ``image_reference`` and ``video_extension``; the input video's length, at most 5 s, in
  whole 30 fps frames, for the other three functions.

A local input is measured with ffmpeg (the ``videoedit[probe]`` extra), so its estimate is
exact. A URL is not fetched to find out: its estimate is the documented upper bound (a
wan2.7 input lasts at most 10 s, a vace output at most 5 s), never 0, with ``exact=False``
and a note that says so. The same holds for a local file when ffmpeg is not installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from videoedit.errors import InvalidRequestError
from videoedit.media import MediaKind, classify, local_path

__all__ = [
    "BASES",
    "FPS",
    "SLACK",
    "Basis",
    "Billable",
    "Estimate",
    "Lengths",
    "estimate",
    "frames_seconds",
    "whole_seconds",
]

#: ffmpeg reports lengths to the centisecond and containers round; a reading this close
#: below a whole second counts as that second (the emulator applies the same slack).
SLACK = 0.05
#: The frame rate of every output (documented for both models).
FPS = 30
#: Which seconds are billed: the model's documented rule, or the output's alone.
Basis = Literal["model", "output"]
BASES: tuple[Basis, ...] = ("model", "output")


@dataclass(frozen=True)
class Estimate:
    """The billable seconds of one edit before it runs.

    ``seconds`` is what the model's rule bills; ``exact`` is ``False`` when it is an upper
    bound (an input that could not be measured here), and ``note`` then says why.
    ``input_seconds`` and ``output_seconds`` are its parts (``input_seconds`` is ``None``
    for a model that bills the output alone); ``model`` and ``resolution`` pick the unit
    price in a price table (`videoedit.prices`).
    """

    seconds: float
    exact: bool
    note: str | None = None
    model: str | None = None
    resolution: str | None = None
    input_seconds: float | None = None
    output_seconds: float | None = None


class Lengths:
    """Measures the local videos of a request, once each; says why a URL cannot be.

    Request types call ``lengths.of(source)`` in their ``billable`` rule: the seconds of a
    local video, or ``None`` when they cannot be known here, with ``lengths.why(source)``
    saying why (a URL the service fetches; no ffmpeg). A local file that is no video is a
    bad request: it raises [`InvalidRequestError`][videoedit.InvalidRequestError] naming
    ``field``.
    """

    def __init__(self) -> None:
        self._seen: dict[str, float | None] = {}
        self._why: dict[str, str] = {}

    def of(self, source: str, field: str = "video") -> float | None:
        if source not in self._seen:
            self._seen[source] = self._measure(source, field)
        return self._seen[source]

    def why(self, source: str) -> str:
        return self._why.get(source, "its length is not known")

    def _measure(self, source: str, field: str) -> float | None:
        from videoedit.probe import probe_video

        kind = classify(source)
        if kind is not MediaKind.LOCAL:
            where = "an oss:// upload" if kind is MediaKind.OSS else "a URL"
            self._why[source] = f"{field} is {where}, not measured before the service fetches it"
            return None
        path = local_path(source)
        try:
            stat = path.stat()
        except OSError as exc:
            raise InvalidRequestError(
                f"{field}: {path.name}: {exc.strerror or exc}", field=field, rule="a video file"
            ) from None
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key in _MEASURED:
            return _MEASURED[key]
        try:
            info = probe_video(path)
        except ValueError as exc:
            raise InvalidRequestError(
                f"{field}: {path.name}: {exc}", field=field, rule="a video file"
            ) from None
        if info is None:
            self._why[source] = (
                f"{field} was not measured: ffmpeg is not installed (pip install 'videoedit[probe]')"
            )
            return None
        seconds = round(info.duration, 2)
        if len(_MEASURED) >= _MEASURED_MOST:
            _MEASURED.clear()
        _MEASURED[key] = seconds
        return seconds


#: Lengths measured in this process, by file, modification time and size: a manifest that
#: names one clip on many rows runs ffmpeg once (a changed file is measured again).
_MEASURED: dict[tuple[str, int, int], float] = {}
_MEASURED_MOST = 4096


def whole_seconds(seconds: float, *, low: float = 2.0, high: float = 10.0) -> int:
    """``seconds`` in whole seconds, rounded down with `SLACK`, within [low, high]."""
    return int(min(high, max(low, math.floor(seconds + SLACK))))


def frames_seconds(seconds: float, *, most: float) -> float:
    """The length of an output that follows an input of ``seconds`` up to ``most``: a whole
    number of 30 fps frames (at least one), to the centisecond."""
    kept = min(most, max(1 / FPS, round(seconds, 3)))
    return round(max(1, round(kept * FPS)) / FPS, 2)


class Billable(Protocol):
    """What can be estimated: every [`EditRequest`][videoedit.EditRequest] (this module sits
    below the requests, which use its `Estimate`)."""

    def billable(self, lengths: Lengths) -> Estimate | None: ...


def estimate(
    request: Billable, provider_id: str | None = None, *, bills: Basis = "model"
) -> Estimate | None:
    """The billable seconds of ``request`` by its model's documented rule; ``None`` for a
    request type that declares no rule.

    ``provider_id`` is where the edit would go. Every built-in provider bills a model by
    the model's rule (Vtrix and the APIMart gateways resell DashScope's), so it changes no
    figure by itself. Where a reseller is known to bill otherwise, ``bills="output"`` counts
    the output's seconds alone (a price table can say so per provider: `videoedit.prices`).
    Local inputs are measured (ffmpeg runs: call it from a worker thread in async code).
    """
    del provider_id  # see the docstring: no built-in provider bills differently
    found = request.billable(Lengths())
    if found is None or bills == "model" or found.input_seconds is None:
        return found
    if bills != "output":
        raise ValueError(f"bills: must be 'model' or 'output', got {bills!r}")
    seconds = found.output_seconds if found.output_seconds is not None else found.seconds
    return replace(found, seconds=seconds)
