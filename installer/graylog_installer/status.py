"""`status`: how a running installation is doing, as a table, and what is degraded.

The decisions (what counts as degraded) and the rendering live here, apart from how the
answers were gathered (status_probe on the hosts, status_graylog through the entry), so
they can be tested without hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graylog_installer.status_graylog import GraylogView
from graylog_installer.status_probe import SERVICES, HostProbe
from graylog_installer.topology import ENTRY_GROUP

# Which services each inventory group puts on its hosts.
GROUP_SERVICES = {
    "mongodb": ("mongodb",),
    "elasticsearch": ("elasticsearch",),
    "graylog": ("graylog-server", "nginx"),
    ENTRY_GROUP: ("haproxy",),
}
# Elasticsearch 2.3 stops placing shards on a node above 90 % disk use (its high watermark).
DISK_LIMIT_PERCENT = 90
MONGO_GOOD_STATES = ("PRIMARY", "SECONDARY", "ARBITER")


@dataclass(frozen=True)
class StackStatus:
    groups: Mapping[str, list[str]]  # the inventory's groups (GROUP_SERVICES' keys)
    replica_set: str  # the replica set the topology expects ("" for none)
    probes: Mapping[str, HostProbe] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)  # host -> why it gave no probe
    graylog: GraylogView = field(default_factory=GraylogView)

    def hosts(self) -> list[str]:
        """Every host of the stack, once, in the groups' order."""
        seen: dict[str, None] = {}
        for group in GROUP_SERVICES:
            seen.update(dict.fromkeys(self.groups.get(group, [])))
        return list(seen)

    def expected(self, host: str) -> list[str]:
        return [
            service
            for service in SERVICES
            if any(
                host in self.groups.get(g, []) and service in s for g, s in GROUP_SERVICES.items()
            )
        ]

    def views(self, group: str) -> dict[str, HostProbe]:
        return {h: self.probes[h] for h in self.groups.get(group, []) if h in self.probes}


def problems(status: StackStatus) -> list[str]:
    """Every degraded item, one phrase each; empty when all is well."""
    found: list[str] = []
    for host in status.hosts():
        if host in status.errors:
            found.append(f"{host}: {status.errors[host]}")
        elif host in status.probes:
            found.extend(_host_problems(host, status.expected(host), status.probes[host]))
        else:
            found.append(f"{host}: no answer")
    found.extend(_elasticsearch_problems(status))
    found.extend(_mongodb_problems(status))
    found.extend(_graylog_problems(status))
    return found


def _host_problems(host: str, expected: list[str], probe: HostProbe) -> list[str]:
    found = [
        f"{host}: {service} is {probe.services.get(service, 'unknown')}"
        for service in expected
        if probe.services.get(service) != "active"
    ]
    found.extend(
        f"{host}: {disk.path} is {disk.used_percent}% full"
        for disk in probe.disks
        if disk.used_percent > DISK_LIMIT_PERCENT
    )
    return found


def _elasticsearch_problems(status: StackStatus) -> list[str]:
    expected = len(status.groups.get("elasticsearch", []))
    answers = {h: p for h, p in status.views("elasticsearch").items() if p.es_health}
    if not answers:
        return ["Elasticsearch: no node answered"]
    found = []
    health = next(iter(answers.values())).es_health or {}
    color = str(health.get("status", "unknown"))
    if color != "green":
        found.append(f"Elasticsearch is {color}")
    # Data nodes: number_of_nodes also counts the client node each Graylog node joins with.
    nodes = health.get("number_of_data_nodes")
    if isinstance(nodes, int) and nodes < expected:
        found.append(f"Elasticsearch has {nodes} of {expected} nodes")
    masters = {p.es_master for p in answers.values()}
    if None in masters:
        found.append("Elasticsearch has no master")
    elif len(masters) > 1:
        found.append(f"Elasticsearch nodes disagree on the master ({', '.join(sorted(masters))})")
    return found


