"""Read-only checks on the hosts themselves, after validation and before the playbook.

One ad-hoc run answers three questions per host: can Ansible reach it, is it Ubuntu
16.04, and does it have memory for the heaps it will run. It uses the ``raw`` module
(reading /etc/os-release and /proc/meminfo) rather than ``setup``: a fresh Ubuntu 16.04
host has no Python 2.7 until site.yml's bootstrap play installs it, and preflight must
not install anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graylog_installer import runner
from graylog_installer.errors import InstallerError
from graylog_installer.redact import Redactor
from graylog_installer.validation import HostPlan, Topology

SUPPORTED = ("ubuntu", "16.04")  # os-release ID and VERSION_ID
RESERVED_MB = 512  # the OS, MongoDB and nginx live here
ES_HEAP_CAP_MB = 31 * 1024  # above this the JVM loses compressed object pointers
GRAYLOG_DEFAULT_HEAP_MB = 1024
PROBE = "cat /etc/os-release; echo; grep '^MemTotal:' /proc/meminfo"


@dataclass(frozen=True)
class HostFacts:
    distribution: str  # os-release ID, e.g. ubuntu
    version: str  # os-release VERSION_ID, e.g. 16.04
    memtotal_mb: int
    pretty_name: str = ""


def parse_probe(output: str) -> HostFacts:
    """Facts from the probe's output (os-release lines, then the MemTotal line)."""
    release: dict[str, str] = {}
    memtotal_kb = None
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
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
    )


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
    return f"{host} runs {name}, not Ubuntu 16.04 (pass --allow-other-os to try anyway)"


def evaluate(
    topology: Topology,
    facts: Mapping[str, HostFacts],
    errors: Mapping[str, str],
    allow_other_os: bool = False,
) -> list[str]:
    """Every problem found, one sentence each; an empty list means go ahead."""
    problems = [f"{host}: {why}" for host, why in errors.items()]
    for host in topology.hosts:
        if host in errors:
            continue
        if host not in facts:
            problems.append(f"{host}: no facts returned")
            continue
        if not allow_other_os:
            problems.append(os_problem(host, facts[host]) or "")
        problems.append(memory_problem(topology.hosts[host], facts[host].memtotal_mb) or "")
    return [p for p in problems if p]


class FactCollector:
    """Event handler keeping each host's facts or the reason it gave none."""

    def __init__(self) -> None:
        self.facts: dict[str, HostFacts] = {}
        self.errors: dict[str, str] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        data = event.get("event_data") or {}
        host = data.get("host")
        result = data.get("res") or {}
        kind = event.get("event")
        if not host:
            return
        if kind == "runner_on_ok":
            try:
                self.facts[str(host)] = parse_probe(str(result.get("stdout") or ""))
            except ValueError:
                self.errors[str(host)] = "cannot read /etc/os-release and /proc/meminfo"
        elif kind == "runner_on_unreachable":
            self.errors[str(host)] = f"unreachable: {_message(result)}"
        elif kind == "runner_on_failed":
            self.errors[str(host)] = f"probe failed: {_message(result)}"


def _message(result: Mapping[str, Any]) -> str:
    text = result.get("msg") or result.get("stderr") or result.get("stdout") or ""
    return " ".join(str(text).split()) or "no message"


def run_preflight(
    inventory: Path,
    topology: Topology,
    run_dir: Path,
    redactor: Redactor,
    report: Callable[[str], None],
    allow_other_os: bool = False,
) -> dict[str, HostFacts]:
    report(f"Preflight: checking {len(topology.hosts)} host(s) (reachable, OS, memory)")
    collector = FactCollector()
    outcome = runner.run_module(inventory, "raw", PROBE, run_dir, redactor, collector)
    for plan in topology.hosts.values():
        if plan.unresolved:
            report(f"  note: {', '.join(plan.unresolved)} on {plan.name} use facts; not checked")
    problems = evaluate(topology, collector.facts, collector.errors, allow_other_os)
    if not problems and not outcome.ok:
        problems = [f"fact gathering exited with code {outcome.rc}"]
    if problems:
        summary = "; ".join(problems)
        raise InstallerError(
            f"preflight failed, nothing was changed: {summary} (log: {outcome.log_path})"
        )
    return collector.facts
