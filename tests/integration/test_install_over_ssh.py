"""The operator's own path: hosts reached over SSH as a user who becomes root with sudo.

Every other end-to-end test reaches its containers through the Docker engine. Here a
container runs an SSH server with a user `ops` allowed to sudo; the inventory names it
by address with that user, a key and `ansible_become`, as an inventory of cloud hosts
would. Install, a re-run that changes nothing, and verify must all pass (under Mitogen,
ansible.cfg's strategy, which has its own SSH and sudo code).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import container_address, fresh_container, graylog_installer

from graylog_installer.sandbox import write_mirror_vars
from graylog_installer.sandbox.host_tools import run

HOST = "graylog-installer-itest-ssh"
USER = "ops"
GROUPS = ("graylog", "elasticsearch", "mongodb")


def on_host(script: str) -> None:
    run(["docker", "exec", HOST, "bash", "-euc", script])


@pytest.fixture(scope="module")
def ssh_host(testbed, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The container's address and the private key that logs in as ops."""
    key = tmp_path_factory.mktemp("ssh") / "id_ops"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    with fresh_container(HOST, testbed):
        on_host(
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq;"
            " apt-get install -y -qq openssh-server sudo >/dev/null;"
            f" useradd --create-home --shell /bin/bash {USER};"
            f" echo '{USER} ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/{USER};"
            f" install -d -m 0700 -o {USER} -g {USER} /home/{USER}/.ssh;"
            " systemctl start ssh"
        )
        run(
            ["docker", "cp", f"{key}.pub", f"{HOST}:/home/{USER}/.ssh/authorized_keys"],
        )
        on_host(f"chown {USER}: /home/{USER}/.ssh/authorized_keys")
        yield container_address(HOST), key


@pytest.fixture(scope="module")
def inventory(ssh_host, testbed, tmp_path_factory) -> Path:
    address, key = ssh_host
    directory = tmp_path_factory.mktemp("over-ssh") / "inventory"
    host = {HOST: {"ansible_host": address}}
    hosts = {
        "all": {
            "vars": {
                "ansible_user": USER,
                "ansible_become": True,
                "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": (
                    "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                ),
                "graylog_external_url": f"https://{address}/",
                "elasticsearch_heap_size": "512m",
                "graylog_heap_size": "768m",
            },
            "children": {group: {"hosts": host} for group in GROUPS},
        }
    }
    directory.mkdir()
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    write_mirror_vars(directory, testbed.mirror)
    return directory


def recap_changed(output: str) -> int:
    """CHANGED of the host's row in the summary table."""
    row = next(line for line in output.splitlines() if line.startswith(HOST))
    return int(row.split()[2])


def test_install_rerun_and_verify_over_ssh_with_sudo(inventory: Path) -> None:
    installed = graylog_installer("install", "-i", str(inventory))
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr
    assert recap_changed(installed.stdout) > 0

    again = graylog_installer("install", "-i", str(inventory))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    assert recap_changed(again.stdout) == 0, again.stdout[-3000:]

    verified = graylog_installer("verify", "-i", str(inventory))
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr
    assert re.search(r"GELF round trip +PASS", verified.stdout), verified.stdout

    # Everything above reached the host as ops over SSH: its server logged those logins.
    logins = subprocess.run(
        ["docker", "exec", HOST, "journalctl", "-u", "ssh", "--no-pager"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"Accepted publickey for {USER}" in logins
