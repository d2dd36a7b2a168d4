"""Memory the emulator gives back on its own.

A dedicated emulator process runs full garbage collections rarely (``tune_gc``), so whatever
a request leaves in a reference cycle stays allocated until one comes: every answered
request must be freed by reference counting alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest

from videoedit_emulator.server import EmulatorServer


@pytest.fixture
def saved_garbage() -> Iterator[None]:
    """Automatic collection off; the cycle collector's finds kept in ``gc.garbage``."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def test_answered_requests_leave_no_reference_cycles(
    emulator: EmulatorServer, saved_garbage: None
) -> None:
    base = emulator.base_url("dashscope-beijing")
    headers = {"Authorization": "Bearer sk-test"}
    with httpx.Client(timeout=30) as http:
        for _ in range(20):
            assert http.get(f"{base}/tasks/no-such-task", headers=headers).status_code == 200
            assert http.get(f"{base}/uploads?action=nope", headers=headers).status_code == 400
            assert http.get(f"{emulator.url}/oss/dashscope-result/x.mp4").status_code == 403

    gc.collect()

    left = [
        type(o).__qualname__
        for o in gc.garbage
        if type(o).__module__.startswith(("videoedit_emulator", "uvicorn", "starlette"))
    ]
    assert left == []
