"""The request journal: every request the provider routes received, with its secrets taken out.

Tests read it to count what really reached the service: how many create calls the engine
saw, which were struck by a fault, which task each one made. It is queried through the
control plane (``GET /_emulator/journal``) or in Python (``server.journal.entries(...)``).

Nothing secret is written down: ``Authorization`` (and the other credential headers) keep
only their scheme (``Bearer ***``), key-like query parameters and OSS signatures read
``***`` (so does any header or parameter whose name speaks of a key, token, secret,
signature, password or credential, such as an adapter plugin's ``X-Acme-Key``), and the request's own key is scrubbed from everything else recorded (path, query,
headers, JSON body), should a client have echoed it there. A URL anywhere in a header, the
body or a create's answer keeps its credential-shaped query parameters only as ``***``
(``Signature``, ``OSSAccessKeyId``, ``X-Amz-Signature``, ``X-Amz-Credential``, ``sig``,
``token``…): a presigned input or a signed result link opens its object for whoever holds
it. Upload bodies (multipart) are counted, never stored.

The journal keeps the last ``capacity`` entries (10 000 by default), within ``max_bytes``
(128 MiB by default, estimated from what each entry holds), and says how many it dropped;
the control plane's own calls are not journaled.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

__all__ = [
    "DEFAULT_MAX_BYTES",
    "QUERY_FILTERS",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_PARAMS",
    "FilterError",
    "Journal",
    "JournalEntry",
    "entry_cost",
    "is_secret_header",
    "is_secret_param",
    "json_cost",
    "redact_headers",
    "redact_json",
    "redact_query",
    "redact_text",
    "redact_url",
    "secrets_in",
]

REDACTED = "***"
#: Headers whose value is a credential (matched case-insensitively).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-oss-security-token",
    }
)
#: Query parameters whose value is a credential or a signature (case-insensitive).
SECRET_PARAMS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "key",
        "access_token",
        "token",
        "signature",
        "x-oss-signature",
        "security-token",
        "x-oss-security-token",
        "sig",  # Azure's shared access signatures
    }
)
#: A URL with a query, at the start of a string (a presigned input, a signed result link).
_URL_WITH_QUERY = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^?#\s]*\?")
#: Any other header or parameter whose name says it holds a credential (``X-Acme-Key``,
#: ``access_token``, ``client_secret``): adapter plugins name their keys as they like.
_SECRET_NAME = re.compile(r"(?i)auth|key|token|secret|signature|password|cookie|credential")
#: A secret shorter than this is blanked where it stands, not searched for in free text
#: (replacing every "a" in a body would say nothing and hide everything).
_MIN_SCRUB = 6
#: JSON bodies up to this size are kept (redacted); larger ones are only counted.
BODY_LIMIT = 64 * 1024
DEFAULT_CAPACITY = 10_000
#: What the kept entries may cost in all, estimated (`entry_cost`): 10 000 entries of
#: 64 KiB bodies such as ``[[],[],…]`` held 14 GB as Python objects (1.4 MB each), sent with
#: any key when no keys are configured.
DEFAULT_MAX_BYTES = 128 * 1024 * 1024
#: The estimated cost of one JSON value held as a Python object (a list, an int, a slot).
_NODE_COST = 64


def is_secret_header(name: str) -> bool:
    return name.lower() in SECRET_HEADERS or bool(_SECRET_NAME.search(name))


def is_secret_param(name: str) -> bool:
    return name.lower() in SECRET_PARAMS or bool(_SECRET_NAME.search(name))


def _credential(value: str) -> str:
    """The secret part of a credential header (``Bearer sk-…`` → ``sk-…``)."""
    scheme, sep, rest = value.strip().partition(" ")
    return rest.strip() if sep and scheme.isalpha() else value.strip()


def secrets_in(
    headers: Iterable[tuple[str, str]], query: Iterable[tuple[str, str]], extra: Iterable[str] = ()
) -> frozenset[str]:
    """Every secret value a request carries (credential headers, key-like parameters)."""
    found = {s for s in extra if s}
    for name, value in headers:
        if is_secret_header(name):
            found.add(_credential(value))
            found.add(value.strip())
    for name, value in query:
        if is_secret_param(name):
            found.add(value)
    return frozenset(s for s in found if s)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every (long enough) secret replaced by ``***``, longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SCRUB and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_url(text: str) -> str:
    """``text`` with the credential-shaped parameters of its URL's query as ``***`` (a text
    that is no URL with a query is returned as it is); the rest of the URL is kept."""
    found = _URL_WITH_QUERY.match(text)
    if found is None:
        return text
    query, hash_, fragment = text[found.end() :].partition("#")
    pieces = []
    for piece in query.split("&"):
        name, equals, _ = piece.partition("=")
        secret = equals and is_secret_param(unquote_plus(name))
        pieces.append(f"{name}={REDACTED}" if secret else piece)
    return text[: found.end()] + "&".join(pieces) + hash_ + fragment


def redact_headers(headers: Iterable[tuple[str, str]], secrets: Iterable[str]) -> dict[str, str]:
    """Headers by lower-case name; credentials keep only their scheme (``Bearer ***``)."""
    secrets = tuple(secrets)
    out: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if is_secret_header(name):
            scheme, sep, _ = value.strip().partition(" ")
            out[name] = f"{scheme} {REDACTED}" if sep and scheme.isalpha() else REDACTED
        else:
            out[name] = redact_url(redact_text(value, secrets))
    return out


def redact_query(query: str, secrets: Iterable[str]) -> dict[str, str]:
    """A query string as ``{name: value}`` (the last value of a repeated name), redacted."""
    secrets = tuple(secrets)
    out: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        key = redact_text(name, secrets)
        out[key] = REDACTED if is_secret_param(name) else redact_text(value, secrets)
    return out


def redact_json(value: Any, secrets: Iterable[str]) -> Any:
    """A JSON value with secrets scrubbed from every string and key-like members blanked."""
    secrets = tuple(secrets)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return redact_url(redact_text(item, secrets))
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {
                redact_text(str(k), secrets): REDACTED
                if is_secret_param(str(k)) and isinstance(v, str)
                else walk(v)
                for k, v in item.items()
            }
        return item

    return walk(value)


@dataclass
class JournalEntry:
    """One request as received (redacted) and what became of it.

    ``status`` is what the caller got (``None``: the connection was dropped without an
    answer); ``reached_app`` whether the request got past the faults to the provider's
    route (and so to the engine); ``app_status`` what that route answered, even when a
    fault then replaced or lost the answer; ``task_id`` the id a create call handed out
    (as the wire shows it: APIMart's carries its ``task_`` prefix); ``faults`` the ids and
    kinds of the fault rules that struck it; ``group`` the name of the adapter that served
    it (a ``provider`` filter may give it: ``dashscope`` for both regions), not written out;
    ``answer`` the JSON a create call answered (redacted; other answers are not kept, polls
    being the commonest request there is).
    """

    seq: int
    at: float
    method: str
    path: str
    query: Mapping[str, str]
    provider: str | None
    route: str
    headers: Mapping[str, str]
    body_bytes: int = 0
    body: Any = None
    status: int | None = None
    reached_app: bool = False
    app_status: int | None = None
    task_id: str | None = None
    faults: list[dict[str, str]] = field(default_factory=list)
    duration: float = 0.0
    group: str | None = None
    #: What a create call answered (its JSON, redacted): the task it made, as the caller saw it.
    answer: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "provider": self.provider,
            "route": self.route,
            "headers": dict(self.headers),
            "body_bytes": self.body_bytes,
            "body": self.body,
            "status": self.status,
            "reached_app": self.reached_app,
            "app_status": self.app_status,
            "task_id": self.task_id,
            "faults": list(self.faults),
            "duration": round(self.duration, 6),
            "answer": self.answer,
        }


def json_cost(value: Any) -> int:
    """About how many bytes ``value`` (a JSON value) takes held as Python objects."""
    cost, stack = 0, [value]
    while stack:
        item = stack.pop()
        cost += _NODE_COST
        if isinstance(item, str):
            cost += len(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                cost += _NODE_COST + len(str(key))
                stack.append(member)
        elif isinstance(item, list):
            stack.extend(item)
    return cost


def entry_cost(entry: JournalEntry) -> int:
    """About how many bytes ``entry`` holds: its body, its answer, its headers and query."""
    texts = (entry.path, *entry.headers.keys(), *entry.headers.values(), *entry.query.values())
    return 1024 + sum(map(len, texts)) + json_cost(entry.body) + json_cost(entry.answer)


class Journal:
    """The last ``capacity`` requests, within ``max_bytes`` in all (thread-safe): the
    oldest entries go first, counted in ``dropped``."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if capacity < 1:
            raise ValueError("journal capacity: must be >= 1")
        if max_bytes < 1:
            raise ValueError("journal max_bytes: must be >= 1")
        self._lock = threading.Lock()
        self._capacity, self.max_bytes = capacity, max_bytes
        #: Each entry with its cost (`entry_cost`), oldest first.
        self._entries: deque[tuple[JournalEntry, int]] = deque()
        self._bytes = 0
        self._seq = 0
        self._epoch = 0
        self.dropped = 0
        #: Called with each entry recorded, and with ``None`` when the journal is cleared:
        #: how a state directory keeps it across restarts (``engine/state.py``).
        self.on_record: Callable[[JournalEntry | None], None] | None = None

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def held_bytes(self) -> int:
        """What the kept entries cost in all, estimated (`entry_cost`)."""
        with self._lock:
            return self._bytes

    def state(self) -> dict[str, Any]:
        """The entries and the numbering, as JSON."""
        with self._lock:
            return {
                "seq": self._seq,
                "dropped": self.dropped,
                "entries": [e.to_json() for e, _ in self._entries],
            }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the entries with those of a `state` (nothing is reported)."""
        entries = [JournalEntry(**entry) for entry in state.get("entries", [])]
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            for entry in entries:
                self._keep(entry)
            self._seq = int(state.get("seq", max((e.seq for e in entries), default=0)))
            self.dropped = int(state.get("dropped", 0))
            self._epoch += 1

    @property
    def epoch(self) -> int:
        """How many times the journal was cleared or replaced: a request takes it when it
        arrives and records with it (`record`), so that an answer still on its way when a
        test resets the emulator is not written into the world that follows."""
        with self._lock:
            return self._epoch

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _keep(self, entry: JournalEntry) -> None:
        """Append ``entry`` and drop the oldest beyond the capacity or the budget (locked)."""
        cost = entry_cost(entry)
        self._entries.append((entry, cost))
        self._bytes += cost
        while len(self._entries) > 1 and (
            len(self._entries) > self._capacity or self._bytes > self.max_bytes
        ):
            _, gone = self._entries.popleft()
            self._bytes -= gone
            self.dropped += 1

    def record(self, entry: JournalEntry, *, epoch: int | None = None) -> None:
        """Keep ``entry``; unless ``epoch`` is given and the journal was cleared since."""
        with self._lock:
            if epoch is not None and epoch != self._epoch:
                return
            self._keep(entry)
        if self.on_record is not None:
            self.on_record(entry)

    def clear(self) -> int:
        """Forget every entry (numbering restarts); how many there were."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            self._bytes = 0
            self._seq = 0
            self.dropped = 0
            self._epoch += 1
        if self.on_record is not None:
            self.on_record(None)
        return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def entries(
        self,
        *,
        provider: str | None = None,
        route: str | None = None,
        method: str | None = None,
        reached_app: bool | None = None,
        faulted: bool | None = None,
        task_id: str | None = None,
    ) -> list[JournalEntry]:
        """Entries in arrival order, filtered (``provider`` may name an adapter for all its
        providers: ``provider="dashscope"`` means both regions)."""
        with self._lock:
            found = sorted((entry for entry, _ in self._entries), key=lambda e: e.seq)
        out = []
        for entry in found:
            if provider is not None and provider not in (entry.provider, entry.group):
                continue
            if route is not None and entry.route != route:
                continue
            if method is not None and entry.method != method.upper():
                continue
            if reached_app is not None and entry.reached_app is not reached_app:
                continue
            if faulted is not None and bool(entry.faults) is not faulted:
                continue
            if task_id is not None and entry.task_id != task_id:
                continue
            out.append(entry)
        return out

    def count(self, **filters: Any) -> int:
        """How many entries match (the filters of `entries`)."""
        return len(self.entries(**filters))

    def select(
        self, query: Mapping[str, str], *, unset: tuple[str, ...] = ("",)
    ) -> list[JournalEntry]:
        """`entries` filtered as a query string says (`QUERY_FILTERS`), for the control plane
        and the console alike; ``unset`` are the flag values that mean "either" (the console's
        forms also send ``any``). A bad flag raises `FilterError` naming it; which names are
        filters at all is the caller's to check, since each takes names of its own too."""
        return self.entries(
            provider=query.get("provider") or None,
            route=query.get("route") or None,
            method=query.get("method") or None,
            reached_app=_query_flag(query, "reached", unset),
            faulted=_query_flag(query, "faulted", unset),
            task_id=query.get("task_id") or None,
        )


#: The journal's filters as a query string names them (``reached`` is ``reached_app``).
QUERY_FILTERS = ("provider", "route", "method", "reached", "faulted", "task_id")


class FilterError(ValueError):
    """A journal filter's value is not one it takes: ``field`` and the ``rule`` broken."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field} {rule}")
        self.field, self.rule = field, rule


def _query_flag(query: Mapping[str, str], name: str, unset: tuple[str, ...]) -> bool | None:
    raw = query.get(name)
    if raw is None or raw.lower() in unset:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise FilterError(name, f"must be true or false, got {raw[:40]!r}")
