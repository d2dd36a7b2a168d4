"""The batch the kill tests run in a child process, and kill at a chosen instant.

``python batch_child.py PROVIDER BASE_URL MANIFEST LEDGER [KILL_AT]`` runs the manifest's
rows one at a time through ``videoedit.Batch`` and prints the report as JSON. With
``KILL_AT`` (``intent:N``, ``claim:N``, ``write:N``, ``saved:N``) the process sends itself
SIGKILL right after the N-th call of that step: no ``finally``, no flush, no cleanup.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import videoedit.reconcile
from videoedit import AsyncClient
from videoedit.batch import Batch
from videoedit.download import ResultFile
from videoedit.ledger import Ledger
from videoedit.manifest import read_manifest

#: Where each kill point strikes: right after this method returns.
STEPS = {
    "intent": (Ledger, "record_intent"),  # the edit is filed; nothing was sent
    "claim": (Ledger, "claim"),  # marked sending; the creation has not left yet
    "write": (ResultFile, "write"),  # the first chunk of a result is in its .part file
    "saved": (Ledger, "record_saved"),  # a row is saved; the next one has not begun
}


def kill_after(step: str, nth: int) -> None:
    owner, name = STEPS[step]
    original = getattr(owner, name)
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        value = original(*args, **kwargs)
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return value

    setattr(owner, name, wrapper)


def main() -> None:
    provider, base_url, manifest_path, ledger_path = sys.argv[1:5]
    if len(sys.argv) > 5:
        step, _, nth = sys.argv[5].partition(":")
        kill_after(step, int(nth))
    # A creation that never arrived is told from one in transit after this long; the
    # emulator answers in milliseconds.
    videoedit.reconcile.SETTLE_SECONDS = 0.5
    manifest = read_manifest(manifest_path, provider=provider)
    client = AsyncClient(provider, base_url=base_url, api_key="sk-batch", ledger=ledger_path)
    report = Batch(client, manifest, concurrency=1).run()
    print(json.dumps(report.as_json()), flush=True)


if __name__ == "__main__":
    main()
