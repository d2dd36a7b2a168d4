"""DashScope's temporary upload: local files become ``oss://`` URLs valid for 48 hours.

1. ``GET {base}/uploads?action=getPolicy&model=…`` gives a signed OSS form policy;
2. the file is POSTed to ``upload_host`` as a multipart form with those fields;
3. ``oss://{upload_dir}/{file name}`` then names it, for that model only, and every request
   that uses it must carry ``X-DashScope-OssResourceResolve: enable`` (the provider adds it).
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from videoedit.errors import ServiceError
from videoedit.provider import Call, Retry, UploadFlow, json_body

if TYPE_CHECKING:
    from videoedit_dashscope.provider import DashScopeProvider

__all__ = ["DashScopeUploader"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DashScopeUploader:
    """The temporary-upload flow for one provider instance (sans-I/O; the client drives it)."""

    def __init__(self, provider: DashScopeProvider) -> None:
        self.provider = provider

    def __repr__(self) -> str:
        return f"DashScopeUploader({self.provider.id!r})"

    def upload(self, path: Path, *, model: str) -> UploadFlow:
        policy_request = httpx.Request(
            "GET",
            f"{self.provider.base_url}/uploads",
            params={"action": "getPolicy", "model": model},
            headers=self.provider.request_headers(),
        )
        response = yield Call(policy_request)
        policy = self._policy(response)
        name = _UNSAFE.sub("_", path.name) or "upload.bin"
        key = f"{policy['upload_dir']}/{name}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        form = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": key,
            "x-oss-object-acl": policy.get("x_oss_object_acl", "private"),
            "x-oss-forbid-overwrite": policy.get("x_oss_forbid_overwrite", "true"),
            "success_action_status": "200",
            "x-oss-content-type": content_type,
        }
        with open(path, "rb") as handle:
            upload = httpx.Request(
                "POST",
                policy["upload_host"],
                data=form,
                files={"file": (name, handle, content_type)},
            )
            yield Call(upload, Retry.UNSENT_ONLY)
        return f"oss://{key}"

    def _policy(self, response: httpx.Response) -> dict[str, Any]:
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        required = ("policy", "signature", "upload_dir", "upload_host", "oss_access_key_id")
        if not isinstance(data, dict) or any(not isinstance(data.get(k), str) for k in required):
            raise ServiceError(
                f"getPolicy answered without the fields {', '.join(required)}",
                provider=self.provider.id,
                code="MalformedResponse",
                body=body,
            )
        return data
