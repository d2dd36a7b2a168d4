"""A creation's inputs, resolved off the event loop, without waiting on other creations.

A creation whose inputs are on a server of this machine takes one of its realm's
`DOWNLOAD_SLOTS`; one that downloads nothing (an upload, a data URI, a link to a result, a
URL elsewhere) takes none, so neither a slow server nor another realm's downloads hold it
up. ``fetch_timeout`` bounds the whole of a creation's downloads, counted from its arrival
(the wait for a slot included): past it the resolution ends with a `DownloadFailed`, which
the engine makes the task's failure (``Failed to download …``, as the service reports an
input it could not get).
"""

from __future__ import annotations

import threading
import time

import anyio
import anyio.to_thread

from videoedit_emulator.engine.models.base import JobPlan, ResolvedMedia
from videoedit_emulator.engine.sources import DownloadFailed, SourceContext, needs_fetch, resolve

__all__ = ["DOWNLOAD_SLOTS", "Downloads", "Resolution"]

#: Creations of one realm that may download inputs from this machine at once.
DOWNLOAD_SLOTS = 4
#: Threads that downloads may use in all (each realm's are bounded by its slots).
_DOWNLOAD_THREADS = 64

#: The media resolved, by field, and the download that failed (``None``: none did).
Resolution = tuple[dict[str, ResolvedMedia], DownloadFailed | None]


class Downloads:
    """The threads and slots through which one engine resolves its creations' inputs."""

    def __init__(self, workers: int) -> None:
        self._lock = threading.Lock()
        self._io_limiter = anyio.CapacityLimiter(max(4, workers * 2))
        self._threads = anyio.CapacityLimiter(_DOWNLOAD_THREADS)
        self._slots: dict[str, anyio.Semaphore] = {}

    async def resolve(self, realm: str, plan: JobPlan, context: SourceContext) -> Resolution:
        """Resolve every medium of ``plan`` (in one of ``realm``'s slots if any is downloaded)."""
        downloads = [item for item in plan.media if needs_fetch(item, context)]
        if downloads:
            first = downloads[0]
            return await self._downloading(realm, plan, context, first.field, first.url)
        return await anyio.to_thread.run_sync(resolve_all, plan, context, limiter=self._io_limiter)

    async def _downloading(
        self, realm: str, plan: JobPlan, context: SourceContext, field: str, url: str
    ) -> Resolution:
        """Resolve a plan that downloads from this machine, in one of the realm's slots and
        by the context's deadline (a creation still waiting for a slot then gives up)."""
        assert context.deadline is not None
        with self._lock:
            slots = self._slots.setdefault(realm, anyio.Semaphore(DOWNLOAD_SLOTS))
        with anyio.move_on_after(max(0.0, context.deadline - time.monotonic())) as waiting:
            await slots.acquire()
        if waiting.cancelled_caught:
            reason = (
                f"the {DOWNLOAD_SLOTS} downloads this account may run at once held every slot "
                f"for {context.timeout:g} s (the emulator's fetch_timeout)"
            )
            return {}, DownloadFailed(field, url, reason)
        try:
            return await anyio.to_thread.run_sync(resolve_all, plan, context, limiter=self._threads)
        finally:
            slots.release()


def resolve_all(plan: JobPlan, context: SourceContext) -> Resolution:
    """Resolve ``plan``'s media in order, stopping at the first that cannot be had."""
    resolved: dict[str, ResolvedMedia] = {}
    for item in plan.media:
        try:
            resolved[item.field] = resolve(item, context)
        except DownloadFailed as exc:
            return resolved, exc
    return resolved, None
