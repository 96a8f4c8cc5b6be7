"""Wall time of a fresh converge, a no-op re-run and a 1 -> 3 scale-out of playbooks/site.yml.

Each run converges a new Ubuntu 16.04 container from the test-bed image twice (the second
run is how cheap a re-run is), then adds two new containers to the inventory, every host
all-in-one, and converges again (how long growing a node into a cluster takes). Prints
every run, then the medians and the ratios of the medians to the fresh converge.

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
from bench_stack import timed_converge, write_inventory, write_secrets

from graylog_installer.sandbox import build_testbed, container
from graylog_installer.sandbox.host_tools import run


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
    runs = args.runs
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
