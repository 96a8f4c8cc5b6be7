"""Inventory rules checked before any host is touched; the result is the cluster's shape.

Each rule raises one UsageError naming what to change. The topology itself (groups,
master, quorum, replica set) is graylog_installer.topology's, the same rule the playbook
applies; this module adds what only the installer checks (heaps, URL, wired variables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from graylog_installer import entry_tls, paths, topology, versions
from graylog_installer.entry_tls import EntryTls
from graylog_installer.errors import UsageError
from graylog_installer.host_needs import PortNeed, port_needs
from graylog_installer.inventory import Inventory

DEFAULT_ADMIN = "admin"
HEAP_VARS = {"elasticsearch": "elasticsearch_heap_size", "graylog": "graylog_heap_size"}

_SIZE = re.compile(r"^\s*(\d+)\s*([mMgG])\s*$")


@dataclass(frozen=True)
class HostPlan:
    """What one host runs and the heap sizes asked for it (None: the role's default)."""

    name: str
    address: str
    components: tuple[str, ...]
    heaps_mb: dict[str, int | None]
    # Heap settings written as templates that need facts; preflight cannot check them.
    unresolved: tuple[str, ...] = ()
    # The ports its services will listen on, which preflight finds free or ours.
    ports: tuple[PortNeed, ...] = ()

    def unresolved_components(self) -> set[str]:
        return {c for c, var in HEAP_VARS.items() if var in self.unresolved}


@dataclass(frozen=True)
class Topology:
    groups: dict[str, list[str]]
    master: str
    master_chosen: bool  # True when the installer picked it (no graylog_master: true)
    external_url: str
    admin_username: str
    hosts: dict[str, HostPlan]
    plan: dict[str, Any]
    tls: EntryTls

    def describe_master(self) -> str:
        if not self.master_chosen:
            return f"Graylog master: {self.master} (graylog_master)"
        return (
            f"Graylog master: {self.master} (chosen automatically: first graylog host, "
            "unless another node already is master)"
        )


def validate(inventory: Inventory) -> Topology:
    _refuse_wired_variables(inventory)
    refused = versions.problem(inventory.groups, inventory.var)
    if refused:
        raise UsageError(refused)
    layout = topology.plan(
        topology.StackInput(
            groups=inventory.groups,
            addresses={h: _cluster_address(inventory, h) for h in inventory.hosts()},
            flagged_masters=[
                h
                for h in inventory.hosts()
                if topology.as_flag(inventory.var(h, "graylog_master", False), "graylog_master", h)
            ],
            index_replicas=topology.as_count(
                _first(inventory, "elasticsearch", "graylog_index_replicas"),
                "graylog_index_replicas",
            ),
            replica_set_name=str(_first(inventory, "mongodb", "mongodb_replica_set_name") or ""),
        )
    )
    groups = {name: list(inventory.groups.get(name, [])) for name in topology.KNOWN_GROUPS}
    graylog = groups["graylog"]
    front = (groups[topology.ENTRY_GROUP] or graylog)[0]
    tls = entry_tls.read_settings(
        inventory.path, lambda name, default: inventory.var(front, name, default)
    )
    return Topology(
        groups=groups,
        master=layout["graylog"]["master"],
        master_chosen=layout["graylog"]["master_reason"] != "graylog_master",
        external_url=_external_url(inventory, graylog, groups[topology.ENTRY_GROUP], tls),
        admin_username=_admin_username(inventory, graylog),
        hosts={host: _host_plan(inventory, host, groups) for host in inventory.hosts()},
        plan=layout,
        tls=tls,
    )


def _refuse_wired_variables(inventory: Inventory) -> None:
    """Role variables the playbook computes would silently lose to it: refuse them instead."""
    wired = paths.wired_variables()
    for host in inventory.hosts():
        clash = sorted(inventory.defined_names(host) & wired)
        if clash:
            raise UsageError(
                f"{clash[0]} (set for {host}) is computed from the inventory's groups by "
                "graylog-installer and cannot be set; remove it (see "
                "inventories/example/group_vars/all.yml for the settings you can change)"
            )


def _first(inventory: Inventory, group: str, name: str) -> Any:
    members = inventory.groups.get(group) or []
    return inventory.var(members[0], name) if members else None


def _cluster_address(inventory: Inventory, host: str) -> str:
    return str(inventory.var(host, "cluster_address") or host_address(inventory, host))


def _same_on_all(inventory: Inventory, hosts: list[str], name: str) -> Any:
    values = {h: inventory.var(h, name) for h in hosts}
    distinct = {repr(v) for v in values.values()}
    if len(distinct) > 1:
        listing = ", ".join(f"{h}={v!r}" for h, v in values.items())
        raise UsageError(f"{name} must be the same on every graylog host ({listing})")
    return values[hosts[0]]


def _external_url(inventory: Inventory, graylog: list[str], entry: list[str], tls: EntryTls) -> str:
    value = _same_on_all(inventory, graylog, "graylog_external_url")
    if value is None or value == "":
        # No URL configured: the load balancer's, else the first Graylog host's nginx.
        front = entry[0] if entry else graylog[0]
        if tls.enabled:
            port, default = str(tls.https_port), str(entry_tls.DEFAULT_HTTPS_PORT)
        else:
            port_var = "haproxy_http_port" if entry else "nginx_listen_port"
            port, default = str(inventory.var(front, port_var, 80)), "80"
        suffix = "" if port == default else f":{port}"
        return f"{tls.scheme()}://{_url_host(host_address(inventory, front))}{suffix}/"
    url = normalise_url(str(value))
    if tls.enabled and not url.startswith("https://"):
        # A page served over HTTPS may not call an http:// API; HTTP only redirects.
        raise UsageError(
            f"graylog_external_url {url!r} must start with https:// while the entry serves "
            "HTTPS (graylog_entry_tls, on by default); or set graylog_entry_tls: false"
        )
    return url


def normalise_url(value: str) -> str:
    """Check graylog_external_url and return it with exactly one trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"graylog_external_url {value!r} must look like http://HOST[:PORT]/ or https://..."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(
            f"graylog_external_url {value!r} must not have a path: nginx serves Graylog at /"
        )
    return f"{parts.scheme}://{parts.netloc}/"


def host_address(inventory: Inventory, host: str) -> str:
    return str(inventory.var(host, "ansible_host", host))


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def _admin_username(inventory: Inventory, graylog: list[str]) -> str:
    value = _same_on_all(inventory, graylog, "graylog_admin_username")
    name = DEFAULT_ADMIN if value is None else str(value)
    if not name or any(ch.isspace() for ch in name) or ":" in name:
        raise UsageError(
            f"graylog_admin_username {name!r} must be non-empty, without spaces or ':'"
        )
    return name


def parse_heap_size(value: Any, name: str, host: str) -> int:
    """'512m' / '2g' -> MiB. Bare numbers are bytes to the JVM, so they are refused."""
    match = _SIZE.match(str(value))
    if not match or int(match[1]) == 0:
        raise UsageError(f"{name} on {host} is {value!r}; write a size like 512m or 2g")
    number = int(match[1])
    return number * 1024 if match[2].lower() == "g" else number


def _host_plan(inventory: Inventory, host: str, groups: dict[str, list[str]]) -> HostPlan:
    components = tuple(name for name in topology.KNOWN_GROUPS if host in groups[name])
    heaps: dict[str, int | None] = {}
    unresolved: list[str] = []
    for component, var in HEAP_VARS.items():
        if component not in components:
            continue
        value = inventory.var(host, var)
        if isinstance(value, str) and "{{" in value:
            heaps[component] = None
            unresolved.append(var)
        else:
            heaps[component] = None if value is None else parse_heap_size(value, var, host)
    return HostPlan(
        name=host,
        address=host_address(inventory, host),
        components=components,
        heaps_mb=heaps,
        unresolved=tuple(unresolved),
        ports=port_needs(components, lambda name: inventory.var(host, name)),
    )
