"""What wan2.1-vace-plus bills: the output's seconds alone (seed 004: input is free).

Its output lasts 5 s for ``image_reference`` and ``video_extension`` (documented), and
follows the input video, at most 5 s, for ``video_repainting``, ``video_edit`` and
``video_outpainting``: the input's length in whole 30 fps frames (the output's frame rate).
An input video that is a URL is not fetched to measure it: the estimate is then the
documented most, 5 s, marked ``exact=False``. Every output is 720P at most, so prices are
looked up at ``720P``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videoedit.billing import Estimate, Lengths, frames_seconds

if TYPE_CHECKING:
    from videoedit_vace.requests import VaceRequest

__all__ = ["MAX_OUTPUT_SECONDS", "RESOLUTION", "fixed_output", "following_input"]

#: The longest output the model makes (documented), and the length of the two fixed ones.
MAX_OUTPUT_SECONDS = 5.0
#: The price tier of every output (at most 720P).
RESOLUTION = "720P"


def fixed_output(request: VaceRequest) -> Estimate:
    """``image_reference`` and ``video_extension``: always 5 s, known without any input."""
    return _estimate(request, MAX_OUTPUT_SECONDS, None)


def following_input(request: VaceRequest, lengths: Lengths, source: str, field: str) -> Estimate:
    """An output as long as the video at ``source`` (field ``field``), at most 5 s."""
    measured = lengths.of(source, field)
    if measured is None:
        why = (
            f"{lengths.why(source)}; a wan2.1-vace-plus output lasts at most "
            f"{MAX_OUTPUT_SECONDS:g} s, so this is an upper bound"
        )
        return _estimate(request, MAX_OUTPUT_SECONDS, why)
    return _estimate(request, frames_seconds(measured, most=MAX_OUTPUT_SECONDS), None)


def _estimate(request: VaceRequest, seconds: float, why: str | None) -> Estimate:
    return Estimate(
        seconds=seconds,
        exact=why is None,
        note=why,
        model=request.model,
        resolution=RESOLUTION,
        input_seconds=None,
        output_seconds=seconds,
    )
