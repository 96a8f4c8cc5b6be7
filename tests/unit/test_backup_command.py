"""backup and restore from the command line, with stand-in playbooks run on this machine:
what is refused before any playbook runs, and what the archive holds (secrets masked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import stand_in_home, write_inventory

from graylog_installer import backup, backup_archive, cli, paths, secrets_store, state
from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory

# Writes what the real backup.yml fetches, a configuration file holding secrets included.
STAND_IN_BACKUP = """
- name: Stand-in backup
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Make the parts' directories, as fetch does
      ansible.builtin.file:
        path: "{{ backup_staging_dir }}/{{ item }}"
        state: directory
        mode: "0700"
      loop: [mongodb, elasticsearch, config/gl1/etc/graylog/server]

    - name: Write the parts
      ansible.builtin.copy:
        dest: "{{ backup_staging_dir }}/{{ item.name }}"
        content: "{{ item.content }}"
        mode: "0600"
      loop:
        - {name: mongodb/graylog.tar.gz, content: dump}
        - {name: elasticsearch/snapshot.tar.gz, content: "{{ backup_snapshot }}"}
        - name: config/gl1/etc/graylog/server/server.conf
          content: "password_secret = {{ graylog_password_secret }}\\nis_master = true\\n"
"""

# Records what it was asked to restore, where the test can read it.
STAND_IN_RESTORE = """
- name: Stand-in restore
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record the snapshot and the dump
      ansible.builtin.copy:
        dest: "{{ lookup('ansible.builtin.env', 'RESTORE_RECORD') }}"
        content: "{{ restore_snapshot }} {{ lookup('ansible.builtin.file', dump) }}"
        mode: "0600"
      vars:
        dump: "{{ restore_staging_dir }}/mongodb/graylog.tar.gz"
"""

THREE_ES_NODES = """
all:
  children:
    graylog:
      hosts:
        gl1: {ansible_host: 10.0.0.1}
    elasticsearch:
      hosts:
        es1: {ansible_host: 10.0.0.11}
        es2: {ansible_host: 10.0.0.12}
        es3: {ansible_host: 10.0.0.13}
    mongodb:
      hosts:
        gl1:
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = stand_in_home(
        tmp_path / "home", {"backup.yml": STAND_IN_BACKUP, "restore.yml": STAND_IN_RESTORE}
    )
    monkeypatch.setenv("GRAYLOG_INSTALLER_HOME", str(root))
    return root


def installed(inventory: Path, secrets: secrets_store.Secrets | None = None) -> Path:
    value = secrets or secrets_store.generate()
    secrets_store.save(paths.secrets_file(inventory), value)
    marker = state.InstallState()
    marker.record_success(value, None)
    state.save_state(inventory, marker)
    return inventory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, fragment: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("graylog-installer: error: ") and fragment in err, err


