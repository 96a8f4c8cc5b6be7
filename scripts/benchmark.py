"""Wall time of a fresh converge, a no-op re-run and a 1 -> 3 scale-out of playbooks/site.yml.

Each run converges a new Ubuntu 16.04 container from the test-bed image twice (the second
run is how cheap a re-run is), then adds two new containers to the inventory, every host
all-in-one, and converges again (how long growing a node into a cluster takes). Prints
every run, then the medians and the ratios of the medians to the fresh converge.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from graylog_installer import paths, secrets_store
from graylog_installer.sandbox import build_testbed, container
from graylog_installer.sandbox.host_tools import run

REPO = Path(__file__).resolve().parents[1]
RECAP_CHANGED = re.compile(r"changed=(\d+)")


def write_inventory(
    directory: Path, hosts_in_stack: list[str], mirror_line: str, mirror_key: str
) -> Path:
    hosts = {
        "all": {
            "vars": {
                "ansible_connection": "community.docker.docker",
                "ansible_python_interpreter": "/usr/bin/python2.7",
                "package_mirror_repository": mirror_line,
                "package_mirror_key": mirror_key,
                "elasticsearch_heap_size": "512m",
                "graylog_heap_size": "768m",
            },
            "children": {
                group: {"hosts": dict.fromkeys(hosts_in_stack)}
                for group in ("graylog", "elasticsearch", "mongodb")
            },
        }
    }
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(hosts))
    return path


def write_secrets(directory: Path) -> Path:
    path = directory / "secrets.yml"
    secrets_store.save(path, secrets_store.generate())
    return path


def timed_converge(inventory: Path, secrets_file: Path) -> tuple[float, int]:
    """Seconds taken and the number of changed tasks in the play recap."""
    env = dict(os.environ, **paths.ansible_env())
    started = time.monotonic()
    completed = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "-e", f"@{secrets_file}",
         str(REPO / "playbooks/site.yml")],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-15:])
        sys.exit(f"benchmark: converge failed:\n{tail}")
    changed = sum(int(n) for n in RECAP_CHANGED.findall(completed.stdout.split("PLAY RECAP")[-1]))
    return elapsed, changed


def one_run(index: int, testbed) -> tuple[float, float, float]:
    hosts = [f"graylog-installer-bench-{index}-{n}" for n in (1, 2, 3)]
    for host in hosts:
        subprocess.run(["docker", "rm", "-f", host], capture_output=True, check=False)
        container.ensure_host(host, testbed.image, testbed.mirror.directory)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            mirror = (testbed.mirror.apt_line, testbed.mirror.public_key)
            secrets_file = write_secrets(directory)
            single = write_inventory(directory, hosts[:1], *mirror)
            fresh, _ = timed_converge(single, secrets_file)
            rerun, changed = timed_converge(single, secrets_file)
            if changed:
                sys.exit(f"benchmark: the re-run changed {changed} tasks; it must change none")
            scale_out, _ = timed_converge(write_inventory(directory, hosts, *mirror), secrets_file)
            return fresh, rerun, scale_out
    finally:
        run(["docker", "rm", "-f", *hosts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    runs = parser.parse_args().runs
    testbed = build_testbed(lambda line: print(f"# {line}", file=sys.stderr))
    print(
        f"{'run':>3}  {'fresh converge':>15}  {'no-op re-run':>13}  {'re-run/fresh':>12}"
        f"  {'scale-out 1->3':>15}  {'scale-out/fresh':>15}"
    )
    results = []
    for index in range(1, runs + 1):
        fresh, rerun, scale_out = one_run(index, testbed)
        results.append((fresh, rerun, scale_out))
        print(
            f"{index:>3}  {fresh:>14.1f}s  {rerun:>12.1f}s  {rerun / fresh:>12.2f}"
            f"  {scale_out:>14.1f}s  {scale_out / fresh:>15.2f}",
            flush=True,
        )
    fresh_median, rerun_median, scale_median = (
        statistics.median(column) for column in zip(*results, strict=True)
    )
    print(
        f"median of {runs}: fresh converge {fresh_median:.1f}s, no-op re-run {rerun_median:.1f}s,"
        f" re-run/fresh {rerun_median / fresh_median:.2f}, scale-out 1->3 {scale_median:.1f}s,"
        f" scale-out/fresh {scale_median / fresh_median:.2f}"
    )


if __name__ == "__main__":
    main()
