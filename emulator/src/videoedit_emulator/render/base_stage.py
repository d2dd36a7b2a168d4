"""The base stage: ``W×H`` yuv420p frames at exactly 30 fps, ``N`` of them, built by the mode.

The source (or the ``testsrc2`` pattern) scaled to the output, the reference images in
sequence, or the extension's clips and held frames; outpainting's geometry is part of it.
Sources are decoded only as far as needed (``-t`` on the input) and converted to 30 fps before
or after scaling, whichever touches fewer frames; ``tpad`` clones the last frame when the
source is shorter than the output and ``trim`` cuts at exactly ``N`` frames, so the count
never depends on the source.
"""

from __future__ import annotations

from videoedit.probe import VideoInfo

from .graph import GraphBuilder, even, num
from .job import FPS, Extension, ImageReference, Outpaint

__all__ = ["OUTPAINT_FILL", "BaseStage"]

OUTPAINT_FILL = "0x3c5a78"


class BaseStage(GraphBuilder):
    """The steps that build the base frames."""

    def outpaint_geometry(self, mode: Outpaint, src_w: int, src_h: int) -> str:
        W, H = self.W, self.H
        pw_src = src_w * (mode.left + mode.right - 1)
        ph_src = src_h * (mode.top + mode.bottom - 1)
        k = min(W / pw_src, H / ph_src)
        pw = min(W, even(pw_src * k))
        ph = min(H, even(ph_src * k))
        sw = min(pw, even(src_w * k))
        sh = min(ph, even(src_h * k))
        px = min(pw - sw, even(src_w * (mode.left - 1) * k) if mode.left > 1 else 0)
        py = min(ph - sh, even(src_h * (mode.top - 1) * k) if mode.top > 1 else 0)
        lx = (W - pw) // 2 // 2 * 2
        ly = (H - ph) // 2 // 2 * 2
        return (
            f"scale={sw}:{sh}:flags=bilinear:out_range=tv,format=yuv420p,setsar=1,"
            f"pad={pw}:{ph}:{px}:{py}:color={OUTPAINT_FILL},pad={W}:{H}:{lx}:{ly}:color=black"
        )

    def pattern_base(self, n: int, out: str) -> None:
        self.pattern = True
        self.chains.append(
            f"testsrc2=size={self.W}x{self.H}:rate={FPS}:duration={num((n + 1) / FPS)},"
            f"format=yuv420p,setsar=1,trim=end_frame={n}[{out}]"
        )

    def source_base(self, n: int, info: VideoInfo, index: int, geometry: str, out: str) -> None:
        fast_first = info.fps is not None and info.fps > FPS + 0.5
        steps = ["setpts=PTS-STARTPTS"]
        if fast_first:
            steps.append(f"fps={FPS}")
        steps += [geometry, "format=yuv420p", "setsar=1"]
        if not fast_first:
            steps.append(f"fps={FPS}")
        steps += [f"tpad=stop_mode=clone:stop={n}", f"trim=end_frame={n}"]
        self.chains.append(f"[{index}:v]" + ",".join(steps) + f"[{out}]")

    def still_segment(self, index: int, frames: int, geometry: str, out: str) -> None:
        self.chains.append(
            f"[{index}:v]trim=end_frame=1,setpts=PTS-STARTPTS,{geometry},format=yuv420p,"
            f"setsar=1,fps={FPS},tpad=stop_mode=clone:stop={frames},trim=end_frame={frames}[{out}]"
        )

    def build_base(self) -> tuple[str, int, VideoInfo | None, int | None]:
        """Returns (label, frames, source info, source input index)."""
        job, mode = self.job, self.job.mode
        if isinstance(mode, ImageReference):
            return self.image_reference_base(mode)
        if isinstance(mode, Extension):
            return self.extension_base(mode)
        base = self.label("base")
        if job.source is None:
            n = self.frames_for(None)
            if isinstance(mode, Outpaint):
                raw = self.label("pat")
                self.pattern_base(n, raw)
                self.chains.append(f"[{raw}]{self.outpaint_geometry(mode, self.W, self.H)}[{base}]")
            else:
                self.pattern_base(n, base)
            return base, n, None, None
        info = self.probe(job.source, "source")
        n = self.frames_for(info)
        index = self.add_input(job.source, "source", limit=n / FPS + 1.0)
        if isinstance(mode, Outpaint):
            geometry = self.outpaint_geometry(mode, info.width, info.height)
        else:
            geometry = self.geometry(job.fit, self.W, self.H)
        self.source_base(n, info, index, geometry, base)
        return base, n, info, index

    def image_reference_base(self, mode: ImageReference) -> tuple[str, int, None, None]:
        n = self.frames_for(None)
        images = self.job.images
        if not images:
            base = self.label("base")
            self.pattern_base(n, base)
            return base, n, None, None
        count = min(len(images), n)
        segments: list[str] = []
        fs = self.font_size(scale=1.6)
        for i, image in enumerate(images[:count]):
            frames = n // count + (1 if i < n % count else 0)
            index = self.add_input(image, f"images[{i}]", still=True)
            seg = self.label("ref")
            tag = f" · {mode.obj_or_bg[i]}" if mode.obj_or_bg else ""
            name = f"segment{i}.txt"
            self.text_files[name] = f"reference {i + 1}/{count}{tag}"
            raw = self.label("refraw")
            self.still_segment(index, frames, self.geometry("contain", self.W, self.H), raw)
            self.chains.append(
                f"[{raw}]drawtext={self.font_opt()}textfile={name}:expansion=none:"
                f"fontsize={fs}:fontcolor=white:box=1:boxcolor=black@0.6:"
                f"boxborderw={max(2, fs // 4)}:x=(w-tw)/2:y=h*0.62[{seg}]"
            )
            segments.append(seg)
        base = self.label("base")
        if count == 1:
            self.chains.append(f"[{segments[0]}]null[{base}]")
        else:
            joined = "".join(f"[{s}]" for s in segments)
            self.chains.append(f"{joined}concat=n={count}:v=1:a=0[{base}]")
        return base, n, None, None

    def extension_base(self, mode: Extension) -> tuple[str, int, None, None]:
        n = self.frames_for(None)
        first = mode.first_clip or mode.first_frame
        last = mode.last_clip or mode.last_frame
        if first is None and last is None:
            base = self.label("base")
            self.pattern_base(n, base)
            return base, n, None, None
        cover = self.geometry(self.job.fit, self.W, self.H)
        parts: list[str] = []
        last_frames = 0
        if last is not None:
            if mode.last_clip is not None:
                info = self.probe(mode.last_clip, "last_clip")
                clip = max(1, min(round(info.duration * FPS), n - (1 if first else 0)))
                last_frames = clip if first is not None else n
                index = self.add_input(mode.last_clip, "last_clip", limit=info.duration + 1.0)
                seg = self.label("last")
                self.chains.append(
                    f"[{index}:v]setpts=PTS-STARTPTS,{cover},format=yuv420p,setsar=1,fps={FPS},"
                    f"trim=end_frame={clip},tpad=start_mode=clone:start={last_frames - clip}:"
                    f"stop_mode=clone:stop={last_frames},trim=end_frame={last_frames}[{seg}]"
                )
            else:
                assert mode.last_frame is not None
                last_frames = n // 2 if first is not None else n
                index = self.add_input(mode.last_frame, "last_frame", still=True)
                seg = self.label("last")
                self.still_segment(index, last_frames, cover, seg)
            parts.append(seg)
        if first is not None:
            first_frames = n - last_frames
            seg = self.label("first")
            if mode.first_clip is not None:
                index = self.add_input(mode.first_clip, "first_clip", limit=first_frames / FPS + 1)
                self.chains.append(
                    f"[{index}:v]setpts=PTS-STARTPTS,{cover},format=yuv420p,setsar=1,fps={FPS},"
                    f"tpad=stop_mode=clone:stop={first_frames},trim=end_frame={first_frames}[{seg}]"
                )
            else:
                assert mode.first_frame is not None
                index = self.add_input(mode.first_frame, "first_frame", still=True)
                self.still_segment(index, first_frames, cover, seg)
            parts.insert(0, seg)
        base = self.label("base")
        if len(parts) == 1:
            self.chains.append(f"[{parts[0]}]null[{base}]")
        else:
            self.chains.append(f"[{parts[0]}][{parts[1]}]concat=n=2:v=1:a=0[{base}]")
        return base, n, None, None
