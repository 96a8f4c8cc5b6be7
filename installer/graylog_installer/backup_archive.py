"""The backup archive: one tar file, its manifest, and the checks before anything trusts it.

Layout (format 1):

    manifest.json                  what, when, from which inventory; a SHA-256 per part
    mongodb/graylog.tar.gz         mongodump of Graylog's database
    elasticsearch/snapshot.tar.gz  an Elasticsearch fs repository holding one snapshot
    config/HOST/etc/...            each host's rendered configuration, secrets masked

The parts are already compressed, so the archive itself is a plain tar.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from graylog_installer import files
from graylog_installer.errors import UsageError

FORMAT = 1
MANIFEST = "manifest.json"
MONGODB_PART = "mongodb/graylog.tar.gz"
SNAPSHOT_PART = "elasticsearch/snapshot.tar.gz"
CONFIG_DIR = "config"
REQUIRED_PARTS = (MONGODB_PART, SNAPSHOT_PART)


@dataclass(frozen=True)
class Manifest:
    created: str
    inventory: str
    snapshot: str
    index_prefix: str
    # SHA-256 of password_secret: restore checks the target uses the same one, without the
    # archive holding the secret itself.
    password_secret_sha256: str
    groups: dict[str, list[str]] = field(default_factory=dict)
    # Archive member name -> SHA-256 of its content.
    parts: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()


def secret_fingerprint(password_secret: str) -> str:
    return hashlib.sha256(password_secret.encode()).hexdigest()


def snapshot_name(now: datetime) -> str:
    """Elasticsearch snapshot names must be lowercase."""
    return now.strftime("graylog-%Y%m%dt%H%M%Sz")


def default_output(inventory: Path, now: datetime, directory: Path) -> Path:
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"graylog-backup-{inventory.name}-{stamp}.tar"


def staged_parts(staging: Path) -> dict[str, str]:
    """Every file below ``staging`` (the parts, the config copies) with its SHA-256."""
    return {
        path.relative_to(staging).as_posix(): files.sha256_of(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def write_archive(staging: Path, manifest: Manifest, output: Path) -> None:
    """Write the archive 0600 from its first byte, then move it into place whole."""
    missing = [part for part in REQUIRED_PARTS if part not in manifest.parts]
    if missing:
        raise ValueError(f"backup parts missing from the staging directory: {missing}")
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            manifest_file = staging / MANIFEST
            manifest_file.write_bytes(manifest.to_json())
            tar.add(manifest_file, arcname=MANIFEST)
            for name in sorted(manifest.parts):
                tar.add(staging / name, arcname=name)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_archive(archive: Path, destination: Path) -> Manifest:
    """Check ``archive`` and unpack it into ``destination``; any defect is one UsageError.

    Checked: a readable tar, a manifest of a known format, only plain files at relative
    paths, both data parts present, and every part matching its SHA-256.
    """
    if not archive.is_file():
        raise UsageError(f"backup archive not found: {archive}")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            members = tar.getmembers()
            _refuse_unsafe(members, archive)
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UsageError(f"{archive} is not a readable backup archive ({exc})") from None
    manifest = _read_manifest(destination / MANIFEST, archive)
    for name in REQUIRED_PARTS:
        if name not in manifest.parts:
            raise UsageError(f"{archive} lacks {name}: not a complete graylog-installer backup")
    for name, expected in manifest.parts.items():
        path = destination / name
        if not path.is_file() or files.sha256_of(path) != expected:
            raise UsageError(f"{archive} is corrupt: {name} is missing or differs from its sum")
    return manifest


def _refuse_unsafe(members: list[tarfile.TarInfo], archive: Path) -> None:
    for member in members:
        name = Path(member.name)
        if not (member.isfile() or member.isdir()) or name.is_absolute() or ".." in name.parts:
            raise UsageError(f"{archive} holds {member.name!r}: not a graylog-installer backup")


def _read_manifest(path: Path, archive: Path) -> Manifest:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise UsageError(f"{archive} has no readable {MANIFEST}: not a backup") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise UsageError(f"{archive} is a backup of format {found!r}; this version reads {FORMAT}")
    try:
        return Manifest(**data)
    except TypeError:
        raise UsageError(f"{archive} has a malformed {MANIFEST}") from None
