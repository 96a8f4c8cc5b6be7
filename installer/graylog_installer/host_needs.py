"""What each host needs free before the roles install onto it: ports and disk space.

Preflight compares these with what the host reports. A port is fine when it is free or
already held by the program that will hold it (a re-run finds our own services there);
held by anything else, the service that needs it would fail to start halfway through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Who may hold a port: the program's name as ss shows it, or the socket owner's user
# (ss names no program when the caller may not read another user's processes; root's
# sockets carry no uid, so "root" stands for them).
JAVA = ("java", "graylog", "elasticsearch")
MONGOD = ("mongod", "mongodb")
NGINX = ("nginx", "root")
HAPROXY = ("haproxy", "root")


@dataclass(frozen=True)
class PortNeed:
    protocol: str  # tcp or udp
    port: int
    service: str  # what needs it, for the message
    holders: tuple[str, ...]  # who may already hold it


# component -> (variable that moves the port or None, default, protocols, service, holders)
_PORTS: dict[str, list[tuple[str | None, int, tuple[str, ...], str, tuple[str, ...]]]] = {
    "graylog": [
        ("nginx_listen_port", 80, ("tcp",), "nginx", NGINX),
        ("graylog_entry_https_port", 443, ("tcp",), "nginx (HTTPS)", NGINX),
        (None, 9000, ("tcp",), "graylog-server (web)", JAVA),
        ("graylog_rest_port", 12900, ("tcp",), "graylog-server (REST)", JAVA),
        (None, 9350, ("tcp",), "graylog-server (Elasticsearch client)", JAVA),
        ("graylog_syslog_port", 514, ("tcp", "udp"), "graylog-server (syslog)", JAVA),
        ("graylog_gelf_port", 12201, ("tcp", "udp"), "graylog-server (GELF)", JAVA),
        ("graylog_gelf_http_port", 12202, ("tcp",), "graylog-server (GELF HTTP)", JAVA),
    ],
    "elasticsearch": [
        ("elasticsearch_http_port", 9200, ("tcp",), "elasticsearch (HTTP)", JAVA),
        (None, 9300, ("tcp",), "elasticsearch (transport)", JAVA),
    ],
    "mongodb": [("mongodb_port", 27017, ("tcp",), "mongodb", MONGOD)],
    "loadbalancer": [
        ("haproxy_http_port", 80, ("tcp",), "haproxy", HAPROXY),
        ("graylog_entry_https_port", 443, ("tcp",), "haproxy (HTTPS)", HAPROXY),
        ("graylog_gelf_port", 12201, ("tcp",), "haproxy (GELF TCP)", HAPROXY),
        ("graylog_syslog_port", 514, ("tcp",), "haproxy (syslog TCP)", HAPROXY),
    ],
}

# Free space under /var/lib (data, journal) a component needs to start and take its
# first logs; retention decides the rest (README: "How much disk").
DISK_MB = {"elasticsearch": 2048, "mongodb": 1024, "graylog": 1024}
DATA_PATH = "/var/lib"


def port_needs(components: tuple[str, ...], var: Callable[[str], Any]) -> tuple[PortNeed, ...]:
    """The ports a host running ``components`` will listen on; ``var`` reads its settings
    (None when unset, so the role's default applies)."""
    needs: dict[tuple[str, int], PortNeed] = {}
    for component in components:
        for name, default, protocols, service, holders in _PORTS.get(component, []):
            port = _port_value(var(name) if name else None, default)
            if port is None:
                continue  # a templated value: known only on the host
            for protocol in protocols:
                needs.setdefault((protocol, port), PortNeed(protocol, port, service, holders))
    return tuple(needs.values())


def disk_need_mb(components: tuple[str, ...]) -> int:
    return sum(DISK_MB.get(component, 0) for component in components)


def _port_value(value: Any, default: int) -> int | None:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None
