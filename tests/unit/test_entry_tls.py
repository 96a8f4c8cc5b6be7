"""verify over HTTPS trusts exactly the entry's certificate: that one passes, any other fails."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from graylog_installer.entry_tls import EntryTls, client_context
from graylog_installer.errors import UsageError
from graylog_installer.verify import Client, HttpFailure


def self_signed(directory: Path, name: str, address: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed pair for ``address``, like the one the playbook makes."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_entry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback answering 200 ALIVE; its URL and its certificate."""
    cert, key = self_signed(tmp_path, "served")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"ALIVE")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    finally:
        server.shutdown()
        server.server_close()


def client(url: str, certificate: Path, generated: bool = True) -> Client:
    tls = EntryTls(enabled=True, https_port=443, certificate=certificate, generated=generated)
    return Client(url, "admin", "secret", timeout=5, tls=client_context(tls))


@pytest.mark.parametrize("generated", [True, False], ids=["generated", "operator's"])
def test_the_served_certificate_is_trusted(https_entry: tuple[str, Path], generated: bool) -> None:
    url, served = https_entry
    reply = client(url, served, generated).get("api/system/lbstatus")
    assert (reply.status, reply.text()) == (200, "ALIVE")


def test_another_certificate_is_refused(https_entry: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = https_entry
    other, _ = self_signed(tmp_path, "other")
    with pytest.raises(HttpFailure, match="not the expected one"):
        client(url, other).get("api/system/lbstatus")


def test_the_expected_certificate_under_another_name_is_refused(
    https_entry: tuple[str, Path],
) -> None:
    url, served = https_entry
    # Same server and certificate, reached by a name the certificate does not hold.
    with pytest.raises(HttpFailure, match="not the expected one"):
        client(url.replace("127.0.0.1", "localhost"), served).get("api/system/lbstatus")


def test_missing_certificate_says_to_install_first(tmp_path: Path) -> None:
    tls = EntryTls(True, 443, tmp_path / "tls" / "entry.crt", generated=True)
    with pytest.raises(UsageError, match="install"):
        client_context(tls)
