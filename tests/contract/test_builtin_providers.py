"""The contract kit run against every built-in provider, on the emulator (and live with --live)."""

from __future__ import annotations

import pytest

from videoedit_emulator.contract import ProviderContract


@pytest.mark.parametrize(
    "contract_provider", ["dashscope-beijing", "dashscope-singapore", "vtrix", "apimart"]
)
class TestBuiltinProviders(ProviderContract):
    """The four providers this repository ships."""
