"""Which graylog-server and Elasticsearch versions may be installed together.

Two callers, one rule: the installer checks the inventory before any host is touched
(validation.py), and site.yml checks what ansible-playbook was given, through its filter
plugin (playbooks/filter_plugins/stack_versions.py), before any role runs. An upgrade is a
re-run with new versions, so a bad pair must be refused before the first package moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graylog_installer import paths

# The roles configure Graylog 2.0 (its server.conf keys, its REST port and API).
GRAYLOG_SERIES = (2, 0)
# Graylog 2.0 embeds an Elasticsearch 2.3 client node: 2.x clusters up to 2.3.x only.
ELASTICSEARCH_FIRST = (2, 0)
ELASTICSEARCH_BEYOND = (2, 4)
# Which role's variable, on which group's hosts.
VERSION_VARIABLES = {"graylog": "graylog_version", "elasticsearch": "elasticsearch_version"}

# 2.0.3, 2.0.3-1 (a Debian revision) or 2.3 (any 2.3.x, as apt's "=2.3*" matches).
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:-[0-9A-Za-z.+~]+)?$")


def parse(value: Any) -> tuple[int, ...] | None:
    match = _VERSION.match(str(value).strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def pair_problem(graylog: str, elasticsearch: str) -> str | None:
    """One line saying why these two versions cannot run together, or None."""
    graylog_parts, es_parts = parse(graylog), parse(elasticsearch)
    if graylog_parts is None:
        return f"graylog_version {graylog!r} is not a version such as 2.0.3"
    if es_parts is None:
        return f"elasticsearch_version {elasticsearch!r} is not a version such as 2.3.5"
    if graylog_parts[:2] != GRAYLOG_SERIES:
        return f"graylog_version {graylog} is refused: this installer installs Graylog 2.0.x only"
    if not ELASTICSEARCH_FIRST <= es_parts[:2] < ELASTICSEARCH_BEYOND:
        return (
            f"elasticsearch_version {elasticsearch} is refused with graylog_version {graylog}: "
            "Graylog 2.0 works with Elasticsearch 2.0 to 2.3.x only (its embedded client "
            "breaks on 2.4 and later)"
        )
    return None


def role_default(role: str, name: str) -> str:
    """The value roles/<role>/defaults/main.yml gives a variable nobody set."""
    import yaml

    defaults = paths.repo_root() / "roles" / role / "defaults" / "main.yml"
    return str(yaml.safe_load(defaults.read_text())[name])


def problem(groups: Mapping[str, Iterable[str]], value_of: Callable[[str, str], Any]) -> str | None:
    """The first refused pair among the versions asked for on the hosts of each group.

    ``value_of(host, variable)`` returns what the inventory sets, or None. A value still
    written as a template (the installer reads the inventory unrendered) is left to the
    playbook's check, which sees it rendered.
    """
    asked: dict[str, set[str]] = {}
    for group, name in VERSION_VARIABLES.items():
        default = role_default(group, name)
        values = {value_of(host, name) for host in groups.get(group, ())}
        chosen = {default if v is None or v == "" else str(v) for v in values} or {default}
        asked[group] = {v for v in chosen if "{{" not in v}
    for graylog in sorted(asked["graylog"]):
        for elasticsearch in sorted(asked["elasticsearch"]):
            refused = pair_problem(graylog, elasticsearch)
            if refused:
                return refused
    return None
