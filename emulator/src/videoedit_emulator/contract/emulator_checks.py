"""The contract's checks of what the emulator does for any adapter: faults, journal, keys.

A provider's emulator adapter declares its routes by name, where a create answer holds the
task id, its error body and its realms; the web app does the rest. These checks prove it
for the provider under test, through its own client: a fault rule armed on its create
route strikes (in its error format, before the engine), its calls are journaled under
their route names with the task id, and a key bound to its realm is the only one its
routes accept. They run on the emulator only; an adapter in the older form (``providers``
and ``routes`` alone) names no routes, and its route checks are skipped saying so.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from videoedit.errors import AuthenticationError, ServiceError, TaskNotFoundError
from videoedit_emulator.contract.target import ContractTarget, emulator_base_url

if TYPE_CHECKING:
    from videoedit.requests import EditRequest
    from videoedit_emulator.server import EmulatorServer
    from videoedit_emulator.web.adapter import Adapter

__all__ = ["BOUND_KEY", "EmulatorChecks"]

#: The key the key-binding check binds to the provider's realm.
BOUND_KEY = "sk-contract-bound"


class EmulatorChecks:
    """Mixed into [`ProviderContract`][videoedit_emulator.contract.ProviderContract]."""

    emulator_route: ClassVar[str | None] = None

    def make_request(self, video: str, **changes: Any) -> EditRequest:
        raise NotImplementedError  # ProviderContract's

    def _served(self, target: ContractTarget, why: str) -> tuple[EmulatorServer, str, Adapter]:
        """The emulator, the provider id it serves this provider under, and its adapter."""
        server = target.require_emulator(why)
        route = self.emulator_route or target.provider_id
        adapter = server.web.adapters.adapter_of(route)
        assert adapter is not None, f"the emulator serves no provider {route!r}"
        return server, route, adapter

    def _named_routes(self, adapter: Adapter) -> None:
        if "create" not in adapter.route_names():
            pytest.skip(
                f"emulator adapter {adapter.name!r} names no create route (an adapter in the "
                "older form: give it operations to have its routes journaled and faulted by name)"
            )

    def test_a_fault_rule_on_its_create_route_strikes_before_the_engine(
        self, contract_target: ContractTarget
    ) -> None:
        """A ``status`` rule (503) armed on the provider's create route answers the
        submission with a server error in the provider's own format, which the client
        raises as ServiceError; the journal shows the rule struck before the engine, and no
        task was made (emulator only)."""
        target = contract_target
        server, route, adapter = self._served(target, "fault rules are the emulator's")
        self._named_routes(adapter)
        rule = server.faults.add("status", provider=route, route="create", status=503, times=1)
        client = target.client()

        with pytest.raises(ServiceError) as caught:
            client.submit(self.make_request(target.video))

        error = caught.value
        assert error.provider == target.provider_id
        assert error.status_code is not None
        assert error.status_code >= 500
        struck = server.faults.get(rule.id)
        assert struck is not None
        assert struck.applied == 1
        entries = server.journal.entries(provider=route, route="create")
        assert [(e.status, e.reached_app) for e in entries] == [(error.status_code, False)]
        assert [f["id"] for f in entries[0].faults] == [rule.id]
        assert server.engine.all_tasks() == [], "a struck create reached the engine"

    def test_its_calls_are_journaled_by_route_with_the_task_id(
        self, contract_target: ContractTarget
    ) -> None:
        """The create call and the status query of a task are journaled under the
        provider id and their route names, the create with the task id the client got
        (emulator only)."""
        target = contract_target
        server, route, adapter = self._served(target, "the journal is the emulator's")
        self._named_routes(adapter)
        target.progress("polls=3")
        client = target.client()

        task = client.submit(self.make_request(target.video))
        client.status(task.task_id)

        creates = server.journal.entries(provider=route, route="create")
        assert [(e.task_id, e.reached_app) for e in creates] == [(task.task_id, True)]
        assert creates[0].status is not None
        assert 200 <= creates[0].status < 300
        polls = server.journal.entries(provider=route, route="status")
        assert len(polls) >= 1, "no status query was journaled as route 'status'"
        assert all(e.reached_app and e.status == 200 for e in polls)

    def test_a_key_bound_to_its_realm_is_the_only_key_it_accepts(
        self, contract_target: ContractTarget
    ) -> None:
        """On an emulator that binds a key to the provider's realm, that key is accepted and
        any other is refused with AuthenticationError (emulator only)."""
        target = contract_target
        _, route, adapter = self._served(target, "keys are bound on the emulator")
        if route not in adapter.realms:
            pytest.skip(f"{route} takes no keys on the emulator")
        from videoedit_emulator.server import EmulatorServer

        with EmulatorServer(keys={BOUND_KEY: route}) as bound:
            base_url = emulator_base_url(bound, route)
            task_id = str(uuid.uuid4())
            with pytest.raises(TaskNotFoundError):  # past the key check: the id is unknown
                target.client(base_url=base_url, api_key=BOUND_KEY).wait(task_id)
            with pytest.raises(AuthenticationError) as caught:
                target.client(base_url=base_url, api_key="sk-contract-unbound").wait(task_id)

        assert caught.value.provider == target.provider_id
        assert caught.value.status_code == 401
