"""The shape of the stack, decided in one place from the inventory's groups.

Two callers, one rule: the installer calls ``plan`` before any host is touched (with the
addresses the inventory names), and the playbook calls it through its filter plugin
(playbooks/filter_plugins/stack_plan.py) with the addresses the hosts report and the
master that runs today. The roles then receive the result as plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graylog_installer.errors import UsageError

ROLE_GROUPS = ("graylog", "elasticsearch", "mongodb")
# The entry point: HAProxy in front of the Graylog nodes. Optional.
ENTRY_GROUP = "loadbalancer"
# Hosts whose own rsyslog forwards their logs to the stack. Optional; any host may be one.
SENDER_GROUP = "log_senders"
KNOWN_GROUPS = (*ROLE_GROUPS, ENTRY_GROUP, SENDER_GROUP)
IMPLICIT_GROUPS = ("all", "ungrouped")
# Replica sets and ES master election need a majority: 2 or 4 members lose it on one failure.
QUORUM_GROUPS = ("elasticsearch", "mongodb")
# A MongoDB group this large becomes a replica set without being asked.
REPLICA_SET_MIN_MEMBERS = 3
DEFAULT_REPLICA_SET = "rs01"
LOOPBACK = "127.0.0.1"
ES_TRANSPORT_PORT = 9300
# Graylog's embedded Elasticsearch client: the Elasticsearch nodes connect back to it.
GRAYLOG_ES_CLIENT_PORT = 9350
MONGODB_PORT = 27017
# HTTPS at the entry, next to the HTTP port of nginx (Graylog nodes) or HAProxy.
HTTPS_PORT = 443
# A firewall source that matches every address.
ANYWHERE = "0.0.0.0/0"


class TopologyError(UsageError):
    """The inventory's groups or settings cannot make a working stack."""


@dataclass(frozen=True)
class StackInput:
    """What the decision depends on, however the caller learned it."""

    groups: Mapping[str, Sequence[str]]
    # Host -> the address the other hosts reach it at ("" when unknown).
    addresses: Mapping[str, str]
    # Hosts whose inventory sets graylog_master: true.
    flagged_masters: Sequence[str] = ()
    # Graylog hosts whose installed server.conf says is_master = true (none before install).
    running_masters: Sequence[str] = ()
    # Operator settings; None / "" for the defaults.
    index_replicas: int | None = None
    replica_set_name: str = ""
    # Ports of nginx, HAProxy's web frontend, HTTPS at the entry, the Graylog REST API and
    # the log inputs.
    web_port: int = 80
    entry_web_port: int = 80
    https_port: int = HTTPS_PORT
    rest_port: int = 12900
    syslog_port: int = 514
    gelf_port: int = 12201


def check_groups(groups: Mapping[str, Sequence[str]]) -> None:
    unknown = sorted(set(groups) - set(KNOWN_GROUPS) - set(IMPLICIT_GROUPS))
    if unknown:
        raise TopologyError(
            f"unknown inventory group(s): {', '.join(unknown)}; "
            f"the known groups are {', '.join(KNOWN_GROUPS)}"
        )
    stray = list(groups.get("ungrouped", []))
    if stray:
        raise TopologyError(
            f"host(s) in no group: {', '.join(stray)}; "
            f"put each in {', '.join(KNOWN_GROUPS)} or remove it"
        )
    for name in ROLE_GROUPS:
        if not groups.get(name):
            raise TopologyError(f"inventory group '{name}' needs at least one host")
    for name in QUORUM_GROUPS:
        count = len(groups[name])
        if count > 1 and count % 2 == 0:
            raise TopologyError(
                f"inventory group '{name}' has {count} hosts; use an odd number "
                f"({count - 1} or {count + 1}) so a majority survives a failure"
            )
    shared = [h for h in groups.get(ENTRY_GROUP, []) if h in groups["graylog"]]
    if shared:
        raise TopologyError(
            f"{', '.join(shared)} is in both '{ENTRY_GROUP}' and 'graylog': HAProxy and "
            "nginx would both need port 80; put the load balancer on another host"
        )


