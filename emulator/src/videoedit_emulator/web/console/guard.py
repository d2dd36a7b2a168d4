"""Who may use the console, and which browser requests may change the emulator.

A browser is a client unlike the others: any page it has open can make it send requests to
``127.0.0.1``. Two checks follow from that.

``loopback_refusal``: the console answers only a client on this machine that also *names*
this machine. The peer address must be loopback; so must the ``Host`` header, or a page of
``evil.example`` whose name was made to resolve to ``127.0.0.1`` (DNS rebinding) would read
the console as its own origin.

``cross_site_refusal``: a request that changes state (any method but GET, HEAD, OPTIONS) and
that a browser sent on behalf of another site is refused. Browsers say where a request comes
from: ``Sec-Fetch-Site`` (``same-origin``, ``same-site``, ``cross-site``, ``none`` for what
the user typed) and ``Origin`` (``scheme://host:port``, or ``null``). A request that carries
neither did not come from a web page (``httpx``, ``curl``, a test) and goes through, so no
client of the control plane has anything new to send. Without this, a page anywhere could
post ``{"seconds": 1e9}`` to ``/_emulator/clock/advance`` as a ``text/plain`` form, a
request browsers send without asking.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from videoedit_emulator.engine.sources import is_loopback_host

__all__ = ["cross_site_refusal", "loopback_refusal"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME = frozenset({"same-origin", "none"})


def _host_name(host_header: str) -> str:
    """``127.0.0.1:8765`` → ``127.0.0.1``, ``[::1]:80`` → ``::1``."""
    return urlsplit("//" + host_header).hostname or ""


def loopback_refusal(request: Request) -> str | None:
    """Why this request may not see the console (``None``: it may)."""
    peer = request.client.host if request.client else None
    if not is_loopback_host(peer):
        return f"the console answers loopback clients only (this one is {peer or 'unknown'})"
    host = request.headers.get("host", "")
    if not is_loopback_host(_host_name(host)):
        return (
            f"the console answers only under a loopback name (localhost, 127.0.0.1, [::1]); "
            f"the Host header says {host[:80]!r}"
        )
    return None


def cross_site_refusal(request: Request) -> str | None:
    """Why this state-changing request looks sent by another site's page (``None``: fine)."""
    if request.method in _SAFE_METHODS:
        return None
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _SAME:
        return f"a browser sent this request from another site (Sec-Fetch-Site: {site[:40]})"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    parts = urlsplit(origin)
    own = request.headers.get("host", "")
    if (
        origin == "null"
        or parts.netloc.lower() != own.lower()
        or parts.scheme != request.url.scheme
    ):
        return f"a browser sent this request from another origin (Origin: {origin[:80]})"
    return None
