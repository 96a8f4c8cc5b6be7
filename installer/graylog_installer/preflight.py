"""Read-only checks on the hosts themselves, after validation and before the playbook.

One ad-hoc run answers, per host: can Ansible reach it, is it Ubuntu 16.04, does it have
memory for the heaps and disk for the data it will hold, are the ports its services need
free (or already ours), and does its clock agree with the other hosts' (Elasticsearch and
Graylog order and expire data by time). It uses the ``raw`` module (a shell reading
/etc/os-release, /proc/meminfo, date, df and ss) rather than ``setup``: a fresh Ubuntu
16.04 host has no Python 2.7 until site.yml's bootstrap play installs it, and preflight
must not install anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from graylog_installer import host_needs, runner
from graylog_installer.errors import InstallerError
from graylog_installer.redact import Redactor
from graylog_installer.validation import HostPlan, Topology

SUPPORTED = ("ubuntu", "16.04")  # os-release ID and VERSION_ID
RESERVED_MB = 512  # the OS, MongoDB and nginx live here
ES_HEAP_CAP_MB = 31 * 1024  # above this the JVM loses compressed object pointers
GRAYLOG_DEFAULT_HEAP_MB = 1024
# Hosts whose clocks differ by more than this (seconds) are refused: Graylog's nodes and
# Elasticsearch stamp and rotate by their own clocks. The measure includes the run's own
# delays between hosts, a second or two on a busy machine.
MAX_CLOCK_SKEW = 5.0
PROBE = "; ".join(
    [
        "cat /etc/os-release",
        "echo",
        "grep '^MemTotal:' /proc/meminfo",
        "echo CLOCK $(date +%s.%N)",
        f"df -Pk {host_needs.DATA_PATH} | sed -n '2s/^/DF /p'",
        # -e adds the socket owner's uid, -p the program when the caller may see it.
        "ss -lntupe 2>/dev/null | sed -n '2,$s/^/LISTEN /p'",
        "getent passwd graylog elasticsearch mongodb | sed 's/^/USER /'",
        "true",
    ]
)


@dataclass(frozen=True)
class Listener:
    protocol: str
    port: int
    holder: str  # program name, else the socket owner's user name or uid


@dataclass(frozen=True)
class HostFacts:
    distribution: str  # os-release ID, e.g. ubuntu
    version: str  # os-release VERSION_ID, e.g. 16.04
    memtotal_mb: int
    pretty_name: str = ""
    clock: float | None = None  # the host's epoch seconds when it answered
    received: float | None = None  # this machine's epoch seconds when the answer came
    free_mb: int | None = None  # free space under host_needs.DATA_PATH
    listeners: tuple[Listener, ...] = field(default_factory=tuple)

    def clock_offset(self) -> float | None:
        if self.clock is None or self.received is None:
            return None
        return self.clock - self.received


def parse_probe(output: str) -> HostFacts:
    """Facts from the probe's output (os-release lines, MemTotal, then tagged lines)."""
    release: dict[str, str] = {}
    memtotal_kb = None
    clock = None
    free_mb = None
    users: dict[str, str] = {}
    sockets: list[tuple[str, int, str]] = []
    for line in output.splitlines():
        tag, _, rest = line.partition(" ")
        key, sep, value = line.partition("=")
        if tag == "CLOCK":
            clock = _number(rest)
        elif tag == "DF":
            fields = rest.split()
            free_mb = int(fields[3]) // 1024 if len(fields) > 3 and fields[3].isdigit() else None
        elif tag == "LISTEN":
            sockets.extend(_socket(rest))
        elif tag == "USER":
            entry = rest.split(":")
            if len(entry) > 2:
                users[entry[2]] = entry[0]
        elif sep and key.strip().isidentifier():
            release[key.strip()] = value.strip().strip("\"'")
        elif line.startswith("MemTotal:"):
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                memtotal_kb = int(fields[1])
    if "ID" not in release or memtotal_kb is None:
        raise ValueError("no /etc/os-release or /proc/meminfo in the output")
    return HostFacts(
        distribution=release["ID"],
        version=release.get("VERSION_ID", ""),
        memtotal_mb=memtotal_kb // 1024,  # the same rounding as Ansible's memtotal_mb
        pretty_name=release.get("PRETTY_NAME", ""),
        clock=clock,
        free_mb=free_mb,
        listeners=tuple(
            Listener(protocol, port, users.get(holder, holder))
            for protocol, port, holder in sockets
        ),
    )


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _socket(line: str) -> list[tuple[str, int, str]]:
    """(protocol, port, holder) from one line of `ss -lntupe`; holder is the program's
    name, else the owner's uid (ss leaves root's out: "root")."""
    fields = line.split()
    if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
        return []
    port_text = fields[4].rpartition(":")[2]
    if not port_text.isdigit():
        return []
    rest = " ".join(fields[6:])
    if 'users:(("' in rest:
        holder = rest.split('users:(("', 1)[1].split('"', 1)[0]
    else:
        uid = next((f[4:] for f in fields[6:] if f.startswith("uid:")), None)
        holder = uid if uid is not None else "root"
    return [(fields[0], int(port_text), holder)]


