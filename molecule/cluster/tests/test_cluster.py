"""What an operator checks after growing one node into a cluster by re-running the installer.

The checks run from this machine: HTTPS to the single entry (HAProxy on cluster-lb) as
users and log senders reach it, and commands inside each container as an administrator
would type them. Read-only checks come first, the fault checks (a node set dead, a node
stopped) last, each putting the node back as it found it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import testinfra
from graylog_checks import (
    elasticsearch_health,
    http_get,
    http_put,
    load_test_secrets,
    post_gelf,
    search_total,
    server_conf_settings,
    wait_for_first_message,
    wait_for_total,
)

NODES = ("cluster-n1", "cluster-n2", "cluster-n3")
ENTRY = "cluster-lb"
ROOT = Path(__file__).resolve().parents[3]
# A node HAProxy stops sending to must get no request this long after it turned DEAD.
FAILOVER_SECONDS = 10
# cluster-lb forwards HAProxy's own request log too, and every search request logged
# there holds the token searched for: count only the messages a test sent itself.
GELF_SOURCE = "source:molecule-test"
CONFIG_FILES = {
    "graylog": "/etc/graylog/server/server.conf",
    "elasticsearch": "/etc/elasticsearch/elasticsearch.yml",
    "mongodb": "/etc/mongodb.conf",
    "nginx": "/etc/nginx/sites-available/graylog.conf",
}


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


def address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return load_test_secrets()


@pytest.fixture(scope="module")
def auth(secrets) -> tuple[str, str]:
    return ("admin", secrets["graylog_admin_password"])


@pytest.fixture(scope="module")
def entry() -> str:
    return f"https://{address(ENTRY)}"


@pytest.fixture(scope="module")
def before() -> dict:
    """What prepare.yml stored on the single node before the scale-out."""
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "scaleout.json"
    return json.loads(path.read_text())


def answering_nodes(entry: str, auth: tuple[str, str], requests: int = 12) -> list[str]:
    """The node id that answered each of a series of API requests through the entry."""
    answers = []
    for _ in range(requests):
        status, body, _ = http_get(f"{entry}/api/system/cluster/node", auth)
        answers.append(json.loads(body)["node_id"] if status == 200 else f"HTTP {status}")
    return answers


def node_id(name: str, auth: tuple[str, str]) -> str:
    _, body, _ = http_get(f"http://{address(name)}/api/system/cluster/node", auth)
    return json.loads(body)["node_id"]


def wait_until_alive(name: str, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, body, _ = http_get(f"http://{address(name)}/api/system/lbstatus")
            if status == 200 and body.strip() == "ALIVE":
                return True
        except OSError:
            pass
        time.sleep(3)
    return False


# ---- Elasticsearch ------------------------------------------------------------------


def test_elasticsearch_is_one_green_cluster_of_three_nodes():
    health = elasticsearch_health(node("cluster-n1"))
    assert (health["number_of_data_nodes"], health["status"]) == (3, "green")
    # Each Graylog node joins as a client node (no data): 3 + 3.
    assert health["number_of_nodes"] == 6
    assert health["unassigned_shards"] == 0


def test_indices_from_before_the_scale_out_got_a_replica():
    settings = json.loads(
        node("cluster-n2").check_output("curl -s http://127.0.0.1:9200/graylog_0/_settings")
    )
    assert settings["graylog_0"]["settings"]["index"]["number_of_replicas"] == "1"


@pytest.mark.parametrize("name", NODES)
def test_elasticsearch_http_stays_on_loopback_and_transport_on_the_cluster_address(name):
    host = node(name)
    assert host.socket("tcp://127.0.0.1:9200").is_listening
    assert host.socket(f"tcp://{address(name)}:9300").is_listening
    exposed = [s for s in host.socket.get_listening_sockets() if s.endswith(":9200")]
    assert all("127.0.0.1" in s for s in exposed), exposed


# ---- MongoDB ------------------------------------------------------------------------


def test_mongodb_is_a_replica_set_with_one_primary():
    script = (
        'load("/root/.mongodb-admin.js");'
        "JSON.stringify(rs.status().members.map(function (m) { return m.stateStr; }))"
    )
    states = json.loads(node("cluster-n2").check_output(f"mongo --quiet --eval '{script}'"))
    assert sorted(states) == ["PRIMARY", "SECONDARY", "SECONDARY"]


@pytest.mark.parametrize("name", NODES)
def test_graylogs_data_is_on_every_member(name):
    # The inputs created on the single node were replicated to the members added later.
    count = node(name).check_output(
        "mongo graylog --quiet --eval "
        "'load(\"/root/.mongodb-admin.js\"); rs.slaveOk(); print(db.inputs.count())'"
    )
    assert int(count) >= 3


# ---- Graylog ------------------------------------------------------------------------


def test_graylog_has_three_nodes_and_kept_its_master(entry, auth, before):
    status, body, _ = http_get(f"{entry}/api/system/cluster/nodes", auth)
    assert status == 200
    nodes = json.loads(body)["nodes"]
    assert len(nodes) == 3
    masters = [n["node_id"] for n in nodes if n["is_master"]]
    assert masters == [before["master_node_id"]]


def test_every_node_shares_the_secret_and_lists_every_mongodb_member(secrets):
    members = ",".join(f"{address(n)}:27017" for n in NODES)
    for name in NODES:
        settings = server_conf_settings(node(name))
        login = f"graylog:{secrets['mongodb_graylog_password']}@"
        # Compared as a boolean so that a failure never prints the password.
        same_uri = settings["mongodb_uri"] == f"mongodb://{login}{members}/graylog?replicaSet=rs01"
        assert same_uri, f"{name}'s mongodb_uri is not graylog's login to every member"
        same_secret = settings["password_secret"] == secrets["graylog_password_secret"]
        assert same_secret, f"{name} has another password_secret"


def test_every_message_stored_before_the_scale_out_is_found(entry, auth, before):
    assert search_total(entry, auth, f"batch:{before['batch']}") == before["count"]


# ---- the single entry ---------------------------------------------------------------


def test_the_entry_spreads_requests_over_every_node(entry, auth):
    answers = answering_nodes(entry, auth)
    assert len(set(answers)) == 3, answers


def test_the_web_interface_is_served_through_the_entry(entry):
    status, body, _ = http_get(f"{entry}/")
    assert status == 200 and "<title>Graylog Web Interface</title>" in body
    _, config_js, _ = http_get(f"{entry}/config.js")
    assert f"{entry}/api/" in config_js


def test_a_gelf_http_message_sent_to_the_entry_is_found(entry, auth):
    token = f"entry{uuid.uuid4().hex}"
    assert post_gelf(entry, {"short_message": token}) in (200, 202)
    assert wait_for_total(entry, auth, f"{token} AND {GELF_SOURCE}", 1) == 1


def test_a_gelf_tcp_message_sent_to_the_entry_is_found(entry, auth):
    token = f"tcp{uuid.uuid4().hex}"
    message = {"version": "1.1", "host": "molecule-test", "short_message": token}
    with socket.create_connection((address(ENTRY), 12201), timeout=10) as stream:
        stream.sendall(json.dumps(message).encode() + b"\0")
    assert wait_for_total(entry, auth, f"{token} AND {GELF_SOURCE}", 1) == 1


def test_a_syslog_tcp_line_sent_to_the_entry_is_found(entry, auth):
    # HAProxy's syslog-tcp frontend passes the stream on to a node's Syslog TCP input.
    token = f"entrysyslog{uuid.uuid4().hex}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = f"<131>1 {stamp} molecule-test molecule-entry - - - hello {token}\n"
    with socket.create_connection((address(ENTRY), 514), timeout=10) as stream:
        stream.sendall(line.encode())
    assert wait_for_total(entry, auth, f"{token} AND application_name:molecule-entry", 1) == 1


def test_a_logger_line_on_the_load_balancer_is_found_through_the_entry(entry, auth):
    # cluster-lb is also a log sender: its rsyslog forwards straight to the Graylog nodes'
    # Syslog TCP inputs (the first one, the others as failover), not through HAProxy.
    forward = node(ENTRY).file("/etc/rsyslog.d/05-graylog-forward.conf").content_string
    targets = [address(n) for n in ("cluster-n1", "cluster-n2", "cluster-n3")]
    assert [f'target="{t}"' in forward for t in targets] == [True] * 3
    assert f'target="{address(ENTRY)}"' not in forward and 'port="514"' in forward
    token = f"lbsyslog{uuid.uuid4().hex}"
    node(ENTRY).run_expect([0], f"logger -p local3.warning -t molecule-cluster 'hello {token}'")
    query = f"{token} AND application_name:molecule-cluster"
    assert wait_for_total(entry, auth, query, 1) == 1
    message = wait_for_first_message(entry, auth, query) or {}
    assert (message.get("source"), message.get("facility")) == (ENTRY, "local3"), message


# ---- re-running on one host ---------------------------------------------------------


def _config_digests() -> dict[str, str]:
    digests = {}
    for name in NODES:
        for what, path in CONFIG_FILES.items():
            digests[f"{name}:{what}"] = hashlib.sha256(
                node(name).file(path).content_string.encode()
            ).hexdigest()
    digests["lb:haproxy"] = hashlib.sha256(
        node(ENTRY).file("/etc/haproxy/haproxy.cfg").content_string.encode()
    ).hexdigest()
    return digests


def test_a_limited_run_on_one_node_changes_nothing_anywhere():
    before = _config_digests()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--inventory",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "--extra-vars",
            f"@{os.environ['GRAYLOG_TEST_SECRETS_FILE']}",
            # The versions side_effect upgraded to (tests/upgrade.py): a re-run keeps them.
            "--extra-vars",
            f"@{Path(os.environ['MOLECULE_EPHEMERAL_DIRECTORY']) / 'upgraded-versions.yml'}",
            "--limit",
            "cluster-n2",
            str(ROOT / "playbooks" / "site.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    recap = run.stdout[run.stdout.rfind("PLAY RECAP") :]
    assert run.returncode == 0, recap or run.stderr[-2000:]
    assert "changed=0" in recap and "cluster-n2" in recap, recap
    assert _config_digests() == before


# ---- faults -------------------------------------------------------------------------


def test_a_node_set_dead_gets_no_requests_until_alive_again(entry, auth):
    target = node_id("cluster-n2", auth)
    override = f"http://{address('cluster-n2')}/api/system/lbstatus/override"
    assert http_put(f"{override}/dead", auth) in (200, 204)
    try:
        time.sleep(FAILOVER_SECONDS)
        answers = answering_nodes(entry, auth)
        assert target not in answers and len(set(answers)) == 2, answers
    finally:
        assert http_put(f"{override}/alive", auth) in (200, 204)
    time.sleep(FAILOVER_SECONDS)
    assert target in answering_nodes(entry, auth)


def test_with_one_graylog_server_stopped_the_entry_still_answers(entry, auth):
    stopped = node("cluster-n3")
    stopped.check_output("systemctl stop graylog-server")
    try:
        time.sleep(FAILOVER_SECONDS)
        pages = [http_get(f"{entry}/")[0] for _ in range(6)]
        apis = [http_get(f"{entry}/api/system", auth)[0] for _ in range(6)]
        assert pages == [200] * 6 and apis == [200] * 6
    finally:
        stopped.check_output("systemctl start graylog-server")
        assert wait_until_alive("cluster-n3"), "cluster-n3 did not come back ALIVE"
