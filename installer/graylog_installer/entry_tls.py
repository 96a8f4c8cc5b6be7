"""HTTPS at the stack's entry, as the installer reads it: on or off, its port, and the
certificate a client must trust.

The playbook makes (or checks) the certificate; this module only decides where it is and
builds the TLS context with which `verify` trusts exactly that certificate.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graylog_installer.errors import UsageError

DEFAULT_HTTPS_PORT = 443
# Where the playbook keeps the generated self-signed pair, next to the inventory's secrets.
GENERATED_DIR = "tls"
GENERATED_CERTIFICATE = "entry.crt"
GENERATED_KEY = "entry.key"
CERTIFICATE_VAR = "graylog_tls_certificate_file"
KEY_VAR = "graylog_tls_key_file"


@dataclass(frozen=True)
class EntryTls:
    enabled: bool
    https_port: int
    # The PEM certificate the entry serves: the operator's, or the generated one.
    certificate: Path
    generated: bool

    def scheme(self) -> str:
        return "https" if self.enabled else "http"


def generated_certificate(inventory_dir: Path) -> Path:
    return inventory_dir / GENERATED_DIR / GENERATED_CERTIFICATE


def generated_key(inventory_dir: Path) -> Path:
    return inventory_dir / GENERATED_DIR / GENERATED_KEY


def read_settings(inventory_dir: Path, value: Any) -> EntryTls:
    """``value(name, default)`` reads a variable of the entry's first host."""
    from graylog_installer.topology import as_flag

    enabled = as_flag(value("graylog_entry_tls", True), "graylog_entry_tls", "the entry")
    port = _port(value("graylog_entry_https_port", DEFAULT_HTTPS_PORT))
    certificate = str(value(CERTIFICATE_VAR, "") or "")
    key = str(value(KEY_VAR, "") or "")
    if bool(certificate) != bool(key):
        raise UsageError(f"set both {CERTIFICATE_VAR} and {KEY_VAR}, or neither (self-signed)")
    for name, path in ((CERTIFICATE_VAR, certificate), (KEY_VAR, key)):
        if path and not Path(path).is_absolute():
            raise UsageError(f"{name} must be an absolute path on this machine, not {path!r}")
    if certificate:
        return EntryTls(enabled, port, Path(certificate), generated=False)
    return EntryTls(enabled, port, generated_certificate(inventory_dir), generated=True)


def _port(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"graylog_entry_https_port must be a TCP port (1-65535), not {value!r}")
    return int(text)


def client_context(tls: EntryTls) -> ssl.SSLContext:
    """A context that checks the host name and trusts the entry's own certificate.

    The generated certificate is the only one trusted for it; an operator's certificate is
    trusted as well as the system's authorities (it may be issued by one, or be its own).
    Partial chains: the certificate itself is the anchor, whoever signed it.
    """
    if not tls.certificate.is_file():
        raise UsageError(
            f"{tls.certificate} not found: the certificate the entry serves is needed to "
            "check it (run 'graylog-installer install' first)"
        )
    if tls.generated:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(tls.certificate))
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context
