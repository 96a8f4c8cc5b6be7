"""Wall time of the floor, a fresh converge, a no-op re-run and a fresh 3-host converge.

Each run, on new containers from the test-bed image and its mirror:
- the floor: scripts/floor_install.sh installs the roles' packages in one apt-get
  transaction, configures just enough and starts the services, with no checks, until
  nginx answers ALIVE for Graylog: what a converge costs beyond it is the roles' own;
- a fresh converge of playbooks/site.yml on one host, then a re-run that must change
  nothing (how cheap checking for drift is);
- a fresh converge of three hosts, each all-in-one, as a cluster.
Prints every run, then the medians and the ratios of the medians.

With --ingest it measures ingest instead: the role's tuned settings against the package's
defaults on one container (see ingest_benchmark.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import ingest_benchmark
from bench_stack import timed_converge, timed_floor, write_inventory, write_secrets

from graylog_installer.sandbox import build_testbed, container
from graylog_installer.sandbox.host_tools import run


def fresh_hosts(names: list[str], testbed) -> None:
    for host in names:
        subprocess.run(["docker", "rm", "-f", host], capture_output=True, check=False)
        container.ensure_host(host, testbed.image, testbed.mirror.directory)


def one_run(index: int, testbed) -> dict[str, float]:
    """The floor, a fresh converge and a no-op re-run of one host, and a fresh 3-node converge."""
    prefix = f"graylog-installer-bench-{index}"
    floor_host, single = f"{prefix}-floor", f"{prefix}-1"
    cluster = [f"{prefix}-c{n}" for n in (1, 2, 3)]
    mirror = (testbed.mirror.apt_line, testbed.mirror.public_key)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            secrets_file = write_secrets(directory)
            fresh_hosts([floor_host], testbed)
            floor = timed_floor(floor_host, *mirror, secrets_file)
            run(["docker", "rm", "-f", floor_host])
            fresh_hosts([single], testbed)
            inventory = write_inventory(directory / "single", [single], *mirror)
            fresh, _ = timed_converge(inventory, secrets_file)
            rerun, changed = timed_converge(inventory, secrets_file)
            if changed:
                sys.exit(f"benchmark: the re-run changed {changed} tasks; it must change none")
            run(["docker", "rm", "-f", single])
            fresh_hosts(cluster, testbed)
            three, _ = timed_converge(
                write_inventory(directory / "three", cluster, *mirror), secrets_file
            )
            return {"floor": floor, "fresh": fresh, "rerun": rerun, "three": three}
    finally:
        run(["docker", "rm", "-f", floor_host, single, *cluster])


COLUMNS = (  # heading, figure
    ("floor", lambda r: f"{r['floor']:.1f}s"),
    ("fresh converge", lambda r: f"{r['fresh']:.1f}s"),
    ("no-op re-run", lambda r: f"{r['rerun']:.1f}s"),
    ("3 hosts fresh", lambda r: f"{r['three']:.1f}s"),
    ("fresh/floor", lambda r: f"{r['fresh'] / r['floor']:.2f}"),
    ("re-run/fresh", lambda r: f"{r['rerun'] / r['fresh']:.2f}"),
    ("3 hosts/1 host", lambda r: f"{r['three'] / r['fresh']:.2f}"),
)


def print_row(label: str, figures: dict[str, float]) -> None:
    cells = "  ".join(f"{shape(figures):>{len(heading)}}" for heading, shape in COLUMNS)
    print(f"{label:>9}  {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    parser.add_argument(
        "--ingest", action="store_true",
        help="measure ingest rates, tuned settings against the package's defaults, instead",
    )  # fmt: skip
    parser.add_argument(
        "--steady-seconds", type=int, default=30,
        help="--ingest: seconds each GELF TCP rate is held",
    )  # fmt: skip
    args = parser.parse_args()
    testbed = build_testbed(lambda line: print(f"# {line}", file=sys.stderr))
    if args.ingest:
        ingest_benchmark.run_ingest(testbed, args.runs, args.steady_seconds)
        return
    print(f"{'run':>9}  " + "  ".join(heading for heading, _ in COLUMNS))
    results = []
    for index in range(1, args.runs + 1):
        results.append(one_run(index, testbed))
        print_row(str(index), results[-1])
    medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print_row(f"median {args.runs}", medians)


if __name__ == "__main__":
    main()
