"""What makes two edits the same edit: the fingerprint a ledger files each one under.

Two submissions with one fingerprint would be billed twice for one result, so a
`Ledger` sends a creation only for a fingerprint it has no task for. The
fingerprint hashes the provider, the model id sent and the request's canonical JSON (sorted
keys, no spaces), with each local input replaced by the SHA-256 of its content: the same clip
under another name, or after another upload, is still the same edit; an edited clip is not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from videoedit.media import MediaKind, classify, local_path
from videoedit.requests import EditRequest

__all__ = ["canonical_request", "content_hash", "fingerprint"]

_CHUNK = 1 << 20


def content_hash(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in chunks (inputs go up to 100 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def canonical_request(request: EditRequest) -> dict[str, Any]:
    """The request as JSON, local inputs replaced by their content hashes.

    Only what the caller set counts, plus ``model``: a default that a later version of
    videoedit changes would otherwise make every recorded edit look new.
    """
    sources = request.media_sources()
    hashes = {
        key: content_hash(local_path(src))
        for key, src in sources.items()
        if classify(src) is MediaKind.LOCAL
    }
    body = request.with_media(hashes).model_dump(mode="json", exclude_unset=True)
    body["model"] = request.model
    return {"kind": request.request_kind, "fields": body}


def fingerprint(provider_id: str, model: str, request: EditRequest) -> str:
    """The hex SHA-256 of provider, model and the canonical request (see the module)."""
    document = {"provider": provider_id, "model": model, "request": canonical_request(request)}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