def _mongodb_problems(status: StackStatus) -> list[str]:
    if not status.replica_set:
        return []  # a single MongoDB: its service is the whole story
    name = status.replica_set
    answers = [p for p in status.views("mongodb").values() if p.mongo_members]
    if not answers:
        return [f"MongoDB replica set {name}: no member answered"]
    members = answers[0].mongo_members
    found = [
        f"MongoDB member {m.name} is {m.state}"
        for m in members
        if not m.healthy or m.state not in MONGO_GOOD_STATES
    ]
    primaries = [m.name for m in members if m.state == "PRIMARY"]
    if len(primaries) != 1:
        found.append(f"MongoDB replica set {name} has {len(primaries)} primaries")
    expected = len(status.groups.get("mongodb", []))
    if len(members) < expected:
        found.append(f"MongoDB replica set {name} has {len(members)} of {expected} members")
    return found


def _graylog_problems(status: StackStatus) -> list[str]:
    view = status.graylog
    if view.error:
        return [f"Graylog API: {view.error}"]
    found = []
    masters = [n.name for n in view.nodes if n.master]
    if len(masters) != 1:
        named = f" ({', '.join(masters)})" if masters else ""
        found.append(f"Graylog has {len(masters)} masters{named}")
    expected = len(status.groups.get("graylog", []))
    if len(view.nodes) < expected:
        found.append(f"Graylog has {len(view.nodes)} of {expected} nodes")
    return found


# ---- rendering ----------------------------------------------------------------------------


def render(status: StackStatus) -> str:
    return "\n".join(
        [
            *_service_table(status),
            "",
            _elasticsearch_line(status),
            _mongodb_line(status),
            _graylog_line(status),
        ]
    )


def _service_table(status: StackStatus) -> list[str]:
    columns = [s for s in SERVICES if any(s in status.expected(h) for h in status.hosts())]
    rows = [["HOST", *columns, "DISK USED"]]
    for host in status.hosts():
        probe = status.probes.get(host)
        if probe is None:
            rows.append([host, *["?" for _ in columns], status.errors.get(host, "no answer")])
            continue
        expected = status.expected(host)
        cells = [probe.services.get(s, "unknown") if s in expected else "-" for s in columns]
        disks = ", ".join(f"{d.label} {d.used_percent}%" for d in probe.disks) or "-"
        rows.append([host, *cells, disks])
    # The last column (disk use) is free text: only the ones before it are padded.
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*map(str.ljust, row[:-1], widths), row[-1]]).rstrip() for row in rows]


def _elasticsearch_line(status: StackStatus) -> str:
    answers = [p for p in status.views("elasticsearch").values() if p.es_health]
    if not answers:
        return "Elasticsearch: no answer"
    health, first = answers[0].es_health or {}, answers[0]
    nodes = ", ".join(first.es_nodes) or "none"
    return (
        f"Elasticsearch: {health.get('status', 'unknown')}, master {first.es_master or 'none'}, "
        f"nodes: {nodes} (and {first.es_clients} Graylog client(s))"
    )


def _mongodb_line(status: StackStatus) -> str:
    if not status.replica_set:
        return "MongoDB: no replica set (a single server)"
    answers = [p for p in status.views("mongodb").values() if p.mongo_members]
    if not answers:
        return f"MongoDB replica set {status.replica_set}: no answer"
    members = ", ".join(f"{m.name} {m.state}" for m in answers[0].mongo_members)
    return f"MongoDB replica set {status.replica_set}: {members}"


def _graylog_line(status: StackStatus) -> str:
    view = status.graylog
    if view.error:
        return "Graylog: no answer from its API"
    nodes = ", ".join(
        f"{n.name}{' (master)' if n.master else ''} journal backlog "
        f"{'?' if n.journal_backlog is None else n.journal_backlog}"
        for n in view.nodes
    )
    return f"Graylog nodes: {nodes or 'none'}"