def as_flag(value: Any, name: str, host: str) -> bool:
    """A yes/no inventory value read as Ansible's ``bool`` reads it; anything else refused."""
    from ansible.module_utils.parsing.convert_bool import boolean

    try:
        return boolean(value, strict=True)
    except TypeError:
        raise TopologyError(f"{name} on {host} must be true or false, not {value!r}") from None


def as_count(value: Any, name: str) -> int | None:
    """A whole number from the inventory; None when it is not set."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise TopologyError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def choose_master(
    graylog: Sequence[str], flagged: Sequence[str], running: Sequence[str]
) -> tuple[str, str]:
    """The one Graylog master and why: the flagged host, else the one running, else the first."""
    outside = [h for h in flagged if h not in graylog]
    if outside:
        raise TopologyError(
            f"graylog_master is set on {', '.join(outside)}, which is not in the graylog group"
        )
    if len(flagged) > 1:
        raise TopologyError(
            f"graylog_master is true on {len(flagged)} hosts ({', '.join(flagged)}); "
            "a Graylog cluster has exactly one master: set it on at most one host"
        )
    if flagged:
        return flagged[0], "graylog_master"
    # Keep the master where it runs, so that reordering the inventory moves nothing.
    still_there = [h for h in graylog if h in running]
    if still_there:
        return still_there[0], "the master already running"
    return graylog[0], "first graylog host"


def _backend_hosts(groups: Mapping[str, Sequence[str]]) -> list[str]:
    """Hosts of the stack's own services, in inventory order, without duplicates."""
    ordered: list[str] = []
    for name in ROLE_GROUPS:
        ordered += [h for h in groups[name] if h not in ordered]
    return ordered


def _index_replicas(requested: int | None, es_nodes: int) -> int:
    """One copy of every shard on another node once there is one; never more than fits."""
    if requested is None:
        return 1 if es_nodes > 1 else 0
    if requested < 0 or requested > es_nodes - 1:
        raise TopologyError(
            f"graylog_index_replicas is {requested}, but {es_nodes} Elasticsearch node(s) "
            f"can hold at most {es_nodes - 1} replica(s) of a shard"
        )
    return requested


def _replica_set(requested: str, members: int) -> str:
    name = requested.strip()
    if name and not name.replace("-", "").replace("_", "").isalnum():
        raise TopologyError(
            f"mongodb_replica_set_name {requested!r} may hold letters, digits, '-' and '_' only"
        )
    if name:
        return name
    return DEFAULT_REPLICA_SET if members >= REPLICA_SET_MIN_MEMBERS else ""


def _sender_targets(
    sender: str, index: int, graylog: Sequence[str], addresses: Mapping[str, str]
) -> list[str]:
    """Every Graylog node, in the order this sender tries them.

    Straight to the nodes, not through the load balancer: HAProxy accepts a connection
    even when no node is up and drops what arrives, while a stopped node refuses it, so
    rsyslog keeps the messages queued. A Graylog node sends to itself first; the others
    start at different nodes so that the senders spread over the cluster.
    """
    start = graylog.index(sender) if sender in graylog else index % len(graylog)
    ordered = [*graylog[start:], *graylog[:start]]
    return [addresses[h] or LOOPBACK for h in ordered]


def _rule(name: str, port: int, sources: Sequence[str], protocol: str = "tcp") -> dict[str, Any]:
    return {"name": name, "port": port, "protocol": protocol, "sources": list(sources)}


