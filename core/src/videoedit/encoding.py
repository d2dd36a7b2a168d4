"""What an encoder is told about a request's destination: the [`EncodeContext`][videoedit.EncodeContext].

It sits below both the request models (``EditRequest.model_for`` reads it) and the provider
contract (``Provider.encode_context`` builds it), so that neither has to import the other to
speak of it; `videoedit.provider` and `videoedit.hookspecs` re-export it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EncodeContext"]


@dataclass(frozen=True)
class EncodeContext:
    """Where a request is going, so an encoder can pick the right model id or field names.

    ``dialect`` names the body format (``"dashscope"`` for the DashScope body that Vtrix also
    wraps; ``"apimart"`` for the flat gateway schema); ``region`` is set by regional providers
    (``"beijing"``, ``"singapore"``); ``options`` are the provider's options (field-name maps…).
    """

    provider: str
    dialect: str
    region: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
