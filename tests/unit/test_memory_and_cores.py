"""site.yml's read of the memory and cores: setup's memtotal_mb and processor_vcpus."""

from __future__ import annotations

from conftest import load_plugin

module = load_plugin("playbooks/library/memory_and_cores.py")

MEMINFO = "MemTotal:       24684084 kB\nMemFree:        20000000 kB\nMemAvailable:   22000000 kB\n"
CPUINFO = "".join(
    f"processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\ncpu cores\t: 2\n\n"
    for n in range(2)
)


def test_memtotal_is_in_mib_rounded_down_as_setup_gives_it():
    # 24684084 kB: the 24105 MiB that setup reported on the same host.
    assert module.memtotal_mb(MEMINFO) == 24105


def test_only_memtotal_counts_not_free_or_available_memory():
    assert module.memtotal_mb("MemFree:  1024 kB\n") is None


def test_each_processor_entry_is_one_vcpu():
    assert module.processor_vcpus(CPUINFO) == 2


def test_fields_that_merely_mention_processor_are_not_counted():
    assert module.processor_vcpus("model name\t: Intel processor\nprocessor\t: 0\n") == 1
