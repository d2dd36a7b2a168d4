"""The offline demo (``videoedit-emulator demo``, ``make demo``): one real edit, no key, no network.

It starts the emulator in a thread, makes a sample clip, and edits it through the same path
an application takes against the real service: ``videoedit.Client`` with the DashScope
provider, the local file uploaded by DashScope's temporary-upload flow, the task polled
with progress events, the result streamed to disk. Then it says what the MP4 holds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

__all__ = ["DEFAULT_OUT", "NEXT_STEPS", "run_demo"]

DEFAULT_OUT = Path("videoedit-demo") / "edited.mp4"
PROMPT = "Turn the scene into claymation, with warm studio light"
#: The closing advice: what to type next (the demo's Python is not what the user saw).
NEXT_STEPS = (
    'videoedit edit clip.mp4 --prompt "claymation style" --emulator      # your clip, offline',
    "export DASHSCOPE_API_KEY=sk-...                                      # a Model Studio key",
    'videoedit edit clip.mp4 --prompt "claymation style" -o out.mp4      # the real service',
)


def run_demo(
    out: Path | None = None, provider: str = "dashscope-singapore", stream: TextIO | None = None
) -> int:
    """Run the demo, print what happens to ``stream``; 0 on success, 1 on failure."""
    import videoedit
    from videoedit_emulator.engine.config import Progression
    from videoedit_emulator.render import make_sample_clip, probe_output
    from videoedit_emulator.server import EmulatorServer

    stream = stream or sys.stdout
    out = (out or DEFAULT_OUT).expanduser().resolve()

    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    started = time.monotonic()

    def show(event: videoedit.TaskEvent) -> None:
        clock = f"[{time.monotonic() - started:5.2f} s]"
        kind = videoedit.EventKind
        if event.kind is kind.UPLOADED:
            say(f"{clock} uploaded    {event.detail}")
        elif event.kind is kind.SUBMITTED and event.task:
            say(f"{clock} submitted   task {event.task.task_id} ({event.task.status})")
        elif event.kind is kind.STATUS_CHANGED and event.task:  # each poll would be a flood
            say(f"{clock} polled      {event.task.status}")
        elif event.kind is kind.RETRYING:
            say(f"{clock} retrying    after {event.error} in {event.delay:.1f} s")
        elif event.kind is kind.SAVED:
            say(f"{clock} saved       {event.detail}")

    # polls=4: the task is seen PENDING, PENDING, RUNNING, then SUCCEEDED, as on the service.
    with (
        tempfile.TemporaryDirectory(prefix="videoedit-demo-") as tmp,
        EmulatorServer(progression=Progression.after_polls(4)) as server,
    ):
        say(f"videoedit demo: an offline edit through the emulator at {server.url}")
        clip = make_sample_clip(Path(tmp) / "sample.mp4", seconds=4, width=1280, height=720)
        say(
            f"[{time.monotonic() - started:5.2f} s] made        sample clip {clip.name} (4 s, 1280x720, with audio)"
        )
        request = videoedit.VideoEdit(
            video=str(clip),
            prompt=PROMPT,
            resolution="720P",
            ratio="16:9",
            audio_setting="origin",
            watermark=True,
        )
        try:
            with videoedit.Client(
                provider, base_url=server.base_url(provider), api_key="demo", on_event=show
            ) as client:
                task = client.submit(request)
                task = client.wait(task)
                client.save(task, out)
        except videoedit.VideoEditError as exc:
            say(f"demo failed: {exc}")
            return 1
    info = probe_output(out)
    usage = task.result.usage if task.result else None
    indent = " " * 10  # under the timeline's words
    say(
        f"{indent}{out.stat().st_size / 1e6:.2f} MB, {info.width}x{info.height}, "
        f"{info.duration:.2f} s, {info.fps:g} fps, {info.codec} {info.pix_fmt}, "
        f"audio: {info.audio_codec or 'none'}{', faststart' if info.faststart else ''}"
    )
    if usage is not None:
        say(
            f"{indent}billed as {usage.total_seconds} s (input {usage.input_seconds} s + output "
            f"{usage.output_seconds} s), {usage.short_side}P"
        )
    say("")
    say("It is a stand-in: the sample clip transcoded to the requested size, marked with the")
    say("prompt and the emulator's caption. Next, from the command line:")
    for line in NEXT_STEPS:
        say(f"  {line}")
    return 0
