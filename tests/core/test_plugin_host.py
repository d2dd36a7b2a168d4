"""Plugins: discovery through entry points, the allow-list, broken plugins, lookup, hooks.

The acme provider (tests/plugins/acme) is a separate distribution of this workspace that
only its own ``videoedit`` entry point announces, as a third party's would be.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as real_entry_points
from typing import Any, ClassVar

import httpx
import pytest
from pydantic import Field

import videoedit
import videoedit.plugins
from videoedit import (
    Client,
    EditRequest,
    EncodeContext,
    InvalidRequestError,
    PluginLoadError,
    PluginWarning,
    ProviderNotFoundError,
    TaskStatus,
    VideoEdit,
    hookimpl,
)
from videoedit.plugins import PluginHost, reset_default_host
from videoedit_dashscope import DashScopeBeijing

pytestmark = pytest.mark.anyio

BUILT_IN = {"dashscope-beijing", "dashscope-singapore"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No allow-list, no strict mode, no base URL override, a fresh default host."""
    for name in ("VIDEOEDIT_PLUGINS", "VIDEOEDIT_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    for name in ("DASHSCOPE_BEIJING", "DASHSCOPE_SINGAPORE", "ACME"):
        monkeypatch.delenv(f"VIDEOEDIT_{name}_BASE_URL", raising=False)
    reset_default_host()
    yield
    reset_default_host()


def with_extra_entry_points(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    def entry_points(*, group: str) -> list[EntryPoint]:
        return [*real_entry_points(group=group), *extra]

    monkeypatch.setattr(videoedit.plugins, "entry_points", entry_points)


def ids(host: PluginHost) -> set[str]:
    return {p.id for p in host.providers()}


# -- discovery -------------------------------------------------------------------------------
def test_built_in_and_third_party_providers_come_from_entry_points() -> None:
    host = PluginHost.from_entry_points()
    assert BUILT_IN | {"acme"} <= ids(host)
    assert {"dashscope", "wan27", "acme"} <= set(host.plugin_names)
    acme = host.provider("acme")
    assert (acme.plugin, acme.factory.__module__) == ("acme", "acme_videoedit")
    assert host.failures == []


def test_the_listing_shows_ids_aliases_and_base_urls() -> None:
    listing = {p.id: p for p in videoedit.providers()}
    beijing, singapore = listing["dashscope-beijing"], listing["dashscope-singapore"]
    assert (beijing.base_url, beijing.aliases) == (
        "https://dashscope.aliyuncs.com/api/v1",
        ("dashscope-cn", "dashscope"),
    )
    assert (singapore.base_url, singapore.aliases) == (
        "https://dashscope-intl.aliyuncs.com/api/v1",
        ("dashscope-intl", "dashscope-sg"),
    )
    assert listing["acme"].base_url == "https://api.acme.invalid"
    assert beijing.api_key_env == ("DASHSCOPE_API_KEY",)
    assert beijing.base_url_env == "VIDEOEDIT_DASHSCOPE_BEIJING_BASE_URL"
    assert [p.id for p in videoedit.providers()] == sorted(listing)
    shown = str(videoedit.providers())
    assert "base_url='https://dashscope-intl.aliyuncs.com/api/v1'" in shown
    assert "factory" not in shown  # the listing reads as data, not as class reprs


@pytest.mark.parametrize(
    ("name", "provider_id"),
    [
        ("dashscope", "dashscope-beijing"),
        ("dashscope-cn", "dashscope-beijing"),
        ("dashscope-intl", "dashscope-singapore"),
        ("dashscope-sg", "dashscope-singapore"),
        ("acme-video", "acme"),
        ("acme", "acme"),
    ],
)
def test_a_provider_is_found_by_id_or_alias(name: str, provider_id: str) -> None:
    assert PluginHost.from_entry_points().provider(name).id == provider_id


def test_an_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ProviderNotFoundError) as caught:
        PluginHost.from_entry_points().provider("dashscope-mars")
    message = str(caught.value)
    assert "no provider named 'dashscope-mars'; installed: " in message
    for known in ("acme", "dashscope-beijing", "dashscope-intl", "dashscope-singapore"):
        assert known in message
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("dashscop-beijing", "dashscope-beijing"),
        ("vtrx", "vtrix"),
        ("dashscope-intel", "dashscope-intl"),
    ],
)
def test_a_misspelt_provider_id_suggests_the_closest_name(typed: str, meant: str) -> None:
    with pytest.raises(ProviderNotFoundError) as caught:
        PluginHost.from_entry_points().provider(typed)

    assert caught.value.hint == f"did you mean {meant!r}?"
    assert f"Hint: did you mean {meant!r}?" in str(caught.value)


