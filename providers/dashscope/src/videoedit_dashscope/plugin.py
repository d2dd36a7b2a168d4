"""Entry point of ``videoedit-dashscope``: registers both regions."""

from __future__ import annotations

from videoedit import hookimpl
from videoedit.hookspecs import Register
from videoedit_dashscope.provider import DashScopeBeijing, DashScopeSingapore


@hookimpl
def register_providers(register: Register) -> None:
    register(DashScopeBeijing, aliases=("dashscope-cn", "dashscope"))
    register(DashScopeSingapore, aliases=("dashscope-intl", "dashscope-sg"))
