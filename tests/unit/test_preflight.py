"""Preflight's reading of host probes and its reachability, OS, memory, disk, port and
clock rules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import write_inventory

from graylog_installer.host_needs import port_needs
from graylog_installer.inventory import load_inventory
from graylog_installer.preflight import (
    PROBE,
    FactCollector,
    HostFacts,
    Listener,
    clock_problem,
    disk_problem,
    evaluate,
    memory_problem,
    parse_probe,
    port_problems,
)
from graylog_installer.validation import HostPlan, validate

XENIAL = """NAME="Ubuntu"
VERSION="16.04.7 LTS (Xenial Xerus)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 16.04.7 LTS"
VERSION_ID="16.04"

MemTotal:        4046844 kB
"""
UBUNTU_4G = HostFacts("ubuntu", "16.04", 3951, "Ubuntu 16.04.7 LTS")


def plan(heaps: dict[str, int | None], unresolved: tuple[str, ...] = ()) -> HostPlan:
    return HostPlan("gl1", "10.0.0.1", tuple(heaps), heaps, unresolved)


def test_probe_output_is_parsed() -> None:
    assert parse_probe(XENIAL) == UBUNTU_4G


def test_probe_without_os_release_is_rejected() -> None:
    try:
        parse_probe("MemTotal: 1000 kB\n")
    except ValueError as exc:
        assert "os-release" in str(exc)
    else:
        raise AssertionError("parse_probe accepted output without os-release")


def test_default_heaps_fit_four_gigabytes() -> None:
    # ES default: half of 3951 = 1975 MiB; Graylog 1024; system 512 -> 3511 <= 3951.
    assert memory_problem(plan({"elasticsearch": None, "graylog": None}), 3951) is None


def test_default_heaps_do_not_fit_two_gigabytes() -> None:
    problem = memory_problem(plan({"elasticsearch": None, "graylog": None}), 2000)
    assert problem is not None
    assert "gl1 has 2000 MiB of memory but needs 2536 MiB" in problem
    assert "elasticsearch heap 1000 MiB (default)" in problem
    assert "graylog heap 1024 MiB (default)" in problem


def test_explicit_heaps_are_summed() -> None:
    assert memory_problem(plan({"elasticsearch": 768, "graylog": 512}), 2000) is None
    assert memory_problem(plan({"elasticsearch": 1024, "graylog": 1024}), 2000) is not None


def test_elasticsearch_default_heap_is_capped() -> None:
    # 128 GiB: the default ES heap stays at 31 GiB, so it fits easily.
    assert memory_problem(plan({"elasticsearch": None}), 131072) is None


def test_unresolved_heap_is_not_counted() -> None:
    host = plan({"elasticsearch": None, "graylog": 4096}, ("graylog_heap_size",))
    assert memory_problem(host, 2000) is None


def _topology(tmp_path: Path):
    hosts = """
    all:
      children:
        graylog:
          hosts:
            gl1:
        elasticsearch:
          hosts:
            gl1:
            es2:
            es3:
        mongodb:
          hosts:
            gl1:
    """
    return validate(load_inventory(write_inventory(tmp_path / "inv", hosts)))


def test_evaluate_collects_every_problem(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    facts = {
        "gl1": UBUNTU_4G,
        "es2": HostFacts("debian", "12", 8000, "Debian GNU/Linux 12 (bookworm)"),
    }
    problems = evaluate(topo, facts, {"es3": "unreachable: ssh: Connection refused"})
    assert problems == [
        "es3: unreachable: ssh: Connection refused",
        "es2 runs Debian GNU/Linux 12 (bookworm), not Ubuntu 16.04, "
        "the only system the roles support",
    ]


def test_host_without_result_is_a_problem(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    problems = evaluate(topo, {"gl1": UBUNTU_4G, "es2": UBUNTU_4G}, {})
    assert problems == ["es3: no facts returned"]


def test_collector_reads_runner_events() -> None:
    collect = FactCollector(clock=lambda: 1000.0)
    collect({"event": "runner_on_ok", "event_data": {"host": "a", "res": {"stdout": XENIAL}}})
    collect(
        {
            "event": "runner_on_unreachable",
            "event_data": {"host": "b", "res": {"msg": "Failed to connect to the host via ssh"}},
        }
    )
    collect(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "c", "res": {"msg": "non-zero return code", "rc": 127}},
        }
    )
    collect({"event": "runner_on_ok", "event_data": {"host": "d", "res": {"stdout": "garbage"}}})
    collect({"event": "playbook_on_stats", "event_data": {}})
    assert collect.facts == {"a": replace(UBUNTU_4G, received=1000.0)}
    assert collect.errors == {
        "b": "unreachable: Failed to connect to the host via ssh",
        "c": "probe failed: non-zero return code",
        "d": "cannot read /etc/os-release and /proc/meminfo",
    }


# What the probe prints on an installed all-in-one host (ss's padding squeezed): ss as
# root sees nginx's program name; graylog's and mongodb's sockets only by their uid.
INSTALLED = (
    XENIAL
    + """CLOCK 1795756765.071532731
