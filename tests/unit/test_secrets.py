"""Secrets: generated once, kept 0600, never silently replaced, optionally vault-encrypted."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from graylog_installer import secrets_store, state
from graylog_installer.commands import protect
from graylog_installer.errors import UsageError
from graylog_installer.redact import Redactor
from graylog_installer.secrets_store import ADDED_KEYS, ALPHABET, MIN_LENGTHS, Secrets
from graylog_installer.state import SecretsStatus, load_state, resolve_secrets, save_state
from graylog_installer.vault import load_vault_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def vault_secret(tmp_path: Path, password: str):
    path = tmp_path / f"vault-{password}.txt"
    path.write_text(password + "\n")
    return load_vault_secret(path)


def installed(inventory: Path, value: Secrets) -> state.InstallState:
    marker = state.InstallState()
    marker.record_success(value, task_count=10)
    save_state(inventory, marker)
    return load_state(inventory)


def test_generated_lengths_and_alphabet() -> None:
    value = secrets_store.generate()
    assert len(value.password_secret) == 96
    assert len(value.admin_password) == 24
    assert set(value.password_secret + value.admin_password) <= set(ALPHABET)
    assert value != secrets_store.generate()


def test_secrets_do_not_show_in_repr() -> None:
    value = secrets_store.generate()
    assert value.password_secret not in repr(value)
    assert value.admin_password not in repr(value)


def test_first_run_creates_0600_file_and_later_runs_load_the_same(inventory_dir: Path) -> None:
    first = resolve_secrets(inventory_dir, load_state(inventory_dir))
    assert first.status is SecretsStatus.CREATED
    path = inventory_dir / "secrets.yml"
    assert mode(path) == 0o600
    for _ in range(3):
        again = resolve_secrets(inventory_dir, load_state(inventory_dir))
        assert again.status is SecretsStatus.LOADED
        assert again.secrets == first.secrets


def test_file_is_plain_yaml_with_the_two_keys(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    text = (inventory_dir / "secrets.yml").read_text()
    assert f"graylog_password_secret: {value.password_secret}" in text
    assert f"graylog_admin_password: {value.admin_password}" in text


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("graylog_password_secret: [unclosed\n", "not valid YAML (line"),
        ("- a list\n", "must be a YAML mapping"),
        ("graylog_password_secret: " + "a" * 96 + "\n", "lacks graylog_admin_password"),
        (
            "graylog_password_secret: short\ngraylog_admin_password: " + "b" * 24 + "\n",
            "graylog_password_secret is 5 characters; at least 64",
        ),
        (
            "graylog_password_secret: " + "a" * 95 + "!\n"
            "graylog_admin_password: " + "b" * 24 + "\n",
            "only letters and digits",
        ),
        (
            "graylog_password_secret: " + "a" * 96 + "\ngraylog_admin_password: abcde\n",
            "graylog_admin_password is 5 characters",
        ),
        (
            "graylog_password_secret: "
            + "a" * 96
            + "\ngraylog_admin_password: "
            + "b" * 24
            + "\nextra: 1\n",
            "unknown keys: extra",
        ),
        ("", "must be a YAML mapping"),
    ],
)
def test_corrupt_files_are_refused_and_kept(inventory_dir: Path, body: str, why: str) -> None:
    path = inventory_dir / "secrets.yml"
    path.write_text(body)
    path.chmod(0o600)
    with pytest.raises(UsageError) as caught:
        resolve_secrets(inventory_dir, load_state(inventory_dir))
    assert why in str(caught.value)
    assert path.read_text() == body  # refused, not replaced


def test_yaml_error_does_not_quote_the_secret(inventory_dir: Path) -> None:
    token = "Q" * 80
    path = inventory_dir / "secrets.yml"
    path.write_text(f"graylog_password_secret: {token}\n  bad: : indentation\n")
    path.chmod(0o600)
    with pytest.raises(UsageError) as caught:
        secrets_store.load(path)
    assert token not in str(caught.value)


def test_world_readable_plain_file_refused(inventory_dir: Path) -> None:
    resolve_secrets(inventory_dir, load_state(inventory_dir))
    (inventory_dir / "secrets.yml").chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        resolve_secrets(inventory_dir, load_state(inventory_dir))


def test_missing_file_for_installed_inventory_refused(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, value)
    (inventory_dir / "secrets.yml").unlink()
    with pytest.raises(UsageError) as caught:
        resolve_secrets(inventory_dir, marker)
    message = str(caught.value)
    assert "missing" in message and "restore the file from your backup" in message
    assert not (inventory_dir / "secrets.yml").exists()


def test_different_file_for_installed_inventory_refused(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, value)
    other = Secrets(value.password_secret, "X" * 24)
    secrets_store.save(inventory_dir / "secrets.yml", other)
    with pytest.raises(UsageError, match="different graylog_admin_password"):
        resolve_secrets(inventory_dir, marker)


def test_marker_holds_salted_fingerprints_not_secrets(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    installed(inventory_dir, value)
    path = inventory_dir / ".graylog-installer-state.json"
    text = path.read_text()
    assert not any(secret in text for secret in value.values())
    data = json.loads(text)
    assert data["installed"] is True and sorted(data["fingerprints"]) == sorted(MIN_LENGTHS)
    assert mode(path) == 0o600
    assert load_state(inventory_dir).differing_keys(value) == []


def test_corrupt_marker_refused(inventory_dir: Path) -> None:
    (inventory_dir / ".graylog-installer-state.json").write_text("{not json")
    with pytest.raises(UsageError, match="install marker"):
        load_state(inventory_dir)


ADMIN = frozenset({secrets_store.ADMIN_PASSWORD_KEY})
PASSWORD_SECRET = frozenset({secrets_store.PASSWORD_SECRET_KEY})


def test_admin_rotation_keeps_password_secret_and_a_copy_until_success(
    inventory_dir: Path,
) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, old)
    rotated = resolve_secrets(inventory_dir, marker, rotate=ADMIN)
    assert rotated.status is SecretsStatus.ROTATED and rotated.replaced == ADMIN
    assert rotated.secrets.password_secret == old.password_secret
    assert rotated.secrets.admin_password != old.admin_password
    # MongoDB's users and key file cannot change under a running cluster.
    assert all(getattr(rotated.secrets, key) == getattr(old, key) for key in ADDED_KEYS)
    assert rotated.backup is not None and mode(rotated.backup) == 0o600
    assert secrets_store.load(rotated.backup) == old
    reloaded = load_state(inventory_dir)
    assert reloaded.rotation_pending and reloaded.differing_keys(rotated.secrets) == []
    # A retry without the flag (say the rotation run failed) loads the new secrets.
    assert resolve_secrets(inventory_dir, reloaded).secrets == rotated.secrets


def test_password_secret_rotation_is_its_own_choice(inventory_dir: Path) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    rotated = resolve_secrets(
        inventory_dir, installed(inventory_dir, old), rotate=PASSWORD_SECRET
    ).secrets
    assert rotated.password_secret != old.password_secret
    assert rotated.admin_password == old.admin_password


def test_one_copy_is_kept_however_often_a_rotation_is_retried(inventory_dir: Path) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    first = resolve_secrets(inventory_dir, installed(inventory_dir, old), rotate=ADMIN)
    second = resolve_secrets(inventory_dir, load_state(inventory_dir), rotate=ADMIN)
    assert first.backup == second.backup
    assert secrets_store.load(second.backup) == old  # the one the hosts may still have
    copies = [p.name for p in inventory_dir.iterdir() if p.name.endswith(".bak")]
    assert copies == [secrets_store.ROTATION_COPY]
    assert secrets_store.drop_rotation_copy(inventory_dir / "secrets.yml")
    assert not any(p.name.endswith(".bak") for p in inventory_dir.iterdir())
    assert not secrets_store.drop_rotation_copy(inventory_dir / "secrets.yml")


def test_lost_file_is_replaced_only_with_the_password_secret_flag(inventory_dir: Path) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    # Installed by a version without MongoDB authentication: no MongoDB secret to keep.
    marker = installed(inventory_dir, Secrets(old.password_secret, old.admin_password))
    (inventory_dir / "secrets.yml").unlink()
    with pytest.raises(UsageError, match="--rotate-password-secret"):
        resolve_secrets(inventory_dir, marker, rotate=ADMIN)
    assert not (inventory_dir / "secrets.yml").exists()
    fresh = resolve_secrets(inventory_dir, marker, rotate=PASSWORD_SECRET)
    assert fresh.replaced >= ADMIN | PASSWORD_SECRET  # nothing was left to keep
    assert fresh.secrets.admin_password != old.admin_password


def test_lost_file_with_mongodb_credentials_installed_must_be_restored(
    inventory_dir: Path,
) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, old)
    (inventory_dir / "secrets.yml").unlink()
    for rotate in (ADMIN, PASSWORD_SECRET, ADMIN | PASSWORD_SECRET):
        with pytest.raises(UsageError) as caught:
            resolve_secrets(inventory_dir, marker, rotate=rotate)
        assert "restore the file from your backup (MongoDB" in str(caught.value)
        assert "--rotate" not in str(caught.value)
    assert not (inventory_dir / "secrets.yml").exists()
    assert load_state(inventory_dir).fingerprints == marker.fingerprints


def test_a_changed_mongodb_secret_names_no_flag(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, value)
    secrets_store.save(inventory_dir / "secrets.yml", value.with_generated(list(ADDED_KEYS[:1])))
    with pytest.raises(UsageError) as caught:
        resolve_secrets(inventory_dir, marker, rotate=ADMIN)
    message = str(caught.value)
    assert f"different {ADDED_KEYS[0]}" in message and message.endswith("from your backup")


def test_a_new_rotation_replaces_the_copy_a_finished_one_left(inventory_dir: Path) -> None:
    old = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    stale = inventory_dir / secrets_store.ROTATION_COPY
    stale.write_bytes(b"left by an earlier rotation\n")
    rotated = resolve_secrets(inventory_dir, installed(inventory_dir, old), rotate=ADMIN)
    assert rotated.backup == stale and secrets_store.load(stale) == old


def test_a_changed_file_names_the_flag_for_what_changed(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, value)
    secrets_store.save(inventory_dir / "secrets.yml", Secrets("P" * 96, value.admin_password))
    with pytest.raises(UsageError) as caught:
        resolve_secrets(inventory_dir, marker, rotate=ADMIN)
    assert "different graylog_password_secret" in str(caught.value)
    assert "--rotate-password-secret" in str(caught.value)


def test_vault_round_trip(inventory_dir: Path, tmp_path: Path) -> None:
    secret = vault_secret(tmp_path, "correct horse")
    created = resolve_secrets(inventory_dir, load_state(inventory_dir), secret)
    raw = (inventory_dir / "secrets.yml").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;")
    assert created.secrets.password_secret.encode() not in raw
    same = vault_secret(tmp_path, "correct horse")
    loaded = resolve_secrets(inventory_dir, load_state(inventory_dir), same)
    assert loaded.secrets == created.secrets


def test_vault_wrong_password_is_one_line(inventory_dir: Path, tmp_path: Path) -> None:
    resolve_secrets(inventory_dir, load_state(inventory_dir), vault_secret(tmp_path, "right"))
    with pytest.raises(UsageError) as caught:
        resolve_secrets(inventory_dir, load_state(inventory_dir), vault_secret(tmp_path, "wrong"))
    assert "wrong vault password" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_encrypted_file_without_password_asks_for_it(inventory_dir: Path, tmp_path: Path) -> None:
    resolve_secrets(inventory_dir, load_state(inventory_dir), vault_secret(tmp_path, "pw"))
    with pytest.raises(UsageError, match="pass --vault-password-file"):
        resolve_secrets(inventory_dir, load_state(inventory_dir))


def test_missing_vault_password_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="vault password file not found"):
        load_vault_secret(tmp_path / "nope")


def test_number_instead_of_string_refused(inventory_dir: Path) -> None:
    path = inventory_dir / "secrets.yml"
    path.write_text(
        "graylog_password_secret: " + "a" * 96 + "\ngraylog_admin_password: 1234567890123456\n"
    )
    path.chmod(0o600)
    with pytest.raises(UsageError, match="must be a string"):
        secrets_store.load(path)


# ---- secrets a newer version introduced ------------------------------------------------


def old_version_file(inventory_dir: Path) -> tuple[Secrets, bytes]:
    """A secrets file (and marker) as the version before MongoDB authentication left them."""
    value = secrets_store.generate()
    old = Secrets(value.password_secret, value.admin_password)
    secrets_store.save(inventory_dir / "secrets.yml", old)
    installed(inventory_dir, old)
    return old, (inventory_dir / "secrets.yml").read_bytes()


def test_missing_new_keys_are_added_and_the_old_ones_kept(inventory_dir: Path) -> None:
    old, _ = old_version_file(inventory_dir)
    choice = resolve_secrets(inventory_dir, load_state(inventory_dir))
    assert choice.status is SecretsStatus.LOADED
    assert choice.added == list(ADDED_KEYS)
    reloaded = secrets_store.load(inventory_dir / "secrets.yml")
    assert reloaded == choice.secrets and reloaded.missing_keys() == []
    assert reloaded.password_secret == old.password_secret
    assert reloaded.admin_password == old.admin_password
    assert mode(inventory_dir / "secrets.yml") == 0o600
    again = resolve_secrets(inventory_dir, load_state(inventory_dir))
    assert again.added == [] and again.secrets == reloaded


def test_new_keys_added_to_a_vault_file_stay_encrypted(inventory_dir: Path, tmp_path: Path) -> None:
    key = vault_secret(tmp_path, "right")
    value = secrets_store.generate()
    secrets_store.save(
        inventory_dir / "secrets.yml", Secrets(value.password_secret, value.admin_password), key
    )
    choice = resolve_secrets(inventory_dir, load_state(inventory_dir), key)
    assert choice.added == list(ADDED_KEYS)
    raw = (inventory_dir / "secrets.yml").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT")
    assert secrets_store.load(inventory_dir / "secrets.yml", key) == choice.secrets


def test_a_removed_key_that_was_installed_is_refused_not_regenerated(inventory_dir: Path) -> None:
    value = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    marker = installed(inventory_dir, value)
    path = inventory_dir / "secrets.yml"
    path.unlink()
    secrets_store.save(path, Secrets(value.password_secret, value.admin_password))
    before = path.read_bytes()
    with pytest.raises(UsageError, match="lacks mongodb_admin_password"):
        resolve_secrets(inventory_dir, marker)
    assert path.read_bytes() == before


def test_old_file_with_other_graylog_secrets_is_still_refused(inventory_dir: Path) -> None:
    old_version_file(inventory_dir)
    path = inventory_dir / "secrets.yml"
    other = secrets_store.generate()
    path.unlink()
    secrets_store.save(path, Secrets(other.password_secret, other.admin_password))
    before = path.read_bytes()
    with pytest.raises(UsageError, match="--rotate-password-secret"):
        resolve_secrets(inventory_dir, load_state(inventory_dir))
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("mongodb_graylog_password", "a" * 15, "at least 16"),
        ("mongodb_admin_password", "a" * 31 + "@", "only letters and digits"),
        ("mongodb_replica_set_key", "a" * 1025, "at most 1024"),
    ],
)
def test_bad_mongodb_secrets_are_refused(
    inventory_dir: Path, key: str, value: str, why: str
) -> None:
    path = inventory_dir / "secrets.yml"
    secrets_store.save(path, secrets_store.generate())
    text = path.read_text().replace(f"{key}: ", f"{key}: {value}  # ")
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(UsageError, match=why):
        resolve_secrets(inventory_dir, load_state(inventory_dir))


def test_the_redactor_masks_mongodbs_secrets_in_graylogs_uri_and_the_key() -> None:
    value = secrets_store.generate()
    redactor = Redactor()
    protect(value, redactor)
    uri = f"mongodb://graylog:{value.mongodb_graylog_password}@10.0.0.1:27017/graylog"
    line = f"{uri} admin={value.mongodb_admin_password} key={value.mongodb_replica_set_key}"
    masked = redactor.text(line)
    assert not any(secret in masked for secret in value.values())
    assert masked.startswith("mongodb://graylog:********@10.0.0.1")
