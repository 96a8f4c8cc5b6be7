"""What `install --check` needs and must not keep.

A dry run changes nothing on the hosts and writes nothing into the inventory. The secrets
a first install would generate, and the self-signed certificate it would make, exist for
the dry run only: in one private temporary directory removed when the run ends (one that
a killed run left behind is removed by the next run, like ansible-runner's). Secrets are
never printed. The run's log goes to a temporary directory of its own: removed after a
dry run that passed (its changes are listed on screen instead), kept when it failed.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from graylog_installer import entry_tls, paths, runner, secrets_store, state
from graylog_installer.entry_tls import EntryTls
from graylog_installer.files import write_private

# Not runner.TEMP_PREFIX followed by a process id: the stale-holder cleanup leaves it alone.
LOG_PREFIX = f"{runner.TEMP_PREFIX}check-log-"


@dataclass(frozen=True)
class RunInputs:
    """The secrets file ansible-playbook reads, and extra variables (never secrets)."""

    secrets_file: Path
    extravars: dict[str, object]


def log_dir() -> Path:
    """A 0700 directory for the dry run's logs, outside the inventory."""
    return Path(tempfile.mkdtemp(prefix=LOG_PREFIX))


def would_change(run_dir: Path) -> list[str]:
    """ "host: task" for each task (handlers included) the dry run reported as a change."""
    found: dict[str, None] = {}
    events = run_dir / "ansible.events.jsonl"
    for line in events.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            role = f"{data['role']} : " if data.get("role") else ""
            found[f"{data.get('host')}: {role}{data.get('task')}"] = None
    return list(found)


def discard_logs(run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)


def describe(choice: state.SecretsChoice) -> str | None:
    """The line that tells the operator which secrets the dry run made up, if any."""
    if choice.status is state.SecretsStatus.LOADED and not choice.added:
        return None
    made = "secrets" if choice.status is not state.SecretsStatus.LOADED else ", ".join(choice.added)
    return f"Check mode: throwaway {made} for this dry run only; no secrets file is written."


@contextmanager
def throwaway_inputs(
    directory: Path, choice: state.SecretsChoice, tls: EntryTls
) -> Iterator[RunInputs]:
    """The real secrets file when it is complete, else a throwaway copy; likewise the
    entry's generated certificate. Everything made here is removed on leaving."""
    real_file = paths.secrets_file(directory)
    complete = choice.status is state.SecretsStatus.LOADED and not choice.added
    need_pair = tls.enabled and tls.generated and not _generated_pair_exists(directory)
    if complete and not need_pair:
        yield RunInputs(real_file, {})
        return
    # mkdtemp: mode 0700; named like runner's holders, so a killed run's is cleaned up.
    holder = Path(tempfile.mkdtemp(prefix=f"{runner.TEMP_PREFIX}{os.getpid()}-"))
    try:
        secrets_file = real_file
        if not complete:
            secrets_file = holder / paths.SECRETS_FILE
            secrets_store.save(secrets_file, choice.secrets)
        extravars: dict[str, object] = {}
        if need_pair:
            certificate, key = _self_signed_pair(holder)
            extravars = {entry_tls.CERTIFICATE_VAR: str(certificate), entry_tls.KEY_VAR: str(key)}
        yield RunInputs(secrets_file, extravars)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _generated_pair_exists(directory: Path) -> bool:
    return entry_tls.generated_certificate(directory).is_file() and (
        entry_tls.generated_key(directory).is_file()
    )


def _self_signed_pair(holder: Path) -> tuple[Path, Path]:
    """A short-lived stand-in for the certificate a real run would make next to the
    inventory: the entry's configuration is checked against it, nothing trusts it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graylog-installer dry run")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path = holder / entry_tls.GENERATED_CERTIFICATE
    key_path = holder / entry_tls.GENERATED_KEY
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    write_private(key_path, key_bytes)
    return certificate_path, key_path
