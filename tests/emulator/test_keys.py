"""API keys: any non-empty key by default; configured keys are bound to their region."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_wire import DashScopeWire, error_of, wan27_body

import videoedit
from videoedit_emulator.engine.config import EmulatorConfig
from videoedit_emulator.server import EmulatorServer

BJ_KEY, SG_KEY = "sk-beijing", "sk-singapore"


@pytest.fixture(scope="module")
def bound() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        keys={BJ_KEY: "dashscope-beijing", SG_KEY: "dashscope-singapore"}
    ) as server:
        yield server


def test_by_default_any_non_empty_key_is_accepted(wire: DashScopeWire) -> None:
    for key in ("a", "sk-0123456789", "not even a real key"):
        assert wire.create(wan27_body(), key=key).status_code == 200


@pytest.mark.parametrize(
    ("region", "key", "accepted"),
    [
        ("dashscope-beijing", BJ_KEY, True),
        ("dashscope-singapore", SG_KEY, True),
        ("dashscope-beijing", SG_KEY, False),
        ("dashscope-singapore", BJ_KEY, False),
        ("dashscope-beijing", "sk-unknown", False),
    ],
)
def test_a_bound_key_works_only_in_its_region(
    bound: EmulatorServer, http: httpx.Client, region: str, key: str, accepted: bool
) -> None:
    wire = DashScopeWire(bound, region, key=key, http=http)
    response = wire.create(wan27_body())
    if accepted:
        assert response.status_code == 200
    else:
        assert error_of(response) == (401, "InvalidApiKey", "Invalid API-key provided.")


def test_the_client_turns_a_wrong_region_key_into_a_hint(bound: EmulatorServer) -> None:
    with (
        bound.client("dashscope-singapore", api_key=BJ_KEY) as client,
        pytest.raises(videoedit.AuthenticationError) as caught,
    ):
        client.list()
    assert caught.value.code == "InvalidApiKey"
    assert caught.value.hint is not None
    assert "'dashscope-beijing'" in caught.value.hint


@pytest.mark.parametrize(
    ("keys", "key", "realm", "accepted"),
    [
        ({}, "anything", "vtrix", True),
        ({}, " ", "vtrix", False),
        ({"k": "dashscope-beijing"}, "k", "dashscope-beijing", True),
        ({"k": "dashscope-beijing"}, "k", "dashscope-singapore", False),
        # a realm with no key bound accepts any key not bound elsewhere
        ({"k": "dashscope-beijing"}, "other", "vtrix", True),
        ({"k": "dashscope-beijing"}, "other", "dashscope-beijing", False),
    ],
)
def test_the_key_rule(keys: dict[str, str], key: str, realm: str, accepted: bool) -> None:
    assert EmulatorConfig(keys=keys).accepts_key(key, realm) is accepted


def test_a_key_bound_to_an_unknown_realm_is_a_config_error() -> None:
    # The adapters declare the realms, so the web app they are served in checks the keys.
    with pytest.raises(ValueError, match="realm 'mars' must be one of"):
        EmulatorServer(keys={"k": "mars"})
