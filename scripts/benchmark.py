"""Wall time of the floor, a fresh converge, a no-op re-run and a fresh 3-host converge.

Each run, on new containers from the test-bed image and its mirror:
- the floor: scripts/floor_install.sh installs the roles' packages in one apt-get
  transaction, configures just enough and starts the services, with no checks, until
  nginx answers ALIVE for Graylog: what a converge costs beyond it is the roles' own;
- a fresh converge of playbooks/site.yml on one host, then a re-run that must change
  nothing (how cheap checking for drift is);
- the floor on three containers at once: the 3-host baseline of this machine, which
  runs all three on the same cores;
- a fresh converge of three hosts, each all-in-one, as a cluster;
- with --stock, also a fresh converge and a no-op re-run of one host under stock
  Ansible's linear strategy instead of Mitogen's: what Mitogen buys, in the same run.
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


def fresh_and_rerun(
    host: str, directory: Path, testbed, secrets_file: Path, strategy: str = ""
) -> tuple[float, float]:
    """Seconds of a fresh converge of HOST alone and of the re-run, which must change nothing."""
    mirror = (testbed.mirror.apt_line, testbed.mirror.public_key)
    fresh_hosts([host], testbed)
    inventory = write_inventory(directory / host, [host], *mirror)
    fresh, _ = timed_converge(inventory, secrets_file, strategy=strategy)
    rerun, changed = timed_converge(inventory, secrets_file, strategy=strategy)
    if changed:
        sys.exit(f"benchmark: the re-run changed {changed} tasks; it must change none")
    run(["docker", "rm", "-f", host])
    return fresh, rerun


def one_run(index: int, testbed, stock: bool) -> dict[str, float]:
    """The floor, a fresh converge and a no-op re-run of one host; the floor on three hosts
    at once and a fresh 3-node converge."""
    prefix = f"graylog-installer-bench-{index}"
    floor_host, single, stock_host = f"{prefix}-floor", f"{prefix}-1", f"{prefix}-stock"
    cluster = [f"{prefix}-c{n}" for n in (1, 2, 3)]
    floor_hosts = [f"{prefix}-floor{n}" for n in (1, 2, 3)]
    mirror = (testbed.mirror.apt_line, testbed.mirror.public_key)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            secrets_file = write_secrets(directory)
            fresh_hosts([floor_host], testbed)
            floor = timed_floor([floor_host], *mirror, secrets_file)
            run(["docker", "rm", "-f", floor_host])
            fresh_hosts(floor_hosts, testbed)
            three_floors = timed_floor(floor_hosts, *mirror, secrets_file)
            run(["docker", "rm", "-f", *floor_hosts])
            fresh, rerun = fresh_and_rerun(single, directory, testbed, secrets_file)
            fresh_hosts(cluster, testbed)
            three, _ = timed_converge(
                write_inventory(directory / "three", cluster, *mirror), secrets_file
            )
            run(["docker", "rm", "-f", *cluster])
            figures = {"floor": floor, "fresh": fresh, "rerun": rerun}
            figures |= {"three floors": three_floors, "three": three}
            if stock:
                figures["stock fresh"], figures["stock rerun"] = fresh_and_rerun(
                    stock_host, directory, testbed, secrets_file, strategy="linear"
                )
            return figures
    finally:
        run(["docker", "rm", "-f", floor_host, *floor_hosts, single, stock_host, *cluster])


COLUMNS = (  # heading, figure
    ("floor", lambda r: f"{r['floor']:.1f}s"),
    ("fresh converge", lambda r: f"{r['fresh']:.1f}s"),
    ("no-op re-run", lambda r: f"{r['rerun']:.1f}s"),
    ("3 floors", lambda r: f"{r['three floors']:.1f}s"),
    ("3 hosts fresh", lambda r: f"{r['three']:.1f}s"),
    ("fresh/floor", lambda r: f"{r['fresh'] / r['floor']:.2f}"),
    ("re-run/fresh", lambda r: f"{r['rerun'] / r['fresh']:.2f}"),
    ("3 hosts/1 host", lambda r: f"{r['three'] / r['fresh']:.2f}"),
    ("3 floors/floor", lambda r: f"{r['three floors'] / r['floor']:.2f}"),
    ("3 hosts/3 floors", lambda r: f"{r['three'] / r['three floors']:.2f}"),
)
STOCK_COLUMNS = (  # with --stock
    ("stock fresh", lambda r: f"{r['stock fresh']:.1f}s"),
    ("stock re-run", lambda r: f"{r['stock rerun']:.1f}s"),
    ("fresh/stock", lambda r: f"{r['fresh'] / r['stock fresh']:.2f}"),
    ("re-run/stock", lambda r: f"{r['rerun'] / r['stock rerun']:.2f}"),
)


def print_row(label: str, figures: dict[str, float], columns) -> None:
    cells = "  ".join(f"{shape(figures):>{len(heading)}}" for heading, shape in columns)
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
        help="--ingest: seconds each GELF TCP or UDP rate is held",
    )  # fmt: skip
    parser.add_argument(
        "--stock", action="store_true",
        help="also converge one host under stock Ansible (no Mitogen), for comparison",
    )  # fmt: skip
    args = parser.parse_args()
    testbed = build_testbed(lambda line: print(f"# {line}", file=sys.stderr))
    if args.ingest:
        ingest_benchmark.run_ingest(testbed, args.runs, args.steady_seconds)
        return
    columns = COLUMNS + (STOCK_COLUMNS if args.stock else ())
    print(f"{'run':>9}  " + "  ".join(heading for heading, _ in columns))
    results = []
    for index in range(1, args.runs + 1):
        results.append(one_run(index, testbed, args.stock))
        print_row(str(index), results[-1], columns)
    medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print_row(f"median {args.runs}", medians, columns)


if __name__ == "__main__":
    main()
