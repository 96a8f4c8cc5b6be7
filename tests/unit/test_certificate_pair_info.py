"""Role entry_certificate's one read of the certificate and its key: the fields its
comparison uses, as community.crypto's info modules report them, absent files, bad files."""

from __future__ import annotations

import datetime
import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.community.crypto.plugins.module_utils.crypto.module_backends import (
    certificate_info,
    privatekey_info,
)
from conftest import REPOSITORY, load_plugin
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MODULE_PATH = "roles/entry_certificate/library/certificate_pair_info.py"
module = load_plugin(MODULE_PATH)

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def certificate(
    key: Key,
    common_names: tuple[str, ...] = ("logs.example.com",),
    alt_names: tuple[str, ...] | None = ("logs.example.com", "10.0.0.1", "fd00:0:0::1"),
    ca: bool | None = False,
    path_length: int | None = None,
    usages: tuple[x509.ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.SERVER_AUTH,),
) -> x509.Certificate:
    """A self-signed certificate; None leaves an extension out."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in common_names])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if alt_names is not None:
        entries: list[x509.GeneralName] = []
        for name in alt_names:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                entries.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca, path_length), critical=True)
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    return builder.sign(key, hashes.SHA256())


def key_pem(key: Key, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def write_pair(directory: Path, key: Key, cert: x509.Certificate) -> tuple[str, str]:
    cert_path, key_path = directory / "entry.crt", directory / "entry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key_pem(key))
    return str(cert_path), str(key_path)


class StubModule:
    """What community.crypto's backends ask of an AnsibleModule, with its defaults."""

    params = {"name_encoding": "ignore"}

    def fail_json(self, **result: Any) -> None:
        raise AssertionError(result["msg"])


def info_modules_report(cert_path: str, key_path: str) -> dict[str, Any]:
    """The fields main.yml compared when it read with the two community.crypto modules."""
    cert = certificate_info.get_certificate_info(
        StubModule(), "cryptography", Path(cert_path).read_bytes()
    )
    key = privatekey_info.get_privatekey_info(
        StubModule(), "cryptography", Path(key_path).read_bytes()
    )
    return {
        "public_key": cert["public_key"],
        "common_name": cert["subject"].get("commonName"),
        "subject_alt_name": cert["subject_alt_name"],
        "basic_constraints": cert["basic_constraints"],
        "extended_key_usage": cert["extended_key_usage"],
        "key_public_key": key["public_key"],
    }


def our_report(cert_path: str, key_path: str) -> dict[str, Any]:
    result = module.read_pair(cert_path, key_path)
    fields = {k: v for k, v in result["certificate"].items() if k != "found"}
    return {**fields, "key_public_key": result["private_key"]["public_key"]}


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def test_the_generated_kind_of_certificate_reads_as_the_comparison_expects(tmp_path: Path) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    result = module.read_pair(cert_path, key_path)
    assert result["certificate"]["found"] and result["private_key"]["found"]
    assert result["certificate"]["common_name"] == "logs.example.com"
    assert result["certificate"]["subject_alt_name"] == [
        "DNS:logs.example.com",
        "IP:10.0.0.1",
        "IP:fd00::1",
    ]
    assert result["certificate"]["basic_constraints"] == ["CA:FALSE"]
    assert result["certificate"]["extended_key_usage"] == ["TLS Web Server Authentication"]
    assert result["certificate"]["public_key"] == result["private_key"]["public_key"]
    assert result["certificate"]["public_key"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert result["msg"] == ""


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"common_names": ("first.example.com", "second.example.com")},
        {"common_names": ()},
        {"alt_names": None, "ca": None, "usages": None},
        {"ca": True, "path_length": 0},
        {"usages": (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)},
        {"usages": (x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"),)},
    ],
    ids=["generated", "two-cns", "no-cn", "no-extensions", "ca", "two-usages", "unnamed-usage"],
)
@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["rsa", "ec"])
def test_fields_are_what_the_community_crypto_info_modules_reported(
    tmp_path: Path, key: Key, variant: dict[str, Any]
) -> None:
    cert_path, key_path = write_pair(tmp_path, key, certificate(key, **variant))
    assert our_report(cert_path, key_path) == info_modules_report(cert_path, key_path)


def test_a_key_of_another_certificate_has_another_public_key(tmp_path: Path) -> None:
    cert_path, _ = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    other = tmp_path / "other.key"
    other.write_bytes(key_pem(EC_KEY))
    result = module.read_pair(cert_path, str(other))
    assert result["certificate"]["public_key"] != result["private_key"]["public_key"]