def test_backup_writes_one_private_archive_with_secrets_masked(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = installed(write_inventory(tmp_path / "inv"))
    secret = secrets_store.load(paths.secrets_file(inventory)).password_secret
    output = tmp_path / "out.tar"
    code, out, err = run(capsys, "backup", "-i", str(inventory), "--output", str(output))
    assert code == 0, err
    assert f"Backup written to {output}" in out
    assert output.stat().st_mode & 0o777 == 0o600
    manifest = backup_archive.open_archive(output, tmp_path / "unpacked")
    assert manifest.password_secret_sha256 == backup_archive.secret_fingerprint(secret)
    conf = tmp_path / "unpacked/config/gl1/etc/graylog/server/server.conf"
    text = conf.read_text()
    assert "password_secret = ********" in text and secret not in text
    # The snapshot the playbook was told to make is the one the manifest names.
    assert (tmp_path / "unpacked" / backup_archive.SNAPSHOT_PART).read_text() == manifest.snapshot
    assert secret not in out + err


def test_backup_then_restore_with_the_same_secrets(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = installed(write_inventory(tmp_path / "inv"))
    output = tmp_path / "out.tar"
    assert run(capsys, "backup", "-i", str(inventory), "--output", str(output))[0] == 0
    record = tmp_path / "record"
    monkeypatch.setenv("RESTORE_RECORD", str(record))
    code, out, err = run(capsys, "restore", "-i", str(inventory), str(output))
    assert code == 0, err
    snapshot = backup_archive.open_archive(output, tmp_path / "x").snapshot
    assert record.read_text() == f"{snapshot} dump"


def test_backup_refuses_an_existing_output_before_running(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = installed(write_inventory(tmp_path / "inv"))
    output = tmp_path / "taken.tar"
    output.write_bytes(b"keep me")
    code, _, err = run(capsys, "backup", "-i", str(inventory), "--output", str(output))
    assert code == 2
    one_line_error(err, "exists already")
    assert output.read_bytes() == b"keep me"
    assert not (inventory / ".runs").exists(), "a playbook ran"


def test_backup_of_an_inventory_never_installed(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = write_inventory(tmp_path / "inv")
    code, _, err = run(capsys, "backup", "-i", str(inventory))
    assert code == 2
    one_line_error(err, "has not been installed")


def test_restore_refuses_another_password_secret_and_changes_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = installed(write_inventory(tmp_path / "old"))
    output = tmp_path / "out.tar"
    assert run(capsys, "backup", "-i", str(source), "--output", str(output))[0] == 0
    other = installed(write_inventory(tmp_path / "new"))
    code, _, err = run(capsys, "restore", "-i", str(other), str(output))
    assert code == 2
    one_line_error(err, "another password_secret")
    assert not (other / ".runs").exists(), "a playbook ran"


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [("missing", "not found"), ("garbage", "not a readable backup archive")],
)
def test_restore_refuses_a_bad_archive(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, fragment: str
) -> None:
    inventory = installed(write_inventory(tmp_path / "inv"))
    archive = tmp_path / "backup.tar"
    if damage == "garbage":
        archive.write_bytes(b"not a tar file at all" * 50)
    code, _, err = run(capsys, "restore", "-i", str(inventory), str(archive))
    assert code == 2
    one_line_error(err, fragment)
    assert not (inventory / ".runs").exists(), "a playbook ran"


def test_restore_refuses_another_index_prefix(tmp_path: Path) -> None:
    value = secrets_store.generate()
    manifest = backup_archive.Manifest(
        created="now",
        inventory="inv",
        snapshot="s",
        index_prefix="logs",
        password_secret_sha256=backup_archive.secret_fingerprint(value.password_secret),
    )
    target = backup.Target(tmp_path, None, value, "graylog", None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="graylog_elasticsearch_index_prefix: logs"):
        backup.check_restorable(manifest, target, tmp_path / "a.tar")


def test_several_elasticsearch_nodes_need_shared_snapshot_storage(tmp_path: Path) -> None:
    hosts = ["es1", "es2", "es3"]
    unshared = load_inventory(write_inventory(tmp_path / "a", THREE_ES_NODES))
    with pytest.raises(UsageError, match=r"set elasticsearch_snapshot_shared_storage: true.*es1"):
        backup.check_snapshot_storage(unshared, hosts)
    shared = write_inventory(
        tmp_path / "b",
        THREE_ES_NODES,
        group_vars={"elasticsearch": "elasticsearch_snapshot_shared_storage: true\n"},
    )
    backup.check_snapshot_storage(load_inventory(shared), hosts)


def test_one_elasticsearch_node_needs_no_shared_storage(tmp_path: Path) -> None:
    backup.check_snapshot_storage(load_inventory(write_inventory(tmp_path / "a")), ["gl1"])


def test_backup_refuses_unshared_cluster_storage_in_one_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = installed(write_inventory(tmp_path / "inv", THREE_ES_NODES))
    code, _, err = run(capsys, "backup", "-i", str(inventory))
    assert code == 2
    one_line_error(err, "storage all of them share")
