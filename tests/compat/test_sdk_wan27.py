"""The official ``dashscope`` SDK (2.0.2), unmodified, as a client of the emulator: wan2.7-videoedit.

Each test is one thing a user of the SDK does, asserted on what the SDK hands back and on what
the emulator rendered. The SDK is pointed at the emulator through its process-wide globals by
the ``dashscope_sdk`` fixture (``conftest.py``); one test does it exactly as a user would, with
``DASHSCOPE_HTTP_BASE_URL`` against ``videoedit-emulator serve`` in fresh processes.

Tasks are steered per request with the emulator's ``X-Emulator-Progression`` header, which
the SDK forwards untouched through its ``headers=`` keyword.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dashscope
import httpx
import pytest
from dashscope import VideoSynthesis
from dashscope.aigc.video_synthesis import AioVideoSynthesis
from dashscope.common.error import InvalidTask

from videoedit_emulator.render import OutputInfo
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.control import FAIL_HEADER, PROGRESSION_HEADER

MODEL = "wan2.7-videoedit"
#: Enough polls that a task is still PENDING whenever the test looks (the first half of them).
STAY_PENDING = {PROGRESSION_HEADER: "polls=1000"}

Probe = Callable[[Path], OutputInfo]
Download = Callable[[str], Path]


def media(video: str, *images: str) -> list[dict[str, str]]:
    """The ``media`` argument: one video, then reference images."""
    return [{"type": "video", "url": video}] + [
        {"type": "reference_image", "url": i} for i in images
    ]


@pytest.fixture
def clip_url(loopback_files: Any, sample_clip: Path) -> str:
    """The 3 s sample clip as an http URL on this machine (the emulator fetches it)."""
    return str(loopback_files.url(sample_clip))


@pytest.fixture
def image_url(loopback_files: Any, reference_png: Path) -> str:
    return str(loopback_files.url(reference_png))


# -- the main job ------------------------------------------------------------------------------
def test_call_with_a_video_and_a_reference_image_succeeds_with_a_1280x720_2s_30fps_h264_mp4(
    dashscope_sdk: Any, clip_url: str, image_url: str, download: Download, probe_mp4: Probe
) -> None:
    response = VideoSynthesis.call(
        model=MODEL,
        prompt="turn it into claymation",
        media=media(clip_url, image_url),
        resolution="720P",
        ratio="16:9",
        duration=2,
    )

    assert response.status_code == 200, response
    assert response.output.task_status == "SUCCEEDED"
    assert response.output.orig_prompt == "turn it into claymation"
    assert "emulator_note" not in response.output  # both inputs were fetched, not stood in for
    info = probe_mp4(download(response.output.video_url))
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 1280, 720)
    assert info.fps == 30
    assert info.frames == 60
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.faststart


def test_call_reports_usage_as_input_plus_output_seconds_and_the_720_tier(
    dashscope_sdk: Any, clip_url: str
) -> None:
    response = VideoSynthesis.call(
        model=MODEL, media=media(clip_url), resolution="720P", duration=2
    )

    assert response.output.task_status == "SUCCEEDED"
    usage = dict(response.usage)
    # video_count / video_duration / video_ratio are defaults the SDK's VideoSynthesisUsage adds.
    assert {
        k: usage[k] for k in ("duration", "input_video_duration", "output_video_duration", "SR")
    } == {
        "duration": 5.0,
        "input_video_duration": 3.0,
        "output_video_duration": 2.0,
        "SR": 720,
    }


def test_a_task_the_emulator_fails_comes_back_from_call_as_failed_with_its_code_and_message(
    dashscope_sdk: Any, clip_url: str
) -> None:
    response = VideoSynthesis.call(
        model=MODEL,
        media=media(clip_url),
        headers={
            FAIL_HEADER: "DataInspectionFailed: Input data may contain inappropriate content."
        },
    )

    assert response.status_code == 200
    assert response.output.task_status == "FAILED"
    assert response.output.code == "DataInspectionFailed"
    assert response.output.message == "Input data may contain inappropriate content."
    assert response.output.video_url == ""  # the SDK's default: there is no result
    assert response.usage is None


# -- async_call, fetch, wait --------------------------------------------------------------------
def test_async_call_answers_pending_then_fetch_follows_the_task_and_wait_returns_it_succeeded(
    dashscope_sdk: Any, clip_url: str, download: Download, probe_mp4: Probe
) -> None:
    created = VideoSynthesis.async_call(
        model=MODEL,
        media=media(clip_url),
        resolution="720P",
        ratio="1:1",
        duration=2,
        headers={PROGRESSION_HEADER: "polls=3"},
    )
    assert created.status_code == 200, created
    assert created.output.task_status == "PENDING"
    task_id = created.output.task_id

    first = VideoSynthesis.fetch(created)  # by the create response...
    second = VideoSynthesis.fetch(task_id)  # ...or by id
    done = VideoSynthesis.wait(created)

    assert (first.output.task_id, second.output.task_id, done.output.task_id) == (task_id,) * 3
    assert [first.output.task_status, second.output.task_status] == ["PENDING", "RUNNING"]
    assert done.output.task_status == "SUCCEEDED"
    assert {"submit_time", "scheduled_time", "end_time"} <= set(done.output)
    assert done.output.submit_time <= done.output.scheduled_time <= done.output.end_time
    info = probe_mp4(download(done.output.video_url))
    assert (info.width, info.height, info.frames) == (960, 960, 60)


def test_fetch_and_wait_of_an_unknown_task_id_answer_unknown(dashscope_sdk: Any) -> None:
    fetched = VideoSynthesis.fetch("0b7ee0f6-0000-4000-8000-000000000000")
    waited = VideoSynthesis.wait("0b7ee0f6-0000-4000-8000-000000000000")

    for response in (fetched, waited):
        assert response.status_code == 200
        assert response.output.task_id == "0b7ee0f6-0000-4000-8000-000000000000"
        assert response.output.task_status == "UNKNOWN"


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_of_a_pending_task_succeeds_and_the_task_then_reads_canceled(
    dashscope_sdk: Any, clip_url: str
) -> None:
    created = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), headers=STAY_PENDING)
    assert VideoSynthesis.fetch(created).output.task_status == "PENDING"

    canceled = VideoSynthesis.cancel(created)

    assert canceled.status_code == 200, canceled
    assert canceled.code is None
    after = VideoSynthesis.wait(created)  # returns at once: CANCELED is final
    assert after.output.task_status == "CANCELED"
    assert "end_time" in after.output
    assert after.output.video_url == ""


def test_cancel_of_a_running_task_is_refused_in_dashscope_error_form(
    dashscope_sdk: Any, clip_url: str
) -> None:
    # polls=4: the first two queries see PENDING, the third RUNNING, the fourth the end.
    created = VideoSynthesis.async_call(
        model=MODEL, media=media(clip_url), headers={PROGRESSION_HEADER: "polls=4"}
    )
    statuses = [VideoSynthesis.fetch(created).output.task_status for _ in range(3)]
    assert statuses == ["PENDING", "PENDING", "RUNNING"]

    refused = VideoSynthesis.cancel(created.output.task_id)

    assert refused.status_code == 400
    assert refused.code == "UnsupportedOperation"
    assert refused.message.startswith(
        "Failed to cancel the task, please confirm if the task is in PENDING status."
    )
    assert "RUNNING" in refused.message
    assert refused.request_id


# -- list ------------------------------------------------------------------------------------------
def test_list_pages_the_submitted_tasks_newest_first_and_filters_by_status(
    dashscope_sdk: Any, clip_url: str
) -> None:
    older = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), headers=STAY_PENDING)
    newer = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), headers=STAY_PENDING)
    VideoSynthesis.cancel(older)

    everything = VideoSynthesis.list()
    first_page = VideoSynthesis.list(page_no=1, page_size=1)
    canceled = VideoSynthesis.list(status="CANCELED", model_name=MODEL)

    assert everything.status_code == 200, everything
    assert [t["task_id"] for t in everything.output["data"]] == [
        newer.output.task_id,
        older.output.task_id,
    ]
    assert [t["task_status"] for t in everything.output["data"]] == ["PENDING", "CANCELED"]
    assert everything.output["total"] == 2
    assert [t["task_id"] for t in first_page.output["data"]] == [newer.output.task_id]
    assert (first_page.output["total"], first_page.output["total_page"]) == (2, 2)
    assert [t["task_id"] for t in canceled.output["data"]] == [older.output.task_id]


def test_list_with_a_malformed_time_filter_is_refused_naming_the_parameter(
    dashscope_sdk: Any,
) -> None:
    refused = VideoSynthesis.list(start_time="2026-04-03")

    assert refused.status_code == 400
    assert refused.code == "InvalidParameter"
    assert refused.message.startswith("start_time must be a time formatted YYYYMMDDhhmmss")


# -- local files: the SDK's own upload flow -----------------------------------------------------
def test_local_paths_are_uploaded_by_the_sdk_and_the_task_edits_the_uploaded_clip(
    dashscope_sdk: Any,
    sample_clip: Path,
    reference_png: Path,
    download: Download,
    probe_mp4: Probe,
) -> None:
    items = media(str(sample_clip), "file://" + quote(str(reference_png)))

    response = VideoSynthesis.call(model=MODEL, media=items, resolution="720P", duration=0)

    assert response.status_code == 200, response
    assert response.output.task_status == "SUCCEEDED"
    assert "emulator_note" not in response.output
    # The SDK rewrote the caller's media in place to the oss:// URLs it uploaded to.
    uploads = {o.url: o for o in dashscope_sdk.emulator.engine.store.objects()}
    assert set(uploads) == {item["url"] for item in items}
    video, image = (uploads[item["url"]] for item in items)
    assert video.key.endswith("/sample clip.mp4")  # the raw file name, space and all
    assert video.path.read_bytes() == sample_clip.read_bytes()
    assert image.path.read_bytes() == reference_png.read_bytes()
    assert (video.model, image.model) == (MODEL, MODEL)
    assert (video.content_type, image.content_type) == ("video/mp4", "image/png")
    # duration 0 keeps the input's length: the output is the uploaded 3 s clip, restyled.
    assert response.usage["input_video_duration"] == 3.0
    info = probe_mp4(download(response.output.video_url))
    # No ratio given: the 320×240 input is 4:3, so 720P 4:3 is 1104×832.
    assert (info.width, info.height, info.frames) == (1104, 832, 90)


# -- errors ------------------------------------------------------------------------------------------
def test_async_call_with_an_out_of_range_duration_returns_the_400_naming_parameters_duration(
    dashscope_sdk: Any, clip_url: str
) -> None:
    response = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), duration=11)

    assert response.status_code == 400
    assert response.code == "InvalidParameter"
    assert response.message == (
        "parameters.duration must be 0 (keep the input's length) or an integer from 2 to 10, got 11"
    )
    assert response.request_id
    assert response.output is None


def test_call_with_a_duration_longer_than_the_input_raises_invalid_task_carrying_code_and_message(
    dashscope_sdk: Any, clip_url: str
) -> None:
    # call() cannot return a failed creation: it raises InvalidTask with the response in its text.
    with pytest.raises(InvalidTask) as raised:
        VideoSynthesis.call(model=MODEL, media=media(clip_url), duration=5)

    text = str(raised.value)
    refused = json.loads(text[text.index("{") :])
    assert refused["status_code"] == 400
    assert refused["code"] == "InvalidParameter"
    assert refused["message"].startswith(
        "parameters.duration (5 s) must not exceed the input video's length (3.00 s"
    )


def test_a_missing_api_key_is_answered_401_invalid_api_key(
    dashscope_sdk: Any, clip_url: str
) -> None:
    response = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), api_key="")

    assert (response.status_code, response.code, response.message) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )


# -- regions ---------------------------------------------------------------------------------------
def test_tasks_live_in_the_region_they_were_created_in(dashscope_sdk: Any, clip_url: str) -> None:
    created = VideoSynthesis.async_call(
        model=MODEL, media=media(clip_url), headers=STAY_PENDING
    )  # Beijing, /api/v1
    task_id = created.output.task_id

    dashscope_sdk.use("dashscope-singapore")  # /intl/api/v1
    from_singapore = VideoSynthesis.fetch(task_id)
    dashscope_sdk.use("dashscope-beijing")
    from_beijing = VideoSynthesis.fetch(task_id)

    assert from_singapore.output.task_status == "UNKNOWN"
    assert from_beijing.output.task_status == "PENDING"


@pytest.fixture
def region_bound_emulator() -> Iterator[EmulatorServer]:
    """A separate emulator whose only key is bound to Beijing."""
    with EmulatorServer(keys={"sk-beijing-only": "dashscope-beijing"}) as server:
        yield server


def test_a_beijing_key_used_in_singapore_gets_401_invalid_api_key(
    region_bound_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, clip_url: str
) -> None:
    monkeypatch.setattr(dashscope, "api_key", "sk-beijing-only")
    monkeypatch.setattr(
        dashscope, "base_http_api_url", region_bound_emulator.base_url("dashscope-singapore")
    )
    in_singapore = VideoSynthesis.async_call(
        model=MODEL, media=media(clip_url), headers=STAY_PENDING
    )
    monkeypatch.setattr(
        dashscope, "base_http_api_url", region_bound_emulator.base_url("dashscope-beijing")
    )
    in_beijing = VideoSynthesis.async_call(model=MODEL, media=media(clip_url), headers=STAY_PENDING)
    dashscope.close_shared_sync_session()

    assert (in_singapore.status_code, in_singapore.code) == (401, "InvalidApiKey")
    assert (in_beijing.status_code, in_beijing.output.task_status) == (200, "PENDING")


# -- the asyncio flavour ---------------------------------------------------------------------------
@pytest.mark.anyio
async def test_aio_call_succeeds_and_aio_cancel_cancels_a_pending_task(
    dashscope_sdk: Any, clip_url: str, download: Download, probe_mp4: Probe
) -> None:
    # AioVideoSynthesis polls GET {base}/tasks/{id}/ (trailing slash) with the create's
    # parameters as a query string, and cancels with POST {base}/tasks/{id}/cancel/.
    try:
        done = await AioVideoSynthesis.call(
            model=MODEL, media=media(clip_url), resolution="720P", ratio="9:16", duration=2
        )
        pending = await AioVideoSynthesis.async_call(
            model=MODEL, media=media(clip_url), headers=STAY_PENDING
        )
        canceled = await AioVideoSynthesis.cancel(pending)
        after = await AioVideoSynthesis.fetch(pending)
    finally:
        await dashscope.close_shared_aio_session()

    assert done.status_code == 200, done
    assert done.output.task_status == "SUCCEEDED"
    info = probe_mp4(download(done.output.video_url))
    assert (info.width, info.height, info.frames) == (720, 1280, 60)
    assert canceled.status_code == 200, canceled
    assert after.output.task_status == "CANCELED"


# -- the "done when" of issue 3, exactly as a user runs it ------------------------------------------
@pytest.fixture
def served_emulator(tmp_path: Path) -> Iterator[str]:
    """``videoedit-emulator serve --port 0`` in its own process; yields its root URL."""
    script = Path(sys.executable).with_name("videoedit-emulator")  # the installed command
    launcher = (
        [str(script)] if script.exists() else [sys.executable, "-m", "videoedit_emulator.cli"]
    )
    command = [*launcher, "serve", "--port", "0"]
    command += ["--storage-dir", str(tmp_path / "emulator-storage")]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        root = ""
        for line in process.stdout:
            if line.startswith("videoedit-emulator serving on "):
                root = line.split()[3]
                break
        assert root, "videoedit-emulator serve printed no address"
        deadline = time.monotonic() + 20
        while True:  # serving begins just after the banner: wait until it answers
            try:
                if httpx.get(f"{root}/_emulator/health", timeout=2, trust_env=False).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "videoedit-emulator serve never answered"
            time.sleep(0.05)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=15)


_USER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from dashscope import VideoSynthesis

    response = VideoSynthesis.call(
        model="wan2.7-videoedit",
        media=[{"type": "video", "url": sys.argv[1]}],
        resolution="720P",
        ratio="16:9",
        duration=2,
    )
    print(json.dumps({"status_code": response.status_code, "output": response.output}))
    """
)


@pytest.mark.slow
def test_the_sdk_configured_by_environment_completes_a_call_against_videoedit_emulator_serve(
    served_emulator: str, clip_url: str, download: Download, probe_mp4: Probe
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHSCOPE_")}
    env |= {
        "DASHSCOPE_HTTP_BASE_URL": f"{served_emulator}/api/v1",
        "DASHSCOPE_API_KEY": "sk-any-non-empty-key",
        "NO_PROXY": "127.0.0.1,localhost",
    }

    user = subprocess.run(
        [sys.executable, "-c", _USER_SCRIPT, clip_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert user.returncode == 0, user.stderr[-2000:]
    answer = json.loads(user.stdout.strip().splitlines()[-1])
    assert answer["status_code"] == 200
    assert answer["output"]["task_status"] == "SUCCEEDED"
    assert answer["output"]["video_url"].startswith(served_emulator)
    info = probe_mp4(download(answer["output"]["video_url"]))
    assert (info.codec, info.width, info.height, info.fps, info.frames) == (
        "h264",
        1280,
        720,
        30,
        60,
    )
    assert info.duration == pytest.approx(2.0, abs=0.05)
