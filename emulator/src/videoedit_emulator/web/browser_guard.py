"""Who may use the console, and which browser requests may change the emulator (the console
and the control plane both ask it: it sits beside them in the web wing).

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

Two more checks guard the control plane, which (unlike the console) also serves clients on
other machines when bound so:

``rebinding_refusal``: a browser's request (it carries ``Origin`` or a ``Sec-Fetch-*``
header) under a ``Host`` that is no loopback name is refused, whatever its method. After DNS
rebinding the page *is* same-origin with the emulator (``Origin: http://evil.example:8765``
matches ``Host``), so ``cross_site_refusal`` lets it through: it could reset the emulator,
plant fault rules, and read the journal.

``form_refusal``: a state change whose ``Content-Type`` is one a plain HTML form can send
(``text/plain``, ``application/x-www-form-urlencoded``, ``multipart/form-data``) is refused.
The control plane reads JSON only; a browser that says neither ``Origin`` nor
``Sec-Fetch-Site`` (older ones, or an extension's) still labels a form so.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from videoedit_emulator.engine.sources import is_loopback_host

__all__ = ["cross_site_refusal", "form_refusal", "loopback_refusal", "rebinding_refusal"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME = frozenset({"same-origin", "none"})
#: What an HTML form may send without a preflight (the CORS-safelisted content types).
_FORM_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})


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


def rebinding_refusal(request: Request, public_url: str | None = None) -> str | None:
    """Why this browser request names the emulator by a name that is not its own (``None``:
    fine). Names that are its own: loopback names, and the host of ``public_url``."""
    headers = request.headers
    if "origin" not in headers and not any(k.startswith("sec-fetch-") for k in headers):
        return None  # not a browser: a client on another machine may use any name
    host = headers.get("host", "")
    name = _host_name(host).lower()
    if is_loopback_host(name) or (public_url and name == (urlsplit(public_url).hostname or "")):
        return None
    return (
        f"a browser sent this request under the name {host[:80]!r}, which is not a loopback "
        "name (localhost, 127.0.0.1, [::1]): a page whose name was made to resolve here "
        "(DNS rebinding)"
    )


def form_refusal(request: Request) -> str | None:
    """Why this state-changing request looks like a plain HTML form (``None``: it does not)."""
    if request.method in _SAFE_METHODS:
        return None
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind in _FORM_TYPES:
        return (
            f"the control plane reads JSON (Content-Type: application/json, or none), "
            f"not {kind}, which any site's form can send"
        )
    return None
