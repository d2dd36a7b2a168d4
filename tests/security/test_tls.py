"""The client verifies TLS, always: a server whose certificate no trusted CA signed, or
signed for another name, is refused before any byte of the request is sent; a private CA
can be trusted (a bundle path or an ``ssl.SSLContext``); verification cannot be turned off.

A real handshake with a local HTTPS server, whose CA and certificate are made here.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from videoedit import (
    AsyncClient,
    Client,
    InvalidRequestError,
    RetryPolicy,
    TaskStatus,
    TransportError,
)

x509 = pytest.importorskip("cryptography.x509")
hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(common: str) -> object:
    return x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, common)])


def make_ca() -> tuple[object, object]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("videoedit test CA"))
        .issuer_name(_name("videoedit test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(
    ca_key: object, ca_cert: object, names: list[x509.GeneralName]
) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("videoedit test server"))
        .issuer_name(ca_cert.subject)  # type: ignore[attr-defined]
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {"request_id": "r", "output": {"task_id": "t1", "task_status": "RUNNING"}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Pki:
    def __init__(self, root: Path) -> None:
        self.ca_key, self.ca_cert = make_ca()
        self.ca = root / "ca.pem"
        self.ca.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))  # type: ignore[attr-defined]
        self.root = root

    def serve(self, names: list[x509.GeneralName]) -> Iterator[str]:
        cert, key = make_leaf(self.ca_key, self.ca_cert, names)
        (self.root / "cert.pem").write_bytes(cert)
        (self.root / "key.pem").write_bytes(key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.root / "cert.pem", self.root / "key.pem")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}/api/v1"
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
def https(pki: Pki) -> Iterator[str]:
    """An HTTPS DashScope stand-in whose certificate the test CA signed for 127.0.0.1."""
    yield from pki.serve([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])


def client(base_url: str, **kwargs: object) -> Client:
    return Client(
        "dashscope-beijing",
        base_url=base_url,
        api_key="sk-tls",
        retry=RetryPolicy.none(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_certificate_no_trusted_ca_signed_is_refused(https: str) -> None:
    with client(https) as plain, pytest.raises(TransportError) as caught:
        plain.status("t1")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_a_private_ca_can_be_trusted_by_path(https: str, pki: Pki) -> None:
    with client(https, verify=pki.ca) as trusting:
        assert trusting.status("t1").status is TaskStatus.RUNNING


def test_a_private_ca_can_be_trusted_by_context(https: str, pki: Pki) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca))
    with client(https, verify=context) as trusting:
        assert trusting.status("t1").status is TaskStatus.RUNNING


@pytest.mark.anyio
async def test_the_async_client_verifies_the_same_way(https: str, pki: Pki) -> None:
    kwargs = {"base_url": https, "api_key": "sk-tls", "retry": RetryPolicy.none()}
    async with AsyncClient("dashscope-beijing", **kwargs) as plain:  # type: ignore[arg-type]
        with pytest.raises(TransportError):
            await plain.status("t1")
    async with AsyncClient("dashscope-beijing", verify=pki.ca, **kwargs) as trusting:  # type: ignore[arg-type]
        assert (await trusting.status("t1")).status is TaskStatus.RUNNING


def test_a_certificate_for_another_name_is_refused_even_from_a_trusted_ca(pki: Pki) -> None:
    for base_url in pki.serve([x509.DNSName("api.example.com")]):
        with client(base_url, verify=pki.ca) as trusting, pytest.raises(TransportError) as caught:
            trusting.status("t1")
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


@pytest.mark.parametrize("verify", [False, 0, ""])
def test_verification_cannot_be_turned_off(verify: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client("https://127.0.0.1:1/api/v1", verify=verify)
    assert caught.value.field == "verify"
