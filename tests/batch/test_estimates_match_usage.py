"""An estimate made before sending is the usage the service bills afterwards.

Real edits go through the emulator for every provider and model: wan2.7 on both DashScope
regions, Vtrix and an APIMart gateway (local inputs measured, so the estimate is exact),
and each of the five wan2.1-vace-plus functions in both regions. The billed figure is the
emulator's own usage of the task (what its wire formats report: ``usage.duration`` on
DashScope, ``usage.quantity`` on Vtrix; the APIMart format reports none). A URL is not
measured: its estimate is the documented most, never less than what is billed, and says so.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from videoedit import Client, EditRequest, VideoEdit
from videoedit.billing import estimate
from videoedit_emulator.render import make_sample_clip
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.fileserver import LoopbackFiles
from videoedit_vace import (
    ImageReference,
    MaskedVideoEdit,
    VideoExtension,
    VideoOutpainting,
    VideoRepainting,
)

WAN27_PROVIDERS = ["dashscope-singapore", "dashscope-beijing", "vtrix", "apimart"]
VACE_REGIONS = ["dashscope-singapore", "dashscope-beijing"]
#: Providers without an upload API: the test serves local files on loopback for them.
GATEWAYS = {"vtrix", "apimart"}


def _png(path: Path, width: int, height: int, gray: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = (b"\x00" + bytes([gray]) * width) * height
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("billing")
    return {
        "clip_3_5": make_sample_clip(folder / "three-and-a-half.mp4", 3.5, 320, 240),
        "clip_2": make_sample_clip(folder / "two.mp4", 2, 320, 240),
        "clip_2_5": make_sample_clip(folder / "two-and-a-half.mp4", 2.5, 320, 240),
        "image": _png(folder / "subject.png", 64, 64, 200),
        "mask": _png(folder / "mask.png", 320, 240, 255),
    }


@pytest.fixture
def on(emulator: EmulatorServer) -> Iterator[Callable[[str], Client]]:
    """``on(provider)``: a client of the emulator; gateways get local files on loopback."""
    emulator.engine.set_default_progression("immediate")
    with LoopbackFiles() as files:
        made: list[Client] = []

        def client(provider: str) -> Client:
            extra = {"uploader": files.uploader()} if provider in GATEWAYS else {}
            made.append(emulator.client(provider, **extra))
            return made[-1]

        yield client
        for c in made:
            c.close()


def billed(emulator: EmulatorServer, client: Client, request: EditRequest) -> float:
    """Run ``request`` to its end and return the seconds the emulator billed for it."""
    task = client.wait(client.submit(request), timeout=120)
    # (the APIMart format puts a prefix before the engine's id)
    (view,) = [v for v in emulator.engine.all_tasks() if task.task_id.endswith(v.task_id)]
    assert view.usage is not None, f"{task.task_id} has no usage ({view.status})"
    return view.usage.total_seconds


@pytest.mark.parametrize("provider", WAN27_PROVIDERS)
def test_wan27_estimate_of_a_local_video_kept_whole_is_the_billed_input_plus_output(
    provider: str,
    media: dict[str, Path],
    emulator: EmulatorServer,
    on: Callable[[str], Client],
) -> None:
    request = VideoEdit(video=media["clip_3_5"], prompt="ink", resolution="720P")

    found = estimate(request, provider)

    assert found is not None
    assert found.exact
    assert found.note is None
    assert (found.input_seconds, found.output_seconds) == (3.5, 3.0)  # whole seconds, down
    assert found.seconds == billed(emulator, on(provider), request) == 6.5


@pytest.mark.parametrize("provider", WAN27_PROVIDERS)
def test_wan27_estimate_with_a_duration_bills_that_many_output_seconds(
    provider: str,
    media: dict[str, Path],
    emulator: EmulatorServer,
    on: Callable[[str], Client],
) -> None:
    request = VideoEdit(video=media["clip_3_5"], duration=2, resolution="720P")

    found = estimate(request, provider)

    assert found is not None
    assert found.exact
    assert found.seconds == billed(emulator, on(provider), request) == 5.5


def test_dashscope_reports_on_the_wire_the_seconds_that_were_estimated(
    media: dict[str, Path], emulator: EmulatorServer, on: Callable[[str], Client]
) -> None:
    request = VideoEdit(video=media["clip_2"], resolution="720P")
    client = on("dashscope-singapore")

    task = client.wait(client.submit(request), timeout=120)

    assert task.result is not None
    found = estimate(request, "dashscope-singapore")
    assert found is not None
    assert task.result.usage.total_seconds == found.seconds == 4.0
    assert task.result.usage.input_seconds == found.input_seconds
    assert task.result.usage.output_seconds == found.output_seconds


def vace_requests(media: dict[str, Path], model: str) -> dict[str, tuple[EditRequest, float]]:
    """Each function's request, with the output seconds its rule gives."""
    return {
        "image_reference": (
            ImageReference(
                model=model, prompt="a cat", ref_images_url=[media["image"]], obj_or_bg=["obj"]
            ),
            5.0,
        ),
        "video_repainting": (
            VideoRepainting(model=model, prompt="a car", video_url=media["clip_2_5"]),
            2.5,
        ),
        "video_edit": (
            MaskedVideoEdit(
                model=model,
                prompt="a lion",
                video_url=media["clip_2_5"],
                mask_image_url=media["mask"],
                size="320*240",
            ),
            2.5,
        ),
        "video_extension": (
            VideoExtension(model=model, prompt="a dog", first_clip_url=media["clip_2"]),
            5.0,
        ),
        "video_outpainting": (
            VideoOutpainting(
                model=model, prompt="a band", video_url=media["clip_2_5"], left_scale=1.5
            ),
            2.5,
        ),
    }


