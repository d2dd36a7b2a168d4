"""The ``VideoEditProvider`` hook specification: everything a plugin can do.

A plugin is any module or object with functions marked ``@videoedit.hookimpl`` named after
the hooks below, published under the ``videoedit`` entry-point group::

    [project.entry-points.videoedit]
    acme = "acme_videoedit.plugin"

Built-in providers are published the same way; nothing is registered behind the user's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from videoedit.events import TaskEvent
    from videoedit.provider import ProviderFactory
    from videoedit.requests import EditRequest

__all__ = ["PROJECT", "EncodeContext", "Register", "VideoEditProvider", "hookimpl", "hookspec"]

PROJECT = "videoedit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    """The callback handed to :meth:`VideoEditProvider.register_providers`."""

    def __call__(
        self, provider: ProviderFactory, *, aliases: tuple[str, ...] | list[str] = ()
    ) -> None: ...


@dataclass(frozen=True)
class EncodeContext:
    """Where a request is going, so an encoder can pick the right model id or field names.

    ``dialect`` names the body format (``"dashscope"`` for the DashScope body that Vtrix also
    wraps; ``"apimart"`` for the flat gateway schema); ``region`` is set by regional providers
    (``"beijing"``, ``"singapore"``); ``options`` are the provider's options (field-name maps…).
    """

    provider: str
    dialect: str
    region: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class VideoEditProvider:
    """Hook specifications. Implement any subset; each is documented with its parameters."""

    @hookspec
    def register_providers(self, register: Register) -> None:
        """Register provider factories under their ids.

        :param register: call ``register(ProviderClass, aliases=("other-name",))`` once per
            provider. ``ProviderClass.id`` is the id; aliases are extra names for lookup.
            Registering an id or alias that another plugin already took is reported as a
            plugin error (a warning, or fatal in strict mode); the first registration wins.
        """

    @hookspec(firstresult=True)
    def encode_request(self, request: EditRequest, context: EncodeContext) -> dict[str, Any] | None:
        """Encode a request into the body of ``context.dialect``, or return ``None`` to pass.

        This is how request types travel over routes that do not import them: the vace plugin
        encodes its five function modes for the ``dashscope`` dialect, and every provider that
        speaks that dialect (both DashScope regions, the Vtrix envelope) gains them.

        :param request: the validated request, with local files already replaced by URLs.
        :param context: the provider, dialect, region and options of the destination.
        :returns: the body as a JSON-ready dict; the first non-``None`` answer wins.
        """

    @hookspec
    def on_task_event(self, event: TaskEvent) -> None:
        """Observe a task event (upload, submission, poll, status change, retry, finish, save).

        Observers run in the caller's thread (or event loop) and should be quick; an exception
        raised by an observer is logged and swallowed, never allowed to lose a task.

        :param event: what happened, with the task as last seen.
        """
