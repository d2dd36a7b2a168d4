"""The vace plugin on the wire: exact DashScope bodies, through the hook and nothing else."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

import videoedit.wan27
import videoedit_dashscope.plugin
import videoedit_vace.plugin
from videoedit import Client, EncodeContext, InvalidRequestError, PluginHost, ProviderConfig
from videoedit.keys import ApiKey
from videoedit.plugins import ENTRY_POINT_GROUP
from videoedit_dashscope import DashScopeBeijing, DashScopeProvider, DashScopeSingapore
from videoedit_vace import (
    ImageReference,
    MaskedVideoEdit,
    VaceRequest,
    VideoExtension,
    VideoOutpainting,
    VideoRepainting,
    dashscope_body,
    parse_vace_request,
)

CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
REGIONS = [(DashScopeBeijing, "wanx2.1-vace-plus"), (DashScopeSingapore, "wan2.1-vace-plus")]

#: The five create bodies of the documentation page (seeds/004), as written there.
DOCUMENTED = {
    "image_reference": {
        "model": "wan2.1-vace-plus",
        "input": {
            "function": "image_reference",
            "prompt": "In the video, a girl gracefully walks out from a misty, ancient forest.",
            "ref_images_url": [
                "http://wanx.alicdn.com/material/20250318/image_reference_2_5_16.png",
                "http://wanx.alicdn.com/material/20250318/image_reference_1_5_16.png",
            ],
        },
        "parameters": {"prompt_extend": True, "obj_or_bg": ["obj", "bg"], "size": "1280*720"},
    },
    "video_repainting": {
        "model": "wan2.1-vace-plus",
        "input": {
            "function": "video_repainting",
            "prompt": "The video shows a black steampunk-style car driven by a gentleman.",
            "video_url": "http://wanx.alicdn.com/material/20250318/video_repainting_1.mp4",
        },
        "parameters": {"prompt_extend": False, "control_condition": "depth"},
    },
    "video_edit": {
        "model": "wan2.1-vace-plus",
        "input": {
            "function": "video_edit",
            "prompt": "The video shows a Parisian-style French cafe where a lion in a suit is "
            "elegantly sipping coffee.",
            "mask_image_url": "http://wanx.alicdn.com/material/20250318/video_edit_1_mask.png",
            "video_url": "http://wanx.alicdn.com/material/20250318/video_edit_2.mp4",
            "mask_frame_id": 1,
        },
        "parameters": {
            "prompt_extend": False,
            "mask_type": "tracking",
            "expand_ratio": 0.05,
            "size": "1280*720",
        },
    },
    "video_extension": {
        "model": "wan2.1-vace-plus",
        "input": {
            "function": "video_extension",
            "prompt": "A dog wearing sunglasses is skateboarding on the street, 3D cartoon.",
            "first_clip_url": "http://wanx.alicdn.com/material/20250318/video_extension_1.mp4",
        },
        "parameters": {"prompt_extend": False},
    },
    "video_outpainting": {
        "model": "wan2.1-vace-plus",
        "input": {
            "function": "video_outpainting",
            "prompt": "An elegant lady is passionately playing the violin, with a full symphony "
            "orchestra behind her.",
            "video_url": "http://wanx.alicdn.com/material/20250318/video_outpainting_1.mp4",
        },
        "parameters": {
            "prompt_extend": False,
            "top_scale": 1.5,
            "bottom_scale": 1.5,
            "left_scale": 1.5,
            "right_scale": 1.5,
        },
    },
}


def make_host(*, vace: bool = True) -> PluginHost:
    """A host with exactly the plugins named, not whatever the environment has installed."""
    host = PluginHost(strict=True)
    host.register(videoedit.wan27, name="wan27")
    host.register(videoedit_dashscope.plugin, name="dashscope")
    if vace:
        host.register(videoedit_vace.plugin, name="vace")
    return host


def provider(cls: type[DashScopeProvider], **options: Any) -> DashScopeProvider:
    return cls(
        ProviderConfig(base_url=cls.default_base_url, api_key=ApiKey("sk-test"), options=options)
    )


def wire(cls: type[DashScopeProvider], request: VaceRequest) -> dict[str, Any]:
    sent = make_host().build_create(provider(cls), request)
    body: dict[str, Any] = json.loads(sent.content)
    return body


def in_region(body: dict[str, Any], model: str) -> dict[str, Any]:
    expected = copy.deepcopy(body)
    expected["model"] = model
    return expected


# -- the documented examples -------------------------------------------------------------------
@pytest.mark.parametrize(("cls", "model"), REGIONS)
@pytest.mark.parametrize("function", sorted(DOCUMENTED))
def test_each_documented_example_goes_out_exactly_with_the_regions_model_id(
    cls: type[DashScopeProvider], model: str, function: str
) -> None:
    request = parse_vace_request(DOCUMENTED[function])
    assert wire(cls, request) == in_region(DOCUMENTED[function], model)


@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_the_create_call_is_an_async_post_to_the_video_synthesis_route(
    cls: type[DashScopeProvider], model: str
) -> None:
    sent = make_host().build_create(
        provider(cls), parse_vace_request(DOCUMENTED["video_outpainting"])
    )
    assert sent.method == "POST"
    assert str(sent.url) == cls.default_base_url + CREATE_PATH
    assert sent.headers["X-DashScope-Async"] == "enable"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.headers["Content-Type"] == "application/json"
    assert "X-DashScope-OssResourceResolve" not in sent.headers


# -- one body per function, built from the request types ----------------------------------------
@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_image_reference_body(cls: type[DashScopeProvider], model: str) -> None:
    request = ImageReference(
        prompt="a cat in a garden",
        ref_images_url=["https://x.test/cat.png", "https://x.test/garden.png"],
        obj_or_bg=["obj", "bg"],
        size="960*960",
        seed=7,
    )
    assert wire(cls, request) == {
        "model": model,
        "input": {
            "function": "image_reference",
            "prompt": "a cat in a garden",
            "ref_images_url": ["https://x.test/cat.png", "https://x.test/garden.png"],
        },
        "parameters": {"obj_or_bg": ["obj", "bg"], "size": "960*960", "seed": 7},
    }


@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_video_repainting_body(cls: type[DashScopeProvider], model: str) -> None:
    request = VideoRepainting(
        prompt="a steampunk car",
        negative_prompt="blur",
        video_url="https://x.test/in.mp4",
        control_condition="posebody",
        strength=0.5,
        ref_images_url="https://x.test/driver.png",
        prompt_extend=False,
    )
    assert wire(cls, request) == {
        "model": model,
        "input": {
            "function": "video_repainting",
            "prompt": "a steampunk car",
            "negative_prompt": "blur",
            "video_url": "https://x.test/in.mp4",
            "ref_images_url": ["https://x.test/driver.png"],
        },
        "parameters": {"prompt_extend": False, "control_condition": "posebody", "strength": 0.5},
    }


@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_masked_video_edit_body_with_a_mask_video(cls: type[DashScopeProvider], model: str) -> None:
    request = MaskedVideoEdit(
        prompt="a lion in a suit",
        video_url="https://x.test/in.mp4",
        mask_video_url="https://x.test/mask.mp4",
        mask_type="fixed",
        ref_images_url=["https://x.test/lion.png"],
        size="1280*720",
    )
    assert wire(cls, request) == {
        "model": model,
        "input": {
            "function": "video_edit",
            "prompt": "a lion in a suit",
            "video_url": "https://x.test/in.mp4",
            "mask_video_url": "https://x.test/mask.mp4",
            "ref_images_url": ["https://x.test/lion.png"],
        },
        "parameters": {"mask_type": "fixed", "size": "1280*720"},
    }


@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_video_extension_body_with_every_source(cls: type[DashScopeProvider], model: str) -> None:
    request = VideoExtension(
        prompt="a dog on a skateboard",
        first_clip_url="https://x.test/first.mp4",
        last_clip_url="https://x.test/last.mp4",
        first_frame_url="https://x.test/first.png",
        last_frame_url="https://x.test/last.png",
    )
    assert wire(cls, request) == {
        "model": model,
        "input": {
            "function": "video_extension",
            "prompt": "a dog on a skateboard",
            "first_clip_url": "https://x.test/first.mp4",
            "last_clip_url": "https://x.test/last.mp4",
            "first_frame_url": "https://x.test/first.png",
            "last_frame_url": "https://x.test/last.png",
        },
        "parameters": {},
    }


@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_video_outpainting_body_sends_only_the_scales_given(
    cls: type[DashScopeProvider], model: str
) -> None:
    request = VideoOutpainting(video_url="https://x.test/in.mp4", left_scale=2.0, top_scale=1.0)
    assert wire(cls, request) == {
        "model": model,
        "input": {"function": "video_outpainting", "video_url": "https://x.test/in.mp4"},
        "parameters": {"top_scale": 1.0, "left_scale": 2.0},
    }


def test_the_requests_own_spelling_of_the_model_does_not_override_the_region() -> None:
    request = VideoOutpainting(video_url="https://x.test/in.mp4", model="wanx2.1-vace-plus")
    assert wire(DashScopeSingapore, request)["model"] == "wan2.1-vace-plus"
    request = VideoOutpainting(video_url="https://x.test/in.mp4", model="wan2.1-vace-plus")
    assert wire(DashScopeBeijing, request)["model"] == "wanx2.1-vace-plus"


@pytest.mark.parametrize("function", sorted(DOCUMENTED))
def test_the_vace_model_option_sends_the_documented_examples_to_beijing_verbatim(
    function: str,
) -> None:
    """Seed 004 sends wan2.1-vace-plus to the Beijing host: the option reproduces its bodies."""
    beijing = provider(DashScopeBeijing, vace_model="wan2.1-vace-plus")
    sent = make_host().build_create(beijing, parse_vace_request(DOCUMENTED[function]))
    assert str(sent.url) == "https://dashscope.aliyuncs.com/api/v1" + CREATE_PATH
    assert json.loads(sent.content) == DOCUMENTED[function]


@pytest.mark.parametrize(("cls", "model"), [*REGIONS, (DashScopeSingapore, "wanx2.1-vace-plus")])
def test_the_vace_model_option_is_sent_in_either_region(
    cls: type[DashScopeProvider], model: str
) -> None:
    sent = make_host().build_create(
        provider(cls, vace_model=model), VideoOutpainting(video_url="https://x/in.mp4")
    )
    assert json.loads(sent.content)["model"] == model


@pytest.mark.parametrize("bad", ["wan2.1-vace", "WAN2.1-VACE-PLUS", "", 21, ["wan2.1-vace-plus"]])
def test_a_vace_model_option_that_is_neither_spelling_is_refused_naming_it(bad: object) -> None:
    beijing = provider(DashScopeBeijing, vace_model=bad)
    with pytest.raises(InvalidRequestError) as exc:
        make_host().build_create(beijing, VideoOutpainting(video_url="https://x.test/in.mp4"))
    assert exc.value.field == "options.vace_model"
    assert "'wan2.1-vace-plus' or 'wanx2.1-vace-plus'" in str(exc.value)


def test_the_vace_model_option_leaves_wan27_edits_alone() -> None:
    beijing = provider(DashScopeBeijing, vace_model="wan2.1-vace-plus")
    sent = make_host().build_create(beijing, videoedit.VideoEdit(video="https://x.test/in.mp4"))
    assert json.loads(sent.content)["model"] == "wan2.7-videoedit"


@pytest.mark.parametrize("region", [None, "virginia"])
def test_an_unknown_region_gets_the_international_model_id(region: str | None) -> None:
    body = dashscope_body(VideoOutpainting(video_url="https://x.test/in.mp4"), region)
    assert body["model"] == "wan2.1-vace-plus"


def test_an_oss_input_asks_the_service_to_resolve_it() -> None:
    request = VideoRepainting(video_url="oss://dashscope-instant/abc/in.mp4")
    sent = make_host().build_create(provider(DashScopeBeijing), request)
    assert sent.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert json.loads(sent.content)["input"]["video_url"] == "oss://dashscope-instant/abc/in.mp4"


def test_uploaded_urls_replace_local_paths_in_the_body(tmp_path: Any) -> None:
    frame = tmp_path / "first.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n")
    request = VideoExtension(prompt="on", first_frame_url=frame)
    uploaded = request.with_media({"first_frame_url": "oss://dir/first.png"})
    body = wire(DashScopeSingapore, uploaded)
    assert body["input"] == {
        "function": "video_extension",
        "prompt": "on",
        "first_frame_url": "oss://dir/first.png",
    }


# -- the plugin is the only way in -------------------------------------------------------------
@pytest.mark.parametrize(("cls", "model"), REGIONS)
def test_without_the_plugin_the_dashscope_routes_cannot_carry_vace_requests(
    cls: type[DashScopeProvider], model: str
) -> None:
    bare = make_host(vace=False)
    with pytest.raises(InvalidRequestError) as exc:
        bare.build_create(provider(cls), parse_vace_request(DOCUMENTED["video_edit"]))
    assert exc.value.code == "UnsupportedRequest"
    assert exc.value.field == "request"
    assert "cannot carry a MaskedVideoEdit request" in str(exc.value)


def test_without_the_plugin_wan27_edits_still_go_out() -> None:
    bare = make_host(vace=False)
    sent = bare.build_create(
        provider(DashScopeSingapore), videoedit.VideoEdit(video="https://x.test/in.mp4")
    )
    assert json.loads(sent.content)["model"] == "wan2.7-videoedit"


def test_the_plugin_leaves_wan27_edits_to_their_own_encoder() -> None:
    request = videoedit.VideoEdit(video="https://x.test/in.mp4")
    context = EncodeContext(provider="dashscope-singapore", dialect="dashscope", region="singapore")
    assert videoedit_vace.plugin.encode_request(request=request, context=context) is None


def test_the_plugin_encodes_nothing_for_other_dialects() -> None:
    host = make_host()
    request = VideoOutpainting(video_url="https://x.test/in.mp4")
    with pytest.raises(InvalidRequestError) as exc:
        host.encode(request, EncodeContext(provider="apimart", dialect="apimart"))
    assert exc.value.code == "UnsupportedRequest"


def test_the_plugin_is_published_under_the_videoedit_entry_point_group() -> None:
    from importlib.metadata import entry_points

    (found,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "vace"]
    assert found.value == "videoedit_vace.plugin"
    host = PluginHost.from_entry_points(allow=["vace", "dashscope", "wan27"], strict=True)
    assert "vace" in host.plugin_names


def test_a_client_sends_the_body_the_plugin_built() -> None:
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={"request_id": "r1", "output": {"task_id": "t-1", "task_status": "PENDING"}},
        )

    client = Client(
        "dashscope-beijing",
        api_key="sk-test",
        plugins=make_host(),
        transport=httpx.MockTransport(service),
    )
    with client:
        task = client.submit(parse_vace_request(DOCUMENTED["image_reference"]))
    assert task.task_id == "t-1"
    (sent,) = seen
    assert sent.url.path == "/api/v1" + CREATE_PATH
    assert json.loads(sent.content) == in_region(DOCUMENTED["image_reference"], "wanx2.1-vace-plus")


# -- gateways that wrap the DashScope body -----------------------------------------------------
def vtrix(options: dict[str, Any] | None = None) -> Any:
    from videoedit_vtrix import VtrixProvider

    return VtrixProvider(
        ProviderConfig(
            base_url=VtrixProvider.default_base_url,
            api_key=ApiKey("sk-test"),
            options=options or {},
        )
    )


def test_vtrix_wraps_the_vace_body_once_its_model_map_names_a_vtrix_id() -> None:
    """No Vtrix id is known for vace: the caller names it, and the body travels unchanged."""
    gateway = vtrix({"model_map": {"wan2.1-vace-plus": "wan21_vace_plus"}})
    sent = make_host().build_create(gateway, parse_vace_request(DOCUMENTED["video_repainting"]))
    body = json.loads(sent.content)
    documented = DOCUMENTED["video_repainting"]
    assert body == {
        "model": "wan21_vace_plus",
        "input": [
            {"params": {"input": documented["input"], "parameters": documented["parameters"]}}
        ],
    }


def test_vtrix_without_a_vace_model_id_refuses_locally_naming_the_model() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        make_host().build_create(vtrix(), parse_vace_request(DOCUMENTED["video_outpainting"]))
    assert exc.value.field == "model"
    assert "wan2.1-vace-plus" in str(exc.value)


@pytest.mark.parametrize(
    ("cls", "model", "options"),
    [
        *((cls, model, {}) for cls, model in REGIONS),
        (DashScopeBeijing, "wan2.1-vace-plus", {"vace_model": "wan2.1-vace-plus"}),
    ],
)
def test_local_files_are_uploaded_for_the_model_id_sent(
    cls: type[DashScopeProvider], model: str, options: dict[str, str], tmp_path: Any
) -> None:
    """An upload serves only the model it was made for: Beijing's default is wanx2.1-vace-plus,
    and the ``vace_model`` option moves the upload with the create call."""
    frame = tmp_path / "first.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n")
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/uploads"):
            policy = {
                "policy": "p",
                "signature": "s",
                "upload_dir": "dashscope-instant/abc",
                "upload_host": "https://oss.example.test",
                "oss_access_key_id": "k",
            }
            return httpx.Response(200, json={"data": policy})
        if request.url.host == "oss.example.test":
            return httpx.Response(200)
        return httpx.Response(200, json={"output": {"task_id": "t", "task_status": "PENDING"}})

    client = Client(
        cls.id,
        api_key="sk-test",
        plugins=make_host(),
        transport=httpx.MockTransport(service),
        options=options,
    )
    with client:
        client.submit(VideoExtension(prompt="on", first_frame_url=frame))
    policy, upload, create = seen
    assert policy.url.params["model"] == model
    assert upload.url.host == "oss.example.test"
    body = json.loads(create.content)
    assert body["model"] == model
    assert body["input"]["first_frame_url"] == "oss://dashscope-instant/abc/first.png"
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"


def test_leaving_the_plugin_out_of_the_allow_list_removes_only_the_vace_types() -> None:
    """As if uninstalled: the DashScope providers still load and still carry wan2.7 edits."""
    host = PluginHost.from_entry_points(allow=["wan27", "dashscope"], strict=True)
    assert "vace" not in host.plugin_names
    bare = provider(DashScopeSingapore)
    edit = videoedit.VideoEdit(video="https://x.test/a.mp4")
    assert json.loads(host.build_create(bare, edit).content)
    with pytest.raises(InvalidRequestError) as exc:
        host.build_create(bare, parse_vace_request(DOCUMENTED["video_extension"]))
    assert exc.value.code == "UnsupportedRequest"
