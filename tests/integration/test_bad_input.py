"""Every bad input: one clear line, a non-zero exit, and nothing lost or changed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import other_os
import pytest
from conftest import SANDBOX, assert_one_line_error, graylog_installer, snapshot

from graylog_installer import paths, secrets_store, state
from graylog_installer.vault import load_vault_secret

SINGLE_HOST = """\
all:
  vars:
    ansible_connection: docker
  children:
    graylog: {hosts: {HOST: {}}}
    elasticsearch: {hosts: {HOST: {}}}
    mongodb: {hosts: {HOST: {}}}
"""


def inventory(tmp_path: Path, hosts_yml: str) -> Path:
    directory = tmp_path / "inventory"
    directory.mkdir()
    (directory / "hosts.yml").write_text(hosts_yml)
    return directory


def install(directory: Path, *flags: str):
    return graylog_installer("install", "-i", str(directory), *flags, timeout=300)


def unchanged(path: Path, before: bytes) -> bool:
    """Compared apart from the assert, so that a failure never prints a secret."""
    return path.read_bytes() == before


def server_conf_mtime() -> str:
    return subprocess.run(
        ["docker", "exec", SANDBOX.name, "stat", "-c", "%Y", "/etc/graylog/server/server.conf"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


# ---- refused before any host is contacted ---------------------------------------------


@pytest.mark.parametrize(
    ("hosts_yml", "fragment"),
    [
        ("all:\n  children: [graylog\n", "hosts.yml"),
        (SINGLE_HOST.replace("mongodb:", "kibana:"), "kibana"),
        (SINGLE_HOST.replace("    mongodb: {hosts: {HOST: {}}}\n", ""), "mongodb"),
        (
            SINGLE_HOST.replace(
                "graylog: {hosts: {HOST: {}}}",
                "graylog: {hosts: {a: {graylog_master: true}, b: {graylog_master: true}}}",
            ),
            "graylog_master",
        ),
        (
            SINGLE_HOST.replace(
                "elasticsearch: {hosts: {HOST: {}}}", "elasticsearch: {hosts: {es1: {}, es2: {}}}"
            ),
            "elasticsearch",
        ),
    ],
    ids=["malformed-yaml", "unknown-group", "empty-group", "two-masters", "even-es-quorum"],
)
def test_invalid_inventory_is_refused_and_nothing_is_written(tmp_path, hosts_yml, fragment):
    directory = inventory(tmp_path, hosts_yml)
    before = snapshot(directory)
    result = install(directory)
    assert_one_line_error(result, fragment)
    assert snapshot(directory) == before


def test_missing_inventory_directory_is_refused(tmp_path):
    result = install(tmp_path / "nowhere")
    assert_one_line_error(result, "nowhere")


# ---- refused by the read-only preflight ---------------------------------------------------


def test_unreachable_host_is_refused(tmp_path):
    directory = inventory(tmp_path, SINGLE_HOST.replace("HOST", "graylog-installer-no-such-host"))
    result = install(directory)
    assert_one_line_error(result, "graylog-installer-no-such-host", "unreachable")


@pytest.fixture
def debian_host():
    name = other_os.start_host("graylog-installer-itest-debian")
    yield name
    other_os.remove_host(name)


def test_a_host_that_is_not_ubuntu_16_04_is_refused(tmp_path, debian_host):
    directory = other_os.inventory_for(tmp_path / "inventory", debian_host)
    result = install(directory)
    assert_one_line_error(result, debian_host, "not Ubuntu 16.04")
    state = paths.state_file(directory)
    assert not state.exists()


@pytest.fixture
def busy_host(testbed):
    """A fresh Ubuntu 16.04 host where another program already holds MongoDB's port."""
    name = "graylog-installer-itest-busy"
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    command = ["python2.7", "-m", "SimpleHTTPServer", "27017"]
    subprocess.run(["docker", "run", "-d", "--name", name, testbed.image, *command], check=True)
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_a_port_held_by_another_program_is_refused(tmp_path, busy_host):
    directory = inventory(tmp_path, SINGLE_HOST.replace("HOST", busy_host))
    result = install(directory)
    assert_one_line_error(result, busy_host, "port 27017/tcp, needed by mongodb, is held by")
    assert not paths.state_file(directory).exists()


TWO_HOSTS = """\
all:
  vars:
    ansible_connection: docker
  children:
    graylog: {hosts: {FIRST: {}}}
    elasticsearch: {hosts: {SECOND: {}}}
    mongodb: {hosts: {FIRST: {}}}
"""


