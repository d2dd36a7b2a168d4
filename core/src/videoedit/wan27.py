"""Built-in plugin: the wan2.7 instruction edit in the DashScope body format.

Loaded through the core's own ``videoedit`` entry point, exactly like a third-party plugin.
Every provider of the ``dashscope`` dialect (both DashScope regions, and Vtrix, which wraps
the same body) gets its wan2.7 body from here.
"""

from __future__ import annotations

from typing import Any

from videoedit.hookspecs import EncodeContext, hookimpl
from videoedit.requests import EditRequest, VideoEdit

DASHSCOPE = "dashscope"


def dashscope_body(request: VideoEdit) -> dict[str, Any]:
    """The documented create body; defaults are sent explicitly so the wire shows the intent."""
    media: list[dict[str, str]] = [{"type": "video", "url": request.video}]
    media += [{"type": "reference_image", "url": url} for url in request.reference_images]
    input_: dict[str, Any] = {}
    # An empty prompt is no prompt (the default style transfer): leave it out, not "".
    if request.prompt:
        input_["prompt"] = request.prompt
    if request.negative_prompt:
        input_["negative_prompt"] = request.negative_prompt
    input_["media"] = media
    parameters: dict[str, Any] = {
        "resolution": request.resolution,
        "duration": request.duration,
        "audio_setting": request.audio_setting,
        "prompt_extend": request.prompt_extend,
        "watermark": request.watermark,
    }
    if request.ratio is not None:
        parameters["ratio"] = request.ratio
    if request.seed is not None:
        parameters["seed"] = request.seed
    return {"model": request.model, "input": input_, "parameters": parameters}


@hookimpl
def encode_request(request: EditRequest, context: EncodeContext) -> dict[str, Any] | None:
    if context.dialect == DASHSCOPE and isinstance(request, VideoEdit):
        return dashscope_body(request)
    return None
