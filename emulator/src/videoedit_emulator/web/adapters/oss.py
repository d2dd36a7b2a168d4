"""The OSS wire format: the upload host of DashScope's temporary uploads, and result links.

- ``POST /oss/dashscope-file-mgr``: an OSS PostObject form (``OSSAccessKeyId``, ``Signature``,
  ``policy``, ``key``, ``x-oss-object-acl``, ``x-oss-forbid-overwrite``,
  ``success_action_status``, ``x-oss-content-type``, ``file``), checked by the store against
  the policy that getPolicy issued. Answers ``success_action_status`` (200 or 201, else 204).
- ``GET|HEAD /oss/dashscope-result/<key>?Expires=…&OSSAccessKeyId=…&Signature=…``: a rendered
  MP4 behind a signed, expiring link, with ``Content-Length`` and byte ranges.

Errors are OSS's XML ``<Error><Code/><Message/><RequestId/></Error>`` with its statuses
(403 ``AccessDenied`` "Request has expired.", 403 ``SignatureDoesNotMatch``, 404 ``NoSuchKey``,
409 ``FileAlreadyExists``, 400 ``EntityTooLarge``): the store's neutral reasons worded by one
table, `WORDING`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from xml.sax.saxutils import escape

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.errors import ApiError, ErrorKind, Reason
from videoedit_emulator.engine.store import RESULT_BUCKET, UPLOAD_BUCKET
from videoedit_emulator.engine.text import is_text, shown
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.adapters import declared_length
from videoedit_emulator.web.faults import FaultKind, FaultRule, fault_tag

__all__ = [
    "ADAPTER",
    "RESULT_PREFIX",
    "UPLOAD_PATH",
    "WORDING",
    "OssAdapter",
    "oss_error",
    "routes",
    "upload_host",
]

log = logging.getLogger(__name__)

UPLOAD_PATH = f"/oss/{UPLOAD_BUCKET}"
RESULT_PREFIX = f"/oss/{RESULT_BUCKET}"
#: Room for the form fields around the file itself.
_FORM_SLACK = 64 * 1024


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


def upload_host(base: str) -> str:
    """The ``upload_host`` getPolicy hands out, for an emulator reached at ``base``."""
    return base.rstrip("/") + UPLOAD_PATH


def _request_id(engine: TaskEngine) -> str:
    """An OSS request id: 24 upper-case hex digits."""
    return engine.new_request_id().replace("-", "").upper()[:24]


@dataclass(frozen=True)
class OssWording:
    """OSS's code, status and message for a reason (``{detail}``: the engine's detail;
    ``{note}``: it in parentheses, when there is one)."""

    code: str
    status: int
    message: str = "{detail}"

    def say(self, detail: str) -> str:
        return self.message.format(detail=detail, note=f" ({detail})" if detail else "")


_SIGNATURE = "The request signature we calculated does not match the signature you provided"

#: What OSS answers for each reason the store raises (and a bad form value); a reason
#: missing here is ``InvalidArgument`` 400 with the detail.
WORDING: Mapping[Reason, OssWording] = MappingProxyType(
    {
        Reason.INVALID_VALUE: OssWording("InvalidArgument", 400, "Formfield {detail}."),
        Reason.INVALID_OBJECT_NAME: OssWording(
            "InvalidObjectName", 400, "The specified object is not valid: {detail}."
        ),
        Reason.NOT_SIGNED: OssWording("AccessDenied", 403),
        Reason.UNKNOWN_ACCESS_KEY: OssWording(
            "InvalidAccessKeyId",
            403,
            "The OSS Access Key Id you provided does not exist in our records{note}.",
        ),
        Reason.BAD_SIGNATURE: OssWording("SignatureDoesNotMatch", 403, _SIGNATURE + "{note}."),
        Reason.MALFORMED_POLICY: OssWording("InvalidPolicyDocument", 400),
        Reason.POLICY_EXPIRED: OssWording(
            "AccessDenied", 403, "Invalid according to Policy: Policy expired."
        ),
        Reason.UNKNOWN_POLICY: OssWording("AccessDenied", 403),
        Reason.POLICY_VIOLATED: OssWording(
            "AccessDenied", 403, "Invalid according to Policy: Policy Condition failed: {detail}"
        ),
        Reason.UPLOAD_TOO_LARGE: OssWording("EntityTooLarge", 400),
        Reason.UPLOAD_TOO_SMALL: OssWording("EntityTooSmall", 400),
        Reason.ALREADY_EXISTS: OssWording("FileAlreadyExists", 409),
        Reason.MALFORMED_LINK: OssWording("AccessDenied", 403),
        Reason.LINK_EXPIRED: OssWording("AccessDenied", 403, "Request has expired."),
        Reason.NO_SUCH_OBJECT: OssWording("NoSuchKey", 404, "The specified key does not exist."),
    }
)


def _worded(exc: ApiError) -> tuple[str, int, str]:
    """``exc``'s OSS code, status and message (an adapter's own code is shown as given)."""
    if exc.code is None and exc.reason is not None and exc.reason in WORDING:
        wording = WORDING[exc.reason]
        return wording.code, wording.status, wording.say(exc.detail)
    return exc.code or "InvalidArgument", exc.status, exc.detail


def oss_error(exc: ApiError, request_id: str) -> Response:
    code, status, message = _worded(exc)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{escape(request_id)}</RequestId>\n  <HostId>videoedit-emulator</HostId>\n"
        "</Error>\n"
    )
    return Response(
        xml,
        status_code=status,
        media_type="application/xml",
        headers={"x-oss-request-id": request_id},
    )


def routes(engine: TaskEngine) -> list[BaseRoute]:
    limit = engine.config.max_body_bytes + _FORM_SLACK

    async def upload(request: Request) -> Response:
        request_id = _request_id(engine)
        try:
            return await _upload(request, request_id)
        except ApiError as exc:
            return oss_error(exc, request_id)
        except Exception:  # an OSS client reads the XML error: never a bare 500 page
            log.exception("emulator: unexpected error on an OSS upload")
            error = ApiError(
                ErrorKind.INTERNAL,
                "We encountered an internal error. Please try again.",
                code="InternalError",
            )
            return oss_error(error, request_id)

    async def _upload(request: Request, request_id: str) -> Response:
        declared = declared_length(request)
        if declared is not None and declared > limit:
            raise _entity_too_large(declared, limit)
        received = 0

        async def receive() -> Message:
            nonlocal received
            message = await request.receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(received)
            return message

        limited = Request(request.scope, receive)
        try:
            form = await limited.form(max_files=1, max_fields=32)
        except _TooLarge as exc:
            raise _entity_too_large(exc.size, limit) from None
        except Exception as exc:  # python-multipart's parse errors
            raise ApiError(
                ErrorKind.INVALID_PARAMETER,
                f"The body of your POST request is not well-formed multipart/form-data: {exc}",
                code="MalformedPOSTRequest",
            ) from None
        try:
            fields: dict[str, str] = {}
            upload_file: UploadFile | None = None
            for name, value in form.multi_items():
                if isinstance(value, str):
                    _check_text(name, value)
                    fields[name] = value
                elif name == "file":
                    upload_file = value
            if upload_file is None:
                raise ApiError(
                    ErrorKind.INVALID_PARAMETER,
                    "Formfield file is required: the file to upload.",
                    field="file",
                    code="InvalidArgument",
                )
            size = upload_file.size
            if size is None:
                upload_file.file.seek(0, 2)
                size = upload_file.file.tell()
            upload_file.file.seek(0)
            await anyio.to_thread.run_sync(
                engine.store.accept_upload, fields, upload_file.file, size
            )
        finally:
            await form.close()
        status = fields.get("success_action_status", "")
        headers = {"x-oss-request-id": request_id}
        if status == "200":
            return Response(b"", status_code=200, headers=headers)
        if status == "201":
            key = escape(fields.get("key", ""))
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>\n'
                f"  <Bucket>{UPLOAD_BUCKET}</Bucket>\n  <Key>{key}</Key>\n</PostResponse>\n"
            )
            return Response(xml, status_code=201, media_type="application/xml", headers=headers)
        return Response(status_code=204, headers=headers)

    async def download(request: Request) -> Response:
        request_id = _request_id(engine)
        query = request.query_params
        try:
            path = engine.store.open_result(
                request.path_params["key"],
                query.get("Expires"),
                query.get("OSSAccessKeyId"),
                query.get("Signature"),
            )
        except ApiError as exc:
            return oss_error(exc, request_id)
        return FileResponse(
            path,
            media_type="video/mp4",
            headers={"x-oss-request-id": request_id, "Cache-Control": "private"},
        )

    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(UPLOAD_PATH + "/", upload, methods=["POST"]),
        Route(RESULT_PREFIX + "/{key:path}", download, methods=["GET", "HEAD"]),
    ]


def _check_text(name: str, value: str) -> None:
    """A form field that is not valid Unicode (a form declared in the ``unicode_escape``
    charset can decode to a lone surrogate) is OSS's 400; the key's own rule is the store's
    (``InvalidObjectName``)."""
    if name == "key":
        return
    if not (is_text(name) and is_text(value)):
        raise ApiError(
            ErrorKind.INVALID_PARAMETER,
            f"Formfield {shown(name)} is not valid UTF-8 text.",
            field=shown(name),
            code="InvalidArgument",
        )


def _entity_too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_PARAMETER,
        f"Your proposed upload exceeds the maximum allowed size ({size} > {limit} bytes).",
        field="file",
        code="EntityTooLarge",
    )


#: The OSS code of a ``status`` fault that names none, by status.
_FAULT_CODES = {
    400: "InvalidArgument",
    403: "AccessDenied",
    404: "NoSuchKey",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class OssAdapter(Adapter):
    """The upload host and the result links: XML errors, no keys, no base URL of its own."""

    name = "oss"
    order = 40
    providers = MappingProxyType({"oss": "/oss"})
    operations = (
        Operation("upload", "POST", f"/{UPLOAD_BUCKET}", f"/{UPLOAD_BUCKET}/"),
        Operation("download", "GET", f"/{RESULT_BUCKET}/{{key:path}}"),
    )
    speaks_json = False
    listed = False
    realms = ()

    def routes(self, engine: TaskEngine) -> list[BaseRoute]:
        return routes(engine)

    def error_response(self, error: ApiError, request_id: str) -> Response:
        return oss_error(error, request_id)

    def request_id(self, engine: TaskEngine) -> str:
        return _request_id(engine)

    def route_not_found(self, method: str, path: str, status: int) -> ApiError:
        if status == 405:
            return ApiError(
                ErrorKind.NOT_FOUND,
                "The specified method is not allowed against this resource.",
                code="MethodNotAllowed",
                status=405,
            )
        return ApiError(
            ErrorKind.NOT_FOUND,
            "The specified key does not exist.",
            code="NoSuchKey",
            status=status,
        )

    def fault_error(self, rule: FaultRule) -> ApiError:
        if rule.kind is FaultKind.RATE_LIMIT:  # OSS throttles with 503 SlowDown
            return ApiError(
                ErrorKind.THROTTLED,
                "Please reduce your request rate." + fault_tag(rule),
                code=rule.code or "SlowDown",
                retry_after=rule.retry_after,
                status=503,
            )
        error = super().fault_error(rule)
        if error.code is None:
            status = error.status
            error.code = _FAULT_CODES.get(
                status, "InternalError" if status >= 500 else "InvalidArgument"
            )
        return error


#: What the ``videoedit_emulator.adapters`` entry point ``oss`` names.
ADAPTER = OssAdapter()
