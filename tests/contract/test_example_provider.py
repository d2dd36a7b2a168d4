"""The worked example (docs/examples/acme-video) is installed like a third party's package:
its provider through the ``videoedit`` group, its wire format through the emulator's."""

from __future__ import annotations

import httpx

import videoedit
from videoedit_emulator.server import EmulatorServer
from videoedit_emulator.web.discovery import discovered_adapters, provider_prefixes


def test_its_provider_is_found_through_its_own_entry_point() -> None:
    info = videoedit.default_host().provider("acme-cloud")

    assert (info.plugin, info.api_key_env) == ("acme-video", ("ACME_VIDEO_API_KEY",))


def test_its_emulator_adapter_is_discovered_and_mounted(emulator: EmulatorServer) -> None:
    assert [a.name for a in discovered_adapters()] == ["acme-cloud"]
    assert provider_prefixes()["acme-cloud"] == "/acme"

    index = httpx.get(emulator.url + "/").json()
    answer = httpx.get(emulator.base_url("acme-cloud") + "/v2/edits/nope")

    assert index["base_urls"]["acme-cloud"] == emulator.url + "/acme"
    assert answer.status_code == 401  # Acme's own words: no X-Acme-Key
    assert answer.json()["error"]["type"] == "authentication"
