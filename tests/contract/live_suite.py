"""The contract kit's live mode, run by ``test_live_mode.py`` in a separate pytest process with
``--live``: DashScope's key is set (and its base URL points at an emulator standing in for the
real service); Vtrix's key is not."""

from videoedit_emulator.contract import ProviderContract


class TestBeijing(ProviderContract):
    provider = "dashscope-beijing"


class TestVtrix(ProviderContract):
    provider = "vtrix"
