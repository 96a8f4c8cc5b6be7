"""Inventory rules checked before any host is touched; the result is the cluster's shape.

Each rule raises one UsageError naming what to change. The pure functions here work on
an Inventory value, so they can be exercised with or without Ansible in the loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from graylog_installer.errors import UsageError
from graylog_installer.inventory import Inventory

ROLE_GROUPS = ("graylog", "elasticsearch", "mongodb")
IMPLICIT_GROUPS = ("all", "ungrouped")
# Replica sets and ES master election need a majority: 2 or 4 members lose it on one failure.
QUORUM_GROUPS = ("elasticsearch", "mongodb")
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

    def describe_master(self) -> str:
        how = "chosen automatically: first graylog host" if self.master_chosen else "graylog_master"
        return f"Graylog master: {self.master} ({how})"


def validate(inventory: Inventory) -> Topology:
    _check_groups(inventory.groups)
    groups = {name: list(inventory.groups[name]) for name in ROLE_GROUPS}
    master, chosen = _pick_master(inventory, groups["graylog"])
    return Topology(
        groups=groups,
        master=master,
        master_chosen=chosen,
        external_url=_external_url(inventory, groups["graylog"]),
        admin_username=_admin_username(inventory, groups["graylog"]),
        hosts={host: _host_plan(inventory, host, groups) for host in inventory.hosts()},
    )


def _check_groups(groups: dict[str, list[str]]) -> None:
    unknown = sorted(set(groups) - set(ROLE_GROUPS) - set(IMPLICIT_GROUPS))
    if unknown:
        raise UsageError(
            f"unknown inventory group(s): {', '.join(unknown)}; "
            f"the known groups are {', '.join(ROLE_GROUPS)}"
        )
    stray = groups.get("ungrouped", [])
    if stray:
        raise UsageError(
            f"host(s) in no group: {', '.join(stray)}; "
            f"put each in {', '.join(ROLE_GROUPS)} or remove it"
        )
    for name in ROLE_GROUPS:
        if not groups.get(name):
            raise UsageError(f"inventory group '{name}' needs at least one host")
    for name in QUORUM_GROUPS:
        count = len(groups[name])
        if count > 1 and count % 2 == 0:
            raise UsageError(
                f"inventory group '{name}' has {count} hosts; use an odd number "
                f"({count - 1} or {count + 1}) so a majority survives a failure"
            )


def _pick_master(inventory: Inventory, graylog: list[str]) -> tuple[str, bool]:
    flagged = [h for h in inventory.hosts() if _as_bool(inventory, h, "graylog_master")]
    outside = [h for h in flagged if h not in graylog]
    if outside:
        raise UsageError(
            f"graylog_master is set on {', '.join(outside)}, which is not in the graylog group"
        )
    if len(flagged) > 1:
        raise UsageError(
            f"graylog_master is true on {len(flagged)} hosts ({', '.join(flagged)}); "
            "a Graylog cluster has exactly one master: set it on at most one host"
        )
    if flagged:
        return flagged[0], False
    return graylog[0], True


def _as_bool(inventory: Inventory, host: str, name: str) -> bool:
    value = inventory.var(host, name, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise UsageError(f"{name} on {host} must be true or false, not {value!r}")


def _same_on_all(inventory: Inventory, hosts: list[str], name: str) -> Any:
    values = {h: inventory.var(h, name) for h in hosts}
    distinct = {repr(v) for v in values.values()}
    if len(distinct) > 1:
        listing = ", ".join(f"{h}={v!r}" for h, v in values.items())
        raise UsageError(f"{name} must be the same on every graylog host ({listing})")
    return values[hosts[0]]


def _external_url(inventory: Inventory, graylog: list[str]) -> str:
    value = _same_on_all(inventory, graylog, "graylog_external_url")
    if value is None or value == "":
        # No URL configured: the first Graylog host's nginx, on the port it listens on.
        port = str(inventory.var(graylog[0], "nginx_listen_port", 80))
        suffix = "" if port == "80" else f":{port}"
        return f"http://{_url_host(host_address(inventory, graylog[0]))}{suffix}/"
    return normalise_url(str(value))


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
    components = tuple(name for name in ROLE_GROUPS if host in groups[name])
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
    )
