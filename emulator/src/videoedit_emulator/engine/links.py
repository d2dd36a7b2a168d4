"""Signed result links, remembered.

A link is a pure function of (key, base URL, expiry) and the store's secret, and signing and
quoting it was a third of the cost of answering a poll; so each is made once. The memo is
bounded (each link is a few hundred bytes) and restarts when full, and is cleared with the
store's secret on reset.
"""

from __future__ import annotations

from videoedit_emulator.engine.store import Store

__all__ = ["URL_MEMO", "ResultLinks"]

#: Signed result links remembered; the memo restarts when full.
URL_MEMO = 4096


class ResultLinks:
    """The signed links of ``store``'s results, memoized."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._urls: dict[tuple[str, str, int], str] = {}

    def clear(self) -> None:
        self._urls.clear()

    def url(self, key: str, base_url: str, expires_at: float) -> str:
        memo = (key, base_url, int(expires_at))
        url = self._urls.get(memo)
        if url is None:
            if len(self._urls) >= URL_MEMO:
                self._urls.clear()
            url = self._urls[memo] = self._store.result_url(*memo)
        return url