def _firewall(
    given: StackInput, groups: Mapping[str, Sequence[str]], addresses: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Per host, the ports open to others and from where; everything else is closed.

    Public: the entry's web ports and log streams, and every Graylog node's inputs
    (senders reach them directly). Behind a load balancer, the nodes' nginx only from
    it. A single node's backends listen on loopback and need no rule at all.
    """
    graylog, es, mongo, entry = (groups[n] for n in (*ROLE_GROUPS, ENTRY_GROUP))
    single = len(_backend_hosts(groups)) == 1

    def of(*members: Sequence[str]) -> list[str]:
        found = {addresses[h] for hosts in members for h in hosts if addresses.get(h)}
        return sorted(found)

    anyone = [ANYWHERE]
    inputs = [
        _rule(f"{name}-{protocol}", port, anyone, protocol)
        for name, port in (("syslog", given.syslog_port), ("gelf", given.gelf_port))
        for protocol in ("tcp", "udp")
    ]
    rules: dict[str, list[dict[str, Any]]] = {h: [] for h in [*_backend_hosts(groups), *entry]}
    for host in entry:
        web_ports = (given.entry_web_port, given.https_port)
        rules[host] += [_rule("web", port, anyone) for port in web_ports]
        rules[host] += [r for r in inputs if r["protocol"] == "tcp"]
    for host in graylog:
        web_sources = of(entry) if entry else anyone
        # Behind a load balancer TLS ends there, and the nodes' nginx serves HTTP only.
        node_web_ports = (given.web_port,) if entry else (given.web_port, given.https_port)
        rules[host] += [_rule("web", port, web_sources) for port in node_web_ports]
        rules[host] += inputs
    if single:
        return rules
    for host in graylog:
        rules[host] += [
            _rule("graylog-rest", given.rest_port, of(graylog)),
            _rule("graylog-elasticsearch-client", GRAYLOG_ES_CLIENT_PORT, of(es, graylog)),
        ]
    for host in es:
        rules[host].append(_rule("elasticsearch-transport", ES_TRANSPORT_PORT, of(es, graylog)))
    for host in mongo:
        rules[host].append(_rule("mongodb", MONGODB_PORT, of(mongo, graylog)))
    return rules


def plan(given: StackInput) -> dict[str, Any]:
    """The whole topology as plain data (what the roles receive)."""
    groups = {name: list(given.groups.get(name, [])) for name in KNOWN_GROUPS}
    check_groups({**given.groups, **groups})
    backends = _backend_hosts(groups)
    single = len(backends) == 1
    hosts_in_plan = backends + [h for h in groups[ENTRY_GROUP] if h not in backends]
    senders = groups[SENDER_GROUP]

    # Reached by other hosts: everything in a cluster; behind a load balancer, the Graylog nodes.
    reached = set(hosts_in_plan) if not single else set(groups[ENTRY_GROUP])
    if groups[ENTRY_GROUP]:
        reached |= set(groups["graylog"])
    # Senders reach the Graylog nodes' syslog inputs directly.
    if any(h not in backends for h in senders):
        reached |= set(groups["graylog"])
    addresses: dict[str, str] = {}
    for host in hosts_in_plan:
        address = str(given.addresses.get(host) or "").strip()
        if host in reached and not address:
            raise TopologyError(
                f"{host} has no known address; set cluster_address to the address "
                "the other hosts reach it at"
            )
        addresses[host] = address

    def bind(host: str) -> str:
        return LOOPBACK if single else addresses[host]

    master, master_reason = choose_master(
        groups["graylog"], given.flagged_masters, given.running_masters
    )
    es_nodes = groups["elasticsearch"]
    mongo_nodes = groups["mongodb"]
    replica_set = _replica_set(given.replica_set_name, len(mongo_nodes))
    mongo_members = [f"{bind(h)}:{MONGODB_PORT}" for h in mongo_nodes]
    uri = f"mongodb://{','.join(mongo_members if replica_set else mongo_members[:1])}/graylog"
    if replica_set:
        uri += f"?replicaSet={replica_set}"
    return {
        "single_node": single,
        "hosts": {h: {"address": addresses[h], "bind_address": bind(h)} for h in hosts_in_plan},
        "graylog": {
            "nodes": groups["graylog"],
            "master": master,
            "master_reason": master_reason,
        },
        "elasticsearch": {
            "nodes": es_nodes,
            "transport_hosts": [f"{bind(h)}:{ES_TRANSPORT_PORT}" for h in es_nodes],
            "minimum_master_nodes": len(es_nodes) // 2 + 1,
            "index_replicas": _index_replicas(given.index_replicas, len(es_nodes)),
        },
        "mongodb": {
            "nodes": mongo_nodes,
            "replica_set": replica_set,
            "members": mongo_members,
            "uri": uri,
        },
        "entry": {
            "hosts": groups[ENTRY_GROUP],
            "backends": [{"name": h, "address": addresses[h]} for h in groups["graylog"]],
        },
        "senders": {
            "hosts": senders,
            "targets": {
                h: _sender_targets(h, i, groups["graylog"], addresses)
                for i, h in enumerate(senders)
            },
        },
        "firewall": _firewall(given, groups, addresses),
    }
