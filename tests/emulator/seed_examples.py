"""The create bodies of seed 004 (the general video editing page), verbatim.

Each is the text of one ``curl --data '…'`` example on the page (the shell's ``'\\''`` read
as ``'``), all sent to the Beijing host ``https://dashscope.aliyuncs.com/api/v1``. Tests send
these bytes unchanged.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SEED_004", "VACE_EXAMPLES", "WAN27_EXAMPLES", "body"]

#: Example name -> the body's text as printed on the page.
SEED_004: dict[str, str] = {
    "wan27_style_change": """{
  "model": "wan2.7-videoedit",
  "input": {
    "prompt": "Convert the entire scene to a claymation style",
    "media": [
      {
        "type": "video",
        "url": "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20260402/ldnfdf/wan2.7-videoedit-style-change.mp4"
      }
    ]
  },
  "parameters": {
    "resolution": "720P",
    "prompt_extend": true,
    "watermark": true
  }
}""",
    "wan27_reference_image": """{
  "model": "wan2.7-videoedit",
  "input": {
    "prompt": "Replace the girl's clothes in the video with the clothes from the image",
    "media": [
      {
        "type": "video",
        "url": "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20260403/nlspwm/T2VA_22.mp4"
      },
      {
        "type": "reference_image",
        "url": "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20260402/fwjpqf/wan2.7-videoedit-change-clothes.png"
      }
    ]
  },
  "parameters": {
    "resolution": "720P",
    "prompt_extend": true,
    "watermark": true
  }
}""",
    "image_reference": """{
  "model": "wan2.1-vace-plus",
  "input": {
    "function": "image_reference",
    "prompt": "In the video, a girl gracefully walks out from a misty, ancient forest. Her steps are light, and the camera captures her every nimble moment. When she stops and looks around at the lush woods, a smile of surprise and joy blossoms on her face. This scene, frozen in a moment of interplay between light and shadow, records her wonderful encounter with nature.",
    "ref_images_url": [
      "http://wanx.alicdn.com/material/20250318/image_reference_2_5_16.png",
      "http://wanx.alicdn.com/material/20250318/image_reference_1_5_16.png"
    ]
  },
  "parameters": {
    "prompt_extend": true,
    "obj_or_bg": ["obj","bg"],
    "size": "1280*720"
  }
}""",
    "video_repainting": """{
  "model": "wan2.1-vace-plus",
  "input": {
    "function": "video_repainting",
    "prompt": "The video shows a black steampunk-style car driven by a gentleman. The car is decorated with gears and copper pipes. The background features a steam-powered candy factory and retro elements, creating a vintage and playful scene.",
    "video_url": "http://wanx.alicdn.com/material/20250318/video_repainting_1.mp4"
  },
  "parameters": {
    "prompt_extend": false,
    "control_condition": "depth"
  }
}""",
    "video_edit": """{
  "model": "wan2.1-vace-plus",
  "input": {
    "function": "video_edit",
    "prompt": "The video shows a Parisian-style French cafe where a lion in a suit is elegantly sipping coffee. It holds a coffee cup in one hand, taking a gentle sip with a relaxed expression. The cafe is tastefully decorated, with soft hues and warm lighting illuminating the area where the lion is.",
    "mask_image_url": "http://wanx.alicdn.com/material/20250318/video_edit_1_mask.png",
    "video_url": "http://wanx.alicdn.com/material/20250318/video_edit_2.mp4",
    "mask_frame_id": 1
  },
  "parameters": {
    "prompt_extend": false,
    "mask_type": "tracking",
    "expand_ratio": 0.05,
    "size": "1280*720"
  }
}""",
    "video_extension": """{
  "model": "wan2.1-vace-plus",
  "input": {
    "function": "video_extension",
    "prompt": "A dog wearing sunglasses is skateboarding on the street, 3D cartoon.",
    "first_clip_url": "http://wanx.alicdn.com/material/20250318/video_extension_1.mp4"
  },
  "parameters": {
    "prompt_extend": false
  }
}""",
    "video_outpainting": """{
  "model": "wan2.1-vace-plus",
  "input": {
    "function": "video_outpainting",
    "prompt": "An elegant lady is passionately playing the violin, with a full symphony orchestra behind her.",
    "video_url": "http://wanx.alicdn.com/material/20250318/video_outpainting_1.mp4"
  },
  "parameters": {
    "prompt_extend": false,
    "top_scale": 1.5,
    "bottom_scale": 1.5,
    "left_scale": 1.5,
    "right_scale": 1.5
  }
}""",
}

#: The two wan2.7-videoedit examples and the five wan2.1-vace-plus ones (one per function).
WAN27_EXAMPLES = ("wan27_style_change", "wan27_reference_image")
VACE_EXAMPLES = (
    "image_reference",
    "video_repainting",
    "video_edit",
    "video_extension",
    "video_outpainting",
)


def body(name: str) -> dict[str, Any]:
    """The example parsed (a fresh copy each time)."""
    parsed: dict[str, Any] = json.loads(SEED_004[name])
    return parsed
