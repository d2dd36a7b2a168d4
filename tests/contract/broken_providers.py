"""Providers that break the contract on purpose, each in one way, and the kit run on them.

``test_kit_catches_broken_providers.py`` runs this module with pytest in a separate process
and reads which checks failed: the kit must catch each fault, and only that fault. Each
provider speaks a wire format the emulator already serves (``emulator_route``).
"""

from __future__ import annotations

from typing import Any

import httpx

import videoedit
from videoedit.task import Task, TaskStatus
from videoedit_apimart.provider import ApimartProvider
from videoedit_dashscope import DashScopeBeijing, DashScopeSingapore
from videoedit_emulator.contract import ProviderContract
from videoedit_vtrix.provider import VtrixProvider


class LosesTheFailureCode(DashScopeBeijing):
    """Reads a FAILED task without the provider's code."""

    id = "broken-loses-code"

    def parse_status(self, task_id: str, response: httpx.Response) -> Task:
        task = super().parse_status(task_id, response)
        return task.evolve(error_code=None) if task.status is TaskStatus.FAILED else task


class DropsTheRequestId(DashScopeSingapore):
    """Builds errors without the service's request id."""

    id = "broken-drops-request-id"

    def parse_error(self, response: httpx.Response) -> videoedit.VideoEditError:
        error = super().parse_error(response)
        error.request_id = None
        return error


class ClaimsACancel(VtrixProvider):
    """Builds a cancel call the service does not have (so it declares one it cannot keep)."""

    id = "broken-claims-cancel"

    def build_cancel(self, task_id: str) -> httpx.Request:
        return httpx.Request("POST", f"{self.base_url}/model/v1/generation/task/{task_id}/cancel")


class ReportsDoneTooEarly(ApimartProvider):
    """Reads a fresh submission as SUCCEEDED."""

    id = "broken-done-early"

    def parse_create(self, response: httpx.Response) -> Task:
        return super().parse_create(response).evolve(status=TaskStatus.SUCCEEDED)


class _Plugin:
    @videoedit.hookimpl
    def register_providers(self, register: Any) -> None:
        for provider in (
            LosesTheFailureCode,
            DropsTheRequestId,
            ClaimsACancel,
            ReportsDoneTooEarly,
        ):
            register(provider)


videoedit.default_host().register(_Plugin(), name="broken-providers")


class TestLosesTheFailureCode(ProviderContract):
    provider = "broken-loses-code"
    emulator_route = "dashscope-beijing"


class TestDropsTheRequestId(ProviderContract):
    provider = "broken-drops-request-id"
    emulator_route = "dashscope-singapore"


class TestClaimsACancel(ProviderContract):
    provider = "broken-claims-cancel"
    emulator_route = "vtrix"


class TestReportsDoneTooEarly(ProviderContract):
    provider = "broken-done-early"
    emulator_route = "apimart"


class TestNotServed(ProviderContract):
    """The test plugin ``acme`` (tests/plugins/acme) publishes no emulator adapter."""

    provider = "acme"


class TestNoProvider(ProviderContract):
    """Forgot to name the provider."""
