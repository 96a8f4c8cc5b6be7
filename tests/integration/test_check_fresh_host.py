"""`install --check` on a host never installed: it completes, changes nothing on the host
and writes nothing: no secrets file, no certificate, no marker, no log in the inventory,
and nothing left in the temporary directory. The test uses a container of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import COMMAND_TIMEOUT, REPO, fresh_container, snapshot

from graylog_installer.sandbox import write_mirror_vars

HOST = "graylog-installer-itest-check"
# What a real install would add to the host, and a dry run must not.
PACKAGES = ("graylog-server", "elasticsearch", "mongodb-server", "nginx", "openjdk-8-jre-headless")


def installed_packages(*names: str) -> list[str]:
    listing = subprocess.run(
        ["docker", "exec", HOST, "dpkg-query", "-W", "-f", "${Package} ${Status}\\n", *names],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return [line.split()[0] for line in listing.splitlines() if line.endswith(" installed")]


def host_listing() -> str:
    """The names in the host's directories a real install adds files to."""
    return subprocess.run(
        ["docker", "exec", HOST, "sh", "-c", "ls -A /etc /etc/apt/sources.list.d /usr/local/sbin"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def fresh_host(testbed) -> Iterator[str]:
    with fresh_container(HOST, testbed):
        yield HOST


@pytest.fixture(scope="module")
def inventory(fresh_host, testbed, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("check") / "inventory"
    directory.mkdir()
    (directory / "hosts.yml").write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_connection: docker\n"
        "    ansible_python_interpreter: /usr/bin/python2.7\n"
        "    elasticsearch_heap_size: 512m\n"
        "    graylog_heap_size: 768m\n"
        "  children:\n"
        + "".join(
            f"    {group}:\n      hosts:\n        {fresh_host}:\n"
            for group in ("graylog", "elasticsearch", "mongodb")
        )
    )
    write_mirror_vars(directory, testbed.mirror)
    return directory


def test_check_on_a_fresh_host_completes_and_changes_nothing(inventory, tmp_path):
    before = snapshot(inventory)
    listing = sorted(p.relative_to(inventory) for p in inventory.rglob("*"))
    files_on_host = host_listing()
    command = Path(sys.executable).with_name("graylog-installer")
    result = subprocess.run(
        [str(command), "install", "-i", str(inventory), "--check"],
        cwd=REPO, env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "throwaway secrets for this dry run" in result.stdout
    assert f"{HOST}: graylog : Install graylog-server" in result.stdout
    unchanged = snapshot(inventory) == before  # compared apart: no content in a failure
    assert unchanged, "the dry run changed a file of the inventory"
    assert sorted(p.relative_to(inventory) for p in inventory.rglob("*")) == listing
    assert installed_packages(*PACKAGES) == []
    assert host_listing() == files_on_host
    # Throwaway secrets, the stand-in certificate and the dry run's log are all gone.
    assert list(tmp_path.iterdir()) == []
