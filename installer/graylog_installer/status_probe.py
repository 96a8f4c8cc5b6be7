"""What `status` reads on each host: one read-only shell probe, and its output parsed.

One ad-hoc ``raw`` run (like preflight's) asks every host at once: which of the stack's
services are active, how full the data directories' file systems are, and, where the
service runs, Elasticsearch's view of its cluster (over its loopback HTTP port) and
MongoDB's view of its replica set (logged in as the administrator where the mongodb role
left root the login file). The probe only reads; what it prints carries no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graylog_installer import runner

SERVICES = ("mongodb", "elasticsearch", "graylog-server", "nginx", "haproxy")
# Data directory -> the short name the table shows (the roles' Ubuntu 16.04 paths).
DATA_DIRS = {
    "/var/lib/mongodb": "mongodb",
    "/var/lib/elasticsearch": "elasticsearch",
    "/var/lib/graylog-server/journal": "journal",
}
# The mongodb role writes it (mongodb_admin_login_file in its vars/main.yml).
MONGODB_LOGIN_FILE = "/root/.mongodb-admin.js"
# Only the fields status shows leave the host: never a whole rs.status().
MONGODB_JS = (
    'var s = rs.status(); print("MONGO " + JSON.stringify({ok: s.ok, set: s.set, '
    "errmsg: s.errmsg, members: (s.members || []).map(function (m) { "
    "return {name: m.name, state: m.stateStr, health: m.health}; })}));"
)
# Ports are templated per host by Ansible: an operator's elasticsearch_http_port or
# mongodb_port holds.
ES_URL = "http://127.0.0.1:{{ elasticsearch_http_port | default(9200) }}"
PROBE = "\n".join(
    [
        f'for s in {" ".join(SERVICES)}; do echo "SERVICE $s $(systemctl is-active $s)"; done',
        f"for d in {' '.join(DATA_DIRS)}; do",
        '  [ -d $d ] && df -P $d | sed -n "2s|^|DISK $d |p"',
        "done",
        "if command -v curl >/dev/null && systemctl -q is-active elasticsearch; then",
        f'  echo "ESHEALTH $(curl -s -m 5 {ES_URL}/_cluster/health)"',
        f'  echo "ESSTATE $(curl -s -m 5 {ES_URL}/_cluster/state/master_node,nodes)"',
        "fi",
        "if command -v mongo >/dev/null && systemctl -q is-active mongodb; then",
        f"  login=''; [ -r {MONGODB_LOGIN_FILE} ] && login='load(\"{MONGODB_LOGIN_FILE}\");'",
        "  mongo --quiet --norc 127.0.0.1:{{ mongodb_port | default(27017) }}/admin "
        f"--eval \"$login\"'{MONGODB_JS}' | grep '^MONGO '",
        "fi",
        "true",
    ]
)


@dataclass(frozen=True)
class Disk:
    path: str
    used_percent: int

    @property
    def label(self) -> str:
        return DATA_DIRS.get(self.path, self.path)


@dataclass(frozen=True)
class MongoMember:
    name: str
    state: str  # PRIMARY, SECONDARY, ARBITER, RECOVERING, (not reachable/healthy)...
    healthy: bool


@dataclass(frozen=True)
class HostProbe:
    services: dict[str, str] = field(default_factory=dict)  # name -> systemctl is-active
    disks: tuple[Disk, ...] = ()
    es_health: dict[str, Any] | None = None  # GET /_cluster/health
    es_state: dict[str, Any] | None = None  # GET /_cluster/state/master_node,nodes
    mongo: dict[str, Any] | None = None  # the fields MONGODB_JS prints

    @property
    def es_master(self) -> str | None:
        """The name of the Elasticsearch master this host sees (None: none or unknown)."""
        state = self.es_state or {}
        node = (state.get("nodes") or {}).get(state.get("master_node") or "")
        return str(node.get("name")) if isinstance(node, dict) else None

    @property
    def es_nodes(self) -> list[str]:
        """Elasticsearch's own nodes, without the clients Graylog's nodes join it with."""
        return sorted(str(n.get("name")) for n in self._es_node_list(client=False))

    @property
    def es_clients(self) -> int:
        return len(self._es_node_list(client=True))

    def _es_node_list(self, client: bool) -> list[dict[str, Any]]:
        nodes = (self.es_state or {}).get("nodes") or {}
        return [
            n
            for n in nodes.values()
            if isinstance(n, dict)
            and ((n.get("attributes") or {}).get("client") == "true") == client
        ]

    @property
    def replica_set(self) -> str | None:
        """The replica set's name, None when MongoDB runs without one (or did not say)."""
        return str(self.mongo["set"]) if self.mongo and self.mongo.get("set") else None

    @property
    def mongo_members(self) -> list[MongoMember]:
        return [
            MongoMember(str(m.get("name")), str(m.get("state")), m.get("health") == 1)
            for m in (self.mongo or {}).get("members") or []
            if isinstance(m, dict)
        ]


def parse_probe(output: str) -> HostProbe:
    """The probe's tagged lines; a payload that is not JSON counts as no answer."""
    services: dict[str, str] = {}
    disks: list[Disk] = []
    payloads: dict[str, dict[str, Any] | None] = {}
    for line in output.splitlines():
        tag, _, rest = line.strip().partition(" ")
        if tag == "SERVICE":
            name, _, state = rest.partition(" ")
            services[name] = state.strip() or "unknown"
        elif tag == "DISK":
            disk = _disk(rest.split())
            if disk:
                disks.append(disk)
        elif tag in ("ESHEALTH", "ESSTATE", "MONGO"):
            payloads[tag] = _json_object(rest)
    return HostProbe(
        services=services,
        disks=tuple(disks),
        es_health=payloads.get("ESHEALTH"),
        es_state=payloads.get("ESSTATE"),
        mongo=payloads.get("MONGO"),
    )


def _disk(fields: list[str]) -> Disk | None:
    """From 'PATH FILESYSTEM BLOCKS USED AVAILABLE CAPACITY% MOUNT'."""
    if len(fields) < 6 or not fields[5].rstrip("%").isdigit():
        return None
    return Disk(fields[0], int(fields[5].rstrip("%")))


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ProbeCollector:
    """Event handler keeping each host's probe, or the reason it gave none."""

    def __init__(self) -> None:
        self.probes: dict[str, HostProbe] = {}
        self.errors: dict[str, str] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        about_a_host = runner.host_event(event)
        if about_a_host is None:
            return
        host, kind, result = about_a_host
        if kind == "runner_on_ok":
            self.probes[host] = parse_probe(str(result.get("stdout") or ""))
        elif kind == "runner_on_unreachable":
            self.errors[host] = "unreachable"
        elif kind == "runner_on_failed":
            self.errors[host] = "the status probe failed"
