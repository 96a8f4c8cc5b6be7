"""ansible-vault encryption of the secrets file, done in-process with Ansible's VaultLib."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graylog_installer.errors import UsageError

if TYPE_CHECKING:
    from ansible.parsing.vault import VaultSecret

VAULT_ID = "default"


def load_vault_secret(password_file: Path) -> VaultSecret:
    """Read a vault password file (or run it, if executable) the way ansible-playbook does."""
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import get_file_vault_secret

    if not password_file.is_file():
        raise UsageError(f"vault password file not found: {password_file}")
    try:
        secret = get_file_vault_secret(
            filename=str(password_file), vault_id=VAULT_ID, loader=DataLoader()
        )
        secret.load()
    except AnsibleError as exc:
        raise UsageError(f"cannot read vault password file {password_file}: {exc}") from None
    if not secret.bytes:
        raise UsageError(f"vault password file {password_file} is empty")
    return secret


def is_encrypted(data: bytes) -> bool:
    from ansible.parsing.vault import is_encrypted as _is_encrypted

    return bool(_is_encrypted(data))


def encrypt(plaintext: bytes, secret: VaultSecret) -> bytes:
    from ansible.parsing.vault import VaultLib

    return VaultLib([(VAULT_ID, secret)]).encrypt(plaintext, secret)


def decrypt(ciphertext: bytes, secret: VaultSecret | None, source: Path) -> bytes:
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib

    if secret is None:
        raise UsageError(f"{source} is encrypted with ansible-vault; pass --vault-password-file")
    try:
        return VaultLib([(VAULT_ID, secret)]).decrypt(ciphertext, filename=str(source))
    except AnsibleError:
        # Ansible's message names every vault id it tried; the operator only needs this.
        raise UsageError(
            f"cannot decrypt {source}: wrong vault password (check --vault-password-file)"
        ) from None
