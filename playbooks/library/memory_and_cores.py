#!/usr/bin/python
"""The host's memory and logical processors as the facts memtotal_mb and processor_vcpus.

The roles read only these two of setup's hardware facts (the heap and thread defaults).
setup's hardware subset also walks every mount, block device and DMI table: about 0.25 s
of every run, where reading two files takes a few milliseconds. The values are setup's:
MemTotal in MiB, rounded down, and one processor per "processor" entry of /proc/cpuinfo.
Runs on the host's Python 2.7.
"""

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: memory_and_cores
short_description: Report the host's memory and logical processors, as setup's hardware facts would.
description:
  - Sets the facts C(memtotal_mb) and C(processor_vcpus) from /proc/meminfo and
    /proc/cpuinfo, with the values ansible.builtin.setup gives them on Linux.
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Read the memory and the cores
  memory_and_cores:
"""

RETURN = r"""
ansible_facts:
  description: The facts memtotal_mb and processor_vcpus.
  returned: always
  type: dict
"""


def memtotal_mb(meminfo):
    for line in meminfo.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "MemTotal:":
            return int(fields[1]) // 1024
    return None


def processor_vcpus(cpuinfo):
    return sum(1 for line in cpuinfo.splitlines() if line.split(":")[0].strip() == "processor")


def read(path):
    with open(path) as source:
        return source.read()


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    try:
        memory, cores = memtotal_mb(read("/proc/meminfo")), processor_vcpus(read("/proc/cpuinfo"))
    # On the host's Python 2.7 a failed open raises IOError, which is no OSError there.
    except (IOError, OSError, ValueError) as error:  # noqa: UP024
        module.fail_json(msg="cannot read the memory and processors: " + str(error))
    if not memory or not cores:
        module.fail_json(msg="/proc/meminfo or /proc/cpuinfo names no memory or processor")
    module.exit_json(changed=False, ansible_facts={"memtotal_mb": memory, "processor_vcpus": cores})


if __name__ == "__main__":
    main()
