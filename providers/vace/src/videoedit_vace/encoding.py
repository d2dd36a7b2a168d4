"""The DashScope create body of a vace request.

``{"model": <region's id, or the vace_model option>, "input": {"function", "prompt", …urls…},
"parameters": {…}}``,
as the documentation's examples write it. Only the fields the caller set are sent: the
service applies its own defaults to the rest, and a body built from one of the
documentation's examples reproduces that example exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videoedit_vace.regions import model_id_for
from videoedit_vace.requests import INPUT_FIELDS, VaceRequest

__all__ = ["dashscope_body"]

_NOT_SENT = frozenset({"model", "function"})


def dashscope_body(
    request: VaceRequest, region: str | None, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The body for ``request`` sent to a DashScope route of ``region``, whose provider has
    ``options`` (``vace_model`` picks the model id; see `model_id_for`)."""
    input_: dict[str, Any] = {"function": request.function}
    parameters: dict[str, Any] = {}
    for name in type(request).model_fields:
        if name in _NOT_SENT or name not in request.model_fields_set:
            continue
        value = getattr(request, name)
        if value is None or (isinstance(value, list) and not value):
            continue  # an optional field left out, or emptied by the client's upload step
        block = input_ if name in INPUT_FIELDS else parameters
        block[name] = list(value) if isinstance(value, list) else value
    # ``parameters`` is always present, as in every documented example and the official SDK.
    return {"model": model_id_for(region, options), "input": input_, "parameters": parameters}
