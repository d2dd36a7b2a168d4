"""``--debug``: videoedit's own log records on stderr, with every credential scrubbed out.

``--debug`` used to turn on every library's DEBUG output (``logging.basicConfig``), which
is mostly httpcore's trace of each socket operation, response headers included: a key that
a server echoed in a header was printed. Now the handler listens to two loggers only:

- ``videoedit`` at DEBUG: what the client does (``videoedit.logs``: submission, polls,
  status changes, each retry with its reason and delay, the save) and the plugin host;
- ``httpx`` at INFO: one line per HTTP request and its status.

Every record goes through a ``RedactingFilter`` holding the key given with ``--api-key``
and the value of every key-like environment variable, and masking anything else that looks
like a credential. Tracebacks printed with ``--debug`` are scrubbed the same way.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import traceback
from typing import TextIO

from videoedit.logs import RedactingFilter, scrub

__all__ = ["DEBUG_LOGGERS", "debug_logging", "print_traceback", "secrets_of"]

#: Logger name -> the level ``--debug`` shows it at.
DEBUG_LOGGERS = {"videoedit": logging.DEBUG, "httpx": logging.INFO}
#: Environment variables whose values are credentials (``DASHSCOPE_API_KEY``, ``…_TOKEN``).
_SECRET_ENV = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD)$")
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_installed: logging.Handler | None = None


def secrets_of(args: argparse.Namespace) -> list[str]:
    """The credentials this run may meet: ``--api-key`` and key-like environment values."""
    found = [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and v.strip()]
    api_key = getattr(args, "api_key", None)
    if api_key:
        found.append(api_key)
    return found


def debug_logging(stream: TextIO, secrets: list[str]) -> RedactingFilter:
    """Send ``DEBUG_LOGGERS`` to ``stream`` through a redacting filter (once per process:
    a second call replaces the first handler, so ``main()`` may run many times)."""
    global _installed
    redacting = RedactingFilter(secrets)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    handler.addFilter(redacting)
    for name, level in DEBUG_LOGGERS.items():
        logger = logging.getLogger(name)
        if _installed is not None:
            logger.removeHandler(_installed)
        logger.addHandler(handler)
        logger.setLevel(level)
    _installed = handler
    return redacting


def print_traceback(stream: TextIO, redacting: RedactingFilter) -> None:
    """The current exception's traceback, scrubbed like the log records."""
    stream.write(scrub(traceback.format_exc(), redacting.secrets))
    stream.flush()
