"""MongoDB asks for credentials: Graylog logs in with its own, the administrator with theirs.

Each check reads as the client it names, on the host, the way an operator would try it by
hand with the mongo shell.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graylog_checks import load_test_secrets, server_conf_settings
from mongodb_checks import (
    ADMIN_LOGIN_FILE,
    LOGIN_AS_ADMIN,
    LOGIN_AS_GRAYLOG,
    count_nodes,
    startup_options,
    user_roles,
    write_elsewhere,
)

# The MongoDB host only, not the scenario's mail server.
testinfra_hosts = ["ansible://mongodb"]
UNAUTHORIZED = 13


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return load_test_secrets()


def test_mongod_runs_with_authentication(host):
    assert startup_options(host).get("security", {}).get("authorization") == "enabled"


def test_a_client_without_credentials_cannot_read_graylogs_database(host):
    refused = count_nodes(host)
    assert (refused.get("ok"), refused.get("code")) == (0, UNAUTHORIZED)


def test_graylog_reads_its_database_with_the_credentials_of_server_conf(host):
    assert count_nodes(host, LOGIN_AS_GRAYLOG) == {"n": 1, "ok": 1}


def test_graylogs_user_may_not_write_elsewhere(host):
    refused = write_elsewhere(host, LOGIN_AS_GRAYLOG)
    assert (refused.get("ok"), refused.get("code")) == (0, UNAUTHORIZED)


def test_graylogs_user_has_read_write_on_its_database_only(host):
    assert user_roles(host, "graylog", "graylog") == [{"role": "readWrite", "db": "graylog"}]


def test_the_administrator_reads_graylogs_database(host):
    assert count_nodes(host, LOGIN_AS_ADMIN) == {"n": 1, "ok": 1}


def test_the_administrators_login_file_is_roots_alone(host):
    login = host.file(ADMIN_LOGIN_FILE)
    assert (login.user, login.group, login.mode) == ("root", "root", 0o600)


def test_server_conf_carries_graylogs_mongodb_credentials(host, secrets):
    uri = server_conf_settings(host).get("mongodb_uri", "")
    expected = f"mongodb://graylog:{secrets['mongodb_graylog_password']}@127.0.0.1:27017/graylog"
    # Compared as a boolean so that a failure never prints the password.
    matches = uri == expected
    assert matches, "mongodb_uri is not mongodb://graylog:<its password>@127.0.0.1:27017/graylog"


def test_no_secret_reached_the_output_of_the_playbook_runs(secrets):
    # molecule.yml logs every ansible-playbook run of the scenario to this file.
    log = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.log"
    text = playbook_lines(log.read_text())
    assert "PLAY RECAP" in text, "the log holds no playbook run"
    leaked = sorted(name for name, value in secrets.items() if value in text)
    assert leaked == []


def playbook_lines(log: str) -> str:
    """The lines of ansible-playbook processes only (verify's own ad-hoc reads left out).

    Ansible starts each record with its process id (p=PID); the further lines of a
    record of several lines belong to the same process.
    """
    owners: list[tuple[str, str]] = []
    pid = ""
    for line in log.splitlines():
        pid = pid_of(line) or pid
        owners.append((pid, line))
    playbooks = {owner for owner, line in owners if "PLAY RECAP" in line}
    return "\n".join(line for owner, line in owners if owner in playbooks)


def pid_of(line: str) -> str:
    """The p=PID field of a record's first line; empty on the further lines."""
    head = line.split(" | ", 1)[0].split()
    return next((field for field in head[2:3] if field.startswith("p=")), "")
