"""Entry point of ``videoedit-apimart``: the ``apimart`` provider and its body encoder.

The encoder answers the ``encode_request`` hook for the ``apimart`` dialect only, so another
plugin can teach the gateway further request types the same way.
"""

from __future__ import annotations

from typing import Any

from videoedit import hookimpl
from videoedit.hookspecs import EncodeContext, Register
from videoedit.requests import EditRequest, VideoEdit
from videoedit_apimart.encoding import DIALECT, ApimartOptions, apimart_body
from videoedit_apimart.provider import ApimartProvider


@hookimpl
def register_providers(register: Register) -> None:
    register(ApimartProvider)


@hookimpl
def encode_request(request: EditRequest, context: EncodeContext) -> dict[str, Any] | None:
    if context.dialect == DIALECT and isinstance(request, VideoEdit):
        return apimart_body(request, ApimartOptions.from_options(context.options))
    return None
