"""The emulator's stand-in results are media a browser plays: H.264 video and AAC audio in an
MP4 that chromium decodes, so a console or a user's own page can show them inline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import videoedit

if TYPE_CHECKING:
    from playwright.sync_api import Page

PLAY = """async () => {
    const video = document.querySelector("video");
    await video.play();
    return {width: video.videoWidth, height: video.videoHeight};
}"""


def test_a_stand_in_plays_in_chromium(
    page: Page,
    emulator_client: Callable[..., videoedit.Client],
    emulator_sample_clip: Path,
) -> None:
    client = emulator_client("dashscope-singapore")
    task = client.submit(
        videoedit.VideoEdit(
            video=str(emulator_sample_clip), prompt="claymation", resolution="720P", ratio="16:9"
        )
    )
    done = client.wait(task)
    assert done.video_url is not None

    page.set_content(f'<video src="{done.video_url}" muted preload="auto"></video>')
    size = page.evaluate(PLAY)
    page.wait_for_function('document.querySelector("video").currentTime > 0.5')

    assert size == {"width": 1280, "height": 720}
    assert page.evaluate('document.querySelector("video").error') is None
    assert page.evaluate('document.querySelector("video").webkitAudioDecodedByteCount') > 0
