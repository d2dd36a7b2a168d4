"""``videoedit providers``: every installed provider, and whether its key is set, never the key."""

from __future__ import annotations

from collections.abc import Callable

from cli_helpers import Run

import videoedit


def test_providers_json_lists_every_installed_provider(cli: Callable[..., Run]) -> None:
    run = cli("providers", "--json")

    assert run.code == 0
    listed = {p["id"]: p for p in run.json()["providers"]}
    installed = {p.id: p for p in videoedit.providers()}
    assert set(listed) == set(installed)
    for pid, info in installed.items():
        assert listed[pid]["aliases"] == list(info.aliases)
        assert listed[pid]["base_url"] == info.base_url
        assert listed[pid]["api_key_env"] == list(info.api_key_env)
        assert listed[pid]["key_set"] is False
    assert listed["dashscope-beijing"]["aliases"] == ["dashscope-cn", "dashscope"]


def test_providers_say_a_key_is_set_without_printing_it(cli: Callable[..., Run]) -> None:
    secret = "sk-do-not-print-4f1c2b"
    env = {"DASHSCOPE_API_KEY": secret}

    text = cli("providers", env=env)
    data = cli("providers", "--json", env=env)

    assert text.code == data.code == 0
    listing = text.stdout.split("\n\n")[0].splitlines()
    rows = {line.split()[0]: line for line in listing[1:]}
    assert "set (DASHSCOPE_API_KEY)" in rows["dashscope-singapore"]
    assert "not set (VTRIX_API_KEY)" in rows["vtrix"]
    assert "https://dashscope-intl.aliyuncs.com/api/v1" in rows["dashscope-singapore"]
    keys = {p["id"]: p["key_set"] for p in data.json()["providers"]}
    assert keys["dashscope-beijing"] is True
    assert keys["vtrix"] is False
    for run in (text, data):
        assert secret not in run.stdout + run.stderr


def test_a_base_url_override_shows_in_the_listing(cli: Callable[..., Run]) -> None:
    run = cli(
        "providers",
        "--json",
        env={"VIDEOEDIT_VTRIX_BASE_URL": "http://127.0.0.1:9/vtrix"},
    )

    urls = {p["id"]: p["base_url"] for p in run.json()["providers"]}
    assert urls["vtrix"] == "http://127.0.0.1:9/vtrix"


def test_providers_say_which_request_types_each_carries(cli: Callable[..., Run]) -> None:
    text = cli("providers")
    data = cli("providers", "--json")

    carried = text.stdout.split("\n\n")[1].splitlines()
    assert carried[0].split() == ["PROVIDER", "REQUEST", "TYPES"]
    rows = {line.split()[0]: line.split(None, 1)[1] for line in carried[1:]}
    vace = "image_reference, video_edit, video_extension, video_outpainting, video_repainting"
    assert rows["dashscope-singapore"] == f"wan2.7-videoedit; wan2.1-vace-plus: {vace}"
    assert rows["vtrix"] == rows["dashscope-singapore"]
    assert rows["apimart"] == "wan2.7-videoedit"
    types = {p["id"]: p["request_types"] for p in data.json()["providers"]}
    assert types["apimart"] == [
        {"kind": "wan2.7-videoedit", "type": "videoedit.requests.VideoEdit"}
    ]
    assert {
        "kind": "wan2.1-vace-plus video_edit",
        "type": "videoedit_vace.requests.MaskedVideoEdit",
    } in types["vtrix"]


def test_a_misspelt_provider_id_is_answered_with_the_closest_one(cli: Callable[..., Run]) -> None:
    run = cli("status", "task-1", "--provider", "dashscope-singapur")

    assert run.code == 15
    assert "no provider named 'dashscope-singapur'" in run.stderr
    assert "To fix: Did you mean 'dashscope-singapore'?" in run.stderr
