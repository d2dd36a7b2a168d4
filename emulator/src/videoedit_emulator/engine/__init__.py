"""The emulator's engine: tasks, their media and their time, in no wire format.

[`TaskEngine`][videoedit_emulator.TaskEngine] (``tasks.py``) is the facade every wire format calls. It applies
the declared lifecycle (``lifecycle.py``) and composes the parts named in its docstring (the
task record, quotas and the slot scheduler, the render pool, downloads, ids, result links);
beside them the store of uploads and results (``store.py``), the fetching and probing of inputs
(``sources.py``), time (``clock.py``), the concurrency slots (``slots.py``), the configuration
(``config.py``), the errors the engine raises (``errors.py``), text checks (``text.py``) and
the model families (``models/``). It imports the renderer (`videoedit_emulator.render`) and
nothing of the web app (`videoedit_emulator.web`).

Names are imported lazily, so that reading the configuration (the CLI's ``--help``) does not
load the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoedit_emulator.engine.tasks import TaskEngine, TaskView

__all__ = ["TaskEngine", "TaskView"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'videoedit_emulator.engine' has no attribute {name!r}")
    return getattr(importlib.import_module("videoedit_emulator.engine.tasks"), name)
