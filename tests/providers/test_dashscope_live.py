"""One real edit on DashScope Singapore. Runs only when DASHSCOPE_API_KEY is set (it is billed).

``DASHSCOPE_WORKSPACE_ID`` selects the per-workspace endpoint when the key needs it.
Run it alone with ``uv run pytest -m live``.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from videoedit import Client, TaskStatus, VideoEdit
from videoedit.plugins import PluginHost
from videoedit.probe import probe_video

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("DASHSCOPE_API_KEY"), reason="DASHSCOPE_API_KEY is not set"
    ),
]

#: The sample input of the Singapore guide (seeds/002): a public, short clip.
SAMPLE_VIDEO = (
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/en-US/20260409/rkjvku/1.mp4"
)


@pytest.mark.timeout(30 * 60)
def test_one_real_edit_on_singapore(tmp_path: Path) -> None:
    options = {}
    if os.environ.get("DASHSCOPE_WORKSPACE_ID"):
        options["workspace_id"] = os.environ["DASHSCOPE_WORKSPACE_ID"]
    plugins = PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=True)
    edit = VideoEdit(
        video=SAMPLE_VIDEO,
        prompt="Turn the scene into a watercolor painting.",
        resolution="720P",
        prompt_extend=False,
        seed=42,
    )
    with Client("dashscope-singapore", plugins=plugins, options=options) as client:
        submitted = client.submit(edit)
        assert submitted.status in (TaskStatus.PENDING, TaskStatus.RUNNING)
        done = client.wait(submitted, timeout=25 * 60)
        saved = client.save(done, tmp_path / "edited.mp4")

    assert done.status is TaskStatus.SUCCEEDED
    assert done.result is not None
    assert done.result.expires_at is not None
    assert done.result.expires_at > datetime.now(timezone.utc)
    assert done.result.usage.short_side in (None, 720)
    assert saved.read_bytes()[4:8] == b"ftyp"
    info = probe_video(saved)
    if info is not None:
        assert info.codec == "h264"
        assert min(info.width, info.height) == 720