def test_the_first_certificate_of_a_chain_is_read(tmp_path: Path) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    issuer = certificate(EC_KEY, common_names=("Intermediate",), ca=True)
    with open(cert_path, "ab") as chain:
        chain.write(issuer.public_bytes(serialization.Encoding.PEM))
    assert module.read_pair(cert_path, key_path)["certificate"]["common_name"] == (
        "logs.example.com"
    )


@pytest.mark.parametrize("missing", ["certificate", "private key", "both"])
def test_a_file_that_does_not_exist_reads_as_not_found(tmp_path: Path, missing: str) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    gone = {"certificate": [cert_path], "private key": [key_path], "both": [cert_path, key_path]}
    for path in gone[missing]:
        Path(path).unlink()
    result = module.read_pair(cert_path, key_path)
    assert result["certificate"]["found"] is (cert_path not in gone[missing])
    assert result["private_key"]["found"] is (key_path not in gone[missing])
    assert result["msg"] == " ".join(f"{path} does not exist." for path in gone[missing])
    if cert_path in gone[missing]:
        assert result["certificate"]["public_key"] is None
    if key_path in gone[missing]:
        assert result["private_key"]["public_key"] is None


def corrupt_certificate(cert_path: Path, key_path: Path) -> None:
    cert_path.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")


def corrupt_key(cert_path: Path, key_path: Path) -> None:
    key_path.write_text("garbage\n")


def encrypted_key(cert_path: Path, key_path: Path) -> None:
    key_path.write_bytes(key_pem(RSA_KEY, password=b"correct horse"))


def directory_as_certificate(cert_path: Path, key_path: Path) -> None:
    cert_path.unlink()
    cert_path.mkdir()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (corrupt_certificate, "The certificate {cert} is not a PEM certificate."),
        (corrupt_key, "The private key {key} is not a PEM private key."),
        (encrypted_key, "The private key {key} is encrypted: give it unencrypted."),
        (directory_as_certificate, "Cannot read the certificate {cert}: Is a directory."),
    ],
    ids=["corrupt-certificate", "corrupt-key", "encrypted-key", "directory"],
)
def test_a_file_that_cannot_be_used_fails_with_one_line_naming_it(
    tmp_path: Path, spoil: Any, message: str
) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    spoil(Path(cert_path), Path(key_path))
    with pytest.raises(module.ReadError) as raised:
        module.read_pair(cert_path, key_path)
    assert str(raised.value) == message.format(cert=cert_path, key=key_path)


def run_module(tmp_path: Path, **arguments: Any) -> dict[str, Any]:
    """The module as Ansible runs it: its own process, arguments in a JSON file."""
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": arguments}))
    done = subprocess.run(
        [sys.executable, str(REPOSITORY / MODULE_PATH), str(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stdout)


def test_the_module_never_returns_the_private_key_and_runs_in_check_mode(tmp_path: Path) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    result = run_module(
        tmp_path,
        certificate_path=cert_path,
        private_key_path=key_path,
        _ansible_check_mode=True,
    )
    assert not result.get("failed") and not result.get("skipped") and not result["changed"]
    assert result["private_key"]["public_key"] == result["certificate"]["public_key"]
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text
    secret_lines = Path(key_path).read_text().splitlines()[1:-1]
    assert not any(line in text for line in secret_lines)
    private_value = str(RSA_KEY.private_numbers().d)
    assert private_value not in text


def test_the_module_fails_with_the_one_line_and_reads_absent_files_as_not_found(
    tmp_path: Path,
) -> None:
    cert_path, key_path = write_pair(tmp_path, RSA_KEY, certificate(RSA_KEY))
    Path(key_path).write_text("garbage\n")
    bad = run_module(tmp_path, certificate_path=cert_path, private_key_path=key_path)
    assert bad["failed"] and bad["msg"] == f"The private key {key_path} is not a PEM private key."
    Path(key_path).unlink()
    absent = run_module(tmp_path, certificate_path=cert_path, private_key_path=key_path)
    assert not absent.get("failed") and absent["msg"] == f"{key_path} does not exist."
    assert absent["certificate"]["found"] and not absent["private_key"]["found"]


def test_the_module_refuses_an_empty_path(tmp_path: Path) -> None:
    result = run_module(tmp_path, certificate_path="", private_key_path="/x.key")
    assert result["failed"] and result["msg"] == "certificate_path is empty."
