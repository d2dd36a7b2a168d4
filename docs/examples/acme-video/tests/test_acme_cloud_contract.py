"""Acme Video Cloud passes videoedit's provider contract.

On the emulator always (through this package's emulator adapter); against the real service
with ``pytest --live`` and ``ACME_VIDEO_API_KEY`` set.
"""

from videoedit_emulator.contract import ProviderContract


class TestAcmeCloudContract(ProviderContract):
    provider = "acme-cloud"
