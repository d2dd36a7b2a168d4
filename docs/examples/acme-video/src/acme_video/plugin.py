"""What the ``videoedit`` entry point loads: Acme's provider, and the wan2.7 edit in its body.

The provider never imports a request type: it asks the plugin host to encode whatever it is
given in the ``acme-video`` dialect, and this module answers for ``videoedit.VideoEdit``.
Another plugin could teach Acme's dialect further request types the same way.
"""

from __future__ import annotations

from typing import Any

import videoedit
from videoedit.hookspecs import Register

from acme_video.provider import DIALECT, AcmeVideoProvider

__all__ = ["acme_body", "encode_request", "register_providers"]


def acme_body(request: videoedit.VideoEdit) -> dict[str, Any]:
    """The create body for a wan2.7 edit; unset options are left to Acme's defaults."""
    output: dict[str, Any] = {
        "height": 720 if request.resolution == "720P" else 1080,
        "keep_audio": request.audio_setting == "origin",
        "watermark": request.watermark,
    }
    if request.ratio is not None:
        output["aspect"] = request.ratio
    if request.duration:
        output["seconds"] = request.duration
    body: dict[str, Any] = {"source": {"url": request.video}, "output": output}
    if request.prompt:
        body["instruction"] = request.prompt
    if request.negative_prompt:
        body["avoid"] = request.negative_prompt
    if request.reference_images:
        body["style_refs"] = list(request.reference_images)
    body["rewrite_instruction"] = request.prompt_extend
    if request.seed is not None:
        body["seed"] = request.seed
    return body


@videoedit.hookimpl
def register_providers(register: Register) -> None:
    register(AcmeVideoProvider)


@videoedit.hookimpl
def encode_request(
    request: videoedit.EditRequest, context: videoedit.EncodeContext
) -> dict[str, Any] | None:
    if context.dialect == DIALECT and isinstance(request, videoedit.VideoEdit):
        return acme_body(request)
    return None
