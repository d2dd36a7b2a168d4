"""Entry point of ``videoedit-vtrix``: registers the ``vtrix`` provider.

Vtrix needs no encoder of its own: its envelope carries the ``dashscope`` dialect, which the
core's wan2.7 plugin (and any plugin adding DashScope request types) already encodes.
"""

from __future__ import annotations

from videoedit import hookimpl
from videoedit.hookspecs import Register
from videoedit_vtrix.provider import VtrixProvider


@hookimpl
def register_providers(register: Register) -> None:
    register(VtrixProvider)