def test_a_name_like_no_provider_suggests_none() -> None:
    with pytest.raises(ProviderNotFoundError) as caught:
        PluginHost.from_entry_points().provider("runway")

    assert caught.value.hint is None


def test_a_client_by_alias_gets_that_providers_base_url() -> None:
    with Client("dashscope-intl", api_key="k") as client:
        assert (client.provider_id, client.base_url) == (
            "dashscope-singapore",
            "https://dashscope-intl.aliyuncs.com/api/v1",
        )


# -- the allow-list ----------------------------------------------------------------------------
def test_the_allow_list_loads_only_the_named_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOEDIT_PLUGINS", "dashscope, wan27")
    host = PluginHost.from_entry_points()
    assert host.plugin_names == ["dashscope", "wan27"]
    assert ids(host) == BUILT_IN
    with pytest.raises(ProviderNotFoundError):
        host.provider("acme")


def test_an_empty_allow_list_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOEDIT_PLUGINS", "")
    assert videoedit.providers() == []
    with pytest.raises(ProviderNotFoundError, match=r"none \(is a provider plugin installed\?\)"):
        Client("dashscope-beijing", api_key="k")


def test_an_explicit_allow_list_overrides_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEOEDIT_PLUGINS", "")
    assert ids(PluginHost.from_entry_points(allow=["acme"])) == {"acme"}


# -- broken plugins ------------------------------------------------------------------------------
def test_a_plugin_that_fails_to_import_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint(name="broken", value="videoedit_no_such_module", group="videoedit")
    with_extra_entry_points(monkeypatch, broken)
    with pytest.warns(PluginWarning, match="plugin 'broken' was skipped: ModuleNotFoundError"):
        host = PluginHost.from_entry_points()
    assert BUILT_IN | {"acme"} <= ids(host)
    assert [f.name for f in host.failures] == ["broken"]


class _Boom:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        raise RuntimeError("no config file")


def test_a_plugin_whose_registration_raises_is_a_warning() -> None:
    host = PluginHost.from_entry_points()
    host.register(_Boom(), name="boom")
    with pytest.warns(PluginWarning, match="'boom' was skipped: register_providers failed: "):
        found = ids(host)
    assert BUILT_IN | {"acme"} <= found


class _Duplicate:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(DashScopeBeijing, aliases=("another-name",))


def test_a_duplicate_provider_id_is_a_warning_and_the_first_wins() -> None:
    host = PluginHost.from_entry_points()
    host.register(_Duplicate(), name="duplicate")
    with pytest.warns(PluginWarning, match="'dashscope-beijing' is already registered"):
        info = host.provider("dashscope-beijing")
    assert info.plugin == "dashscope"
    with pytest.raises(ProviderNotFoundError):
        host.provider("another-name")


class _Nameless:
    class NoId(DashScopeBeijing):
        id: ClassVar[str] = ""

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(self.NoId)


def test_a_provider_without_an_id_is_a_warning() -> None:
    host = PluginHost.from_entry_points(allow=["dashscope"])
    host.register(_Nameless(), name="nameless")
    with pytest.warns(PluginWarning, match="without a string 'id'"):
        assert ids(host) == BUILT_IN


def test_two_entry_points_of_one_name_load_once(monkeypatch: pytest.MonkeyPatch) -> None:
    twin = EntryPoint(name="acme", value="videoedit_dashscope.plugin", group="videoedit")
    with_extra_entry_points(monkeypatch, twin)
    with pytest.warns(PluginWarning, match="another plugin is already named 'acme'"):
        host = PluginHost.from_entry_points()
    assert "acme" in ids(host)


