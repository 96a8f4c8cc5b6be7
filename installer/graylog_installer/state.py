"""The install marker, and the rule that ties an installed inventory to its secrets.

After a successful install, INVENTORY/.graylog-installer-state.json records salted
fingerprints of the secrets (never the secrets). A later run whose secrets file is missing
or different would push new secrets to a running cluster, so it is refused unless the
operator asks for a rotation: --rotate-admin-password, or --rotate-password-secret (which
also makes every Graylog user's stored password unusable but the admin's).
"""

from __future__ import annotations

import hashlib
import json
import secrets as random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graylog_installer import paths, secrets_store
from graylog_installer.errors import UsageError
from graylog_installer.files import write_private
from graylog_installer.secrets_store import Secrets

if TYPE_CHECKING:
    from ansible.parsing.vault import VaultSecret

STATE_VERSION = 1


def fingerprint(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class InstallState:
    installed: bool = False
    installed_at: str | None = None
    last_success_at: str | None = None
    salt: str = field(default_factory=lambda: random.token_hex(16))
    fingerprints: dict[str, str] = field(default_factory=dict)
    # Set between a deliberate rotation and the first successful run with the new secrets,
    # so that run (even a retry) may replace the secret on the hosts.
    rotation_pending: bool = False
    # Tasks seen in the last successful run: the progress display's "done/total".
    last_task_count: int | None = None

    def differing_keys(self, value: Secrets) -> list[str]:
        """Names of the secrets that differ from what this inventory was installed with.

        A secret the installed version did not have yet has no fingerprint: it is new, not
        different.
        """
        return [
            key
            for key, secret in value.as_mapping().items()
            if key in self.fingerprints and self.fingerprints[key] != fingerprint(self.salt, secret)
        ]

    def remember(self, value: Secrets) -> None:
        self.salt = random.token_hex(16)
        self.fingerprints = {k: fingerprint(self.salt, v) for k, v in value.as_mapping().items()}

    def record_success(self, value: Secrets, task_count: int | None) -> None:
        now = _now()
        self.installed_at = self.installed_at or now
        self.installed = True
        self.last_success_at = now
        self.rotation_pending = False
        self.last_task_count = task_count or self.last_task_count
        self.remember(value)


def load_state(inventory: Path) -> InstallState:
    path = paths.state_file(inventory)
    if not path.exists():
        return InstallState()
    try:
        data = json.loads(path.read_text())
        if data.pop("version", None) != STATE_VERSION:
            raise ValueError("unknown version")
        return InstallState(**data)
    except (OSError, ValueError, TypeError):
        raise UsageError(
            f"install marker {path} is unreadable; restore it from a backup "
            "(it records that this inventory was installed)"
        ) from None


def save_state(inventory: Path, state: InstallState) -> None:
    data: dict[str, Any] = {"version": STATE_VERSION, **asdict(state)}
    write_private(paths.state_file(inventory), (json.dumps(data, indent=2) + "\n").encode())


class SecretsStatus(Enum):
    LOADED = "loaded"
    CREATED = "created"
    ROTATED = "rotated"


@dataclass(frozen=True)
class SecretsChoice:
    secrets: Secrets
    status: SecretsStatus
    backup: Path | None = None
    replaced: frozenset[str] = frozenset()  # the keys whose value is new
    # Keys a newer version introduced, generated into an existing file on this run.
    added: list[str] = field(default_factory=list)


# The secrets a rotation may replace, and the flag that asks for each (also read by the
# command line). MongoDB's users and key file cannot change under a running cluster.
ROTATION_FLAGS = {
    secrets_store.ADMIN_PASSWORD_KEY: "--rotate-admin-password",
    secrets_store.PASSWORD_SECRET_KEY: "--rotate-password-secret",
}


def resolve_secrets(
    inventory: Path,
    state: InstallState,
    vault_secret: VaultSecret | None = None,
    rotate: frozenset[str] = frozenset(),
    write: bool = True,
) -> SecretsChoice:
    """Load, create or (only when asked) rotate the inventory's secrets.

    ``write=False`` (a dry run) refuses what a real run refuses but writes nothing: secrets
    a real run would generate exist only in the returned value.
    """
    path = paths.secrets_file(inventory)
    exists = path.exists() or path.is_symlink()
    if not exists:
        if state.installed and not _can_start_over(state, rotate):
            raise UsageError(_missing_message(path, state))
        status = SecretsStatus.ROTATED if state.installed else SecretsStatus.CREATED
        value = secrets_store.generate()
        if not write:
            return SecretsChoice(value, status, replaced=frozenset(value.as_mapping()))
        return _save(path, state, vault_secret, value, status, None, value.as_mapping().keys())
    value = secrets_store.load(path, vault_secret)
    differing = set(state.differing_keys(value)) if state.installed else set()
    if differing - rotate:
        raise UsageError(_mismatch_message(path, state, sorted(differing - rotate)))
    missing = value.missing_keys()
    lost = [key for key in missing if key in state.fingerprints]
    if lost:
        raise UsageError(f"{path} lacks {', '.join(lost)}; restore the file from a backup")
    value = value.with_generated(missing)
    if not rotate:
        if missing and write:
            secrets_store.save(path, value, vault_secret)
        return SecretsChoice(value, SecretsStatus.LOADED, added=missing)
    # The copy of an unfinished rotation is the one the hosts may still have: kept.
    copy = secrets_store.keep_rotation_copy(path, replace=not state.rotation_pending)
    new = value.with_generated(sorted(rotate))
    choice = _save(path, state, vault_secret, new, SecretsStatus.ROTATED, copy, rotate)
    return replace(choice, added=missing)


def _save(
    path: Path,
    state: InstallState,
    vault_secret: VaultSecret | None,
    value: Secrets,
    status: SecretsStatus,
    copy: Path | None,
    replaced: Iterable[str],
) -> SecretsChoice:
    secrets_store.save(path, value, vault_secret)
    if state.installed:
        # Remember the new secrets now: a failed rotation run can then be retried without
        # the flag, and the hosts are told the change is deliberate until it succeeds.
        state.remember(value)
        state.rotation_pending = True
        save_state(path.parent, state)
    return SecretsChoice(value, status, copy, frozenset(replaced))


def _can_start_over(state: InstallState, rotate: frozenset[str]) -> bool:
    """A lost file may be replaced by new secrets only when asked to, and only when no
    MongoDB credential was installed: MongoDB's users and key cannot be regenerated."""
    installed_mongodb = set(secrets_store.ADDED_KEYS) & set(state.fingerprints)
    return secrets_store.PASSWORD_SECRET_KEY in rotate and not installed_mongodb


def _missing_message(path: Path, state: InstallState) -> str:
    lost = f"{path} is missing but this inventory was installed on {state.installed_at}"
    if set(secrets_store.ADDED_KEYS) & set(state.fingerprints):
        return f"{lost}; restore the file from your backup (MongoDB's users and key file need it)"
    return (
        f"{lost}; restore the file from your backup, or pass --rotate-password-secret to "
        "start over with new secrets (every Graylog user but the admin then needs a new "
        "password)"
    )


def _mismatch_message(path: Path, state: InstallState, keys: list[str]) -> str:
    found = (
        f"{path} holds a different {' and '.join(keys)} than the one installed on "
        f"{state.installed_at}; restore the original file from your backup"
    )
    if not set(keys) <= set(ROTATION_FLAGS):
        return found  # MongoDB's secrets have no rotation
    flags = " ".join(ROTATION_FLAGS[key] for key in keys)
    return f"{found}, or pass {flags} to rotate deliberately"
