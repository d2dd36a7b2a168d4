"""The mode filters, drawn on the base frames: repainting's control picture and the mask overlay.

(Outpainting is part of the base geometry, ``base_stage.py``.)
"""

from __future__ import annotations

from .graph import GraphBuilder, num
from .job import FPS, MaskedEdit, Repaint

__all__ = ["MASK_ALPHA", "ModeFilters"]

MASK_ALPHA = 0.55


class ModeFilters(GraphBuilder):
    """The steps of the mode filters."""

    def repaint(self, mode: Repaint, src: str) -> str:
        if mode.strength <= 0:
            return src
        # sobel is ~10x cheaper than edgedetect here and reads as a line drawing
        control = {
            "posebodyface": "sobel=planes=1:scale=2",  # luma edges, chroma kept: edges on colour
            "posebody": "format=gray,sobel=scale=2,format=yuv420p",
            "depth": f"format=gray,gblur=sigma={num(max(1.0, self.H / 120))},format=yuv420p",
            "scribble": "format=gray,sobel=scale=2,negate,format=yuv420p",
        }[mode.control_condition]
        out = self.label("repaint")
        if mode.strength >= 1:
            self.chains.append(f"[{src}]{control}[{out}]")
            return out
        orig, feed, ctl = self.label("orig"), self.label("feed"), self.label("ctl")
        self.chains.append(f"[{src}]split=2[{orig}][{feed}]")
        self.chains.append(f"[{feed}]{control}[{ctl}]")
        self.chains.append(
            f"[{ctl}][{orig}]blend=all_mode=normal:all_opacity={num(mode.strength)}[{out}]"
        )
        return out

    def masked(self, mode: MaskedEdit, src: str) -> str:
        job = self.job
        geometry = self.geometry(job.fit, self.W, self.H, picture=False)
        if mode.mask_image is not None:
            index = self.add_input(mode.mask_image, "mask_image", still=True)
            head = f"[{index}:v]trim=end_frame=1,setpts=PTS-STARTPTS,"
            rate = ""
        else:
            assert mode.mask_video is not None
            self.probe(mode.mask_video, "mask_video")
            limit = (job.frames or self.frames_for(None)) / FPS + 1.0
            index = self.add_input(mode.mask_video, "mask_video", limit=limit)
            head = f"[{index}:v]setpts=PTS-STARTPTS,"
            rate = f"fps={FPS},"
        steps = [f"{geometry},{rate}format=gray"]
        if mode.mask_type == "tracking" and mode.expand_ratio > 0:
            radius = min(
                round(mode.expand_ratio * min(self.W, self.H)), min(self.W, self.H) // 2 - 1
            )
            if radius >= 1:
                steps.append(f"boxblur=luma_radius={radius}:luma_power=1,lut=c0='gt(val,0)*255'")
        steps.append(
            "format=rgba,colorchannelmixer=rr=0:rg=0:rb=0:ra=1:gr=0:gg=0:gb=0:ga=0:"
            f"br=0:bg=0:bb=0:ba=1:ar={num(MASK_ALPHA)}:ag=0:ab=0:aa=0,format=yuva420p"
        )
        mask, out = self.label("mask"), self.label("masked")
        self.chains.append(head + ",".join(steps) + f"[{mask}]")
        self.chains.append(f"[{src}][{mask}]overlay=eof_action=repeat:format=yuv420[{out}]")
        return out
