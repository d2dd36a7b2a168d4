"""The model id of wan2.1-vace-plus, which differs by DashScope region.

Beijing still serves the model under its older ``wanx`` name; Singapore (international)
serves it as ``wan2.1-vace-plus``. A request names the family; the id on the wire follows the
region of the provider it is sent to (``EncodeContext.region``).
"""

from __future__ import annotations

from typing import Final

__all__ = ["MODEL_BEIJING", "MODEL_IDS", "MODEL_SINGAPORE", "model_id_for"]

MODEL_BEIJING: Final = "wanx2.1-vace-plus"
MODEL_SINGAPORE: Final = "wan2.1-vace-plus"
#: Both spellings a request may carry; either one means the same model family.
MODEL_IDS: Final = (MODEL_SINGAPORE, MODEL_BEIJING)

_BY_REGION: Final = {"beijing": MODEL_BEIJING, "singapore": MODEL_SINGAPORE}


def model_id_for(region: str | None) -> str:
    """The id to send in ``region``.

    An unknown region (``None``, or a region this plugin has no id for, such as a gateway
    that wraps the DashScope body) gets the international id ``wan2.1-vace-plus``: it is the
    name the English documentation uses, and a gateway maps its own model names anyway.
    """
    return _BY_REGION.get((region or "").lower(), MODEL_SINGAPORE)
