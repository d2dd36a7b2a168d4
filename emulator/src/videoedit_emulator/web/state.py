"""What the web app keeps beside the engine: the adapters it serves, the fault rules in
front of them and the journal of what they received.

These belong to the web app, not to the engine (which speaks no wire format): `create_app`
makes one `WebState` per app, the control plane and the middleware work on it, and
`EmulatorServer.faults` / `.journal` are its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from videoedit_emulator.web.journal import Journal

if TYPE_CHECKING:
    from videoedit_emulator.engine import TaskEngine
    from videoedit_emulator.web.adapter_set import AdapterSet
    from videoedit_emulator.web.faults import FaultPlan

__all__ = ["WebState"]


@dataclass
class WebState:
    """One web app's engine, adapters, fault plan and journal."""

    engine: TaskEngine
    adapters: AdapterSet
    faults: FaultPlan
    journal: Journal = field(default_factory=Journal)

    def __post_init__(self) -> None:
        # With a state directory the rules and the journal are kept with the engine's state.
        self.engine.persistence.keep(self.faults, self.journal)

    def reset(self, *, seed: int | None = None) -> None:
        """Reset the engine (tasks, uploads, results, ids, timing) and forget every fault
        rule and journal entry."""
        self.engine.reset(seed=seed)
        self.faults.clear()
        self.journal.clear()
