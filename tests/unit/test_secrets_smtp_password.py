"""The operator's optional SMTP password in the secrets file: kept, checked, never in the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from graylog_installer import secrets_store, state
from graylog_installer.errors import UsageError
from graylog_installer.state import ROTATION_FLAGS, load_state, resolve_secrets, save_state

SMTP_LINE = 'graylog_smtp_password: "s3cret with space"\n'


def install(inventory: Path) -> secrets_store.Secrets:
    """A first install: secrets generated, the inventory recorded as installed."""
    value = resolve_secrets(inventory, load_state(inventory)).secrets
    marker = state.InstallState()
    marker.record_success(value, task_count=10)
    save_state(inventory, marker)
    return value


def add_line(inventory: Path, line: str) -> None:
    path = inventory / "secrets.yml"
    path.write_text(path.read_text() + line)


def test_added_after_the_install_it_is_loaded_not_refused(inventory_dir: Path) -> None:
    first = install(inventory_dir)
    add_line(inventory_dir, SMTP_LINE)
    loaded = resolve_secrets(inventory_dir, load_state(inventory_dir)).secrets
    assert loaded.smtp_password == "s3cret with space"
    assert loaded.as_mapping() == first.as_mapping()
    # Output redaction masks every value the file holds.
    assert "s3cret with space" in loaded.values()
    assert "s3cret" not in repr(loaded)


def test_a_file_without_it_has_none(inventory_dir: Path) -> None:
    value = install(inventory_dir)
    assert value.smtp_password is None
    assert value.values() == list(value.as_mapping().values())  # the generated ones only


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("graylog_smtp_password: 12345\n", "graylog_smtp_password must be a string"),
        ('graylog_smtp_password: "a\\nb"\n', "must not contain control characters"),
        (SMTP_LINE + "smtp_passwrod: x\n", "unknown keys: smtp_passwrod"),
        ('graylog_smtp_password: "  a  "\n', "shorter than 6 characters"),
    ],
)
def test_bad_values_and_misspelt_keys_are_refused(inventory_dir: Path, line, why) -> None:
    install(inventory_dir)
    add_line(inventory_dir, line)
    with pytest.raises(UsageError, match=why):
        resolve_secrets(inventory_dir, load_state(inventory_dir))


def test_it_does_not_stand_in_for_a_missing_generated_secret(inventory_dir: Path) -> None:
    path = inventory_dir / "secrets.yml"
    path.write_text("graylog_password_secret: " + "a" * 96 + "\n" + SMTP_LINE)
    path.chmod(0o600)
    with pytest.raises(UsageError, match="lacks graylog_admin_password"):
        resolve_secrets(inventory_dir, load_state(inventory_dir))


def test_a_rotation_keeps_it(inventory_dir: Path) -> None:
    old = install(inventory_dir)
    add_line(inventory_dir, SMTP_LINE)
    every = frozenset(ROTATION_FLAGS)
    rotated = resolve_secrets(inventory_dir, load_state(inventory_dir), rotate=every)
    assert rotated.secrets.password_secret != old.password_secret
    assert rotated.secrets.smtp_password == "s3cret with space"
    reloaded = secrets_store.load(inventory_dir / "secrets.yml")
    assert reloaded.smtp_password == "s3cret with space"
