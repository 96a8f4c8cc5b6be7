"""HTTPS at the cluster's single entry: TLS ends at HAProxy on cluster-lb, with the
certificate the playbook generated, and the nodes' nginx stays plain HTTP behind it.

Run from this machine against the containers' addresses on the Docker bridge. Another
topology (one node and one load balancer of your own) names its hosts in
GRAYLOG_TEST_ENTRY_HOST and GRAYLOG_TEST_NODE_HOSTS (comma-separated) and its
certificate in GRAYLOG_TEST_ENTRY_CERTIFICATE.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import urllib.request
import uuid

import pytest
import testinfra
from cryptography import x509
from graylog_checks import (
    entry_certificate,
    entry_context,
    http_get,
    load_test_secrets,
    post_gelf,
    wait_for_total,
)

ENTRY = os.environ.get("GRAYLOG_TEST_ENTRY_HOST", "cluster-lb")
NODES = tuple(
    os.environ.get("GRAYLOG_TEST_NODE_HOSTS", "cluster-n1,cluster-n2,cluster-n3").split(",")
)
MONITOR_URI = "/haproxy-alive"


def address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


@pytest.fixture(scope="module")
def entry() -> str:
    return f"https://{address(ENTRY)}"


@pytest.fixture(scope="module")
def auth() -> tuple[str, str]:
    return ("admin", load_test_secrets()["graylog_admin_password"])


def plain_get(host: str, path: str) -> http.client.HTTPResponse:
    """One plain-HTTP request on port 80, redirects not followed."""
    conn = http.client.HTTPConnection(host, 80, timeout=15)
    conn.request("GET", path)
    return conn.getresponse()


def test_http_at_the_entry_redirects_to_https():
    lb = address(ENTRY)
    reply = plain_get(lb, "/api/system/lbstatus?probe=1")
    assert reply.status == 301
    assert reply.getheader("Location") == f"https://{lb}/api/system/lbstatus?probe=1"


def test_haproxy_still_answers_its_monitor_uri_over_http():
    # The role's own readiness check and outer balancers use it: never redirected.
    reply = plain_get(address(ENTRY), MONITOR_URI)
    assert reply.status == 200


def test_the_entry_serves_the_expected_certificate():
    served = ssl.get_server_certificate((address(ENTRY), 443))
    expected = x509.load_pem_x509_certificate(entry_certificate().read_bytes())
    assert x509.load_pem_x509_certificate(served.encode()) == expected


def test_the_certificate_names_the_entry():
    # Trusting exactly the expected certificate, with host name checking: the
    # certificate must hold the entry's address.
    with urllib.request.urlopen(
        f"https://{address(ENTRY)}/api/system/lbstatus", context=entry_context(), timeout=15
    ) as reply:
        assert reply.read().decode().strip() == "ALIVE"


def handshake(version: ssl.TLSVersion) -> str:
    """The TLS version the entry agrees to when offered only ``version``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this side offer the old versions
    with (
        socket.create_connection((address(ENTRY), 443), timeout=15) as raw,
        context.wrap_socket(raw) as tls,
    ):
        return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_only_tls_1_2_is_agreed_to():
    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            handshake(old)


def test_the_web_interface_calls_the_api_over_https(entry):
    status, body, _ = http_get(f"{entry}/config.js")
    assert status == 200
    assert re.search(r"gl2ServerUrl:\s*'([^']*)'", body).group(1) == f"{entry}/api/"


def test_gelf_over_https_through_the_entry_is_stored(entry, auth):
    token = f"tls{uuid.uuid4().hex}"
    assert post_gelf(entry, {"short_message": token}) in (200, 202)
    # By source too: cluster-lb forwards HAProxy's request log, which holds every search.
    assert wait_for_total(entry, auth, f"{token} AND source:molecule-test", 1) == 1


def test_the_api_answers_with_the_admin_login_over_https(entry, auth):
    status, body, _ = http_get(f"{entry}/api/system/cluster/nodes", auth)
    assert status == 200
    assert json.loads(body)["total"] == len(NODES)


@pytest.mark.parametrize("name", NODES)
def test_nodes_serve_plain_http_behind_the_entry(name):
    # HAProxy checks /api/system/lbstatus there over HTTP; no TLS, no redirect.
    reply = plain_get(address(name), "/api/system/lbstatus")
    assert (reply.status, reply.read().decode().strip()) == (200, "ALIVE")
    assert not testinfra.get_host(f"docker://{name}").socket("tcp://0.0.0.0:443").is_listening


def test_the_entry_key_is_readable_by_root_only():
    pem = testinfra.get_host(f"docker://{ENTRY}").file("/etc/haproxy/tls/graylog.pem")
    assert (pem.mode, pem.user) == (0o600, "root")