@pytest.mark.parametrize("provider", VACE_REGIONS)
@pytest.mark.parametrize(
    "function",
    ["image_reference", "video_repainting", "video_edit", "video_extension", "video_outpainting"],
)
def test_vace_estimate_is_the_billed_output_seconds_of_each_function(
    provider: str,
    function: str,
    media: dict[str, Path],
    emulator: EmulatorServer,
    on: Callable[[str], Client],
) -> None:
    model = "wanx2.1-vace-plus" if provider == "dashscope-beijing" else "wan2.1-vace-plus"
    request, seconds = vace_requests(media, model)[function]

    found = estimate(request, provider)

    assert found is not None
    assert found.exact
    assert found.input_seconds is None  # the input is not billed
    assert (found.resolution, found.model) == ("720P", model)
    assert found.seconds == billed(emulator, on(provider), request) == seconds


def test_a_remote_wan27_video_gets_the_documented_upper_bound_and_says_so(
    emulator: EmulatorServer, on: Callable[[str], Client]
) -> None:
    request = VideoEdit(video="https://media.example.com/in.mp4", duration=3, resolution="720P")

    found = estimate(request, "dashscope-singapore")

    assert found is not None
    assert not found.exact
    assert found.seconds == 13.0  # an input of at most 10 s, and 3 s out
    assert found.note is not None
    assert "upper bound" in found.note
    assert "URL" in found.note
    assert found.seconds >= billed(emulator, on("dashscope-singapore"), request) > 0


def test_a_remote_wan27_video_kept_whole_is_at_most_twenty_seconds() -> None:
    found = estimate(VideoEdit(video="oss://dashscope-instant/in.mp4"), "dashscope-beijing")

    assert found is not None
    assert (found.seconds, found.exact) == (20.0, False)
    assert found.note is not None
    assert "oss://" in found.note


def test_a_remote_vace_video_gets_five_seconds_never_zero(
    emulator: EmulatorServer, on: Callable[[str], Client]
) -> None:
    request = VideoRepainting(prompt="a car", video_url="https://media.example.com/in.mp4")

    found = estimate(request, "dashscope-singapore")

    assert found is not None
    assert (found.seconds, found.exact) == (5.0, False)
    assert found.note is not None
    assert "upper bound" in found.note
    assert found.seconds >= billed(emulator, on("dashscope-singapore"), request) > 0
