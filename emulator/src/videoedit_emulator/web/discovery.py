"""Wire-format adapters from other packages, found through an entry-point group.

A third-party provider plugin teaches the *client* its wire format through the ``videoedit``
entry-point group; to be served by the emulator (and so run the contract kit offline) it
also publishes an **emulator adapter** under ``videoedit_emulator.adapters``::

    [project.entry-points."videoedit_emulator.adapters"]
    acme-cloud = "acme_video.emulator"

The entry point names any object (a module is fine) with two attributes:

``providers``
    a mapping of provider id -> URL prefix under the emulator's root (``{"acme-cloud":
    "/acme"}``): the provider's base URL on an emulator is its root URL + that prefix;
``routes(engine)``
    the Starlette routes of the wire format, mounted under those prefixes, translating JSON
    and status words and calling the shared [`TaskEngine`][videoedit_emulator.engine.TaskEngine].

The built-in adapters stay in `videoedit_emulator.web.app.ADAPTERS`; discovered ones are
mounted beside them. An adapter that fails to load, or claims a provider id or a prefix that
is taken (or the control plane's), is skipped with an [`AdapterWarning`][videoedit_emulator.web.discovery.AdapterWarning].
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from videoedit_emulator.engine import TaskEngine

__all__ = [
    "ADAPTER_GROUP",
    "AdapterPlugin",
    "AdapterWarning",
    "discovered_adapters",
    "load_adapters",
    "provider_prefixes",
]

ADAPTER_GROUP = "videoedit_emulator.adapters"
#: Prefixes no adapter may take: the control plane, and the result/upload store's routes.
_RESERVED = ("/_emulator", "/oss")


class AdapterWarning(UserWarning):
    """An emulator adapter from an entry point was skipped."""


@dataclass(frozen=True)
class AdapterPlugin:
    """One discovered adapter: where it came from, what it serves, how to mount it."""

    name: str
    providers: Mapping[str, str]
    routes: Callable[[TaskEngine], list[BaseRoute]]


def _builtin_prefixes() -> dict[str, str]:
    from videoedit_emulator.web.app import PROVIDER_PREFIXES

    return dict(PROVIDER_PREFIXES)


def _clash(prefix: str, taken: list[str]) -> str | None:
    """The taken prefix ``prefix`` would overlap (one inside the other), if any."""
    for other in taken:
        if prefix == other or prefix.startswith(other + "/") or other.startswith(prefix + "/"):
            return other
    return None


def load_adapters(
    eps: list[EntryPoint], builtin: Mapping[str, str]
) -> tuple[list[AdapterPlugin], list[str]]:
    """Validate and load ``eps`` against the ``builtin`` prefixes; return the adapters and
    the reasons for each one skipped (pure: no warnings, no caching)."""
    adapters: list[AdapterPlugin] = []
    skipped: list[str] = []
    ids = dict(builtin)
    prefixes = [*_RESERVED, *builtin.values()]
    for ep in sorted(eps, key=lambda e: e.name):
        try:
            target: Any = ep.load()
        except Exception as exc:
            skipped.append(f"{ep.name!r} failed to load: {type(exc).__name__}: {exc}")
            continue
        providers = getattr(target, "providers", None)
        routes = getattr(target, "routes", None)
        if not isinstance(providers, Mapping) or not providers or not callable(routes):
            skipped.append(
                f"{ep.name!r} must have 'providers' (a mapping of provider id to URL prefix) "
                "and 'routes(engine)'"
            )
            continue
        problem = None
        for provider, prefix in providers.items():
            if not isinstance(provider, str) or not isinstance(prefix, str):
                problem = "provider ids and prefixes must be strings"
            elif not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
                problem = f"prefix {prefix!r} must start with '/' and not end with it"
            elif provider in ids:
                problem = f"provider {provider!r} is already served at {ids[provider]!r}"
            elif clash := _clash(prefix, prefixes):
                problem = f"prefix {prefix!r} overlaps {clash!r}, which is taken"
            if problem:
                break
        if problem:
            skipped.append(f"{ep.name!r} was skipped: {problem}")
            continue
        adapters.append(AdapterPlugin(ep.name, dict(providers), routes))
        ids.update(providers)
        prefixes += list(providers.values())
    return adapters, skipped


@functools.lru_cache(maxsize=1)
def discovered_adapters() -> tuple[AdapterPlugin, ...]:
    """Every valid adapter of the entry-point group (loaded once per process)."""
    adapters, skipped = load_adapters(list(entry_points(group=ADAPTER_GROUP)), _builtin_prefixes())
    for reason in skipped:
        warnings.warn(f"emulator adapter {reason}", AdapterWarning, stacklevel=2)
    return tuple(adapters)


def provider_prefixes() -> dict[str, str]:
    """Provider id -> URL prefix of every provider the emulator serves, built-in first."""
    prefixes = _builtin_prefixes()
    for adapter in discovered_adapters():
        prefixes.update(adapter.providers)
    return prefixes
