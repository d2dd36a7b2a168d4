"""videoedit request types for the legacy wan2.1-vace-plus function modes.

Five request types, one per ``function``: [`ImageReference`][videoedit_vace.ImageReference], [`VideoRepainting`][videoedit_vace.VideoRepainting],
[`MaskedVideoEdit`][videoedit_vace.MaskedVideoEdit] (``video_edit``), [`VideoExtension`][videoedit_vace.VideoExtension] and
[`VideoOutpainting`][videoedit_vace.VideoOutpainting]; [`parse_vace_request`][videoedit_vace.parse_vace_request] picks the right one from a dict.
Installed, the plugin lets every DashScope-format provider send them::

    import videoedit
    from videoedit_vace import VideoOutpainting

    client = videoedit.Client("dashscope-singapore")
    task = client.submit(VideoOutpainting(video_url="clip.mp4", prompt="…", left_scale=1.5))
"""

from videoedit_vace.encoding import dashscope_body
from videoedit_vace.regions import (
    MODEL_BEIJING,
    MODEL_IDS,
    MODEL_OPTION,
    MODEL_SINGAPORE,
    model_id_for,
)
from videoedit_vace.requests import (
    FUNCTIONS,
    KNOWN_SIZES,
    REQUEST_TYPES,
    AnyVaceRequest,
    ImageReference,
    MaskedVideoEdit,
    VaceFunction,
    VaceRequest,
    VideoExtension,
    VideoOutpainting,
    VideoRepainting,
    parse_vace_request,
)

__all__ = [
    "FUNCTIONS",
    "KNOWN_SIZES",
    "MODEL_BEIJING",
    "MODEL_IDS",
    "MODEL_OPTION",
    "MODEL_SINGAPORE",
    "REQUEST_TYPES",
    "AnyVaceRequest",
    "ImageReference",
    "MaskedVideoEdit",
    "VaceFunction",
    "VaceRequest",
    "VideoExtension",
    "VideoOutpainting",
    "VideoRepainting",
    "dashscope_body",
    "model_id_for",
    "parse_vace_request",
]
