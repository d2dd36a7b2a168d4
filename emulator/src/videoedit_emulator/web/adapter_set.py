"""The adapters one web app serves, and the loops over them that replace every provider branch.

Routing (`routes`), the base URLs clients get (`prefixes`), the realms keys may be bound to
(`realms`, `check_keys`), what fault rules may name (`fault_targets`) and how a request is
classified for the journal and the fault rules (`classify`) are each one loop over the
adapters; so is the choice of the error format of a path (`classify` hands back its adapter).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from videoedit_emulator.web.faults import FaultTargets, RouteInfo

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from videoedit_emulator.engine import TaskEngine
    from videoedit_emulator.web.adapter import Adapter

__all__ = ["AdapterSet"]


class AdapterSet:
    """An ordered set of adapters (see the module docstring)."""

    def __init__(self, adapters: Iterable[Adapter]) -> None:
        self.adapters = tuple(adapters)

    def __iter__(self) -> Iterator[Adapter]:
        return iter(self.adapters)

    def __len__(self) -> int:
        return len(self.adapters)

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        """Every adapter's routes over ``engine``, in order."""
        return [route for adapter in self.adapters for route in adapter.routes(engine)]

    def prefixes(self) -> dict[str, str]:
        """Provider id -> URL prefix of every provider clients are configured with."""
        return {
            provider: prefix
            for adapter in self.adapters
            if adapter.listed
            for provider, prefix in adapter.providers.items()
        }

    def adapter_of(self, provider: str) -> Adapter | None:
        """The adapter serving ``provider`` (an id), if any."""
        return next((a for a in self.adapters if provider in a.providers), None)

    def classify(self, method: str, path: str) -> tuple[Adapter | None, RouteInfo]:
        """The adapter serving ``path`` and its name for the request; no adapter: the index
        (``/``) or ``other``, with no provider."""
        for adapter in self.adapters:
            where = adapter.classify(method, path)
            if where is not None:
                return adapter, where
        return None, RouteInfo(None, "index" if path == "/" else "other")

    def realms(self) -> tuple[str, ...]:
        """Every realm a key may be bound to."""
        return tuple(realm for adapter in self.adapters for realm in adapter.realms)

    def check_keys(self, keys: Mapping[str, str]) -> None:
        """Refuse (``ValueError``) a key bound to a realm no adapter serves."""
        realms = self.realms()
        for realm in keys.values():
            if realm not in realms:
                raise ValueError(f"keys: realm {realm!r} must be one of {', '.join(realms)}")

    def fault_targets(self) -> FaultTargets:
        """The providers, adapter names and routes fault rules may give."""
        routes = {
            provider: adapter.route_names()
            for adapter in self.adapters
            for provider in adapter.providers
        }
        groups = {
            adapter.name: tuple(adapter.providers)
            for adapter in self.adapters
            if adapter.name not in routes
        }
        return FaultTargets(routes, groups)
