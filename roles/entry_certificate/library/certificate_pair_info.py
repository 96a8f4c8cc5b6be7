#!/usr/bin/python
"""Read a PEM certificate and its private key in one module run (role entry_certificate).

Two community.crypto info modules cost two module runs and a heavy import each; this
reads both files with ``cryptography`` alone and reports only what the role compares.
The private key never leaves this process: only its public half is returned.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

DOCUMENTATION = r"""
module: certificate_pair_info
short_description: Read a PEM certificate and the public half of its private key.
description:
  - Reads both files on the machine the module runs on (the Ansible controller for role
    entry_certificate), which needs the Python package C(cryptography).
  - A file that does not exist reads as not found, not as a failure, and C(msg) names it.
    A file that exists but cannot be read or parsed fails the module with one line.
  - The private key is never returned, only its public key in PEM, so the result is
    safe to show.
  - The certificate's fields are reported as community.crypto.x509_certificate_info
    reports them, so that comparisons written for that module keep their meaning.
options:
  certificate_path:
    description: Path of the PEM certificate; with a chain, the first certificate is read.
    type: path
    required: true
  private_key_path:
    description: Path of the unencrypted PEM private key.
    type: path
    required: true
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Read the certificate and the public half of its private key
  certificate_pair_info:
    certificate_path: /etc/ssl/entry.crt
    private_key_path: /etc/ssl/private/entry.key
  register: pair
"""

RETURN = r"""
certificate:
  description: What the certificate file holds.
  returned: always
  type: dict
  contains:
    found:
      description: Whether the file exists.
      type: bool
    public_key:
      description: The certificate's public key, PEM (SubjectPublicKeyInfo); null when not found.
      type: str
    common_name:
      description: >-
        The subject's commonName (the last one, as x509_certificate_info's subject dict
        keeps it); null when there is none.
      type: str
    subject_alt_name:
      description: >-
        The subjectAltName entries as C(DNS:name) and C(IP:address) (compressed form),
        other kinds with their own prefix; null without the extension.
      type: list
      elements: str
    basic_constraints:
      description: Sorted, such as C([CA:FALSE]); null without the extension.
      type: list
      elements: str
    extended_key_usage:
      description: >-
        Sorted OpenSSL long names (C(TLS Web Server Authentication)), a dotted OID for
        usages without one; null without the extension.
      type: list
      elements: str
private_key:
  description: What the private key file holds.
  returned: always
  type: dict
  contains:
    found:
      description: Whether the file exists.
      type: bool
    public_key:
      description: The key's public half, PEM (SubjectPublicKeyInfo); null when not found.
      type: str
msg:
  description: The files that do not exist, one sentence; empty when both exist.
  returned: always
  type: str
"""

# OpenSSL's long names of the usual extended key usages, as x509_certificate_info shows them.
_USAGE_NAMES = {
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
    "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing",
    "1.3.6.1.5.5.7.3.4": "E-mail Protection",
    "1.3.6.1.5.5.7.3.8": "Time Stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "2.5.29.37.0": "Any Extended Key Usage",
}

_CERTIFICATE_FIELDS = (
    "public_key",
    "common_name",
    "subject_alt_name",
    "basic_constraints",
    "extended_key_usage",
)


class ReadError(Exception):
    """A file exists but cannot be used; the message is one line for the operator."""


def _read(path: str, what: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ReadError(f"Cannot read the {what} {path}: {error.strerror}.") from None


def _public_pem(key: PublicKeyTypes) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _general_name(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        value = name.value
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return f"IP:{value.network_address.compressed}/{value.prefixlen}"
        return f"IP:{value.compressed}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.RegisteredID):
        return f"RID:{name.value.dotted_string}"
    return f"{type(name).__name__}:{name.value}"


def _constraints(value: x509.BasicConstraints) -> list[str]:
    named = [f"CA:{'TRUE' if value.ca else 'FALSE'}"]
    if value.path_length is not None:
        named.append(f"pathlen:{value.path_length}")
    return sorted(named)


def _extension(certificate: x509.Certificate, kind: type[x509.ExtensionType]) -> Any:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def certificate_facts(path: str) -> dict[str, Any]:
    """What role entry_certificate compares, read from the PEM certificate at PATH."""
    data = _read(path, "certificate")
    if data is None:
        return {"found": False, **dict.fromkeys(_CERTIFICATE_FIELDS)}
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ReadError(f"The certificate {path} is not a PEM certificate.") from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    alt_names = _extension(certificate, x509.SubjectAlternativeName)
    constraints = _extension(certificate, x509.BasicConstraints)
    usages = _extension(certificate, x509.ExtendedKeyUsage)
    return {
        "found": True,
        "public_key": _public_pem(certificate.public_key()),
        "common_name": names[-1].value if names else None,
        "subject_alt_name": None if alt_names is None else [_general_name(n) for n in alt_names],
        "basic_constraints": None if constraints is None else _constraints(constraints),
        "extended_key_usage": None
        if usages is None
        else sorted(_USAGE_NAMES.get(u.dotted_string, u.dotted_string) for u in usages),
    }


def private_key_facts(path: str) -> dict[str, Any]:
    """The public half of the PEM private key at PATH; the key itself stays here."""
    data = _read(path, "private key")
    if data is None:
        return {"found": False, "public_key": None}
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's answer to an encrypted key without a password
        raise ReadError(f"The private key {path} is encrypted: give it unencrypted.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ReadError(f"The private key {path} is not a PEM private key.") from None
    return {"found": True, "public_key": _public_pem(key.public_key())}


def read_pair(certificate_path: str, private_key_path: str) -> dict[str, Any]:
    """The module's result for the two paths; raises ReadError for an unusable file."""
    certificate = certificate_facts(certificate_path)
    private_key = private_key_facts(private_key_path)
    missing = [
        path
        for path, facts in ((certificate_path, certificate), (private_key_path, private_key))
        if not facts["found"]
    ]
    msg = " ".join(f"{path} does not exist." for path in missing)
    return {"changed": False, "certificate": certificate, "private_key": private_key, "msg": msg}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "certificate_path": {"type": "path", "required": True},
            "private_key_path": {"type": "path", "required": True},
        },
        supports_check_mode=True,
    )
    paths = {name: module.params[name] for name in ("certificate_path", "private_key_path")}
    for name, path in paths.items():
        if not path:
            module.fail_json(msg=f"{name} is empty.")
    try:
        module.exit_json(**read_pair(paths["certificate_path"], paths["private_key_path"]))
    except ReadError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
