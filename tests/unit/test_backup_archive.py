"""The backup archive's layout and the checks restore makes before it trusts one."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from graylog_installer import backup_archive
from graylog_installer.backup_archive import MONGODB_PART, SNAPSHOT_PART, Manifest
from graylog_installer.errors import UsageError


def stage(root: Path) -> Path:
    staging = root / "staging"
    for name, data in (
        (MONGODB_PART, b"dump"),
        (SNAPSHOT_PART, b"snapshot"),
        ("config/gl1/etc/mongodb.conf", b"bind_ip = 127.0.0.1\n"),
    ):
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    return staging


def manifest_for(staging: Path, **changes: object) -> Manifest:
    fields: dict[str, object] = {
        "created": "2026-11-27T09:00:00Z",
        "inventory": "logs",
        "snapshot": "graylog-20261127t090000z",
        "index_prefix": "graylog",
        "password_secret_sha256": backup_archive.secret_fingerprint("s" * 96),
        "groups": {"graylog": ["gl1"]},
        "parts": backup_archive.staged_parts(staging),
    }
    return Manifest(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    staging = stage(tmp_path)
    output = tmp_path / "backup.tar"
    backup_archive.write_archive(staging, manifest_for(staging), output)
    return output


def test_archive_is_private_and_holds_manifest_parts_and_config(archive: Path) -> None:
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert names == {"manifest.json", MONGODB_PART, SNAPSHOT_PART, "config/gl1/etc/mongodb.conf"}


def test_open_archive_returns_the_manifest_and_unpacks_the_parts(
    archive: Path, tmp_path: Path
) -> None:
    unpacked = tmp_path / "unpacked"
    manifest = backup_archive.open_archive(archive, unpacked)
    assert manifest.snapshot == "graylog-20261127t090000z"
    assert manifest.groups == {"graylog": ["gl1"]}
    assert (unpacked / MONGODB_PART).read_bytes() == b"dump"


def test_write_archive_refuses_a_staging_without_the_snapshot(tmp_path: Path) -> None:
    staging = stage(tmp_path)
    (staging / SNAPSHOT_PART).unlink()
    with pytest.raises(ValueError, match="missing"):
        backup_archive.write_archive(staging, manifest_for(staging), tmp_path / "out.tar")
    assert not list(tmp_path.glob("*out.tar*")), "a partial archive was left behind"


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        backup_archive.open_archive(tmp_path / "nope.tar", tmp_path / "x")


@pytest.mark.parametrize("cut", [0, 100, 1500])
def test_truncated_or_garbage_archive(archive: Path, tmp_path: Path, cut: int) -> None:
    broken = tmp_path / "broken.tar"
    broken.write_bytes(archive.read_bytes()[:cut] + b"garbage" * 3)
    with pytest.raises(UsageError, match="not a readable backup archive|no readable manifest"):
        backup_archive.open_archive(broken, tmp_path / "x")


def rewrite(archive: Path, target: Path, replace: dict[str, bytes], drop: str = "") -> Path:
    """A copy of ``archive`` with members replaced or dropped (a tampered or damaged one)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source.getmembers():
            if member.name == drop:
                continue
            data = replace.get(member.name, source.extractfile(member).read())  # type: ignore[union-attr]
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def test_a_part_that_differs_from_its_sum_is_corrupt(archive: Path, tmp_path: Path) -> None:
    broken = rewrite(archive, tmp_path / "b.tar", {SNAPSHOT_PART: b"snapshot, damaged"})
    with pytest.raises(UsageError, match=f"corrupt: {SNAPSHOT_PART}"):
        backup_archive.open_archive(broken, tmp_path / "x")


def test_a_part_missing_from_the_archive_is_corrupt(archive: Path, tmp_path: Path) -> None:
    broken = rewrite(archive, tmp_path / "b.tar", {}, drop=MONGODB_PART)
    with pytest.raises(UsageError, match=f"corrupt: {MONGODB_PART}"):
        backup_archive.open_archive(broken, tmp_path / "x")


def test_a_manifest_without_the_database_part_is_incomplete(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as tar:
        data = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    del data["parts"][MONGODB_PART]
    broken = rewrite(archive, tmp_path / "b.tar", {"manifest.json": json.dumps(data).encode()})
    with pytest.raises(UsageError, match=f"lacks {MONGODB_PART}"):
        backup_archive.open_archive(broken, tmp_path / "x")


def test_unknown_format_is_refused(archive: Path, tmp_path: Path) -> None:
    with tarfile.open(archive) as tar:
        data = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    data["format"] = 2
    broken = rewrite(archive, tmp_path / "b.tar", {"manifest.json": json.dumps(data).encode()})
    with pytest.raises(UsageError, match="format 2"):
        backup_archive.open_archive(broken, tmp_path / "x")


def test_members_outside_the_destination_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        member = tarfile.TarInfo("../outside")
        member.size = 1
        tar.addfile(member, io.BytesIO(b"x"))
    with pytest.raises(UsageError, match="not a graylog-installer backup"):
        backup_archive.open_archive(evil, tmp_path / "x")
    assert not (tmp_path / "outside").exists()


def test_default_name_is_dated_and_snapshot_name_lowercase(tmp_path: Path) -> None:
    now = datetime(2026, 11, 27, 9, 5, 7, tzinfo=timezone.utc)
    output = backup_archive.default_output(Path("/inv/my-logs"), now, tmp_path)
    assert output == tmp_path / "graylog-backup-my-logs-20261127T090507Z.tar"
    name = backup_archive.snapshot_name(now)
    assert name == name.lower() == "graylog-20261127t090507z"
