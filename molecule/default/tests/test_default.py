"""What an administrator checks by hand after installing the stack on one host.

Runs inside the converged container through testinfra, and from this machine over HTTP to
the container's nginx, as a user's browser would reach it.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import yaml
from graylog_checks import (
    elasticsearch_health,
    http_get,
    nginx_url,
    send_gelf_and_search,
    server_conf_settings,
)

SERVICES = ("mongodb", "elasticsearch", "graylog-server", "nginx")


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    with open(os.environ["GRAYLOG_TEST_SECRETS_FILE"]) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def base_url(host) -> str:
    return nginx_url(host)


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
        "tcp://0.0.0.0:80",  # nginx, the only public HTTP entry
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


def test_graylog_registered_itself_in_mongodb(host):
    # Graylog keeps its node registry in MongoDB: a node there means the connection works.
    count = host.check_output("mongo graylog --quiet --eval 'db.nodes.count()'")
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
