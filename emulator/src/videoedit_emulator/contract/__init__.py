"""The provider-contract kit: one suite that any provider, ours or a third party's, runs.

::

    # tests/test_contract.py of a provider package
    from videoedit_emulator.contract import ProviderContract

    class TestAcmeCloud(ProviderContract):
        provider = "acme-cloud"

``pytest`` runs it against the emulator; ``pytest --live`` with the provider's key set runs
it against the real service too. See ``docs/testing.md``.
"""

from videoedit_emulator.contract.recorder import (
    Exchange,
    RecordingTransport,
    wire_code,
    wire_request_id,
)
from videoedit_emulator.contract.suite import ProviderContract
from videoedit_emulator.contract.target import LIVE_VIDEO_ENV, ContractTarget

__all__ = [
    "LIVE_VIDEO_ENV",
    "ContractTarget",
    "Exchange",
    "ProviderContract",
    "RecordingTransport",
    "wire_code",
    "wire_request_id",
]
