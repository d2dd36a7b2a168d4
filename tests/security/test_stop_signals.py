"""``videoedit-emulator serve`` stopped the way systemd, Docker and CI stop it (SIGTERM) or
the way a person does (Ctrl-C, SIGINT) deletes everything it kept in its temp dir (uploads,
results, fetched inputs), says nothing about it on stderr, and dies of the
signal it was sent.

The process runs for real, with ``TMPDIR`` pointed at a folder of the test's own, so that
"nothing left" is a plain listing of that folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from videoedit import Client, TaskStatus, VideoEdit


@dataclass
class Served:
    process: subprocess.Popen[str]
    root: str
    tmpdir: Path

    def storage(self) -> Path:
        [storage] = self.tmpdir.iterdir()
        return storage

    def stop(self, sig: signal.Signals) -> str:
        """Send ``sig`` and return what the process wrote on stderr until it ended."""
        self.process.send_signal(sig)
        _, err = self.process.communicate(timeout=60)
        return err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "videoedit_emulator.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("videoedit-emulator serving on http://127.0.0.1:"), first
        yield Served(process, first.split()[3], tmpdir)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def make_an_upload_and_a_result(served: Served, clip: Path) -> None:
    """A local clip edited through the real client: uploaded and rendered (the render cache
    is not in the temp dir: it is shared by every emulator and outlives them)."""
    with Client("dashscope-beijing", api_key="sk-stop", base_url=served.root + "/api/v1") as client:
        task = client.wait(
            client.submit(VideoEdit(video=clip, prompt="stop", resolution="720P", duration=2))
        )
    assert task.status is TaskStatus.SUCCEEDED
    storage = served.storage()
    for kept in ("uploads", "results"):
        assert [p for p in (storage / kept).rglob("*") if p.is_file()], f"nothing in {kept}/"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_while_serving_leaves_nothing_and_no_traceback(
    served: Served, emulator_sample_clip: Path, sig: signal.Signals
) -> None:
    make_an_upload_and_a_result(served, emulator_sample_clip)
    err = served.stop(sig)
    assert served.process.returncode == -sig  # died of it, as systemd and shells expect
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert "Shutting down" in err  # uvicorn's own graceful stop ran first
    assert list(served.tmpdir.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_before_it_serves_leaves_nothing(served: Served, sig: signal.Signals) -> None:
    """Right after the banner, before uvicorn took over the signals (or just as it does)."""
    err = served.stop(sig)
    assert served.process.returncode == -sig
    assert "Traceback" not in err
    assert list(served.tmpdir.iterdir()) == []


def test_a_second_signal_does_not_cut_the_cleanup_short(
    served: Served, emulator_sample_clip: Path
) -> None:
    """systemd's and Docker's SIGTERM followed by an impatient Ctrl-C."""
    make_an_upload_and_a_result(served, emulator_sample_clip)
    served.process.send_signal(signal.SIGTERM)
    err = served.stop(signal.SIGINT)
    assert served.process.returncode in (-signal.SIGTERM, -signal.SIGINT)
    assert "Traceback" not in err
    assert list(served.tmpdir.iterdir()) == []