def default_heap_mb(component: str, memtotal_mb: int) -> int:
    if component == "elasticsearch":
        return min(memtotal_mb // 2, ES_HEAP_CAP_MB)
    return GRAYLOG_DEFAULT_HEAP_MB


def memory_problem(plan: HostPlan, memtotal_mb: int) -> str | None:
    """None when the heaps of what this host runs fit its memory, else why not."""
    parts = []
    needed = RESERVED_MB
    for component, asked in plan.heaps_mb.items():
        if component in plan.unresolved_components():
            continue
        heap = default_heap_mb(component, memtotal_mb) if asked is None else asked
        how = " (default)" if asked is None else ""
        parts.append(f"{component} heap {heap} MiB{how}")
        needed += heap
    if needed <= memtotal_mb:
        return None
    return (
        f"{plan.name} has {memtotal_mb} MiB of memory but needs {needed} MiB "
        f"({' + '.join(parts)} + {RESERVED_MB} MiB for the system); "
        "lower elasticsearch_heap_size/graylog_heap_size or add memory"
    )


def os_problem(host: str, facts: HostFacts) -> str | None:
    if (facts.distribution, facts.version) == SUPPORTED:
        return None
    name = facts.pretty_name or f"{facts.distribution} {facts.version}"
    return f"{host} runs {name}, not Ubuntu 16.04, the only system the roles support"


def disk_problem(plan: HostPlan, facts: HostFacts) -> str | None:
    needed = host_needs.disk_need_mb(plan.components)
    if facts.free_mb is None or not needed or facts.free_mb >= needed:
        return None
    return (
        f"{plan.name} has {facts.free_mb} MiB free in {host_needs.DATA_PATH} but "
        f"{', '.join(c for c in plan.components if c in host_needs.DISK_MB)} need at "
        f"least {needed} MiB; free some space or grow the disk"
    )


def port_problems(plan: HostPlan, facts: HostFacts) -> list[str]:
    """Ports a service of this host needs that another program already holds."""
    problems = []
    for need in plan.ports:
        holders = {
            listener.holder
            for listener in facts.listeners
            if (listener.protocol, listener.port) == (need.protocol, need.port)
        }
        foreign = sorted(holders - set(need.holders))
        if foreign:
            problems.append(
                f"{plan.name}: port {need.port}/{need.protocol}, needed by {need.service}, "
                f"is held by {', '.join(foreign)}; stop it or move the port"
            )
    return problems


def clock_problem(facts: Mapping[str, HostFacts]) -> str | None:
    """None when every host's clock is within MAX_CLOCK_SKEW of the others'."""
    offsets = {h: f.clock_offset() for h, f in facts.items()}
    known = {h: o for h, o in offsets.items() if o is not None}
    if len(known) < 2:
        return None
    ahead = max(known, key=lambda h: known[h])
    behind = min(known, key=lambda h: known[h])
    skew = known[ahead] - known[behind]
    if skew <= MAX_CLOCK_SKEW:
        return None
    return (
        f"clocks differ by {skew:.0f} s ({ahead} ahead of {behind}; at most "
        f"{MAX_CLOCK_SKEW:.0f} s allowed): synchronise them (timedatectl set-ntp true)"
    )


def evaluate(
    topology: Topology,
    facts: Mapping[str, HostFacts],
    errors: Mapping[str, str],
) -> list[str]:
    """Every problem found, one sentence each; an empty list means go ahead."""
    problems = [f"{host}: {why}" for host, why in errors.items()]
    for host in topology.hosts:
        if host in errors:
            continue
        if host not in facts:
            problems.append(f"{host}: no facts returned")
            continue
        plan, found = topology.hosts[host], facts[host]
        problems.append(os_problem(host, found) or "")
        problems.append(memory_problem(plan, found.memtotal_mb) or "")
        problems.append(disk_problem(plan, found) or "")
        problems.extend(port_problems(plan, found))
    problems.append(clock_problem({h: f for h, f in facts.items() if h in topology.hosts}) or "")
    return [p for p in problems if p]


class FactCollector:
    """Event handler keeping each host's facts or the reason it gave none."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.facts: dict[str, HostFacts] = {}
        self.errors: dict[str, str] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        about_a_host = runner.host_event(event)
        if about_a_host is None:
            return
        host, kind, result = about_a_host
        if kind == "runner_on_ok":
            try:
                found = parse_probe(str(result.get("stdout") or ""))
                # Events arrive as the hosts answer: the moment stands for "now" on
                # this machine, to compare each host's clock against.
                self.facts[host] = replace(found, received=self.clock())
            except ValueError:
                self.errors[host] = "cannot read /etc/os-release and /proc/meminfo"
        elif kind == "runner_on_unreachable":
            self.errors[host] = f"unreachable: {_message(result)}"
        elif kind == "runner_on_failed":
            self.errors[host] = f"probe failed: {_message(result)}"


def _message(result: Mapping[str, Any]) -> str:
    text = result.get("msg") or result.get("stderr") or result.get("stdout") or ""
    return " ".join(str(text).split()) or "no message"


def run_preflight(
    inventory: Path,
    topology: Topology,
    run_dir: Path,
    redactor: Redactor,
    report: Callable[[str], None],
) -> dict[str, HostFacts]:
    report(
        f"Preflight: checking {len(topology.hosts)} host(s) "
        "(reachable, OS, memory, disk, ports, clocks)"
    )
    collector = FactCollector()
    outcome = runner.run_module(inventory, "raw", PROBE, run_dir, redactor, collector)
    for plan in topology.hosts.values():
        if plan.unresolved:
            report(f"  note: {', '.join(plan.unresolved)} on {plan.name} use facts; not checked")
    problems = evaluate(topology, collector.facts, collector.errors)
    if not problems and not outcome.ok:
        problems = [f"fact gathering exited with code {outcome.rc}"]
    if problems:
        summary = "; ".join(problems)
        raise InstallerError(
            f"preflight failed, no host was changed: {summary} (log: {outcome.log_path})"
        )
    return collector.facts
