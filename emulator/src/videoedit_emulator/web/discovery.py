"""Every wire format the emulator serves, found through one entry-point group.

The emulator's own adapters (DashScope, OSS, Vtrix, APIMart) and those of other packages
are published alike, under ``videoedit_emulator.adapters`` in a ``pyproject.toml``::

    [project.entry-points."videoedit_emulator.adapters"]
    acme-cloud = "acme_video.emulator:ADAPTER"

The entry point names an [`Adapter`][videoedit_emulator.web.adapter.Adapter] (an instance, or a
subclass made with no arguments), or, in the older form, any object (a module is fine)
with two attributes, wrapped in a [`ModuleAdapter`][videoedit_emulator.web.adapter.ModuleAdapter]:

``providers``
    a mapping of provider id -> URL prefix under the emulator's root (``{"acme-cloud":
    "/acme"}``): the provider's base URL on an emulator is its root URL + that prefix;
``routes(engine)``
    the Starlette routes of the wire format, mounted under those prefixes, translating JSON
    and status words and calling the shared [`TaskEngine`][videoedit_emulator.engine.TaskEngine].

The emulator's own adapters come first, then the others, each by their ``order`` and
entry-point name (the order of the index and of ``serve``'s banner). An adapter that fails to load, or claims a provider id or a prefix that is taken (or
the control plane's), is skipped with an [`AdapterWarning`][videoedit_emulator.web.discovery.AdapterWarning].
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from videoedit_emulator.web.adapter import Adapter, ModuleAdapter

__all__ = [
    "ADAPTER_GROUP",
    "AdapterWarning",
    "discovered_adapters",
    "installed_adapters",
    "load_adapters",
    "provider_prefixes",
]

ADAPTER_GROUP = "videoedit_emulator.adapters"
#: The distribution whose adapters are the emulator's own.
_OWN = "videoedit-emulator"
#: Prefixes no adapter may take: the control plane's.
_RESERVED = ("/_emulator",)


class AdapterWarning(UserWarning):
    """An emulator adapter from an entry point was skipped."""


def _clash(prefix: str, taken: list[str]) -> str | None:
    """The taken prefix ``prefix`` would overlap (one inside the other), if any."""
    for other in taken:
        if prefix == other or prefix.startswith(other + "/") or other.startswith(prefix + "/"):
            return other
    return None


def _own(ep: EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) or ""
    return name.replace("_", "-").lower() == _OWN


def _as_adapter(name: str, target: Any) -> Adapter | str:
    """``target`` as an adapter, or the reason it is none."""
    if isinstance(target, type) and issubclass(target, Adapter):
        target = target()
    if isinstance(target, Adapter):
        if not isinstance(getattr(target, "name", None), str) or not target.name:
            return f"{name!r} was skipped: an Adapter needs a name"
        providers = getattr(target, "providers", None)
        if not isinstance(providers, Mapping) or not providers:
            return f"{name!r} was skipped: an Adapter needs providers (provider id -> prefix)"
        return target
    providers = getattr(target, "providers", None)
    routes = getattr(target, "routes", None)
    if not isinstance(providers, Mapping) or not providers or not callable(routes):
        return (
            f"{name!r} must have 'providers' (a mapping of provider id to URL prefix) "
            "and 'routes(engine)'"
        )
    return ModuleAdapter(name, providers, routes)


def _problem(adapter: Adapter, ids: Mapping[str, str], prefixes: list[str]) -> str | None:
    entries: list[tuple[Any, Any]] = list(adapter.providers.items())  # from anyone's code
    for provider, prefix in entries:
        if not isinstance(provider, str) or not isinstance(prefix, str):
            return "provider ids and prefixes must be strings"
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            return f"prefix {prefix!r} must start with '/' and not end with it"
        if provider in ids:
            return f"provider {provider!r} is already served at {ids[provider]!r}"
        if clash := _clash(prefix, prefixes):
            return f"prefix {prefix!r} overlaps {clash!r}, which is taken"
    return None


def load_adapters(
    eps: Sequence[EntryPoint], taken: Mapping[str, str] | None = None
) -> tuple[list[Adapter], list[str]]:
    """Load and check ``eps`` (beside the providers ``taken`` already, id -> prefix);
    return the adapters and the reason each skipped one was (pure: no warnings, no cache).

    The emulator's own adapters come first, then the others, each by `Adapter.order` and
    entry-point name: the first to claim a provider id or a prefix has it. Reasons come in
    the order of ``eps`` for adapters that fail to load, then in that order.
    """
    adapters: list[Adapter] = []
    skipped: list[str] = []
    ids = dict(taken or {})
    prefixes = [*_RESERVED, *ids.values()]
    loaded: list[tuple[bool, int, str, Adapter]] = []
    for ep in eps:
        try:
            target: Any = ep.load()
        except Exception as exc:
            skipped.append(f"{ep.name!r} failed to load: {type(exc).__name__}: {exc}")
            continue
        adapter = _as_adapter(ep.name, target)
        if isinstance(adapter, str):
            skipped.append(adapter)
            continue
        loaded.append((not _own(ep), adapter.order, ep.name, adapter))
    for _, _, name, adapter in sorted(loaded, key=lambda item: item[:3]):
        problem = _problem(adapter, ids, prefixes)
        if problem:
            skipped.append(f"{name!r} was skipped: {problem}")
            continue
        adapters.append(adapter)
        ids.update(adapter.providers)
        prefixes += list(adapter.providers.values())
    return adapters, skipped


@functools.lru_cache(maxsize=1)
def _installed() -> tuple[tuple[Adapter, ...], tuple[Adapter, ...]]:
    """The emulator's own adapters and those of other packages (loaded once per process)."""
    eps = list(entry_points(group=ADAPTER_GROUP))
    own, skipped = load_adapters([ep for ep in eps if _own(ep)])
    taken = {p: prefix for a in own for p, prefix in a.providers.items()}
    others, more = load_adapters([ep for ep in eps if not _own(ep)], taken)
    for reason in [*skipped, *more]:
        warnings.warn(f"emulator adapter {reason}", AdapterWarning, stacklevel=3)
    return tuple(own), tuple(others)


def installed_adapters() -> tuple[Adapter, ...]:
    """Every valid adapter of the entry-point group, the emulator's own first."""
    own, others = _installed()
    return own + others


def discovered_adapters() -> tuple[Adapter, ...]:
    """The installed adapters that other packages publish (not the emulator's own)."""
    return _installed()[1]


def provider_prefixes() -> dict[str, str]:
    """Provider id -> URL prefix of every provider clients reach on the emulator (the
    listed ones: not OSS), the emulator's own first."""
    return {
        provider: prefix
        for adapter in installed_adapters()
        if adapter.listed
        for provider, prefix in adapter.providers.items()
    }
