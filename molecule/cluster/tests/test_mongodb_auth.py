"""MongoDB's replica set asks for credentials, and turning that on kept what it held.

prepare.yml installs cluster-n1 alone with mongodb_auth off (single-node/hosts.yml);
converge grows it to three members with authentication on (the default). Each check runs
in the member's own mongo shell, as an operator would try it by hand.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import testinfra
from graylog_checks import load_test_secrets
from mongodb_checks import (
    KEY_FILE,
    LOGIN_AS_ADMIN,
    LOGIN_AS_GRAYLOG,
    count_nodes,
    mongo_json,
    startup_options,
    user_roles,
)

NODES = ("cluster-n1", "cluster-n2", "cluster-n3")
FIRST = NODES[0]
UNAUTHORIZED = 13


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return load_test_secrets()


@pytest.mark.parametrize("name", NODES)
def test_every_member_runs_with_authentication_and_the_key_file(name):
    security = startup_options(node(name)).get("security", {})
    assert security == {"authorization": "enabled", "keyFile": KEY_FILE}


@pytest.mark.parametrize("name", NODES)
def test_the_key_file_is_the_generated_secret_readable_by_mongodb_alone(name, secrets):
    key = node(name).file(KEY_FILE)
    assert (key.user, key.group, key.mode) == ("mongodb", "mongodb", 0o600)
    # Compared as a boolean so that a failure never prints the key.
    same = key.content_string.strip() == secrets["mongodb_replica_set_key"]
    assert same, f"{KEY_FILE} on {name} is not the inventory's mongodb_replica_set_key"


def test_every_member_is_healthy_in_the_set_the_administrator_sees():
    script = (
        "var s = rs.status();"
        "print(tojson(s.members.map(function (m) { return [m.health, m.stateStr]; }), '', true));"
    )
    members = mongo_json(node("cluster-n2"), script, LOGIN_AS_ADMIN)
    assert sorted(members) == [[1, "PRIMARY"], [1, "SECONDARY"], [1, "SECONDARY"]]


@pytest.mark.parametrize("name", NODES)
def test_a_client_without_credentials_cannot_read_graylogs_database(name):
    refused = count_nodes(node(name))
    assert (refused.get("ok"), refused.get("code")) == (0, UNAUTHORIZED)


@pytest.mark.parametrize("name", NODES)
def test_graylog_reads_its_database_on_every_member_with_its_credentials(name):
    assert count_nodes(node(name), LOGIN_AS_GRAYLOG) == {"n": 3, "ok": 1}


def test_graylogs_user_has_read_write_on_its_database_only():
    roles = user_roles(node(FIRST), "graylog", "graylog")
    assert roles == [{"role": "readWrite", "db": "graylog"}]


def test_graylogs_data_from_before_authentication_is_still_there():
    # mongod logs its options at every start: cluster-n1 first ran without a key file
    # (prepare), later with one (converge). Graylog writes a system message at each of
    # its starts; the oldest must predate the first start with authentication.
    host = node(FIRST)
    starts = [
        line
        for line in host.file("/var/log/mongodb/mongodb.log").content_string.splitlines()
        if "[initandlisten] options:" in line
    ]
    with_key = [line for line in starts if "keyFile" in line]
    assert starts and "keyFile" not in starts[0], "cluster-n1 never ran without authentication"
    assert with_key, "cluster-n1 never started with authentication"
    switched_at = datetime.strptime(with_key[0][:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc
    )
    script = (
        'var m = db.getSiblingDB("graylog").system_messages.find().sort({timestamp: 1}).limit(1)'
        ".toArray();"
        "print(tojson(m.length ? m[0].timestamp.getTime() : null, '', true));"
    )
    oldest = mongo_json(host, script, LOGIN_AS_ADMIN)
    assert oldest is not None, "Graylog's system messages are gone"
    assert datetime.fromtimestamp(oldest / 1000, timezone.utc) < switched_at