DF overlay 264212084 18659628 76841636 20% /
LISTEN udp UNCONN 0 0 *:514 *:* uid:109 ino:1 sk:1 <->
LISTEN tcp LISTEN 0 4096 127.0.0.1:12900 *:* uid:109 ino:2 sk:2 <->
LISTEN tcp LISTEN 0 511 *:80 *:* users:(("nginx",pid=8704,fd=6)) ino:3 sk:3 <->
LISTEN tcp LISTEN 0 128 127.0.0.1:27017 *:* uid:107 ino:4 sk:4 <->
LISTEN tcp LISTEN 0 511 :::80 :::* users:(("nginx",pid=8704,fd=7)) ino:5 sk:5 <->
USER graylog:x:109:110::/var/lib/graylog-server:/bin/false
USER mongodb:x:107:65534::/var/lib/mongodb:/bin/false
"""
)
ALL_IN_ONE = ("graylog", "elasticsearch", "mongodb")


def host_plan(components: tuple[str, ...] = ALL_IN_ONE, **variables: object) -> HostPlan:
    ports = port_needs(components, variables.get)
    return HostPlan("gl1", "10.0.0.1", components, {}, (), ports)


def test_probe_reads_clock_disk_and_listeners() -> None:
    facts = parse_probe(INSTALLED)
    assert facts.clock == 1795756765.071532731
    assert facts.free_mb == 76841636 // 1024
    assert Listener("udp", 514, "graylog") in facts.listeners
    assert Listener("tcp", 80, "nginx") in facts.listeners
    assert Listener("tcp", 27017, "mongodb") in facts.listeners


def test_probe_command_tags_what_it_prints() -> None:
    for tag in ("CLOCK", "DF", "LISTEN", "USER"):
        assert f"s/^/{tag} /" in PROBE or f"echo {tag}" in PROBE


def test_our_own_services_on_their_ports_are_no_problem() -> None:
    assert port_problems(host_plan(), parse_probe(INSTALLED)) == []


def test_a_port_held_by_another_program_is_a_problem() -> None:
    apache = XENIAL + (
        'LISTEN tcp LISTEN 0 128 *:80 *:* users:(("apache2",pid=1,fd=3)) ino:1 sk:1\n'
        "LISTEN tcp LISTEN 0 128 *:27017 *:* uid:1000 ino:2 sk:2\n"
    )
    problems = port_problems(host_plan(), parse_probe(apache))
    assert problems == [
        "gl1: port 80/tcp, needed by nginx, is held by apache2; stop it or move the port",
        "gl1: port 27017/tcp, needed by mongodb, is held by 1000; stop it or move the port",
    ]


def test_a_moved_port_is_checked_where_it_moved() -> None:
    facts = parse_probe(XENIAL + "LISTEN udp UNCONN 0 0 *:1514 *:* uid:1000 ino:1 sk:1\n")
    assert port_problems(host_plan(), facts) == []
    moved = port_problems(host_plan(graylog_syslog_port=1514), facts)
    assert moved and "port 1514/udp, needed by graylog-server (syslog)" in moved[0]


def test_a_load_balancer_needs_its_entry_ports() -> None:
    facts = parse_probe(XENIAL + "LISTEN tcp LISTEN 0 128 *:12201 *:* uid:1000 ino:1 sk:1\n")
    problems = port_problems(host_plan(("loadbalancer",)), facts)
    assert problems and "12201/tcp, needed by haproxy (GELF TCP)" in problems[0]


def test_too_little_disk_for_the_data_is_a_problem() -> None:
    facts = replace(UBUNTU_4G, free_mb=3000)
    problem = disk_problem(host_plan(), facts)
    assert problem is not None and "3000 MiB free in /var/lib" in problem
    assert "at least 4096 MiB" in problem
    assert disk_problem(host_plan(("elasticsearch",)), facts) is None


def test_clocks_apart_are_a_problem_and_close_ones_are_not() -> None:
    def at(offset: float) -> HostFacts:
        return replace(UBUNTU_4G, clock=1000.0 + offset, received=1000.0)

    assert clock_problem({"a": at(0.0), "b": at(2.5), "c": at(-1.0)}) is None
    problem = clock_problem({"a": at(0.0), "b": at(42.0), "c": at(-1.0)})
    assert problem is not None and "differ by 43 s (b ahead of c" in problem
    assert clock_problem({"a": at(1000.0)}) is None  # one host: nothing to agree with


def test_every_port_variable_is_read_from_the_inventory() -> None:
    from graylog_installer import host_needs
    from graylog_installer.inventory import INSTALLER_VARS

    moved_by = {name for needs in host_needs._PORTS.values() for name, *_ in needs if name}
    assert moved_by and moved_by <= set(INSTALLER_VARS)


def test_evaluate_reports_disk_ports_and_clocks(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    busy = parse_probe(XENIAL + "LISTEN tcp LISTEN 0 128 *:9300 *:* uid:1000 ino:1 sk:1\n")
    facts = {
        "gl1": replace(UBUNTU_4G, free_mb=100, clock=1000.0, received=1000.0),
        "es2": replace(busy, clock=1090.0, received=1000.0),
        "es3": replace(UBUNTU_4G, clock=1000.0, received=1000.0),
    }
    problems = evaluate(topo, facts, {})
    assert any("gl1 has 100 MiB free" in p for p in problems)
    assert any("es2: port 9300/tcp" in p and "held by 1000" in p for p in problems)
    assert any("clocks differ by 90 s (es2 ahead of" in p for p in problems)
    assert len(problems) == 3
