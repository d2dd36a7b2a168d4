"""Emulator adapters found through the ``videoedit_emulator.adapters`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import anyio
import httpx
import pytest

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.web.app import create_app
from videoedit_emulator.web.discovery import (
    ADAPTER_GROUP,
    load_adapters,
    provider_prefixes,
)

#: The providers served already (the emulator's own and the worked example's).
PROVIDER_PREFIXES = provider_prefixes()


def ep(name: str, target: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"fake_adapters:{target}", group=ADAPTER_GROUP)


def test_a_valid_adapter_is_loaded_with_its_providers_and_routes() -> None:
    adapters, skipped = load_adapters([ep("zeta", "Valid")], PROVIDER_PREFIXES)

    assert skipped == []
    assert [(a.name, dict(a.providers)) for a in adapters] == [("zeta", {"zeta-cloud": "/zeta"})]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("TakesABuiltinId", "'x' was skipped: provider 'vtrix' is already served at '/vtrix'"),
        (
            "InsideABuiltinPrefix",
            "'x' was skipped: prefix '/api/v1/nested' overlaps '/api/v1', which is taken",
        ),
        (
            "OnTheControlPlane",
            "'x' was skipped: prefix '/_emulator' overlaps '/_emulator', which is taken",
        ),
        (
            "NoRoutes",
            "'x' must have 'providers' (a mapping of provider id to URL prefix) and "
            "'routes(engine)'",
        ),
        (
            "BadPrefix",
            "'x' was skipped: prefix 'slashless' must start with '/' and not end with it",
        ),
        (
            "Missing",
            "'x' failed to load: AttributeError: module 'fake_adapters' has no attribute 'Missing'",
        ),
    ],
)
def test_an_adapter_that_cannot_be_served_is_skipped_with_the_reason(
    target: str, reason: str
) -> None:
    adapters, skipped = load_adapters([ep("x", target)], PROVIDER_PREFIXES)

    assert adapters == []
    assert skipped == [reason]


def test_the_first_of_two_adapters_claiming_one_provider_wins() -> None:
    adapters, skipped = load_adapters(
        [ep("b-second", "SameIdAsValid"), ep("a-first", "Valid")], PROVIDER_PREFIXES
    )

    assert [a.name for a in adapters] == ["a-first"]
    assert skipped == ["'b-second' was skipped: provider 'zeta-cloud' is already served at '/zeta'"]


def test_a_discovered_adapter_is_mounted_on_the_shared_engine() -> None:
    adapters, _ = load_adapters([ep("zeta", "Valid")], PROVIDER_PREFIXES)
    engine = TaskEngine()
    try:
        app = create_app(engine, adapters=adapters)
        transport = httpx.ASGITransport(app=app)

        async def get() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
                return await c.get("/zeta/hello")

        answer = anyio.run(get)
    finally:
        engine.close()

    assert answer.json() == {"seed": engine.seed, "path": "/zeta/hello"}
