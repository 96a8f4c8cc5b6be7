"""What an operator checks after installing a new three-node cluster in one run.

Every host was bare: the run gave each its packages in one apt transaction, started the
Graylog master and then the other nodes together, and formed MongoDB's replica set and
Elasticsearch's cluster from nothing. With no load balancer each node's nginx is an entry:
the checks go through them, and inside the containers as an administrator would.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import testinfra
from graylog_checks import (
    elasticsearch_health,
    http_get,
    load_test_secrets,
    nginx_url,
    post_gelf,
    wait_for_total,
)
from mongodb_checks import LOGIN_AS_ADMIN, mongo_json

NODES = ("new-cluster-n1", "new-cluster-n2", "new-cluster-n3")
# What the roles install from one transaction (all but MongoDB's package, which starts mongod).
INSTALLED_TOGETHER = {
    "openjdk-8-jre-headless",
    "elasticsearch",
    "graylog-server",
    "nginx",
    "iptables-persistent",
}


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


@pytest.fixture(scope="module")
def auth() -> tuple[str, str]:
    return ("admin", load_test_secrets()["graylog_admin_password"])


def apt_installs(host) -> list[set[str]]:
    """The packages each apt run on the host installed, oldest first (apt's history)."""
    history = host.file("/var/log/apt/history.log").content_string
    # "Install: name:arch (version), name:arch (version, automatic), ..."
    return [
        {entry.split(":")[0] for entry in re.split(r"\),\s*", line.removeprefix("Install: "))}
        for line in history.splitlines()
        if line.startswith("Install: ")
    ]


@pytest.mark.parametrize("name", NODES)
def test_the_roles_packages_came_in_one_apt_transaction(name):
    runs = apt_installs(node(name))
    with_graylog = [run for run in runs if "graylog-server" in run]
    assert len(with_graylog) == 1, runs
    assert INSTALLED_TOGETHER.issubset(with_graylog[0]), with_graylog[0]
    assert "mongodb-server" not in with_graylog[0]


# ---- Graylog ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NODES)
def test_every_node_is_alive_behind_its_nginx(name):
    status, body, _ = http_get(f"{nginx_url(node(name))}/api/system/lbstatus")
    assert (status, body.strip()) == (200, "ALIVE")


def test_graylog_is_one_cluster_of_three_nodes_with_one_master(auth):
    status, body, _ = http_get(f"{nginx_url(node(NODES[0]))}/api/system/cluster/nodes", auth)
    assert status == 200
    nodes = json.loads(body)["nodes"]
    assert len(nodes) == 3
    assert [n["is_master"] for n in nodes].count(True) == 1


@pytest.mark.parametrize("index", range(len(NODES)))
def test_a_message_sent_to_one_node_is_found_through_the_next(index, auth):
    sender, searcher = node(NODES[index]), node(NODES[(index + 1) % len(NODES)])
    token = f"newcluster{uuid.uuid4().hex}"
    assert post_gelf(nginx_url(sender), {"short_message": token}) in (200, 202)
    assert wait_for_total(nginx_url(searcher), auth, token, 1) == 1


# ---- MongoDB and Elasticsearch ------------------------------------------------------


def test_mongodb_is_a_replica_set_of_one_primary_and_two_secondaries():
    states = mongo_json(
        node(NODES[0]),
        "print(JSON.stringify(rs.status().members.map(function (m) { return m.stateStr; })));",
        LOGIN_AS_ADMIN,
    )
    assert sorted(states) == ["PRIMARY", "SECONDARY", "SECONDARY"]


def test_every_member_holds_the_users_made_on_the_primary():
    # Written with the primary's acknowledgement alone, they reach the others by replication.
    script = (
        'print(JSON.stringify(db.getSiblingDB("admin").system.users'
        ".find().map(function (u) { return u._id; }).sort()));"
    )
    users = {name: mongo_json(node(name), script, LOGIN_AS_ADMIN) for name in NODES}
    assert len(users[NODES[0]]) >= 2, users
    assert all(found == users[NODES[0]] for found in users.values()), users


def test_elasticsearch_is_one_green_cluster_of_three_data_nodes():
    health = elasticsearch_health(node(NODES[0]))
    assert (health["number_of_data_nodes"], health["status"]) == (3, "green")
    assert health["unassigned_shards"] == 0
