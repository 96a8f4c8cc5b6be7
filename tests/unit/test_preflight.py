"""Preflight's reading of host probes and its reachability, OS and memory rules."""

from __future__ import annotations

from pathlib import Path

from conftest import write_inventory

from graylog_installer.inventory import load_inventory
from graylog_installer.preflight import (
    FactCollector,
    HostFacts,
    evaluate,
    memory_problem,
    parse_probe,
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
        "es2 runs Debian GNU/Linux 12 (bookworm), not Ubuntu 16.04 "
        "(pass --allow-other-os to try anyway)",
    ]


def test_allow_other_os_skips_only_the_os_rule(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    facts = {"gl1": UBUNTU_4G, "es2": HostFacts("debian", "12", 8000), "es3": UBUNTU_4G}
    assert evaluate(topo, facts, {}, allow_other_os=True) == []
    small = {**facts, "es3": HostFacts("debian", "12", 600)}
    assert "es3 has 600 MiB" in evaluate(topo, small, {}, allow_other_os=True)[0]


def test_host_without_result_is_a_problem(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    problems = evaluate(topo, {"gl1": UBUNTU_4G, "es2": UBUNTU_4G}, {})
    assert problems == ["es3: no facts returned"]


def test_collector_reads_runner_events() -> None:
    collect = FactCollector()
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
    assert collect.facts == {"a": UBUNTU_4G}
    assert collect.errors == {
        "b": "unreachable: Failed to connect to the host via ssh",
        "c": "probe failed: non-zero return code",
        "d": "cannot read /etc/os-release and /proc/meminfo",
    }
