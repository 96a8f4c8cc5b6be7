"""Read an inventory directory exactly as ansible-playbook will see it.

Ansible's own InventoryManager and VariableManager do the parsing, so INI or YAML
hosts files, group_vars/ and host_vars/ mean the same here as in the play. Ansible only
warns on a file it cannot parse and carries on with an empty inventory; we collect
those warnings and refuse instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graylog_installer import paths
from graylog_installer.errors import UsageError
from graylog_installer.text import summarise_ansible_error

if TYPE_CHECKING:
    from ansible.parsing.vault import VaultSecret

# Variables the installer reads from the inventory; everything else stays Ansible's business.
INSTALLER_VARS = (
    "ansible_host",
    "cluster_address",
    "graylog_master",
    "graylog_index_replicas",
    "mongodb_replica_set_name",
    "haproxy_http_port",
    "graylog_external_url",
    "graylog_admin_username",
    "elasticsearch_heap_size",
    "graylog_heap_size",
    "nginx_listen_port",
    # HTTPS at the entry: on or off, its port, the operator's certificate and key
    "graylog_entry_tls",
    "graylog_entry_https_port",
    "graylog_tls_certificate_file",
    "graylog_tls_key_file",
    # verify: where the entry takes syslog over TCP
    "graylog_syslog_port",
    "graylog_entry_syslog_port",
    # preflight: the ports the services will listen on (graylog_syslog_port above too)
    "graylog_rest_port",
    "graylog_gelf_port",
    "graylog_gelf_http_port",
    "elasticsearch_http_port",
    # backup and restore: where Graylog's indices are, and whether snapshots are shared
    "graylog_elasticsearch_index_prefix",
    "elasticsearch_snapshot_shared_storage",
    "mongodb_port",
    # versions: the pair an install or upgrade asks for (graylog_installer.versions)
    "graylog_version",
    "elasticsearch_version",
)


@dataclass(frozen=True)
class Inventory:
    path: Path
    # Group name -> member hosts in inventory order (what ``groups[...]`` is in a play).
    groups: dict[str, list[str]]
    # Host -> the installer's variables as Ansible resolves them for that host.
    hostvars: dict[str, dict[str, Any]]
    # Ansible's warnings that did not stop us (shown to the operator, not swallowed).
    warnings: tuple[str, ...] = ()
    # Host -> the names of every variable the inventory sets for it.
    names: dict[str, frozenset[str]] = field(default_factory=dict)

    def defined_names(self, host: str) -> frozenset[str]:
        return self.names.get(host, frozenset())

    def hosts(self) -> list[str]:
        return list(self.hostvars)

    def var(self, host: str, name: str, default: Any = None) -> Any:
        value = self.hostvars.get(host, {}).get(name)
        return default if value is None else value


def load_inventory(directory: Path, vault_secret: VaultSecret | None = None) -> Inventory:
    directory = directory.expanduser().resolve()
    if not directory.is_dir():
        raise UsageError(f"inventory directory not found: {directory}")
    source = paths.hosts_file(directory)
    if not source.is_file():
        raise UsageError(f"{source} not found: an inventory directory needs a hosts.yml")
    paths.configure_ansible()
    with _ansible_warnings() as warnings:
        groups, hostvars, names = _parse(source, vault_secret)
    problem = _parse_problem(warnings, source)
    if problem:
        raise UsageError(problem)
    if not hostvars:
        raise UsageError(f"{source} defines no hosts")
    notes = tuple(" ".join(w.split()) for w in warnings)
    return Inventory(path=directory, groups=groups, hostvars=hostvars, warnings=notes, names=names)


def _parse(
    source: Path, vault_secret: VaultSecret | None
) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]], dict[str, frozenset[str]]]:
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    if vault_secret is not None:
        loader.set_vault_secrets([("default", vault_secret)])
    try:
        manager = InventoryManager(loader=loader, sources=[str(source)])
        variables = VariableManager(loader=loader, inventory=manager)
        groups = {name: list(hosts) for name, hosts in manager.get_groups_dict().items()}
        hostvars = {}
        names = {}
        for host in manager.get_hosts():
            resolved = variables.get_vars(host=host)
            templar = Templar(loader=loader, variables=resolved)
            hostvars[host.name] = {k: _render(templar, resolved.get(k)) for k in INSTALLER_VARS}
            names[host.name] = frozenset(resolved)
    except AnsibleError as exc:
        raise UsageError(
            f"cannot read inventory {source}: {summarise_ansible_error(str(exc))}"
        ) from None
    return groups, hostvars, names


def _render(templar: Any, value: Any) -> Any:
    """Resolve Jinja in an inventory value; leave it as written if it needs facts."""
    from ansible.errors import AnsibleError

    if not isinstance(value, str) or "{{" not in value:
        return value
    try:
        return templar.template(value, fail_on_undefined=True)
    except AnsibleError:
        return value


@contextmanager
def _ansible_warnings() -> Iterator[list[str]]:
    """Collect Ansible's warnings instead of letting them print over our output."""
    from ansible.utils.display import Display

    display = Display()  # a process-wide singleton: the one the inventory code uses
    collected: list[str] = []
    replaced: Callable[..., None] = display.warning

    def collect(msg: str, formatted: bool = False) -> None:
        collected.append(msg)

    display.warning = collect  # type: ignore[method-assign]
    try:
        yield collected
    finally:
        display.warning = replaced  # type: ignore[method-assign]


_PLUGIN_FAILURE = re.compile(
    r"Failed to parse (?P<src>.+?) with (?P<plugin>\w+) plugin: (?P<why>.*)", re.S
)


def _parse_problem(warnings: list[str], source: Path) -> str | None:
    """Turn Ansible's parse warnings into one sentence, or None when the file parsed."""
    skipped = [w for w in warnings if w.startswith("Skipping")]
    if skipped:
        # Ansible ignored part of the file (a typo in a key): the inventory is not what
        # the operator wrote, so do not install from it.
        return f"inventory {source}: {' '.join(skipped[0].split())}"
    if not any("unable to parse" in w.lower() or "failed to parse" in w.lower() for w in warnings):
        return None
    reasons: dict[str, str] = {}
    for warning in warnings:
        match = _PLUGIN_FAILURE.search(warning)
        if match:
            reasons[match["plugin"]] = match["why"]
    # The yaml plugin's reason is the useful one for hosts.yml; ini's is noise about "all:".
    why = reasons.get("yaml") or reasons.get("auto") or next(iter(reasons.values()), "")
    detail = summarise_ansible_error(why) if why else "no inventory plugin accepted it"
    return f"unable to parse inventory {source}: {detail}"
