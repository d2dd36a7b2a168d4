"""A plugin whose author misspelt a hook: ``register_provider`` instead of ``register_providers``.

Loaded through an entry point by tests/core/test_plugin_host.py; pluggy alone would accept it
and never call it, so the provider would silently be missing.
"""

from __future__ import annotations

from typing import Any

from videoedit import hookimpl
from videoedit_dashscope import DashScopeBeijing


class MisspeltProvider(DashScopeBeijing):
    id = "misspelt"


@hookimpl
def register_provider(register: Any) -> None:
    register(MisspeltProvider)