@pytest.fixture
def hosts_with_a_stand_in_clock_ahead(testbed):
    """Two fresh Ubuntu 16.04 hosts whose clocks disagree. Containers share this machine's
    clock, so the second one's `date` is a stand-in that reports a minute ahead."""
    names = ["graylog-installer-itest-clock-ok", "graylog-installer-itest-clock-ahead"]
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(
            ["docker", "run", "-d", "--name", name, testbed.image, "sleep", "infinity"],
            check=True,
            capture_output=True,
        )
    ahead = '#!/bin/sh\nexec /bin/date -d "@$(( $(/bin/date +%s) + 60 ))" "$@"\n'
    install_script = "cat > /usr/local/bin/date && chmod 755 /usr/local/bin/date"
    subprocess.run(
        ["docker", "exec", "-i", names[1], "sh", "-c", install_script],
        input=ahead.encode(),
        check=True,
    )
    yield names
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_hosts_whose_clocks_disagree_are_refused(tmp_path, hosts_with_a_stand_in_clock_ahead):
    first, second = hosts_with_a_stand_in_clock_ahead
    hosts = TWO_HOSTS.replace("FIRST", first).replace("SECOND", second)
    result = install(inventory(tmp_path, hosts))
    assert_one_line_error(result, "clocks differ by", f"{second} ahead of {first}")
    assert re.search(r"clocks differ by (59|60|61) s", result.stderr), result.stderr


def test_heaps_larger_than_the_host_are_refused(installed_copy):
    hosts = paths.hosts_file(installed_copy)
    original = hosts.read_text()
    oversized = original.replace("elasticsearch_heap_size: 1g", "elasticsearch_heap_size: 512g")
    assert oversized != original, "the sandbox inventory no longer sets elasticsearch_heap_size"
    hosts.write_text(oversized)
    mtime = server_conf_mtime()
    result = install(installed_copy)
    assert_one_line_error(result, "memory")
    assert server_conf_mtime() == mtime


# ---- secrets of an installed inventory --------------------------------------------------


def test_missing_secrets_of_an_installed_inventory_are_refused_not_replaced(installed_copy):
    paths.secrets_file(installed_copy).unlink()
    mtime = server_conf_mtime()
    result = install(installed_copy)
    assert_one_line_error(result, "secrets.yml")
    assert not paths.secrets_file(installed_copy).exists()
    assert server_conf_mtime() == mtime


def test_corrupt_secrets_are_refused_and_kept(installed_copy):
    secrets_path = paths.secrets_file(installed_copy)
    secrets_path.write_bytes(b"graylog_password_secret: [not closed\n")
    result = install(installed_copy)
    assert_one_line_error(result, "secrets.yml")
    assert secrets_path.read_bytes() == b"graylog_password_secret: [not closed\n"


def test_other_valid_secrets_for_an_installed_inventory_are_refused(installed_copy):
    secrets_path = paths.secrets_file(installed_copy)
    secrets_path.unlink()
    secrets_store.save(secrets_path, secrets_store.generate())
    before = secrets_path.read_bytes()
    mtime = server_conf_mtime()
    result = install(installed_copy)
    assert_one_line_error(result, "restore the original file from your backup")
    assert unchanged(secrets_path, before), "the secrets file changed"
    assert server_conf_mtime() == mtime


def test_wrong_vault_password_is_refused(installed_copy, tmp_path):
    right, wrong = tmp_path / "right-vault-pass", tmp_path / "wrong-vault-pass"
    right.write_text("the right vault password\n")
    wrong.write_text("a wrong vault password\n")
    secrets_path = paths.secrets_file(installed_copy)
    stored = secrets_store.load(secrets_path)
    secrets_path.unlink()
    secrets_store.save(secrets_path, stored, load_vault_secret(right))
    before = secrets_path.read_bytes()
    result = install(installed_copy, "--vault-password-file", str(wrong))
    assert_one_line_error(result, "vault")
    assert unchanged(secrets_path, before), "the secrets file changed"


def as_the_previous_version_left_it(inventory_dir: Path) -> secrets_store.Secrets:
    """Rewrite the copy's secrets file and marker as the version before MongoDB auth did."""
    current = secrets_store.load(paths.secrets_file(inventory_dir))
    old = secrets_store.Secrets(current.password_secret, current.admin_password)
    paths.secrets_file(inventory_dir).unlink()
    secrets_store.save(paths.secrets_file(inventory_dir), old)
    marker = state.load_state(inventory_dir)
    marker.remember(old)
    state.save_state(inventory_dir, marker)
    return old


def test_secrets_of_the_previous_version_get_the_new_keys_and_keep_the_old(installed_copy):
    old = as_the_previous_version_left_it(installed_copy)
    # Oversized heaps stop the run at the preflight, after the secrets step: no converge.
    hosts = paths.hosts_file(installed_copy)
    hosts.write_text(
        hosts.read_text().replace("elasticsearch_heap_size: 1g", "elasticsearch_heap_size: 512g")
    )
    result = install(installed_copy)
    assert_one_line_error(result, "memory")
    added = [line for line in result.stdout.splitlines() if line.startswith("Added ")]
    assert len(added) == 1 and "mongodb_admin_password" in added[0]
    upgraded = secrets_store.load(paths.secrets_file(installed_copy))
    kept = (
        upgraded.password_secret == old.password_secret
        and upgraded.admin_password == old.admin_password
    )
    assert kept, "the existing secrets changed"
    assert upgraded.missing_keys() == []
