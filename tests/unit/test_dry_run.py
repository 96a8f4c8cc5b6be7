"""install --check: secrets and a certificate for the dry run only, nothing kept."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from graylog_installer import commands, dry_run, entry_tls, paths, sandbox, secrets_store, state
from graylog_installer.entry_tls import EntryTls
from graylog_installer.errors import UsageError
from graylog_installer.secrets_store import ADDED_KEYS
from graylog_installer.state import SecretsStatus, load_state, resolve_secrets

TLS_ON = EntryTls(enabled=True, https_port=443, certificate=Path("/unused"), generated=True)
TLS_OFF = EntryTls(enabled=False, https_port=443, certificate=Path("/unused"), generated=True)


def files_below(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_a_fresh_inventory_gets_secrets_in_memory_only(inventory_dir: Path) -> None:
    before = files_below(inventory_dir)
    choice = resolve_secrets(inventory_dir, load_state(inventory_dir), write=False)
    assert choice.status is SecretsStatus.CREATED
    assert choice.secrets.missing_keys() == []
    assert files_below(inventory_dir) == before


def test_an_older_secrets_file_is_completed_in_memory_only(inventory_dir: Path) -> None:
    path = inventory_dir / "secrets.yml"
    secrets_store.save(path, replace(secrets_store.generate(), **dict.fromkeys(ADDED_KEYS, "")))
    before = path.read_bytes()
    choice = resolve_secrets(inventory_dir, load_state(inventory_dir), write=False)
    assert choice.added == list(ADDED_KEYS)
    kept = path.read_bytes() == before
    assert kept, "the dry run wrote into the secrets file"


def test_a_lost_secrets_file_is_still_refused(inventory_dir: Path) -> None:
    marker = state.InstallState()
    marker.record_success(secrets_store.generate(), task_count=1)
    with pytest.raises(UsageError, match="missing"):
        resolve_secrets(inventory_dir, marker, write=False)


def test_complete_secrets_and_certificate_are_used_as_they_are(inventory_dir: Path) -> None:
    value = secrets_store.generate()
    secrets_store.save(inventory_dir / "secrets.yml", value)
    for path in (
        entry_tls.generated_certificate(inventory_dir),
        entry_tls.generated_key(inventory_dir),
    ):
        path.parent.mkdir(exist_ok=True)
        path.write_text("kept\n")
    choice = state.SecretsChoice(value, SecretsStatus.LOADED)
    with dry_run.throwaway_inputs(inventory_dir, choice, TLS_ON) as inputs:
        assert inputs.secrets_file == inventory_dir / "secrets.yml"
        assert inputs.extravars == {}


def test_throwaway_secrets_are_private_and_removed_after(inventory_dir: Path) -> None:
    before = files_below(inventory_dir)
    choice = resolve_secrets(inventory_dir, load_state(inventory_dir), write=False)
    with dry_run.throwaway_inputs(inventory_dir, choice, TLS_OFF) as inputs:
        holder = inputs.secrets_file.parent
        assert holder != inventory_dir
        assert stat.S_IMODE(inputs.secrets_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(holder.stat().st_mode) == 0o700
        same = secrets_store.load(inputs.secrets_file) == choice.secrets
        assert same, "the throwaway file does not hold the dry run's secrets"
    assert not holder.exists()
    assert files_below(inventory_dir) == before


def test_a_missing_generated_certificate_is_stood_in_for(inventory_dir: Path) -> None:
    value = secrets_store.generate()
    secrets_store.save(inventory_dir / "secrets.yml", value)
    choice = state.SecretsChoice(value, SecretsStatus.LOADED)
    with dry_run.throwaway_inputs(inventory_dir, choice, TLS_ON) as inputs:
        assert inputs.secrets_file == inventory_dir / "secrets.yml"
        certificate = Path(str(inputs.extravars[entry_tls.CERTIFICATE_VAR]))
        key = Path(str(inputs.extravars[entry_tls.KEY_VAR]))
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        public = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        assert public == private.public_key()
    assert not certificate.exists() and not key.exists()
    assert not (inventory_dir / entry_tls.GENERATED_DIR).exists()


def test_would_change_lists_changed_tasks_once_in_run_order(tmp_path: Path) -> None:
    def event(kind: str, task: str, changed: bool, role: str = "nginx") -> str:
        data = {"host": "n1", "task": task, "role": role, "res": {"changed": changed}}
        return json.dumps({"event": kind, "event_data": data})

    (tmp_path / "ansible.events.jsonl").write_text(
        "\n".join(
            [
                event("runner_on_ok", "Write the Graylog site", True),
                event("runner_on_ok", "Install nginx", False),
                event("runner_item_on_ok", "Write the Graylog site", True),
                event("runner_on_ok", "Reload nginx", True),
                event("runner_on_ok", "Write the Graylog site", True),
                event("runner_on_skipped", "Enable nginx", True),
            ]
        )
        + "\n"
    )
    assert dry_run.would_change(tmp_path) == [
        "n1: nginx : Write the Graylog site",
        "n1: nginx : Reload nginx",
    ]


def test_a_dry_run_without_inventory_builds_and_starts_no_sandbox(monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "prepare_sandbox", lambda _report: pytest.fail("sandbox built"))
    monkeypatch.setattr(sandbox.container, "state_of", lambda _name: None)
    with pytest.raises(UsageError, match="not running"):
        commands.choose_inventory(None, print, check=True)
    monkeypatch.setattr(sandbox.container, "state_of", lambda _name: "running")
    found = commands.choose_inventory(None, print, check=True)
    assert found == paths.sandbox_inventory().resolve()
