"""`backup` and `restore`: check everything first, run one playbook, keep one archive.

The archive (backup_archive.py) holds Graylog's MongoDB database, an Elasticsearch
snapshot and the hosts' configuration with every secret of secrets.yml masked. It does
not carry the secrets: restore needs an inventory whose password_secret is the one the
backup was made with (Graylog hashes its users' passwords with it), and refuses others.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from graylog_installer import backup_archive, commands, paths, progress, runner, state, topology
from graylog_installer.backup_archive import Manifest
from graylog_installer.errors import InstallerError, UsageError
from graylog_installer.inventory import Inventory, load_inventory
from graylog_installer.redact import GLOBAL
from graylog_installer.secrets_store import Secrets
from graylog_installer.validation import Topology, validate

SHARED_STORAGE_VAR = "elasticsearch_snapshot_shared_storage"
INDEX_PREFIX_VAR = "graylog_elasticsearch_index_prefix"
DEFAULT_INDEX_PREFIX = "graylog"


@dataclass(frozen=True)
class Target:
    """An installed inventory, checked: what both commands work on."""

    directory: Path
    topology: Topology
    secrets: Secrets
    index_prefix: str
    vault_password_file: Path | None


def open_target(inventory: Path | None, vault_password_file: Path | None) -> Target:
    directory = commands.installed_inventory(inventory)
    vault_secret = commands.vault_secret_from(vault_password_file)
    loaded = load_inventory(directory, vault_secret)
    topo = validate(loaded)
    if not state.load_state(directory).installed:
        raise UsageError(
            f"{directory} has not been installed: run 'graylog-installer install -i "
            f"{directory}' first"
        )
    value = commands.load_existing_secrets(directory, vault_secret)
    check_snapshot_storage(loaded, topo.groups["elasticsearch"])
    return Target(directory, topo, value, index_prefix(loaded), vault_password_file)


def check_snapshot_storage(loaded: Inventory, hosts: list[str]) -> None:
    """A filesystem snapshot is written by every node holding a shard and read back by all:
    with several Elasticsearch nodes, elasticsearch_snapshot_path must be shared storage."""
    if len(hosts) < 2:
        return
    unshared = [
        h
        for h in hosts
        if not topology.as_flag(loaded.var(h, SHARED_STORAGE_VAR, False), SHARED_STORAGE_VAR, h)
    ]
    if unshared:
        raise UsageError(
            f"Elasticsearch runs on {len(hosts)} nodes: a snapshot needs "
            "elasticsearch_snapshot_path on storage all of them share (NFS, ...); mount it "
            f"on each node and set {SHARED_STORAGE_VAR}: true (missing on {', '.join(unshared)})"
        )


def index_prefix(loaded: Inventory) -> str:
    hosts = loaded.groups.get("graylog") or []
    values = {str(loaded.var(h, INDEX_PREFIX_VAR) or DEFAULT_INDEX_PREFIX) for h in hosts}
    if len(values) > 1:
        raise UsageError(f"{INDEX_PREFIX_VAR} differs between the graylog hosts: {sorted(values)}")
    return values.pop() if values else DEFAULT_INDEX_PREFIX


def check_restorable(manifest: Manifest, target: Target, archive: Path) -> None:
    """Refuse a backup whose users' passwords or indices this installation cannot use."""
    fingerprint = backup_archive.secret_fingerprint(target.secrets.password_secret)
    if manifest.password_secret_sha256 != fingerprint:
        raise UsageError(
            f"{archive} was made with another password_secret than "
            f"{paths.secrets_file(target.directory)}, so its users could not log in: "
            "install with the backed-up inventory's secrets.yml, then restore"
        )
    if manifest.index_prefix != target.index_prefix:
        raise UsageError(
            f"{archive} holds indices {manifest.index_prefix}_*, but this inventory's Graylog "
            f"uses {target.index_prefix}_*: set {INDEX_PREFIX_VAR}: {manifest.index_prefix}"
        )


