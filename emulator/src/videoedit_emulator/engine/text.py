"""What counts as text: a string that UTF-8 can carry.

Python strings may hold lone surrogates (U+D800 to U+DFFF), which no UTF-8 text can carry:
JSON lets a client write one as ``"\\ud800"``, and a multipart form declared in the
``unicode_escape`` charset decodes to one. Such a string, stored, breaks every answer that
later shows it (encoding it raises), so the adapters refuse it where it comes in
(`invalid_at` names the field) and the answers that show stored strings render them
with `scrub`, which cannot fail.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NOT_TEXT", "invalid_at", "is_text", "scrub", "shown"]

#: The rule a refusal states.
NOT_TEXT = "is not valid Unicode text: it holds a lone surrogate, which no UTF-8 text can carry"
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_text(value: str) -> bool:
    """Whether UTF-8 can carry ``value`` (it holds no lone surrogate)."""
    return value.isascii() or _SURROGATE.search(value) is None


def scrub(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD, the replacement character."""
    return _SURROGATE.sub("\ufffd", value)


def shown(value: str) -> str:
    """``value`` fit to quote in a message: each lone surrogate as its escape (``\\ud800``)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", value)


def invalid_at(value: Any, where: str = "") -> str | None:
    """The path (``input.media[0].url``) of the first string in a JSON value, object keys
    included, that is not text; ``None`` when every one is. Walked without recursion."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                return path or "body"
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not is_text(key):
                    return shown(name)
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None
