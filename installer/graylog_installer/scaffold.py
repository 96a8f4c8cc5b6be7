"""``init``: write a new inventory directory and its secrets, refusing to overwrite one.

Files are first written to a scratch directory and read back through the same Ansible
parsing and validation ``install`` uses, so an inventory that ``init`` accepts is one
``install`` accepts; only then are they moved into place.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from graylog_installer import git_guard, paths, secrets_store
from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory
from graylog_installer.secrets_store import Secrets
from graylog_installer.validation import Topology, normalise_url, validate

if TYPE_CHECKING:
    from ansible.parsing.vault import VaultSecret

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
HOSTS_HEADER = (
    "# Written by graylog-installer init. Groups: graylog, elasticsearch, mongodb,\n"
    "# loadbalancer (optional: HAProxy, the single entry in front of the Graylog hosts)\n"
    "# and log_senders (optional: hosts whose rsyslog forwards their logs to the stack).\n"
)
VARS_HEADER = "# Settings for every host; see the roles' defaults/main.yml for the rest.\n"


@dataclass(frozen=True)
class HostSpec:
    name: str
    address: str | None = None


@dataclass(frozen=True)
class NewInventory:
    path: Path
    topology: Topology
    secrets: Secrets


def parse_host(text: str) -> HostSpec:
    """NAME or NAME=ADDRESS (ADDRESS becomes ansible_host)."""
    name, _, address = text.strip().partition("=")
    if not _NAME.match(name):
        raise UsageError(f"invalid host name {name!r}: use letters, digits, '.', '-' and '_'")
    if "=" in text and not address.strip():
        raise UsageError(f"host {name!r} has an empty address after '='")
    return HostSpec(name, address.strip() or None)


def hosts_document(groups: dict[str, list[HostSpec]]) -> dict[str, Any]:
    addresses: dict[str, str] = {}
    for spec in (s for specs in groups.values() for s in specs):
        known = addresses.get(spec.name)
        if spec.address and known and known != spec.address:
            raise UsageError(f"host {spec.name} is given two addresses: {known} and {spec.address}")
        if spec.address:
            addresses[spec.name] = spec.address
    children: dict[str, Any] = {}
    placed: set[str] = set()
    for group, specs in groups.items():
        members: dict[str, Any] = {}
        for spec in specs:
            # Host variables once, at the host's first appearance; Ansible merges the rest.
            address = addresses.get(spec.name) if spec.name not in placed else None
            members[spec.name] = {"ansible_host": address} if address else None
            placed.add(spec.name)
        children[group] = {"hosts": members}
    return {"all": {"children": children}}


def vars_document(
    admin_user: str, external_url: str | None, ssh_user: str | None
) -> dict[str, Any]:
    document: dict[str, Any] = {"graylog_admin_username": admin_user}
    if external_url:
        document["graylog_external_url"] = normalise_url(external_url)
    if ssh_user:
        document["ansible_user"] = ssh_user
    return document


def _refuse_existing(directory: Path) -> None:
    targets = [
        paths.hosts_file(directory),
        paths.secrets_file(directory),
        directory / "group_vars" / "all.yml",
        paths.state_file(directory),
    ]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise UsageError(f"refusing to overwrite an existing inventory: {existing[0]} exists")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")


def _dump(path: Path, header: str, document: dict[str, Any]) -> None:
    path.write_text(header + yaml.safe_dump(document, default_flow_style=False, sort_keys=False))


def create_inventory(
    directory: Path,
    groups: dict[str, list[HostSpec]],
    admin_user: str = "admin",
    external_url: str | None = None,
    ssh_user: str | None = None,
    vault_secret: VaultSecret | None = None,
) -> NewInventory:
    directory = directory.expanduser().resolve()
    _refuse_existing(directory)
    hosts = hosts_document(groups)
    variables = vars_document(admin_user, external_url, ssh_user)
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".graylog-init-", dir=directory.parent))
    try:
        (scratch / "group_vars").mkdir()
        _dump(paths.hosts_file(scratch), HOSTS_HEADER, hosts)
        _dump(scratch / "group_vars" / "all.yml", VARS_HEADER, variables)
        topology = validate(load_inventory(scratch))
        value = secrets_store.generate()
        secrets_store.save(paths.secrets_file(scratch), value, vault_secret)
        _move_into(scratch, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return NewInventory(directory, topology, value)


def _move_into(scratch: Path, directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "group_vars").mkdir(exist_ok=True)
    for name in ("group_vars/all.yml", paths.HOSTS_FILE, paths.SECRETS_FILE):
        (scratch / name).replace(directory / name)
    git_guard.write_ignore_file(directory)
