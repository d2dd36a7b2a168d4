"""The emulator's object storage: temporary uploads and rendered results, on local disk.

It imitates the two OSS behaviours the providers' clients rely on:

- **POST-policy uploads.** ``issue_policy`` answers DashScope's ``getPolicy``: a base64 JSON
  policy (expiry, key prefix, size range) signed with HMAC-SHA1, as OSS does. ``accept_upload``
  checks a multipart form against it (access key id, signature, expiry, every condition,
  ``x-oss-forbid-overwrite``) and keeps the file; ``oss://<key>`` then names it, for the model
  it was issued for, for ``upload_ttl`` seconds.
- **Signed, expiring downloads.** ``result_url`` signs ``GET /<bucket>/<key>`` with the OSS V1
  query-string scheme (``Expires`` epoch seconds, ``OSSAccessKeyId``, ``Signature``); ``open_result``
  refuses an expired or altered link.

Failures are `ApiError` with a neutral `Reason` (``NO_SUCH_OBJECT``, ``LINK_EXPIRED``…) and
the emulator's detail; ``web/adapters/oss.py`` words them with OSS's codes, statuses and
messages, as XML. No path ever leaves the storage directory, and
no file in it is named by anything a caller chose: an upload is kept under the hash of its
key, a fetched or decoded input under the hash of its bytes, neither with an extension (a
name such as ``clip.m3u8`` would make ffmpeg read it as a playlist). `Store.reset`
draws a new secret, so a link signed before a reset opens nothing after it, even when the
seeded task ids come back.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason

__all__ = [
    "ACCESS_KEY_ID",
    "RESULT_BUCKET",
    "UPLOAD_BUCKET",
    "Store",
    "StoredObject",
    "UploadPolicy",
]

#: The (fake) access key id the emulator signs with, shaped like an Alibaba Cloud one.
ACCESS_KEY_ID = "LTAI5tEmulatorVideoEdit"
UPLOAD_BUCKET = "dashscope-file-mgr"
RESULT_BUCKET = "dashscope-result"
#: getPolicy answers a policy this many seconds long, as the real service does.
POLICY_SECONDS = 300
_RESULT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _b64_hmac(secret: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(secret, text.encode(), hashlib.sha1).digest()).decode()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of a signature as sent with the one expected. Bytes, not
    ``str``: ``hmac.compare_digest`` raises on a string with non-ASCII characters."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def _check_key(key: str) -> None:
    """OSS's rules for an object name that the policy's prefix does not already enforce:
    UTF-8 text (a lone surrogate is not), and a last segment that names an object rather
    than a folder (``.``, ``..``)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise _refusal(
            Reason.INVALID_OBJECT_NAME, "formfield key must be UTF-8 text", "key"
        ) from None
    if key.rsplit("/", 1)[-1] in (".", ".."):
        raise _refusal(
            Reason.INVALID_OBJECT_NAME,
            "formfield key must not end in a '.' or '..' segment (that names a folder, not an "
            "object)",
            "key",
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


#: The kind of each refusal of the store that is not a bad request.
_KINDS = {
    Reason.NOT_SIGNED: ErrorKind.FORBIDDEN,
    Reason.UNKNOWN_ACCESS_KEY: ErrorKind.FORBIDDEN,
    Reason.BAD_SIGNATURE: ErrorKind.FORBIDDEN,
    Reason.POLICY_EXPIRED: ErrorKind.FORBIDDEN,
    Reason.UNKNOWN_POLICY: ErrorKind.FORBIDDEN,
    Reason.POLICY_VIOLATED: ErrorKind.FORBIDDEN,
    Reason.MALFORMED_LINK: ErrorKind.FORBIDDEN,
    Reason.LINK_EXPIRED: ErrorKind.FORBIDDEN,
    Reason.NO_SUCH_OBJECT: ErrorKind.NOT_FOUND,
}


def _refusal(reason: Reason, detail: str, field: str | None = None) -> ApiError:
    kind = _KINDS.get(reason, ErrorKind.INVALID_PARAMETER)
    return ApiError(kind, detail, reason=reason, field=field)


@dataclass(frozen=True)
class UploadPolicy:
    """What getPolicy hands out (the ``data`` object of its answer, plus our bookkeeping)."""

    policy: str
    signature: str
    upload_dir: str
    model: str
    realm: str
    expires_at: float
    max_bytes: int

    def data(self, upload_host: str) -> dict[str, Any]:
        """The documented ``data`` fields of the getPolicy answer."""
        return {
            "policy": self.policy,
            "signature": self.signature,
            "upload_dir": self.upload_dir,
            "upload_host": upload_host,
            "expire_in_seconds": POLICY_SECONDS,
            "max_file_size_mb": self.max_bytes // (1024 * 1024),
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": ACCESS_KEY_ID,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }


@dataclass(frozen=True)
class StoredObject:
    """An uploaded file, usable as ``oss://<key>`` by ``model`` until ``expires_at``."""

    key: str
    path: Path
    model: str
    realm: str
    created_at: float
    expires_at: float
    content_type: str
    size: int

    @property
    def url(self) -> str:
        return f"oss://{self.key}"


class Store:
    """Uploads and results of one emulator, under ``root`` (a temporary directory by default).

    ``now`` is the emulator's clock; ``secret`` signs policies and links (random per store,
    so a link from one emulator never opens another's files; a reset draws a new one).
    """

    def __init__(
        self,
        root: Path | None,
        now: Callable[[], float],
        *,
        upload_ttl: float,
        max_upload_bytes: int,
        secret: bytes | None = None,
    ) -> None:
        self._tmp = (
            None if root is not None else tempfile.TemporaryDirectory(prefix="videoedit-emulator-")
        )
        self.root = Path(root if root is not None else self._tmp.name).resolve()  # type: ignore[union-attr]
        self.now = now
        self.upload_ttl = upload_ttl
        self.max_upload_bytes = max_upload_bytes
        self._secret = secret or secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._policies: dict[str, UploadPolicy] = {}
        self._objects: dict[str, StoredObject] = {}
        #: Called with each upload accepted (a state directory records it: ``state.py``).
        self.on_upload: Callable[[StoredObject], None] | None = None
        for sub in ("uploads", "results", "inputs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # -- housekeeping -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every upload, result and fetched input (files included), and sign with a
        new secret from now on: the ids of a seeded emulator come back after a reset, and a
        link to an old task must not open the new task of the same id."""
        with self._lock:
            self._secret = secrets.token_bytes(32)
            self._policies.clear()
            self._objects.clear()
            for sub in ("uploads", "results", "inputs"):
                shutil.rmtree(self.root / sub, ignore_errors=True)
                (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def secret(self) -> bytes:
        """What signs policies and links (kept by a state directory, so links outlive a
        restart)."""
        return self._secret

    def adopt(self, objects: list[StoredObject], secret: bytes) -> None:
        """Take over uploads and the signing secret of an earlier run (their files are in
        ``root`` already)."""
        with self._lock:
            self._secret = secret
            self._objects = {o.key: o for o in objects}

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise _refusal(Reason.INVALID_OBJECT_NAME, "the name leads out of the store")
        return resolved

    # -- uploads ------------------------------------------------------------------------------
    def issue_policy(self, model: str, realm: str, token: str) -> UploadPolicy:
        """A signed POST policy for one upload directory, bound to ``model`` (getPolicy)."""
        now = self.now()
        day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
        account = hashlib.sha1(realm.encode()).hexdigest()[:12]
        upload_dir = f"dashscope-instant/{account}/{day}/{token}"
        expires_at = now + POLICY_SECONDS
        document = {
            "expiration": _iso(expires_at),
            "conditions": [
                {"bucket": UPLOAD_BUCKET},
                ["content-length-range", 0, self.max_upload_bytes],
                ["starts-with", "$key", upload_dir + "/"],
                {"x-oss-object-acl": "private"},
            ],
        }
        policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
        issued = UploadPolicy(
            policy=policy,
            signature=_b64_hmac(self._secret, policy),
            upload_dir=upload_dir,
            model=model,
            realm=realm,
            expires_at=expires_at,
            max_bytes=self.max_upload_bytes,
        )
        with self._lock:
            self._policies[upload_dir] = issued
        return issued

    def accept_upload(self, fields: Mapping[str, str], file: IO[bytes], size: int) -> StoredObject:
        """Check an OSS PostObject form against its policy and keep the file.

        The object is named by ``key`` alone, as in OSS; the form's file name is not used.
        """
        access_key = fields.get("OSSAccessKeyId")
        signature = fields.get("Signature")
        policy_b64 = fields.get("policy")
        key = fields.get("key")
        if not key:
            raise _refusal(Reason.INVALID_VALUE, "key is required (the object key)", "key")
        _check_key(key)
        if not policy_b64:
            raise _refusal(
                Reason.NOT_SIGNED, "Formfield policy is required for a signed upload.", "policy"
            )
        if access_key != ACCESS_KEY_ID:
            raise _refusal(Reason.UNKNOWN_ACCESS_KEY, "formfield OSSAccessKeyId", "OSSAccessKeyId")
        if not signature or not _same(signature, _b64_hmac(self._secret, policy_b64)):
            raise _refusal(
                Reason.BAD_SIGNATURE, "formfield Signature must sign formfield policy", "Signature"
            )
        try:
            document = json.loads(base64.b64decode(policy_b64, validate=True))
            expiration = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%S.000Z")
            conditions = document["conditions"]
        except (ValueError, KeyError, TypeError):
            raise _refusal(
                Reason.MALFORMED_POLICY, "Formfield policy is not a valid policy document."
            ) from None
        if expiration.replace(tzinfo=timezone.utc).timestamp() <= self.now():
            raise _refusal(Reason.POLICY_EXPIRED, f"the policy expired at {document['expiration']}")
        prefix = ""
        for condition in conditions:
            self._check_condition(condition, fields, size)
            if isinstance(condition, list) and condition[:2] == ["starts-with", "$key"]:
                prefix = str(condition[2])
        with self._lock:
            policy = self._policies.get(prefix.rstrip("/"))
        if policy is None:
            raise _refusal(Reason.UNKNOWN_POLICY, "The upload policy is unknown to this emulator.")
        if fields.get("x-oss-forbid-overwrite", "false").lower() not in ("true", "false"):
            raise _refusal(
                Reason.INVALID_VALUE,
                "x-oss-forbid-overwrite must be true or false",
                "x-oss-forbid-overwrite",
            )
        forbid = fields.get("x-oss-forbid-overwrite", "false").lower() == "true"
        now = self.now()
        with self._lock:
            existing = self._objects.get(key)
            if forbid and existing is not None and existing.expires_at > now:
                raise _refusal(
                    Reason.ALREADY_EXISTS,
                    "The object you specified already exists and can not be overwritten "
                    "(x-oss-forbid-overwrite is true).",
                    "key",
                )
        path = self._inside(self.root / "uploads" / hashlib.sha256(key.encode()).hexdigest())
        with open(path, "wb") as sink:
            shutil.copyfileobj(file, sink)
        stored = StoredObject(
            key=key,
            path=path,
            model=policy.model,
            realm=policy.realm,
            created_at=now,
            expires_at=now + self.upload_ttl,
            content_type=fields.get("x-oss-content-type") or "application/octet-stream",
            size=path.stat().st_size,
        )
        with self._lock:
            self._objects[key] = stored
        if self.on_upload is not None:
            self.on_upload(stored)
        return stored

    @staticmethod
    def _check_condition(condition: Any, fields: Mapping[str, str], size: int) -> None:
        def failed() -> ApiError:
            return _refusal(Reason.POLICY_VIOLATED, json.dumps(condition))

        if isinstance(condition, dict):
            for name, expected in condition.items():
                if name == "bucket":
                    continue
                if fields.get(name) != expected:
                    raise failed()
            return
        if not isinstance(condition, list) or len(condition) != 3:
            raise _refusal(Reason.MALFORMED_POLICY, "A policy condition is malformed.")
        op, first, second = condition
        if op == "content-length-range":
            if not int(first) <= size <= int(second):
                raise _refusal(
                    Reason.UPLOAD_TOO_LARGE if size > int(second) else Reason.UPLOAD_TOO_SMALL,
                    f"Your proposed upload ({size} bytes) is outside the allowed range "
                    f"[{first}, {second}] bytes.",
                    "file",
                )
            return
        value = fields.get(str(first).lstrip("$"), "")
        if (op == "starts-with" and not value.startswith(str(second))) or (
            op == "eq" and value != second
        ):
            raise failed()

    def lookup_upload(self, url: str, model: str) -> StoredObject:
        """The file ``oss://<key>`` names, for ``model``; ``LookupError`` says why not."""
        key = url[len("oss://") :] if url.startswith("oss://") else url
        with self._lock:
            stored = self._objects.get(key)
        if stored is None:
            raise LookupError(f"{url} is not a file uploaded to this emulator")
        if stored.expires_at <= self.now():
            raise LookupError(
                f"{url} has expired (temporary uploads live {self.upload_ttl / 3600:g} hours)"
            )
        if stored.model != model:
            raise LookupError(
                f"{url} was uploaded for model {stored.model!r} and cannot be used with {model!r}"
            )
        return stored

    def objects(self) -> list[StoredObject]:
        with self._lock:
            return list(self._objects.values())

    # -- inputs fetched or decoded --------------------------------------------------------------
    def input_path(self, digest: str) -> Path:
        """Where a fetched or decoded input with this content digest is kept (no extension:
        the name must mean nothing to ffmpeg)."""
        return self._inside(self.root / "inputs" / _UNSAFE.sub("", digest)[:64])

    # -- results ------------------------------------------------------------------------------
    def result_path(self, key: str) -> Path:
        if not _RESULT_KEY.match(key):
            raise _refusal(Reason.INVALID_OBJECT_NAME, "the name is not a result's")
        return self._inside(self.root / "results" / key)

    def _string_to_sign(self, key: str, expires: int) -> str:
        return f"GET\n\n\n{expires}\n/{RESULT_BUCKET}/{key}"

    def result_url(self, key: str, base_url: str, expires: int) -> str:
        """A link to a result, signed OSS-style, valid until ``expires`` (epoch seconds)."""
        signature = _b64_hmac(self._secret, self._string_to_sign(key, expires))
        query = urlencode(
            {"Expires": str(expires), "OSSAccessKeyId": ACCESS_KEY_ID, "Signature": signature},
            quote_via=quote,
        )
        return f"{base_url.rstrip('/')}/oss/{RESULT_BUCKET}/{quote(key)}?{query}"

    def open_result(
        self, key: str, expires: str | None, access_key: str | None, signature: str | None
    ) -> Path:
        """The file behind a signed link; refused when the link is bad or stale (OSS's
        403 and 404)."""
        if not expires or not signature or not access_key:
            raise _refusal(
                Reason.NOT_SIGNED,
                "You have no right to access this object: the link must carry Expires, "
                "OSSAccessKeyId and Signature.",
            )
        if access_key != ACCESS_KEY_ID:
            raise _refusal(Reason.UNKNOWN_ACCESS_KEY, "")
        try:
            expires_at = int(expires)
        except ValueError:
            raise _refusal(Reason.MALFORMED_LINK, "Expires must be epoch seconds.") from None
        expected = _b64_hmac(self._secret, self._string_to_sign(key, expires_at))
        if not _same(expected, signature):
            raise _refusal(Reason.BAD_SIGNATURE, "")
        if expires_at < self.now():
            raise _refusal(Reason.LINK_EXPIRED, f"the link expired at epoch {expires_at}")
        try:
            path = self.result_path(key)
        except ApiError:
            raise _refusal(Reason.NO_SUCH_OBJECT, f"no object is stored as {key!r}") from None
        if not path.is_file():
            raise _refusal(Reason.NO_SUCH_OBJECT, f"no object is stored as {key!r}")
        return path

    def remove_result(self, key: str) -> None:
        with contextlib.suppress(ApiError):
            self.result_path(key).unlink(missing_ok=True)
