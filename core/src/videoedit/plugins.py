"""Plugin discovery and the typed facade over the hooks.

Plugins come from the ``videoedit`` entry-point group, the built-in ones included.
``VIDEOEDIT_PLUGINS`` (comma-separated entry-point names) allow-lists which load; empty means
none. A plugin that fails to import or register, or that implements a hook no specification
names (a misspelt ``register_provider``, found by pluggy's ``check_pending`` once every
plugin is loaded), is reported with a [`PluginWarning`][videoedit.PluginWarning] and skipped, unless strict mode
is on (``strict=True`` or ``VIDEOEDIT_STRICT_PLUGINS=1``), in which case
[`PluginLoadError`][videoedit.errors.PluginLoadError] is raised.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from videoedit import hookspecs
from videoedit.errors import InvalidRequestError, PluginLoadError, ProviderNotFoundError

if TYPE_CHECKING:
    import httpx

    from videoedit.encoding import EncodeContext
    from videoedit.events import TaskEvent
    from videoedit.hookspecs import CommandLine
    from videoedit.provider import Provider, ProviderFactory
    from videoedit.requests import EditRequest

__all__ = [
    "ALLOW_ENV",
    "ENTRY_POINT_GROUP",
    "STRICT_ENV",
    "PluginFailure",
    "PluginHost",
    "PluginWarning",
    "ProviderInfo",
    "default_host",
    "reset_default_host",
]

ENTRY_POINT_GROUP = "videoedit"
ALLOW_ENV = "VIDEOEDIT_PLUGINS"
STRICT_ENV = "VIDEOEDIT_STRICT_PLUGINS"

log = logging.getLogger("videoedit.plugins")


class PluginWarning(UserWarning):
    """A plugin failed to load or register and was skipped."""


@dataclass(frozen=True)
class PluginFailure:
    name: str
    error: str


@dataclass(frozen=True)
class ProviderInfo:
    """One line of the provider listing."""

    id: str
    aliases: tuple[str, ...]
    base_url: str
    plugin: str
    description: str
    api_key_env: tuple[str, ...]
    factory: ProviderFactory = field(repr=False)

    @property
    def base_url_env(self) -> str:
        return base_url_env(self.id)

    @property
    def key_is_set(self) -> bool:
        """Whether one of the key variables is set (the key itself is never shown)."""
        return any(os.environ.get(name) for name in self.api_key_env)


def base_url_env(provider_id: str) -> str:
    """``VIDEOEDIT_<ID>_BASE_URL``: the variable that overrides one provider's base URL."""
    return "VIDEOEDIT_" + provider_id.upper().replace("-", "_").replace(".", "_") + "_BASE_URL"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class PluginHost:
    """A typed facade over one pluggy plugin manager: one method per hook.

    Call sites never touch ``pm.hook`` directly, so a hook's signature lives in one place.
    """

    def __init__(self, *, strict: bool | None = None) -> None:
        self.strict = _env_flag(STRICT_ENV) if strict is None else strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs.VideoEditHookSpecs)
        self.failures: list[PluginFailure] = []
        self._providers: dict[str, ProviderInfo] | None = None
        self._aliases: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------
    @classmethod
    def from_entry_points(
        cls, *, allow: Iterable[str] | None = None, strict: bool | None = None
    ) -> PluginHost:
        """Load every plugin of the ``videoedit`` group (or only those allowed)."""
        host = cls(strict=strict)
        if allow is None:
            raw = os.environ.get(ALLOW_ENV)
            allow = None if raw is None else [n.strip() for n in raw.split(",") if n.strip()]
        allowed = None if allow is None else set(allow)
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and ep.name not in allowed:
                continue
            host._load_entry_point(ep)
        host._skip_unknown_hooks()
        return host

    def _load_entry_point(self, ep: EntryPoint) -> None:
        if self.pm.has_plugin(ep.name):
            self._fail(ep.name, f"another plugin is already named {ep.name!r}")
            return
        try:
            plugin = ep.load()
            self.pm.register(plugin, name=ep.name)
        except Exception as exc:
            self._fail(ep.name, f"{type(exc).__name__}: {exc}")

    def _fail(self, name: str, error: str) -> None:
        failure = PluginFailure(name, error)
        self.failures.append(failure)
        message = f"videoedit plugin {name!r} was skipped: {error}"
        if self.strict:
            raise PluginLoadError(message, code="PluginLoadError")
        warnings.warn(message, PluginWarning, stacklevel=4)

    def _skip_unknown_hooks(self) -> None:
        """Report and unregister each plugin that implements a hook no specification names.

        Without this a misspelt hook would load silently and never be called: the plugin
        would seem installed and do nothing. pluggy's ``check_pending`` names one offender
        at a time, so it is asked again until every plugin passes.
        """
        while (found := self._unregister_pending()) is not None:
            self._fail(*found)

    def _unregister_pending(self) -> tuple[str, str] | None:
        """The name of a plugin whose hook no specification names, and what is wrong with it,
        after unregistering it; ``None`` when every plugin passes ``check_pending``."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            error = self._unknown_hooks(exc.plugin)
            self.pm.unregister(exc.plugin)
            return name, error
        return None

    def _unknown_hooks(self, plugin: Any) -> str:
        known = sorted(
            name for name in vars(hookspecs.VideoEditHookSpecs) if not name.startswith("_")
        )
        unknown = sorted(
            caller.name for caller in self.pm.get_hookcallers(plugin) or [] if not caller.has_spec()
        )
        sentences = []
        for hook in unknown:
            close = difflib.get_close_matches(hook, known, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            sentences.append(f"{hook!r} is not a videoedit hook{guess}")
        return "; ".join(sentences) + f"; the hooks are {', '.join(known)}"

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object by hand (tests, applications with private providers).

        A name already taken, or a hook no specification names, raises
        [`PluginLoadError`][videoedit.errors.PluginLoadError] and leaves the plugin out.
        """
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginLoadError(str(exc), code="PluginLoadError") from None
        found = self._unregister_pending()
        if found is not None:
            offender, error = found
            raise PluginLoadError(
                f"videoedit plugin {offender!r} was not registered: {error}",
                code="PluginLoadError",
            )
        self._providers = None

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._providers = None

    @property
    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())

    # -- register_providers ------------------------------------------------------------------
    def _collect(self) -> dict[str, ProviderInfo]:
        with self._lock:
            if self._providers is not None:
                return self._providers
            providers: dict[str, ProviderInfo] = {}
            alias_map: dict[str, str] = {}
            for impl in self.pm.hook.register_providers.get_hookimpls():

                def register(
                    factory: ProviderFactory,
                    *,
                    aliases: Sequence[str] = (),
                    _plugin: str = impl.plugin_name,
                ) -> None:
                    self._add_provider(providers, alias_map, factory, tuple(aliases), _plugin)

                try:
                    impl.function(**_hook_args(impl, register=register))
                except Exception as exc:
                    self._fail(
                        impl.plugin_name, f"register_providers failed: {type(exc).__name__}: {exc}"
                    )
            self._providers, self._aliases = providers, alias_map
            return providers

    def _add_provider(
        self,
        providers: dict[str, ProviderInfo],
        aliases: dict[str, str],
        factory: ProviderFactory,
        names: tuple[str, ...],
        plugin: str,
    ) -> None:
        provider_id = getattr(factory, "id", None)
        if not isinstance(provider_id, str) or not provider_id:
            self._fail(plugin, f"registered {factory!r} without a string 'id'")
            return
        taken = [n for n in (provider_id, *names) if n in providers or n in aliases]
        if taken:
            self._fail(plugin, f"provider id or alias {taken[0]!r} is already registered")
            return
        providers[provider_id] = ProviderInfo(
            id=provider_id,
            aliases=names,
            base_url=factory.default_base_url,
            plugin=plugin,
            description=getattr(factory, "description", ""),
            api_key_env=tuple(getattr(factory, "api_key_env", ())),
            factory=factory,
        )
        for alias in names:
            aliases[alias] = provider_id

    def providers(self) -> list[ProviderInfo]:
        """Every registered provider, sorted by id, with today's base URL overrides applied."""
        return [_with_env(p) for p in sorted(self._collect().values(), key=lambda p: p.id)]

    def provider(self, name: str) -> ProviderInfo:
        """Look a provider up by id or alias; an unknown name lists the known ones.

        ``base_url`` honours ``VIDEOEDIT_<ID>_BASE_URL`` as it is set now, not as it was when
        the plugins were loaded.
        """
        providers = self._collect()
        key = self._aliases.get(name, name)
        if key in providers:
            return _with_env(providers[key])
        names = sorted([*providers, *self._aliases])
        known = ", ".join(names) or "none (is a provider plugin installed?)"
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        raise ProviderNotFoundError(
            f"no provider named {name!r}; installed: {known}",
            code="ProviderNotFound",
            hint=f"did you mean {close[0]!r}?" if close else None,
        )

    # -- encode_request ----------------------------------------------------------------------
    def encode(self, request: EditRequest, context: EncodeContext) -> dict[str, Any]:
        """Encode ``request`` for ``context.dialect``; no taker means the route cannot carry it."""
        body = self.pm.hook.encode_request(request=request, context=context)
        if body is None:
            raise InvalidRequestError(
                f"provider {context.provider!r} cannot carry a {type(request).__name__} "
                f"request: no installed plugin encodes it for the {context.dialect!r} format",
                field="request",
                rule="request type not supported by this provider",
                code="UnsupportedRequest",
                provider=context.provider,
            )
        return dict(body)

    def build_create(self, provider: Provider, request: EditRequest) -> httpx.Request:
        """``provider``'s create call for ``request``, its body encoded through the hook.

        The one place where a provider meets the encoders: the client submits through it,
        and so can a test or a script that drives a provider by hand.
        """
        return provider.build_create(request, self.encode(request, provider.encode_context()))

    # -- register_commands -------------------------------------------------------------------
    def register_commands(self, cli: CommandLine) -> None:
        """Let each plugin add its commands, in the order the plugins were loaded.

        A plugin whose hook raises is reported like any broken plugin (a warning, or fatal in
        strict mode); what it added before it raised stays.
        """
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(**_hook_args(impl, cli=cli))
            except Exception as exc:
                self._fail(
                    impl.plugin_name, f"register_commands failed: {type(exc).__name__}: {exc}"
                )

    def request_types(self, provider: str) -> list[type[EditRequest]]:
        """The request types ``provider`` (an id or alias) can carry with the installed plugins.

        Decided as a submission decides it: [`encode`][videoedit.PluginHost.encode] is asked
        for each concrete request type (every leaf subclass of `EditRequest` that the loaded
        plugins define) in the provider's dialect and region, with an unvalidated instance.
        "No installed plugin encodes it" is the refusal; any other outcome, a body or an
        encoder tripping over the empty instance after its type test passed, means a
        plugin takes that type. The core's types come first, then by ``request_kind``.
        """
        from videoedit.hookspecs import EncodeContext
        from videoedit.requests import EditRequest

        factory = self.provider(provider).factory
        context = EncodeContext(provider=factory.id, dialect=factory.dialect, region=factory.region)
        carried = []
        for kind in _leaf_types(EditRequest):
            try:
                empty = kind.model_construct()  # type: ignore[call-arg]  # unvalidated, on purpose
                self.encode(empty, context)
            except InvalidRequestError as exc:
                if exc.code == "UnsupportedRequest":
                    continue
            except Exception:  # the encoder took the type, then met an empty sample
                pass
            carried.append(kind)
        return sorted(
            carried, key=lambda k: (not k.__module__.startswith("videoedit."), k.request_kind)
        )

    # -- on_task_event -----------------------------------------------------------------------
    def emit(self, event: TaskEvent) -> None:
        """Deliver an event to every observer; an observer's exception is logged, not raised."""
        for impl in reversed(self.pm.hook.on_task_event.get_hookimpls()):
            try:
                impl.function(**_hook_args(impl, event=event))
            except Exception:
                log.exception("videoedit observer %r failed on %s", impl.plugin_name, event.kind)


def _leaf_types(base: type[EditRequest]) -> list[type[EditRequest]]:
    """The subclasses of ``base`` that have none of their own: the types a caller builds."""
    leaves, stack = [], list(base.__subclasses__())
    while stack:
        kind = stack.pop()
        children = kind.__subclasses__()
        stack += children
        if not children:
            leaves.append(kind)
    return leaves


def _with_env(info: ProviderInfo) -> ProviderInfo:
    override = os.environ.get(base_url_env(info.id), "").strip()
    return replace(info, base_url=override) if override else info


def _hook_args(impl: pluggy.HookImpl, **kwargs: Any) -> dict[str, Any]:
    """Only the arguments an implementation declares, as pluggy itself would pass them."""
    return {name: kwargs[name] for name in impl.argnames if name in kwargs}


_default: PluginHost | None = None
_default_lock = threading.Lock()


def default_host() -> PluginHost:
    """The process's plugin host, loaded from entry points on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginHost.from_entry_points()
        return _default


def reset_default_host() -> None:
    """Forget the loaded plugins, so the next use reloads them (after changing the env)."""
    global _default
    with _default_lock:
        _default = None
