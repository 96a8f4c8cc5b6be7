"""`status`: reading the hosts' probe, deciding what is degraded, and the table."""

from __future__ import annotations

import json

from graylog_installer.status import StackStatus, problems, render
from graylog_installer.status_graylog import GraylogNode, GraylogView
from graylog_installer.status_probe import ProbeCollector, parse_probe

SINGLE = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"]}
CLUSTER = {
    "graylog": ["n1", "n2", "n3"],
    "elasticsearch": ["n1", "n2", "n3"],
    "mongodb": ["n1", "n2", "n3"],
    "loadbalancer": ["lb"],
}
ES_STATE = {
    "master_node": "id1",
    "nodes": {f"id{i}": {"name": f"n{i}", "attributes": {}} for i in (1, 2, 3)}
    # The client node each Graylog node joins Elasticsearch with: not one of its nodes.
    | {"c1": {"name": "graylog-c1", "attributes": {"client": "true", "data": "false"}}},
}


def probe_output(
    services: dict[str, str] | None = None,
    disk: int = 40,
    es: str = "green",
    es_nodes: int = 3,
    es_state: dict | None = None,
    members: list[tuple[str, str]] | None = None,
) -> str:
    states = {"mongodb": "active", "elasticsearch": "active", "graylog-server": "active"}
    states |= {"nginx": "active", "haproxy": "inactive"} | (services or {})
    lines = [f"SERVICE {name} {state}" for name, state in states.items()]
    lines.append(f"DISK /var/lib/elasticsearch /dev/sda1 100 40 60 {disk}% /")
    health = {"status": es, "number_of_nodes": es_nodes + 1, "number_of_data_nodes": es_nodes}
    lines.append("ESHEALTH " + json.dumps(health))
    lines.append("ESSTATE " + json.dumps(ES_STATE if es_state is None else es_state))
    if members is not None:
        listed = [{"name": n, "state": s, "health": 1} for n, s in members]
        lines.append("MONGO " + json.dumps({"ok": 1, "set": "rs01", "members": listed}))
    return "\n".join(lines) + "\n"


HEALTHY_MEMBERS = [("n1:27017", "PRIMARY"), ("n2:27017", "SECONDARY"), ("n3:27017", "SECONDARY")]
LB = "SERVICE haproxy active\nDISK /var/lib/x /dev/sda1 100 40 60 10% /\n"


def graylog(*masters: bool, backlog: int | None = 0) -> GraylogView:
    return GraylogView(
        tuple(GraylogNode(f"n{i + 1}", f"id{i}", m, backlog) for i, m in enumerate(masters))
    )


def cluster(**changes: str) -> StackStatus:
    """A healthy cluster, with the probe output of the hosts named in ``changes`` replaced."""
    outputs = {h: probe_output(members=HEALTHY_MEMBERS) for h in ("n1", "n2", "n3")}
    outputs["lb"] = LB
    outputs |= changes
    probes = {h: parse_probe(text) for h, text in outputs.items()}
    return StackStatus(CLUSTER, "rs01", probes, {}, graylog(True, False, False))


def single(output: str, view: GraylogView | None = None) -> StackStatus:
    return StackStatus(SINGLE, "", {"n1": parse_probe(output)}, {}, view or graylog(True))


def test_a_healthy_single_node_has_no_problem():
    assert problems(single(probe_output(es_nodes=1, es_state=one_node()))) == []


def one_node() -> dict:
    return {"master_node": "id1", "nodes": {"id1": {"name": "n1"}}}


def test_a_healthy_cluster_has_no_problem():
    assert problems(cluster()) == []


def test_a_stopped_service_is_named_with_its_host():
    stopped = probe_output({"elasticsearch": "inactive"}, members=HEALTHY_MEMBERS)
    assert "n2: elasticsearch is inactive" in problems(cluster(n2=stopped))


def test_haproxy_counts_on_the_load_balancer_only():
    # The Graylog hosts' probes say haproxy is inactive: it is not theirs to run.
    assert problems(cluster(lb=LB.replace("active", "failed"))) == ["lb: haproxy is failed"]


def test_elasticsearch_not_green_is_degraded():
    yellow = probe_output(es="yellow", members=HEALTHY_MEMBERS)
    assert problems(cluster(n1=yellow, n2=yellow, n3=yellow)) == ["Elasticsearch is yellow"]


def test_elasticsearch_missing_a_node_is_degraded():
    two = probe_output(es_nodes=2, members=HEALTHY_MEMBERS)
    assert "Elasticsearch has 2 of 3 nodes" in problems(cluster(n1=two, n2=two, n3=two))


