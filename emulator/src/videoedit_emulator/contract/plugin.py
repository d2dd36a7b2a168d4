"""The contract kit's pytest plugin (registered through ``pytest11``): ``--live`` and media.

- ``--live``: also run [`ProviderContract`][videoedit_emulator.contract.ProviderContract] against the real
  services, for each provider whose key is set (real edits are billed: two 2 s 720P edits per
  provider). Without it the ``[live]`` checks are skipped. Markers: every check is
  ``videoedit_contract``; the live variants are ``videoedit_live`` too
  (``pytest --live -m videoedit_live`` runs only them).
- ``contract_video_url`` (session): the emulator's sample clip (2 s, 640×360, with audio)
  served on a loopback URL, which the emulator fetches like any input; so the kit needs no
  upload API and works for every provider.

The fixtures of [`videoedit_emulator.pytest_plugin`][videoedit_emulator.pytest_plugin] (``emulator``, ``emulator_client``,
``emulator_sample_clip``…) are what the suite runs on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["contract_video_url", "pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("videoedit", "videoedit provider contract")
    group.addoption(
        "--live",
        action="store_true",
        dest="videoedit_live",
        default=False,
        help="also run the videoedit provider contract against the real services whose keys "
        "are set (bills real edits)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "videoedit_contract: a check of videoedit's provider contract "
        "(videoedit_emulator.contract.ProviderContract)",
    )
    config.addinivalue_line(
        "markers",
        "videoedit_live: the contract check against the real service (runs with --live; "
        "select with -m videoedit_live)",
    )


@pytest.fixture(scope="session")
def contract_video_url(emulator_sample_clip: Path) -> Iterator[str]:
    """The sample clip on a loopback URL (the emulator fetches it; nothing is uploaded)."""
    from videoedit_emulator.web.fileserver import LoopbackFiles

    with LoopbackFiles() as files:
        yield files.add(emulator_sample_clip)
