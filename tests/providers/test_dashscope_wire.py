"""What the DashScope providers put on the wire: exact JSON, headers, URLs and query strings.

The providers are sans-I/O, so these tests only build requests and look at them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from videoedit import ApiKey, InvalidRequestError, ListQuery, ProviderConfig, VideoEdit
from videoedit.plugins import PluginHost
from videoedit_dashscope import DashScopeBeijing, DashScopeProvider, DashScopeSingapore

KEY = "sk-wire-test-0123456789"
VIDEO = "https://cdn.example.com/in.mp4"
CREATE = "/services/aigc/video-generation/video-synthesis"
BEIJING = "https://dashscope.aliyuncs.com/api/v1"
SINGAPORE = "https://dashscope-intl.aliyuncs.com/api/v1"


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=True)


def provider(
    cls: type[DashScopeProvider] = DashScopeSingapore,
    base_url: str | None = None,
    **options: Any,
) -> DashScopeProvider:
    config = ProviderConfig(
        base_url=base_url or cls.default_base_url,
        api_key=ApiKey(KEY),
        options=options,
    )
    return cls(config)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


# -- create ----------------------------------------------------------------------------------
def test_the_minimal_edit(host: PluginHost) -> None:
    request = host.build_create(provider(), VideoEdit(video=VIDEO))
    assert (request.method, str(request.url)) == ("POST", SINGAPORE + CREATE)
    assert body(request) == {
        "model": "wan2.7-videoedit",
        "input": {"media": [{"type": "video", "url": VIDEO}]},
        "parameters": {
            "resolution": "1080P",
            "duration": 0,
            "audio_setting": "auto",
            "prompt_extend": True,
            "watermark": False,
        },
    }
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-DashScope-Async"] == "enable"
    assert "X-DashScope-OssResourceResolve" not in request.headers
    assert "X-DashScope-WorkSpace" not in request.headers


def test_the_full_edit_with_four_reference_images(host: PluginHost) -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    edit = VideoEdit(
        video=VIDEO,
        prompt="把画面变成水彩风格",
        negative_prompt="blurry, low quality",
        reference_images=[
            "https://cdn.example.com/a.png",
            "https://cdn.example.com/b.jpg",
            png,
            "https://cdn.example.com/d.webp",
        ],
        resolution="720P",
        ratio="9:16",
        duration=5,
        audio_setting="origin",
        prompt_extend=False,
        watermark=True,
        seed=2147483647,
    )
    request = host.build_create(provider(DashScopeBeijing), edit)
    assert str(request.url) == BEIJING + CREATE
    assert body(request) == {
        "model": "wan2.7-videoedit",
        "input": {
            "prompt": "把画面变成水彩风格",
            "negative_prompt": "blurry, low quality",
            "media": [
                {"type": "video", "url": VIDEO},
                {"type": "reference_image", "url": "https://cdn.example.com/a.png"},
                {"type": "reference_image", "url": "https://cdn.example.com/b.jpg"},
                {"type": "reference_image", "url": png},
                {"type": "reference_image", "url": "https://cdn.example.com/d.webp"},
            ],
        },
        "parameters": {
            "resolution": "720P",
            "duration": 5,
            "audio_setting": "origin",
            "prompt_extend": False,
            "watermark": True,
            "ratio": "9:16",
            "seed": 2147483647,
        },
    }
    assert "水彩".encode() in request.content  # UTF-8 on the wire, not \\u escapes
    assert request.headers["Content-Length"] == str(len(request.content))


@pytest.mark.parametrize(
    "edit",
    [
        VideoEdit(video="oss://dashscope-instant/abc/2026-04-03/in.mp4"),
        VideoEdit(video=VIDEO, reference_images=["oss://dashscope-instant/abc/ref.png"]),
    ],
    ids=["oss-video", "oss-reference"],
)
def test_an_oss_input_adds_the_resolve_header(host: PluginHost, edit: VideoEdit) -> None:
    request = host.build_create(provider(), edit)
    assert request.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert request.headers["X-DashScope-Async"] == "enable"


def test_the_workspace_option_goes_on_every_call(host: PluginHost) -> None:
    ds = provider(DashScopeBeijing, workspace="ws-1234")
    requests = [
        host.build_create(ds, VideoEdit(video=VIDEO)),
        ds.build_status("t-1"),
        ds.build_cancel("t-1"),
        ds.build_list(ListQuery()),
    ]
    assert [r.headers["X-DashScope-WorkSpace"] for r in requests] == ["ws-1234"] * 4


def test_a_key_less_provider_sends_no_authorization() -> None:
    config = ProviderConfig(base_url=BEIJING, api_key=None)
    assert "Authorization" not in DashScopeBeijing(config).build_status("t").headers


# -- regions and base URLs ---------------------------------------------------------------------
def test_the_regions_default_base_urls() -> None:
    assert provider(DashScopeBeijing).base_url == BEIJING
    assert provider(DashScopeSingapore).base_url == SINGAPORE
    assert (DashScopeBeijing.region, DashScopeSingapore.region) == ("beijing", "singapore")


def test_a_singapore_workspace_id_selects_the_per_workspace_endpoint() -> None:
    ds = provider(workspace_id="ws-8f2a1c")
    assert ds.base_url == "https://ws-8f2a1c.ap-southeast-1.maas.aliyuncs.com/api/v1"
    assert str(ds.build_status("t-1").url) == (
        "https://ws-8f2a1c.ap-southeast-1.maas.aliyuncs.com/api/v1/tasks/t-1"
    )


def test_a_workspace_id_also_applies_to_the_default_url_with_a_slash() -> None:
    ds = provider(base_url=SINGAPORE + "/", workspace_id="ws1")
    assert ds.base_url == "https://ws1.ap-southeast-1.maas.aliyuncs.com/api/v1"


def test_an_explicit_base_url_beats_the_workspace_id() -> None:
    ds = provider(base_url="http://127.0.0.1:8000/api/v1/", workspace_id="ws1")
    assert ds.base_url == "http://127.0.0.1:8000/api/v1"


@pytest.mark.parametrize("bad", ["ws.evil.com/x", "", "-ws", "ws_1", 42])
def test_a_malformed_workspace_id_is_refused(bad: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        provider(base_url="http://127.0.0.1:1/api/v1", workspace_id=bad)
    assert caught.value.field == "options.workspace_id"


def test_workspace_id_is_a_singapore_option_only() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        provider(DashScopeBeijing, workspace_id="ws1")
    assert caught.value.field == "options.workspace_id"
    assert "known: vace_model, workspace)" in str(caught.value)


# -- the other task calls -----------------------------------------------------------------------
def test_status_is_a_get_on_the_task() -> None:
    request = provider().build_status("0385dc79-5ff8")
    assert (request.method, str(request.url)) == ("GET", SINGAPORE + "/tasks/0385dc79-5ff8")
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert "X-DashScope-Async" not in request.headers


def test_a_task_id_cannot_reach_another_route() -> None:
    request = provider().build_status("../uploads?action=getPolicy")
    assert request.url.raw_path == b"/api/v1/tasks/..%2Fuploads%3Faction%3DgetPolicy"
    assert request.url.query == b""


def test_cancel_is_an_empty_post() -> None:
    request = provider().build_cancel("t-1")
    assert (request.method, str(request.url)) == ("POST", SINGAPORE + "/tasks/t-1/cancel")
    assert request.content == b""


def test_list_sends_the_query_in_the_services_time_zone() -> None:
    query = ListQuery(
        page=2,
        page_size=20,
        status="SUCCEEDED",
        model="wan2.7-videoedit",
        start_time=datetime(2026, 4, 2, 16, 0, 0, tzinfo=timezone.utc),  # 00:00 in UTC+8
        end_time=datetime(2026, 4, 3, 9, 30, 15, tzinfo=timezone(timedelta(hours=2))),
    )
    request = provider().build_list(query)
    assert (request.method, request.url.path) == ("GET", "/api/v1/tasks")
    assert dict(request.url.params) == {
        "page_no": "2",
        "page_size": "20",
        "status": "SUCCEEDED",
        "model_name": "wan2.7-videoedit",
        "start_time": "20260403000000",
        "end_time": "20260403153015",
    }


def test_a_naive_list_time_is_taken_as_service_time() -> None:
    request = provider().build_list(ListQuery(start_time=datetime(2026, 4, 3, 8, 5, 9)))
    assert request.url.params["start_time"] == "20260403080509"
    assert dict(request.url.params).keys() == {"page_no", "page_size", "start_time"}


def test_the_download_goes_without_the_key() -> None:
    url = "https://dashscope-result-sh.oss-accelerate.aliyuncs.com/x.mp4?Expires=1&Signature=s"
    request = provider().build_download(url)
    assert (request.method, str(request.url)) == ("GET", url)
    assert "Authorization" not in request.headers


def test_the_provider_repr_shows_where_not_the_key() -> None:
    ds = provider()
    assert repr(ds) == f"DashScopeSingapore(id='dashscope-singapore', base_url='{SINGAPORE}')"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_prompt_is_left_out(host: PluginHost, blank: str) -> None:
    """No prompt means the model's default style transfer; an empty one is no prompt."""
    request = host.build_create(
        provider(), VideoEdit(video=VIDEO, prompt=blank, negative_prompt="")
    )
    assert body(request)["input"] == {"media": [{"type": "video", "url": VIDEO}]}
