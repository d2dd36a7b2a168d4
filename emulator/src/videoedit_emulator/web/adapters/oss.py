"""The OSS wire format: the upload host of DashScope's temporary uploads, and result links.

- ``POST /oss/dashscope-file-mgr``: an OSS PostObject form (``OSSAccessKeyId``, ``Signature``,
  ``policy``, ``key``, ``x-oss-object-acl``, ``x-oss-forbid-overwrite``,
  ``success_action_status``, ``x-oss-content-type``, ``file``), checked by the store against
  the policy that getPolicy issued. Answers ``success_action_status`` (200 or 201, else 204).
- ``GET|HEAD /oss/dashscope-result/<key>?Expires=…&OSSAccessKeyId=…&Signature=…``: a rendered
  MP4 behind a signed, expiring link, with ``Content-Length`` and byte ranges.

Errors are OSS's XML ``<Error><Code/><Message/><RequestId/></Error>`` with its statuses
(403 ``AccessDenied`` "Request has expired.", 403 ``SignatureDoesNotMatch``, 404 ``NoSuchKey``,
409 ``FileAlreadyExists``, 400 ``EntityTooLarge``).
"""

from __future__ import annotations

import logging
from types import MappingProxyType
from xml.sax.saxutils import escape

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from videoedit_emulator.engine import TaskEngine
from videoedit_emulator.engine.errors import ApiError, ErrorKind
from videoedit_emulator.engine.store import RESULT_BUCKET, UPLOAD_BUCKET
from videoedit_emulator.engine.text import is_text, shown
from videoedit_emulator.web.adapter import Adapter, Operation
from videoedit_emulator.web.adapters import declared_length
from videoedit_emulator.web.faults import FaultKind, FaultRule, fault_tag

__all__ = [
    "ADAPTER",
    "RESULT_PREFIX",
    "UPLOAD_PATH",
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


def oss_error(exc: ApiError, request_id: str) -> Response:
    code = exc.code or "InvalidArgument"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(exc.message)}</Message>\n"
        f"  <RequestId>{escape(request_id)}</RequestId>\n  <HostId>videoedit-emulator</HostId>\n"
        "</Error>\n"
    )
    return Response(
        xml,
        status_code=exc.status,
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
