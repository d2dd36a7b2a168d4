"""The emulator listens on loopback unless told otherwise, and says so loudly when it is."""

from __future__ import annotations

import inspect
import warnings

import pytest

from videoedit_emulator.cli import build_parser, exposure_warning
from videoedit_emulator.server import EmulatorServer

#: An address of the documentation range (RFC 5737): never this machine's, so binding it
#: fails after the warning, and no test ever listens beyond loopback.
ELSEWHERE = "192.0.2.1"


def test_every_way_to_run_it_binds_loopback_by_default(
    emulator_server: EmulatorServer,
) -> None:
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert inspect.signature(EmulatorServer).parameters["host"].default == "127.0.0.1"
    assert emulator_server.host == "127.0.0.1"
    assert emulator_server.url.startswith("http://127.0.0.1:")


def test_a_loopback_server_starts_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with EmulatorServer(host="localhost") as server:
            assert server.url.startswith("http://localhost:")


def test_a_server_bound_beyond_loopback_warns_before_it_binds() -> None:
    server = EmulatorServer(host=ELSEWHERE)
    warned = pytest.warns(RuntimeWarning, match=f"bound to {ELSEWHERE}, not loopback")
    with warned as caught, pytest.raises(OSError):  # not this machine's: nothing listens
        server.start()
    assert "anyone who can reach this address" in str(caught[0].message)
    server.engine.close()


@pytest.mark.parametrize(
    ("host", "warns"),
    [("127.0.0.1", False), ("::1", False), ("localhost", False), ("0.0.0.0", True), ("::", True)],
)
def test_serve_warns_for_every_address_beyond_loopback(host: str, warns: bool) -> None:
    assert (exposure_warning(host) is not None) is warns
