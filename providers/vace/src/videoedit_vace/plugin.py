"""Entry point of ``videoedit-vace``: teaches the ``dashscope`` dialect the five function modes.

The DashScope providers do not import this package. They ask the plugin host to encode
whatever request they are given; with this plugin installed, vace requests find a taker
here, and without it they are refused locally ("cannot carry"). Every provider of the
``dashscope`` dialect gains them: both DashScope regions, and gateways that wrap that body.
"""

from __future__ import annotations

from typing import Any

from videoedit.hookspecs import EncodeContext, hookimpl
from videoedit.requests import EditRequest
from videoedit_vace.encoding import dashscope_body
from videoedit_vace.requests import VaceRequest

__all__ = ["DIALECT", "encode_request"]

DIALECT = "dashscope"


@hookimpl
def encode_request(request: EditRequest, context: EncodeContext) -> dict[str, Any] | None:
    if context.dialect == DIALECT and isinstance(request, VaceRequest):
        return dashscope_body(request, context.region, context.options)
    return None