def test_elasticsearch_nodes_disagreeing_on_the_master_is_degraded():
    split = probe_output(es_state={**ES_STATE, "master_node": "id3"}, members=HEALTHY_MEMBERS)
    found = problems(cluster(n3=split))
    assert found == ["Elasticsearch nodes disagree on the master (n1, n3)"]


def test_no_elasticsearch_answer_is_degraded():
    output = "SERVICE elasticsearch failed\nSERVICE mongodb active\n"
    assert "Elasticsearch: no node answered" in problems(single(output))


def test_a_replica_set_member_not_healthy_is_named():
    members = [*HEALTHY_MEMBERS[:2], ("n3:27017", "RECOVERING")]
    recovering = probe_output(members=members)
    found = problems(cluster(n1=recovering, n2=recovering, n3=recovering))
    assert found == ["MongoDB member n3:27017 is RECOVERING"]


def test_a_replica_set_without_a_primary_is_degraded():
    members = [(name, "SECONDARY") for name, _ in HEALTHY_MEMBERS]
    leaderless = probe_output(members=members)
    found = problems(cluster(n1=leaderless, n2=leaderless, n3=leaderless))
    assert found == ["MongoDB replica set rs01 has 0 primaries"]


def test_an_unhealthy_member_reported_by_health_alone_is_named():
    output = probe_output(members=HEALTHY_MEMBERS).replace(
        '"state": "SECONDARY", "health": 1}]', '"state": "SECONDARY", "health": 0}]'
    )
    assert problems(cluster(n1=output, n2=output, n3=output)) == [
        "MongoDB member n3:27017 is SECONDARY"
    ]


def test_no_graylog_master_and_two_masters_are_degraded():
    none = StackStatus(CLUSTER, "rs01", cluster().probes, {}, graylog(False, False, False))
    two = StackStatus(CLUSTER, "rs01", cluster().probes, {}, graylog(True, True, False))
    assert problems(none) == ["Graylog has 0 masters"]
    assert problems(two) == ["Graylog has 2 masters (n1, n2)"]


def test_a_missing_graylog_node_is_degraded():
    view = graylog(True, False)
    status = StackStatus(CLUSTER, "rs01", cluster().probes, {}, view)
    assert problems(status) == ["Graylog has 2 of 3 nodes"]


def test_an_unanswering_graylog_api_is_degraded():
    view = GraylogView(error="no answer from https://logs/api: refused")
    assert problems(single(probe_output(es_nodes=1, es_state=one_node()), view)) == [
        "Graylog API: no answer from https://logs/api: refused"
    ]


def test_a_disk_above_90_percent_is_degraded_and_90_is_not():
    at_limit = single(probe_output(disk=90, es_nodes=1, es_state=one_node()))
    above = single(probe_output(disk=91, es_nodes=1, es_state=one_node()))
    assert problems(at_limit) == []
    assert problems(above) == ["n1: /var/lib/elasticsearch is 91% full"]


def test_an_unreachable_host_is_degraded():
    status = cluster()
    probes = {h: p for h, p in status.probes.items() if h != "n2"}
    unreachable = StackStatus(CLUSTER, "rs01", probes, {"n2": "unreachable"}, status.graylog)
    assert problems(unreachable) == ["n2: unreachable"]


def test_the_table_shows_each_host_and_its_services():
    lines = render(cluster(n2=probe_output({"nginx": "failed"}, members=HEALTHY_MEMBERS)))
    rows = [line.split() for line in lines.splitlines()]
    assert rows[0] == ["HOST", "mongodb", "elasticsearch", "graylog-server", "nginx", "haproxy"] + [
        "DISK",
        "USED",
    ]
    assert rows[2] == ["n2", "active", "active", "active", "failed", "-", "elasticsearch", "40%"]
    assert rows[4] == ["lb", "-", "-", "-", "-", "active", "/var/lib/x", "10%"]


def test_the_summary_lines_name_masters_members_and_backlogs():
    text = render(
        StackStatus(CLUSTER, "rs01", cluster().probes, {}, graylog(False, True, False, backlog=7))
    )
    assert "Elasticsearch: green, master n1, nodes: n1, n2, n3 (and 1 Graylog client(s))" in text
    assert "MongoDB replica set rs01: n1:27017 PRIMARY, n2:27017 SECONDARY" in text
    assert "n2 (master) journal backlog 7" in text


def test_the_collector_keeps_probes_and_reasons():
    collect = ProbeCollector()
    collect({"event": "runner_on_ok", "event_data": {"host": "a", "res": {"stdout": LB}}})
    collect({"event": "runner_on_unreachable", "event_data": {"host": "b", "res": {}}})
    assert collect.probes["a"].services == {"haproxy": "active"}
    assert collect.errors == {"b": "unreachable"}


def test_a_payload_that_is_not_json_counts_as_no_answer():
    assert parse_probe("ESHEALTH \nMONGO {oops\n").es_health is None
