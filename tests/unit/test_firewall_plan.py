"""Who may reach which port of each stack host, as the topology decides it for the firewall."""

from __future__ import annotations

from conftest import load_plugin

from graylog_installer.topology import StackInput, plan

THREE = ["n1", "n2", "n3"]
ADDRESSES = {"n1": "10.0.0.1", "n2": "10.0.0.2", "n3": "10.0.0.3", "lb": "10.0.0.9"}
ANYONE = ["0.0.0.0/0"]


def openings(rules: list[dict]) -> dict[tuple[int, str], list[str]]:
    return {(r["port"], r["protocol"]): r["sources"] for r in rules}


def firewall(groups: dict[str, list[str]], addresses=ADDRESSES, **kwargs) -> dict:
    return plan(StackInput(groups=groups, addresses=addresses, **kwargs))["firewall"]


def test_a_single_node_opens_only_the_web_and_the_inputs_to_anyone() -> None:
    rules = firewall({"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"]}, {})
    assert openings(rules["n1"]) == {
        (80, "tcp"): ANYONE,
        (443, "tcp"): ANYONE,
        (514, "tcp"): ANYONE,
        (514, "udp"): ANYONE,
        (12201, "tcp"): ANYONE,
        (12201, "udp"): ANYONE,
    }


def test_behind_a_load_balancer_backends_open_only_to_the_hosts_that_use_them() -> None:
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE, "loadbalancer": ["lb"]}
    rules = firewall(groups)
    nodes = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert openings(rules["n2"]) == {
        (80, "tcp"): ["10.0.0.9"],  # TLS ends at the load balancer: no 443 on the nodes
        (514, "tcp"): ANYONE,
        (514, "udp"): ANYONE,
        (12201, "tcp"): ANYONE,
        (12201, "udp"): ANYONE,
        (12900, "tcp"): nodes,
        (9350, "tcp"): nodes,
        (9300, "tcp"): nodes,
        (27017, "tcp"): nodes,
    }
    # HAProxy has no UDP: the entry forwards the TCP log streams only.
    assert openings(rules["lb"]) == {
        (80, "tcp"): ANYONE,
        (443, "tcp"): ANYONE,
        (514, "tcp"): ANYONE,
        (12201, "tcp"): ANYONE,
    }


def test_separate_elasticsearch_and_mongodb_hosts_open_their_port_to_graylog_only() -> None:
    groups = {"graylog": ["n1", "n2"], "elasticsearch": ["e1"], "mongodb": ["m1"]}
    addresses = {"n1": "10.0.0.1", "n2": "10.0.0.2", "e1": "10.0.1.1", "m1": "10.0.2.1"}
    rules = firewall(groups, addresses)
    assert openings(rules["e1"]) == {(9300, "tcp"): ["10.0.0.1", "10.0.0.2", "10.0.1.1"]}
    assert openings(rules["m1"]) == {(27017, "tcp"): ["10.0.0.1", "10.0.0.2", "10.0.2.1"]}
    on_graylog = openings(rules["n1"])
    assert on_graylog[(9350, "tcp")] == ["10.0.0.1", "10.0.0.2", "10.0.1.1"]
    assert on_graylog[(12900, "tcp")] == ["10.0.0.1", "10.0.0.2"]
    assert (80, "tcp") in on_graylog and (9300, "tcp") not in on_graylog


def test_a_log_sender_outside_the_stack_gets_no_firewall() -> None:
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"], "log_senders": ["s"]}
    assert set(firewall(groups, {"n1": "10.0.0.1"})) == {"n1"}


def test_the_operators_ports_are_the_ones_opened() -> None:
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE, "loadbalancer": ["lb"]}
    ports = {"syslog_port": 1514, "gelf_port": 12301, "rest_port": 12910, "web_port": 8080}
    layout = firewall(groups, **ports, entry_web_port=8000, https_port=8443)
    rules = openings(layout["n1"])
    assert {(1514, "udp"), (12301, "tcp"), (12910, "tcp"), (8080, "tcp")} <= set(rules)
    assert not {(514, "udp"), (12201, "tcp"), (12900, "tcp"), (80, "tcp")} & set(rules)
    assert {(8000, "tcp"), (8443, "tcp")} <= set(openings(layout["lb"]))
    assert (443, "tcp") not in openings(layout["lb"])


def test_the_filter_plugin_passes_the_ports_set_in_the_inventory() -> None:
    module = load_plugin("playbooks/filter_plugins/stack_plan.py")
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"]}
    settings = {
        "graylog_syslog_port": "1514",
        "nginx_listen_port": 8080,
        "graylog_entry_https_port": 8443,
    }
    hostvars = {"n1": {**settings, "cluster_address": "10.0.0.1"}}
    layout = module.stack_plan(groups, hostvars, [])
    assert {(1514, "tcp"), (8080, "tcp"), (8443, "tcp")} <= set(openings(layout["firewall"]["n1"]))


def test_the_https_port_is_read_where_haproxy_listens() -> None:
    module = load_plugin("playbooks/filter_plugins/stack_plan.py")
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"], "loadbalancer": ["lb"]}
    hostvars = {
        "n1": {"cluster_address": "10.0.0.1"},
        "lb": {"cluster_address": "10.0.0.9", "graylog_entry_https_port": 8443},
    }
    layout = module.stack_plan(groups, hostvars, [])
    assert (8443, "tcp") in openings(layout["firewall"]["lb"])
    assert (443, "tcp") not in openings(layout["firewall"]["lb"])