def test_strict_mode_makes_a_broken_plugin_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint(name="broken", value="videoedit_no_such_module", group="videoedit")
    with_extra_entry_points(monkeypatch, broken)
    with pytest.raises(PluginLoadError, match="'broken' was skipped"):
        PluginHost.from_entry_points(strict=True)
    monkeypatch.setenv("VIDEOEDIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError):
        PluginHost.from_entry_points()


MISSPELT = EntryPoint(name="misspelt", value="misspelt_plugin", group="videoedit")


def test_a_plugin_with_a_misspelt_hook_is_a_warning_and_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_extra_entry_points(monkeypatch, MISSPELT)
    with pytest.warns(PluginWarning) as caught:
        host = PluginHost.from_entry_points()
    [warning] = [str(w.message) for w in caught if "misspelt" in str(w.message)]
    assert warning.startswith(
        "videoedit plugin 'misspelt' was skipped: 'register_provider' is not a videoedit hook "
        "(did you mean 'register_providers'?); the hooks are encode_request, on_task_event, "
    )
    assert [f.name for f in host.failures] == ["misspelt"]
    assert "misspelt" not in host.plugin_names
    assert BUILT_IN | {"acme"} <= ids(host)


def test_strict_mode_makes_a_misspelt_hook_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    with_extra_entry_points(monkeypatch, MISSPELT)
    with pytest.raises(PluginLoadError, match="'register_provider' is not a videoedit hook"):
        PluginHost.from_entry_points(strict=True)


class _Misspelt:
    @hookimpl
    def on_task_events(self, event: Any) -> None:
        raise AssertionError("never called: no hook has this name")


def test_registering_a_plugin_with_a_misspelt_hook_by_hand_raises() -> None:
    host = PluginHost.from_entry_points(allow=["wan27"])
    with pytest.raises(PluginLoadError, match="'on_task_events' is not a videoedit hook"):
        host.register(_Misspelt(), name="misspelt")
    assert host.plugin_names == ["wan27"]


def test_strict_mode_makes_a_failing_registration_fatal() -> None:
    host = PluginHost.from_entry_points(strict=True)
    host.register(_Boom(), name="boom")
    with pytest.raises(PluginLoadError, match="register_providers failed"):
        host.providers()


def test_the_hookspecs_first_name_still_works_with_a_deprecation_warning() -> None:
    from videoedit import hookspecs

    with pytest.warns(DeprecationWarning, match="VideoEditProvider is now VideoEditHookSpecs"):
        old = hookspecs.VideoEditProvider
    assert old is hookspecs.VideoEditHookSpecs
    with pytest.raises(AttributeError):
        hookspecs.VideoEditProviders  # noqa: B018


def test_a_plugin_name_cannot_be_registered_twice() -> None:
    host = PluginHost.from_entry_points(allow=["wan27"])
    with pytest.raises(PluginLoadError):
        host.register(_Boom(), name="wan27")


def test_registering_a_plugin_by_hand_refreshes_the_listing() -> None:
    host = PluginHost.from_entry_points(allow=["wan27"])
    assert ids(host) == set()
    host.register(videoedit_dashscope_plugin(), name="dashscope")
    assert ids(host) == BUILT_IN
    host.unregister("dashscope")
    assert ids(host) == set()


def videoedit_dashscope_plugin() -> Any:
    import videoedit_dashscope.plugin

    return videoedit_dashscope.plugin


# -- base URL override -------------------------------------------------------------------------
def test_the_base_url_variable_overrides_one_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = PluginHost.from_entry_points()
    host.providers()  # loaded before the variable is set: it must still count
    monkeypatch.setenv("VIDEOEDIT_DASHSCOPE_BEIJING_BASE_URL", "http://127.0.0.1:8765/api/v1")
    listing = {p.id: p.base_url for p in host.providers()}
    assert listing["dashscope-beijing"] == "http://127.0.0.1:8765/api/v1"
    assert listing["dashscope-singapore"] == "https://dashscope-intl.aliyuncs.com/api/v1"
    with Client("dashscope", api_key="k", plugins=host) as client:
        assert client.base_url == "http://127.0.0.1:8765/api/v1"
    with Client("dashscope", api_key="k", plugins=host, base_url="https://x.test/v1") as client:
        assert client.base_url == "https://x.test/v1"  # an argument beats the environment


# -- encode_request: request types travel over routes that do not import them -----------------
class Shout(EditRequest):
    """A request type a plugin adds (like the vace plugin's function modes)."""

    request_kind: ClassVar[str] = "shout"
    media_fields: ClassVar[tuple[str, ...]] = ("video",)
    model: str = "wan2.7-shout"
    video: str
    volume: int = Field(ge=1, le=11)


class ShoutPlugin:
    def __init__(self) -> None:
        self.contexts: list[EncodeContext] = []

    @hookimpl
    def encode_request(self, request: EditRequest, context: EncodeContext) -> Any:
        self.contexts.append(context)
        if context.dialect == "dashscope" and isinstance(request, Shout):
            return {
                "model": request.model,
                "input": {"media": [{"type": "video", "url": request.video}]},
                "parameters": {"volume": request.volume},
            }
        return None


async def test_a_plugin_can_teach_a_provider_a_new_request_type(
    make_client, service, plugins: PluginHost
) -> None:
    shout = ShoutPlugin()
    plugins.register(shout, name="shout")
    client = make_client()
    await client.submit(Shout(video="https://cdn.example.com/in.mp4", volume=11))
    [create] = service.requests
    assert service.json(create) == {
        "model": "wan2.7-shout",
        "input": {"media": [{"type": "video", "url": "https://cdn.example.com/in.mp4"}]},
        "parameters": {"volume": 11},
    }
    context = shout.contexts[-1]
    assert (context.provider, context.dialect, context.region) == (
        "dashscope-singapore",
        "dashscope",
        "singapore",
    )


async def test_without_an_encoder_the_client_cannot_carry_the_request(client, service) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await client.submit(Shout(video="https://cdn.example.com/in.mp4", volume=3))
    error = caught.value
    assert (error.field, error.code) == ("request", "UnsupportedRequest")
    assert "provider 'dashscope-singapore' cannot carry a Shout request" in str(error)
    assert service.requests == []


def kinds(host: PluginHost, provider: str) -> list[str]:
    return [kind.request_kind for kind in host.request_types(provider)]


VACE = [
    f"wan2.1-vace-plus {f}"
    for f in (
        "image_reference",
        "video_edit",
        "video_extension",
        "video_outpainting",
        "video_repainting",
    )
]


def test_each_provider_carries_the_request_types_a_plugin_encodes_in_its_dialect() -> None:
    host = PluginHost.from_entry_points(strict=True)

    for dashscope_dialect in ("dashscope-beijing", "dashscope-singapore", "vtrix"):
        assert kinds(host, dashscope_dialect) == ["wan2.7-videoedit", *VACE]
    assert kinds(host, "apimart") == ["wan2.7-videoedit"]  # the vace plugin has no apimart body
    assert kinds(host, "dashscope") == kinds(host, "dashscope-beijing")  # an alias


def test_without_the_vace_plugin_no_provider_carries_its_types() -> None:
    host = PluginHost.from_entry_points(allow=["wan27", "dashscope", "vtrix"], strict=True)

    assert kinds(host, "dashscope-singapore") == ["wan2.7-videoedit"]
    assert kinds(host, "vtrix") == ["wan2.7-videoedit"]


def test_a_plugin_that_encodes_a_new_type_adds_it_to_the_providers_of_its_dialect() -> None:
    host = PluginHost.from_entry_points(allow=["wan27", "dashscope", "apimart"], strict=True)
    host.register(ShoutPlugin(), name="shout")

    assert Shout in host.request_types("dashscope-beijing")
    assert Shout not in host.request_types("apimart")


def test_a_plugin_request_type_checks_its_own_limits() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Shout(video="https://cdn.example.com/in.mp4", volume=12)
    assert caught.value.field == "volume"
    assert "invalid shout request" in str(caught.value)


# -- observers -----------------------------------------------------------------------------------
class _CountingObserver:
    """Implements on_task_event without its argument: pluggy allows taking fewer."""

    calls = 0

    @hookimpl
    def on_task_event(self) -> None:
        type(self).calls += 1


async def test_an_observer_may_take_no_arguments(client, service, plugins: PluginHost) -> None:
    _CountingObserver.calls = 0
    plugins.register(_CountingObserver(), name="counting")
    await client.wait(service.task_id)
    assert _CountingObserver.calls == 3  # polled, status_changed, finished


# -- a third-party provider end to end -------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sync"])
def test_the_third_party_provider_works_through_the_client(kind: str) -> None:
    jobs: list[dict[str, Any]] = []

    def acme(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer acme-key"
        if request.method == "POST":
            jobs.append(httpx.Response(200, content=request.content).json())
            return httpx.Response(200, json={"job": "j-1", "state": "queued"})
        return httpx.Response(
            200, json={"job": "j-1", "state": "done", "output": "https://acme.invalid/j-1.mp4"}
        )

    transport = httpx.MockTransport(acme)
    with Client("acme-video", api_key="acme-key", transport=transport) as client:
        task = client.submit(VideoEdit(video="https://cdn.example.com/in.mp4", prompt="noir"))
        done = client.wait(task)
    assert jobs == [{"clip": "https://cdn.example.com/in.mp4", "instruction": "noir"}]
    assert (done.status, done.video_url) == (TaskStatus.SUCCEEDED, "https://acme.invalid/j-1.mp4")


def test_a_key_is_required_for_the_third_party_provider_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACME_API_KEY", raising=False)
    with pytest.raises(videoedit.AuthenticationError, match="ACME_API_KEY"):
        Client("acme")
