#!/usr/bin/python
"""dpkg's list of fully installed packages as the fact ``packages`` (site.yml).

package_facts opens apt's cache, which takes ten times as long as asking dpkg. A
module, not a command and a set_fact: its result is the fact alone, with no
registered output or host variable copied into every task's variables after it.
Runs on the host's Python 2.7.
"""

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: dpkg_packages
short_description: Report the packages dpkg has installed in full, as package_facts would.
description:
  - Sets the fact C(packages) in the shape of ansible.builtin.package_facts, a dict of
    package name to a list of one dict with C(name), C(version), C(arch) and C(source).
  - Packages that are unpacked, half-installed or removed with their configuration
    kept are left out.
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Read the installed packages
  dpkg_packages:
"""

RETURN = r"""
ansible_facts:
  description: The fact packages.
  returned: always
  type: dict
"""

SHOW_FORMAT = "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Status}\\n"


def installed(listing):
    packages = {}
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) == 4 and fields[3] == "installed":
            name, version, arch = fields[:3]
            packages[name] = [{"name": name, "version": version, "arch": arch, "source": "apt"}]
    return packages


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    rc, out, err = module.run_command(["dpkg-query", "--show", "--showformat=" + SHOW_FORMAT])
    if rc != 0:
        module.fail_json(msg="dpkg-query failed: " + err.strip(), rc=rc)
    module.exit_json(changed=False, ansible_facts={"packages": installed(out)})


if __name__ == "__main__":
    main()
