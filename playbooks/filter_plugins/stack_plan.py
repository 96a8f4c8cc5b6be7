"""Filter ``stack_plan``: the installer's topology rule (graylog_installer.topology) for site.yml.

The playbook hands it what only the hosts know (their addresses, the master that runs
today); the decision itself is the same code the installer checks inventories with.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from graylog_installer import topology
except ImportError:  # ansible-playbook run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "installer"))
    from graylog_installer import topology


def _address(hostvars: Any, host: str) -> str:
    values = hostvars[host]
    explicit = values.get("cluster_address")
    if explicit:
        return str(explicit)
    facts = values.get("ansible_facts") or {}
    return str((facts.get("default_ipv4") or {}).get("address") or "")


def _first_value(hostvars: Any, hosts: list[str], name: str) -> Any:
    return hostvars[hosts[0]].get(name) if hosts else None


# The ports the operator may move, the firewall opens: field -> (groups, variable). The
# value is read on the first host of the first non-empty group: the hosts that listen.
_PORT_SETTINGS = {
    "web_port": (("graylog",), "nginx_listen_port"),
    "entry_web_port": ((topology.ENTRY_GROUP,), "haproxy_http_port"),
    "https_port": ((topology.ENTRY_GROUP, "graylog"), "graylog_entry_https_port"),
    "rest_port": (("graylog",), "graylog_rest_port"),
    "syslog_port": (("graylog",), "graylog_syslog_port"),
    "gelf_port": (("graylog",), "graylog_gelf_port"),
}


def _ports(hostvars: Any, members: dict[str, list[str]]) -> dict[str, int]:
    """The ports set in the inventory; the unset ones keep topology's defaults."""
    ports = {}
    for field, (groups, name) in _PORT_SETTINGS.items():
        hosts = next((members[group] for group in groups if members[group]), [])
        value = topology.as_count(_first_value(hostvars, hosts, name), name)
        if value is not None:
            ports[field] = value
    return ports


def stack_plan(groups: dict[str, list[str]], hostvars: Any, running_masters: list[str]) -> dict:
    # Groups the playbook makes itself (group_by) are not the inventory's: leave them out.
    members = {name: list(groups.get(name, [])) for name in (*topology.KNOWN_GROUPS, "ungrouped")}
    stack_hosts = {h for name in topology.KNOWN_GROUPS for h in members[name]}
    try:
        graylog = members["graylog"]
        replicas = _first_value(hostvars, members["elasticsearch"], "graylog_index_replicas")
        return topology.plan(
            topology.StackInput(
                groups=members,
                addresses={h: _address(hostvars, h) for h in stack_hosts},
                flagged_masters=[
                    h
                    for h in graylog
                    if topology.as_flag(
                        hostvars[h].get("graylog_master", False), "graylog_master", h
                    )
                ],
                running_masters=list(running_masters),
                index_replicas=topology.as_count(replicas, "graylog_index_replicas"),
                replica_set_name=str(
                    _first_value(hostvars, members["mongodb"], "mongodb_replica_set_name") or ""
                ),
                **_ports(hostvars, members),
            )
        )
    except topology.TopologyError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"stack_plan": stack_plan}
