"""Where the contract runs: the emulator (steerable) or the real service (``--live``).

A [`ContractTarget`][videoedit_emulator.contract.target.ContractTarget] hands the suite clients bound to one provider and one place, the
input video to edit there, and — on the emulator only — the means to steer a task: how fast
it progresses, and making it fail through the control plane. Live, those checks are skipped,
because a real service cannot be told to fail a task.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest

import videoedit
from videoedit.errors import UnsupportedOperationError
from videoedit.plugins import ProviderInfo

if TYPE_CHECKING:
    from videoedit_emulator.contract.recorder import RecordingTransport
    from videoedit_emulator.server import EmulatorServer

__all__ = ["LIVE_VIDEO_ENV", "ContractTarget", "Mode", "emulator_base_url"]

Mode = Literal["emulator", "live"]

#: A public video URL (2–10 s, MP4) for ``--live`` runs on providers without an upload API.
LIVE_VIDEO_ENV = "VIDEOEDIT_CONTRACT_VIDEO_URL"
#: How long the kit waits for a task: a provider that never maps the end fails in time.
EMULATOR_WAIT = 120.0
LIVE_WAIT = 20 * 60.0


def emulator_base_url(server: EmulatorServer, route: str) -> str:
    """The base URL of ``route`` (a provider id the emulator serves) on ``server``."""
    from videoedit_emulator.web.discovery import ADAPTER_GROUP, provider_prefixes

    prefixes = provider_prefixes()
    if route not in prefixes:
        raise LookupError(
            f"the emulator serves no provider {route!r} (it serves {', '.join(prefixes)}). "
            f"A third-party provider is served once its package publishes an emulator adapter "
            f"under the {ADAPTER_GROUP!r} entry-point group; a provider that speaks a wire "
            f"format the emulator already serves sets emulator_route on its contract class"
        )
    return server.url + prefixes[route]


@dataclass
class ContractTarget:
    """One provider at one place, as the contract suite sees it."""

    mode: Mode
    info: ProviderInfo
    video: str
    options: Mapping[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    api_key: str | None = None
    server: EmulatorServer | None = None
    wait_timeout: float = EMULATOR_WAIT
    _clients: list[videoedit.Client] = field(default_factory=list, repr=False, init=False)

    @property
    def provider_id(self) -> str:
        return self.info.id

    @property
    def live(self) -> bool:
        return self.mode == "live"

    # -- clients ----------------------------------------------------------------------------
    def client(
        self, *, recorder: RecordingTransport | None = None, **overrides: Any
    ) -> videoedit.Client:
        """A client for the provider here (closed after the test); keywords override."""
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "options": dict(self.options),
            "wait_timeout": self.wait_timeout,
        }
        if recorder is not None:
            kwargs["transport"] = recorder
        kwargs.update(overrides)
        client = videoedit.Client(self.info.id, **kwargs)
        self._clients.append(client)
        return client

    def async_client(self, **overrides: Any) -> videoedit.AsyncClient:
        """An [`AsyncClient`][videoedit.AsyncClient] for the provider here (the caller closes it)."""
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "options": dict(self.options),
            "wait_timeout": self.wait_timeout,
        }
        kwargs.update(overrides)
        return videoedit.AsyncClient(self.info.id, **kwargs)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    @property
    def declares_cancel(self) -> bool:
        """Whether the provider has a cancel call: its ``build_cancel`` builds a request
        instead of raising [`UnsupportedOperationError`][videoedit.UnsupportedOperationError] (nothing is sent)."""
        with self.client() as probe:
            try:
                probe.provider.build_cancel("contract-kit-probe")
            except UnsupportedOperationError:
                return False
            return True

    # -- steering (the emulator only) ---------------------------------------------------------
    def require_emulator(self, why: str) -> EmulatorServer:
        """The emulator, or skip: ``why`` says what the check needs that a service lacks."""
        if self.server is None:
            pytest.skip(f"emulator only: {why}")
        return self.server

    def progress(self, spec: str) -> None:
        """Tasks created from now on progress as ``spec`` says (``polls=3``, ``seconds=60``);
        live, the service decides."""
        if self.server is not None:
            self.server.engine.set_default_progression(spec)

    def engine_task_id(self, task_id: str) -> str:
        """The engine's id of the task a provider calls ``task_id``.

        Adapters may decorate the engine's ids on the wire (APIMart's ``task_`` prefix); the
        engine's task is the one whose id the provider's id contains.
        """
        server = self.require_emulator("the control plane addresses the engine's tasks")
        listing = httpx.get(f"{server.url}/_emulator/tasks", timeout=30)
        listing.raise_for_status()
        ids = [t["task_id"] for t in listing.json()["tasks"] if t["task_id"] in task_id]
        assert len(ids) == 1, f"no single emulator task matches the provider's id {task_id!r}"
        return str(ids[0])

    def fail(self, task_id: str, code: str, message: str) -> None:
        """Make a task end FAILED with ``code`` and ``message``, through the control plane."""
        server = self.require_emulator("a task is made to fail through the control plane")
        engine_id = self.engine_task_id(task_id)
        response = httpx.post(
            f"{server.url}/_emulator/tasks/{engine_id}/fail",
            json={"code": code, "message": message},
            timeout=30,
        )
        assert response.status_code == 200, (
            f"the control plane refused to fail task {task_id}: {response.text}"
        )


def live_video(info: ProviderInfo, provider_has_uploader: bool, local_clip: str) -> str:
    """The input for a live run: ``$VIDEOEDIT_CONTRACT_VIDEO_URL``, else the local sample
    clip where the provider uploads local files, else skip (saying which variable to set)."""
    url = os.environ.get(LIVE_VIDEO_ENV, "").strip()
    if url:
        return url
    if provider_has_uploader:
        return local_clip
    pytest.skip(
        f"{info.id} takes URLs only: set {LIVE_VIDEO_ENV} to a public MP4 of 2 to 10 s "
        "to run its live contract"
    )
