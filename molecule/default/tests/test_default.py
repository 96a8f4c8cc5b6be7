"""What an administrator checks by hand after installing the stack on one host.

Runs inside the converged container through testinfra, and from this machine over HTTP to
the container's nginx, as a user's browser would reach it.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
import uuid
from collections import Counter

import pytest
from graylog_checks import (
    elasticsearch_health,
    http_get,
    load_test_secrets,
    nginx_url,
    send_gelf_and_search,
    server_conf_settings,
    wait_for_total,
)

# The stack's host; the scenario's mail server (group smtp_sink) is checked in test_alerts.py.
testinfra_hosts = ["ansible://graylog"]

SERVICES = ("mongodb", "elasticsearch", "graylog-server", "nginx")

# The role's inputs (type, title) and the port each must listen on.
OUR_INPUTS = {
    ("org.graylog2.inputs.syslog.udp.SyslogUDPInput", "Syslog UDP"): 514,
    ("org.graylog2.inputs.syslog.tcp.SyslogTCPInput", "Syslog TCP"): 514,
    ("org.graylog2.inputs.gelf.udp.GELFUDPInput", "GELF UDP"): 12201,
    ("org.graylog2.inputs.gelf.tcp.GELFTCPInput", "GELF TCP"): 12201,
    ("org.graylog2.inputs.gelf.http.GELFHttpInput", "GELF HTTP"): 12202,
}

# molecule.yml's group_vars (time P1D, close after 30): not the role's defaults.
STRATEGIES = "org.graylog2.indexer."
EXPECTED_INDEX_POLICIES = {
    "rotation": (
        STRATEGIES + "rotation.strategies.TimeBasedRotationStrategy",
        {"rotation_period": "P1D"},
    ),
    "retention": (
        STRATEGIES + "retention.strategies.ClosingRetentionStrategy",
        {"max_number_of_indices": 30},
    ),
}


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return load_test_secrets()


@pytest.fixture(scope="module")
def base_url(host) -> str:
    return nginx_url(host)


@pytest.fixture(scope="module")
def auth(secrets) -> tuple[str, str]:
    return ("admin", secrets["graylog_admin_password"])


@pytest.fixture(scope="module")
def inputs(base_url, auth) -> list[dict]:
    status, body, _ = http_get(f"{base_url}/api/system/inputs", auth=auth)
    assert status == 200
    return json.loads(body)["inputs"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_running_and_enabled_at_boot(host, service):
    unit = host.service(service)
    assert unit.is_running
    assert unit.is_enabled


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:27017",  # MongoDB
        "tcp://127.0.0.1:9200",  # Elasticsearch HTTP
        "tcp://127.0.0.1:9300",  # Elasticsearch transport
        "tcp://127.0.0.1:12900",  # Graylog REST API
        "tcp://127.0.0.1:9000",  # Graylog web interface
        "tcp://0.0.0.0:443",  # nginx, the only public entry: HTTPS
        "tcp://0.0.0.0:80",  # nginx, redirecting to HTTPS
        "udp://0.0.0.0:12201",  # the GELF UDP input for the hosts that send logs
    ],
)
def test_expected_listener(host, address):
    assert host.socket(address).is_listening


@pytest.mark.parametrize("port", [27017, 9200, 9300, 12900, 9000])
def test_backends_are_not_exposed_beyond_loopback(host, port):
    listening = host.socket.get_listening_sockets()
    exposed = [s for s in listening if s.endswith(f":{port}") and "127.0.0.1" not in s]
    assert exposed == []


def test_the_firewall_opens_only_ssh_the_web_and_the_inputs(host):
    # One host: every backend is on loopback, so nothing else needs to be open.
    rules = host.check_output("iptables -S INPUT").splitlines()
    assert rules[0] == "-P INPUT DROP"
    port_rule = re.compile(r"-p (tcp|udp) -m \w+ --dport (\d+) .*-j ACCEPT$")
    opened = {(m.group(1), int(m.group(2))) for m in map(port_rule.search, rules) if m}
    public = {(protocol, port) for protocol in ("tcp", "udp") for port in (514, 12201)}
    assert opened == {("tcp", 22), ("tcp", 80), ("tcp", 443), *public}


def test_lbstatus_through_nginx_is_alive(base_url):
    status, body, _ = http_get(f"{base_url}/api/system/lbstatus")
    assert (status, body.strip()) == (200, "ALIVE")


def test_rest_api_through_nginx_reports_graylog_2_0(base_url, secrets):
    status, body, _ = http_get(
        f"{base_url}/api/system", auth=("admin", secrets["graylog_admin_password"])
    )
    assert status == 200
    system = json.loads(body)
    assert system["version"].startswith("2.0.")
    assert system["lifecycle"] == "running"
    assert system["is_processing"] is True


def test_rest_api_refuses_a_wrong_password(base_url):
    status, _, _ = http_get(f"{base_url}/api/system", auth=("admin", "not-the-password"))
    assert status == 401


def test_web_interface_served_at_root(base_url):
    status, body, _ = http_get(f"{base_url}/")
    assert status == 200
    assert "<title>Graylog Web Interface</title>" in body


def test_browser_is_told_to_call_the_api_through_nginx(base_url):
    # The web interface renders the API address the browser will use into config.js,
    # from the X-Graylog-Server-URL header nginx sends.
    status, body, _ = http_get(f"{base_url}/config.js")
    assert status == 200
    assert f"{base_url}/api/" in body


def test_elasticsearch_is_2_3_healthy_and_named_graylog(host):
    health = elasticsearch_health(host)
    assert health["cluster_name"] == "graylog"
    assert health["status"] in ("green", "yellow")
    banner = json.loads(host.check_output("curl -s http://127.0.0.1:9200/"))
    assert banner["version"]["number"].startswith("2.3.")


def test_vendor_packages_are_held_at_their_pinned_versions(host):
    selections = host.check_output("dpkg --get-selections elasticsearch graylog-server")
    assert selections.split() == ["elasticsearch", "hold", "graylog-server", "hold"]
    assert host.package("elasticsearch").version == "2.3.5"
    assert host.package("graylog-server").version.startswith("2.0.3")


def test_graylog_reaches_elasticsearch(base_url, secrets):
    status, body, _ = http_get(
        f"{base_url}/api/system/indexer/cluster/health",
        auth=("admin", secrets["graylog_admin_password"]),
    )
    assert status == 200
    assert json.loads(body)["status"] in ("green", "yellow")


def test_graylogs_elasticsearch_client_joins_without_waiting_out_discovery(host):
    # With Elasticsearch's default ping timeout (3s) every start of graylog-server
    # logs this warning: its client node found no cluster within its 3 s.
    log = host.file("/var/log/graylog-server/server.log").content_string
    assert "Graylog server up and running" in log
    assert "no initial state was set by the discovery" not in log


def test_graylog_registered_itself_in_mongodb(host):
    # Graylog keeps its node registry in MongoDB: a node there means the connection works.
    count = host.check_output(
        "mongo graylog --quiet --eval 'load(\"/root/.mongodb-admin.js\"); print(db.nodes.count())'"
    )
    assert int(count) == 1


def test_single_node_is_the_master(base_url, secrets):
    status, body, _ = http_get(
        f"{base_url}/api/system/cluster/nodes", auth=("admin", secrets["graylog_admin_password"])
    )
    assert status == 200
    nodes = json.loads(body)["nodes"]
    assert [node["is_master"] for node in nodes] == [True]


def test_server_conf_readable_only_by_the_service(host):
    conf = host.file("/etc/graylog/server/server.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "graylog", 0o640)


def test_server_conf_holds_the_generated_secrets(host, secrets):
    settings = server_conf_settings(host)
    expected_sha2 = hashlib.sha256(secrets["graylog_admin_password"].encode()).hexdigest()
    # Compared as booleans so that a failure never prints a secret or its hash.
    sha2_matches = settings.get("root_password_sha2") == expected_sha2
    secret_matches = settings.get("password_secret") == secrets["graylog_password_secret"]
    assert sha2_matches, "root_password_sha2 is not the SHA-256 of the admin password"
    assert secret_matches, "password_secret is not the generated one"


def test_a_log_message_sent_through_nginx_can_be_found(base_url, secrets):
    found = send_gelf_and_search(base_url, ("admin", secrets["graylog_admin_password"]))
    assert found, "the GELF message posted to /gelf was not found by a search within 120 s"


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_syslog_port_514_is_held_by_graylogs_java_without_root(host, protocol):
    # ss cannot name another user's process here (no ptrace in the container), but it
    # names the socket's owner: user graylog, whose only process is the service's java.
    lines = host.check_output(f"ss -ln{protocol[0]}e 'sport = :514'").splitlines()[1:]
    assert len(lines) == 1, lines
    assert "*:514 " in lines[0] or "0.0.0.0:514 " in lines[0]
    assert f"uid:{host.user('graylog').uid} " in lines[0]
    assert host.check_output("ps -o comm= -u graylog").split() == ["java"]
    pid = host.check_output("systemctl show -p MainPID graylog-server").split("=")[1]
    assert host.check_output(f"ps -o user= -o comm= -p {pid}").split() == ["graylog", "java"]


def _send_syslog(address: str, protocol: str, source: str) -> None:
    now = time.gmtime()
    stamp = f"{time.strftime('%b', now)} {now.tm_mday:>2} {time.strftime('%H:%M:%S', now)}"
    line = f"<14>{stamp} {source} probe: a syslog line over {protocol}\n".encode()
    if protocol == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(line, (address, 514))
    else:
        with socket.create_connection((address, 514), timeout=10) as sender:
            sender.sendall(line)


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_a_syslog_line_sent_to_port_514_can_be_found(host, base_url, auth, protocol):
    source = f"syslog{protocol}{uuid.uuid4().hex[:12]}"
    _send_syslog(host.interface("eth0").addresses[0], protocol, source)
    assert wait_for_total(base_url, auth, f"source:{source}", 1) == 1


@pytest.mark.parametrize("resource", sorted(EXPECTED_INDEX_POLICIES))
def test_index_rotation_and_retention_are_the_configured_ones(base_url, auth, resource):
    # side_effect.yml switched rotation to size by hand; the re-run must have undone it.
    status, body, _ = http_get(f"{base_url}/api/system/indices/{resource}/config", auth=auth)
    assert status == 200
    policy = json.loads(body)
    strategy, settings = EXPECTED_INDEX_POLICIES[resource]
    assert policy["strategy"] == strategy
    assert policy["config"]["type"] == strategy + "Config"
    assert {key: policy["config"].get(key) for key in settings} == settings


def test_each_of_our_inputs_exists_once_on_its_port(host, inputs):
    # side_effect.yml moved GELF UDP to 12299 by hand; the re-run must have moved it back.
    counts = Counter((i["type"], i["title"]) for i in inputs)
    assert {key: counts[key] for key in OUR_INPUTS} == dict.fromkeys(OUR_INPUTS, 1)
    ports = {(i["type"], i["title"]): int(i["attributes"]["port"]) for i in inputs}
    assert {key: ports[key] for key in OUR_INPUTS} == OUR_INPUTS
    assert host.socket("udp://0.0.0.0:12201").is_listening
    assert not host.socket("udp://0.0.0.0:12299").is_listening


def test_the_operators_own_input_is_left_alone(host, inputs):
    # Made by side_effect.yml before the installer's re-run.
    own = [i for i in inputs if i["title"] == "operator's own"]
    assert [(i["type"], i["attributes"]) for i in own] == [
        ("org.graylog2.inputs.raw.tcp.RawTCPInput", {"bind_address": "0.0.0.0", "port": 5555})
    ]
    assert host.socket("tcp://0.0.0.0:5555").is_listening
