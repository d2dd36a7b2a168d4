"""Peers that try to make the emulator hold state without bound, or steer it from a page:
a client with a new key per query, a page of a site whose name was rebound to 127.0.0.1,
a third-party adapter that claims another's name."""

from __future__ import annotations

import pytest

from videoedit_emulator.engine.clock import ManualClock
from videoedit_emulator.engine.errors import ApiError
from videoedit_emulator.engine.query_quota import QueryQuota


def test_a_new_key_on_every_query_does_not_grow_the_query_quota_for_ever() -> None:
    # With no keys configured any key is accepted: one deque per key was kept for ever,
    # its key whole (a header may hold 60 KiB), 10 000 keys a minute from one client.
    clock = ManualClock()
    quota = QueryQuota(20, clock.now)
    for n in range(10_000):
        quota.spend(f"sk-{n:05d}-" + "x" * 100)
        clock.advance(0.001)
    assert quota.accounts <= 1_001  # those of the last second

    clock.advance(2.0)
    quota.spend("sk-last")

    assert quota.accounts == 1


def test_an_account_forgotten_when_idle_still_gets_its_quota() -> None:
    clock = ManualClock()
    quota = QueryQuota(2, clock.now)
    quota.spend("a")
    quota.spend("a")
    clock.advance(5.0)
    quota.spend("b")  # "a" is forgotten here

    quota.spend("a")
    quota.spend("a")
    with pytest.raises(ApiError) as caught:
        quota.spend("a")

    assert caught.value.code == "Throttling.RateQuota"
    assert quota.accounts == 2
