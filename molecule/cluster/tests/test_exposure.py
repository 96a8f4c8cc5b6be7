"""Who can reach what: the firewall seen from a host on the same network but not in the stack.

A probe container the tests start themselves (on the same Docker network, in no inventory
group) tries every port each stack host really listens on beyond loopback: only the entry's
web and log ports and the Graylog nodes' inputs may answer; everything else must refuse or
drop. The stack's own traffic is proven by the cluster tests passing behind the same rules.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest
import testinfra
from graylog_checks import load_test_secrets, wait_for_total

NODES = ("cluster-n1", "cluster-n2", "cluster-n3")
ENTRY = "cluster-lb"
PROBE = "cluster-probe"
# TCP ports anyone may reach: log inputs on every Graylog node (senders go there
# directly); web and the forwarded log streams on the load balancer.
PUBLIC = {name: {514, 12201} for name in NODES} | {ENTRY: {80, 443, 514, 12201}}
# Backend ports that must be listening (and closed to the probe), so that an empty
# listing cannot pass: nginx behind the load balancer, Elasticsearch transport,
# Graylog's Elasticsearch client and REST API, MongoDB.
BACKENDS = {80, 9300, 9350, 12900, 27017}
CONNECT_SECONDS = 3


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


def address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


def exposed_ports(name: str, protocol: str) -> set[int]:
    """Ports with a listener on an address other than loopback (ss -l, as an admin reads it)."""
    listing = node(name).check_output(f"ss -ln{protocol[0]}").splitlines()[1:]
    ports = set()
    for line in listing:
        local = line.split()[3]
        host, port = local.rsplit(":", 1)
        if not host.replace("::ffff:", "").startswith(("127.", "[::1]", "::1")):
            ports.add(int(port))
    return ports


@pytest.fixture(scope="module")
def probe():
    """A container on the stack's network that the inventory does not know."""
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)
    image = os.environ["IMAGE"]
    subprocess.run(["docker", "run", "-d", "--name", PROBE, image, "sleep", "900"], check=True)
    yield PROBE
    subprocess.run(["docker", "rm", "-f", PROBE], capture_output=True, check=False)


def connects(probe: str, targets: list[tuple[str, int]]) -> dict[tuple[str, int], bool]:
    """Whether a TCP connection from the probe succeeds, for all targets at once."""
    script = " ".join(
        f"(timeout {CONNECT_SECONDS} bash -c 'exec 3<>/dev/tcp/{ip}/{port}' 2>/dev/null;"
        f" echo {ip} {port} $?) &"
        for ip, port in targets
    )
    out = subprocess.check_output(["docker", "exec", probe, "bash", "-c", f"{script} wait"])
    results = {}
    for line in out.decode().splitlines():
        ip, port, rc = line.split()
        results[(ip, int(port))] = rc == "0"
    return results


@pytest.mark.parametrize("name", [*NODES, ENTRY])
def test_only_public_ports_answer_a_host_outside_the_stack(probe, name):
    listening = exposed_ports(name, "tcp")
    if name in NODES:
        assert listening >= BACKENDS, f"expected backends not listening on {name}: {listening}"
    ip = address(name)
    reached = connects(probe, [(ip, port) for port in sorted(listening)])
    answered = {port for (_, port), ok in reached.items() if ok}
    assert answered == listening & PUBLIC[name], f"{name}: {reached}"


@pytest.mark.parametrize("name", [*NODES, ENTRY])
def test_udp_listens_beyond_loopback_only_for_the_inputs(name):
    # UDP cannot be probed for "closed": every UDP listener must be a public input instead.
    expected = {514, 12201} if name in NODES else set()
    assert exposed_ports(name, "udp") == expected


def test_a_gelf_udp_message_from_outside_the_stack_is_found(probe):
    token = f"probeudp{uuid.uuid4().hex}"
    message = json.dumps({"version": "1.1", "host": "molecule-test", "short_message": token})
    send = f"printf '%s' '{message}' > /dev/udp/{address('cluster-n2')}/12201"
    subprocess.run(["docker", "exec", probe, "bash", "-c", send], check=True)
    auth = ("admin", load_test_secrets()["graylog_admin_password"])
    entry = f"https://{address(ENTRY)}"
    assert wait_for_total(entry, auth, f"{token} AND source:molecule-test", 1) == 1


@pytest.mark.parametrize("name", [*NODES, ENTRY])
def test_ssh_is_open_before_everything_else_is_dropped(name):
    rules = node(name).check_output("iptables -S INPUT").splitlines()
    assert rules[0] == "-P INPUT DROP"
    assert any("--dport 22 " in r and r.endswith("-j ACCEPT") and " -s " not in r for r in rules)
    assert node(name).service("netfilter-persistent").is_enabled


def test_hosts_added_by_the_scale_out_are_let_in_on_the_first_node():
    rules = node("cluster-n1").check_output("iptables -S INPUT")
    for peer in ("cluster-n2", "cluster-n3"):
        for port in (9300, 27017, 12900):
            assert f"-s {address(peer)}/32 -p tcp -m tcp --dport {port} " in rules, (peer, port)