# ---- the commands -------------------------------------------------------------------------


def backup(
    inventory: Path | None, output: Path | None, vault_password_file: Path | None, out: TextIO
) -> int:
    target = open_target(inventory, vault_password_file)
    now = datetime.now(timezone.utc)
    default = backup_archive.default_output(target.directory, now, Path.cwd())
    destination = (output or default).expanduser().resolve()
    if destination.exists():
        raise UsageError(f"{destination} exists already: name another --output")
    if not destination.parent.is_dir():
        raise UsageError(f"directory {destination.parent} does not exist")
    snapshot = backup_archive.snapshot_name(now)
    with private_staging() as staging:
        extravars = {
            "backup_staging_dir": str(staging),
            "backup_snapshot": snapshot,
            "backup_index_prefix": target.index_prefix,
        }
        _run(target, "backup.yml", extravars, out)
        mask_secrets(staging / backup_archive.CONFIG_DIR)
        manifest = Manifest(
            created=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            inventory=target.directory.name,
            snapshot=snapshot,
            index_prefix=target.index_prefix,
            password_secret_sha256=backup_archive.secret_fingerprint(
                target.secrets.password_secret
            ),
            groups={k: v for k, v in target.topology.groups.items() if v},
            parts=backup_archive.staged_parts(staging),
        )
        backup_archive.write_archive(staging, manifest, destination)
    print(f"Backup written to {destination} (mode 0600).", file=out)
    print(
        "  It holds Graylog's users with their password hashes: keep it as safe as "
        "secrets.yml, which it does not contain (restore needs the same secrets.yml).",
        file=out,
    )
    return 0


def restore(
    inventory: Path | None, archive: Path, vault_password_file: Path | None, out: TextIO
) -> int:
    target = open_target(inventory, vault_password_file)
    archive = archive.expanduser().resolve()
    with private_staging() as staging:
        manifest = backup_archive.open_archive(archive, staging)
        check_restorable(manifest, target, archive)
        print(f"Restoring {archive} (made {manifest.created}) onto {target.directory}", file=out)
        extravars = {
            "restore_staging_dir": str(staging),
            "restore_snapshot": manifest.snapshot,
            "backup_index_prefix": target.index_prefix,
        }
        _run(target, "restore.yml", extravars, out)
    print(
        f"Restored: Graylog runs again with the backup's data ({target.topology.external_url})",
        file=out,
    )
    return 0


# ---- helpers ------------------------------------------------------------------------------


@contextmanager
def private_staging() -> Iterator[Path]:
    """A 0700 directory for the parts (password hashes inside), removed whatever happens."""
    holder = Path(tempfile.mkdtemp(prefix="graylog-installer-backup-"))
    try:
        yield holder
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def mask_secrets(directory: Path) -> None:
    """Mask every secret of secrets.yml (known to GLOBAL) in the configuration copies."""
    for path in directory.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            path.write_text(GLOBAL.text(text), encoding="utf-8", errors="surrogateescape")


def _run(target: Target, playbook: str, extravars: dict[str, Any], out: TextIO) -> None:
    path = paths.repo_root() / "playbooks" / playbook
    run_dir = paths.new_run_dir(target.directory)
    options = runner.PlaybookOptions(vault_password_file=target.vault_password_file)
    print(f"Running playbooks/{playbook} (log: {run_dir / 'ansible.log'})", file=out, flush=True)
    start = progress.initial_state(list(target.topology.hosts))
    with progress.LiveDisplay(start, out, censor=GLOBAL.text) as display:
        outcome = runner.run_playbook(
            target.directory,
            extravars,
            options,
            run_dir,
            GLOBAL,
            display.handle,
            playbook=path,
            vars_files=[paths.secrets_file(target.directory)],
        )
    progress.print_summary(display.state, out, censor=GLOBAL.text)
    if not outcome.ok:
        log = str(outcome.log_path)
        raise InstallerError(progress.failure_sentence(display.state, playbook, log, outcome.rc))
