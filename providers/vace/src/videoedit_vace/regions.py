"""The model id of wan2.1-vace-plus, which differs by DashScope region (and by page).

Singapore (international) serves the model as ``wan2.1-vace-plus``. For Beijing the pages
disagree: the Chinese Video Editing 2.7 guide names ``wanx2.1-vace-plus``, while the general
video editing page sends ``wan2.1-vace-plus`` to the Beijing host in all five of its
examples. A request names the family; the id on the wire follows the region of the provider
it is sent to (``EncodeContext.region``), and the provider option ``vace_model`` picks
either spelling instead (``Client("dashscope-beijing", options={"vace_model":
"wan2.1-vace-plus"})``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from videoedit.errors import InvalidRequestError

__all__ = ["MODEL_BEIJING", "MODEL_IDS", "MODEL_OPTION", "MODEL_SINGAPORE", "model_id_for"]

MODEL_BEIJING: Final = "wanx2.1-vace-plus"
MODEL_SINGAPORE: Final = "wan2.1-vace-plus"
#: Both spellings a request may carry; either one means the same model family.
MODEL_IDS: Final = (MODEL_SINGAPORE, MODEL_BEIJING)
#: The provider option that chooses the id sent (declared by both DashScope providers).
MODEL_OPTION: Final = "vace_model"

_BY_REGION: Final = {"beijing": MODEL_BEIJING, "singapore": MODEL_SINGAPORE}


def model_id_for(region: str | None, options: Mapping[str, Any] | None = None) -> str:
    """The id to send in ``region``, unless the provider's ``vace_model`` option names one.

    Without the option, Beijing gets ``wanx2.1-vace-plus`` and every other region
    ``wan2.1-vace-plus``: an unknown region (``None``, or a region this plugin has no id for,
    such as a gateway that wraps the DashScope body) gets the international id, the name the
    English documentation uses; a gateway maps its own model names anyway. The option must be
    one of the two spellings (`MODEL_IDS`).
    """
    chosen = (options or {}).get(MODEL_OPTION)
    if chosen is None:
        return _BY_REGION.get((region or "").lower(), MODEL_SINGAPORE)
    if not isinstance(chosen, str) or chosen not in MODEL_IDS:
        shown = repr(chosen)[:60]
        raise InvalidRequestError(
            f"options.{MODEL_OPTION}: must be {MODEL_SINGAPORE!r} or {MODEL_BEIJING!r} "
            f"(the id of wan2.1-vace-plus to send), got {shown}",
            field=f"options.{MODEL_OPTION}",
            rule=f"one of {', '.join(MODEL_IDS)}",
        )
    return chosen
