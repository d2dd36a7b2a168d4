"""What the client logs, and a filter that keeps credentials out of any log record.

Every task event a client emits is also a record on the ``videoedit.client`` logger, so an
application that turns logging on sees what its clients do without writing an observer:

| event | level | message |
|---|---|---|
| uploaded | INFO | ``uploaded video -> oss://…`` (the field and the URL that stands for it) |
| submitted | INFO | ``submitted task ID to PROVIDER (PENDING)`` |
| polled | DEBUG | ``polled task ID: RUNNING, 40%, 3.1 s into the wait`` |
| status changed | INFO | ``task ID is now RUNNING`` |
| retrying | INFO | ``retrying task ID in 1.20 s (attempt 1 failed: ConnectError: …)`` |
| finished | INFO | ``task ID ended SUCCEEDED`` (FAILED adds the provider's code and message) |
| saved | INFO | ``saved task ID to out.mp4`` |

No record holds a key: the client's own key is taken out of every text it logs (a server
may echo it into an error message), and result links, which are signed, are never logged.

`RedactingFilter` is for the records of other libraries too (httpx, httpcore), whose
debug output shows headers: put it on a handler and every record that handler writes has the
given secrets and anything that looks like a credential (``Authorization`` values, bearer
tokens, ``…key``/``…token``/``…secret``/``…signature`` headers and parameters, ``sk-`` keys)
replaced by ``***``. ``videoedit --debug`` writes through one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from videoedit.events import EventKind, TaskEvent
from videoedit.keys import ApiKey, redact

__all__ = ["CLIENT_LOGGER", "RedactingFilter", "log_event", "scrub"]

CLIENT_LOGGER = "videoedit.client"
log = logging.getLogger(CLIENT_LOGGER)

_MASK = "***"
#: ``Bearer <token>`` anywhere: the scheme stays, the credential goes.
_SCHEME = re.compile(r"(?i)\b(bearer)(\s+)[^\s'\",;)\]}]+")
#: A name that speaks of a credential, then its value, as headers and parameters are
#: printed: ``name: value``, ``name=value``, ``"name": "value"``, ``(b'name', b'value')``.
_NAMED = re.compile(
    r"(?i)(?P<name>[\w.-]*?(?:api[_-]?key|apikey|access[_-]?key|(?<![a-z])key(?![a-z])|secret"
    r"|token|password|passwd|signature|credential|authorization|cookie)[\w.-]*)"
    r"(?P<sep>['\"]?\s*[:=]\s*(?-i:b)?['\"]?|['\"]?,\s*(?-i:b)?['\"])"
    r"(?P<scheme>(?:bearer|basic)\s+)?(?P<value>[^\s'\",;&)\]}]+)"
)
#: A DashScope-style key on its own (``sk-`` and a long tail).
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{12,}")


def scrub(text: str, secrets: Iterable[ApiKey | str | None] = ()) -> str:
    """``text`` with ``secrets`` and anything credential-shaped replaced by ``***``."""
    text = redact(text, *secrets)
    text = _NAMED.sub(lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{_MASK}", text)
    text = _SCHEME.sub(lambda m: f"{m[1]}{m[2]}{_MASK}", text)
    return _SK_KEY.sub(f"sk-{_MASK}", text)


class RedactingFilter(logging.Filter):
    """A handler filter that rewrites each record so that no credential is written.

    The message is formatted once and replaced by its scrubbed text (``args`` emptied), and
    the traceback and stack text are scrubbed too. It never drops a record. Secrets shorter
    than eight characters are ignored: masking ``"1"`` everywhere would mangle every line.
    """

    def __init__(self, secrets: Iterable[ApiKey | str | None] = ()) -> None:
        super().__init__()
        self.secrets: list[ApiKey | str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: ApiKey | str | None) -> None:
        """Mask ``secret`` too from now on."""
        value = secret.reveal() if isinstance(secret, ApiKey) else secret
        if value and len(value.strip()) >= 8:
            self.secrets.append(value.strip())

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep it whole
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = scrub(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


def log_event(event: TaskEvent, key: ApiKey | None = None) -> None:
    """Log ``event`` on ``videoedit.client`` (see the table above), without ``key``."""
    level, message = _describe(event)
    if log.isEnabledFor(level):
        log.log(level, "%s", redact(message, key))


def _describe(event: TaskEvent) -> tuple[int, str]:
    task = event.task
    task_id = task.task_id if task is not None else "?"
    kind = event.kind
    if kind is EventKind.UPLOADED:
        return logging.INFO, f"uploaded {event.detail}"
    if kind is EventKind.SUBMITTED:
        status = f" ({task.status})" if task is not None else ""
        return logging.INFO, f"submitted task {task_id} to {event.provider}{status}"
    if kind is EventKind.POLLED:
        parts = [str(task.status) if task is not None else "?"]
        if task is not None and task.progress is not None:
            parts.append(f"{task.progress:.0%}")
        if event.elapsed is not None:
            parts.append(f"{event.elapsed:.1f} s into the wait")
        return logging.DEBUG, f"polled task {task_id}: {', '.join(parts)}"
    if kind is EventKind.STATUS_CHANGED:
        return logging.INFO, f"task {task_id} is now {task.status if task else '?'}"
    if kind is EventKind.RETRYING:
        delay = f" in {event.delay:.2f} s" if event.delay is not None else ""
        about = f" task {task_id}" if task is not None else ""
        failed = f"attempt {event.attempt} failed" if event.attempt is not None else "it failed"
        return logging.INFO, f"retrying{about}{delay} ({failed}: {event.error or 'an error'})"
    if kind is EventKind.FINISHED:
        text = f"task {task_id} ended {task.status if task else '?'}"
        if task is not None and (task.error_code or task.error_message):
            text += f": [{task.error_code or '-'}] {task.error_message or ''}".rstrip()
        return logging.INFO, text
    return logging.INFO, f"saved task {task_id} to {event.detail}"  # EventKind.SAVED
