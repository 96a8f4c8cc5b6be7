"""Ingest rates of the role's tuned settings against the package's defaults, on one container.

One container is converged with the role's defaults (tuned), measured, re-converged with
the package's values (server.conf, input buffers, Elasticsearch's index defaults),
measured, and so on, alternating, so that each figure is a median and load on the machine
hits both settings alike. Both settings run with the same heaps (bench_stack.HEAPS): only
the tuning differs. Each measurement starts on a new index (a rotation), so that the
index has the shards and refresh interval of the setting measured. A second flood, once
the first has warmed the JIT up after the converge's restart, gives the CPU
graylog-server and Elasticsearch spend per message: where both settings reach about the
same rate, it shows what the tuning leaves for everything else.

The same search finds the highest steady rate over GELF TCP and over GELF UDP. A UDP
step passes only when nothing was lost: the kernel drops what overflows an input's
receive buffer, and no sender is told. The TCP search starts near the answer instead of
doubling from a low rate: in the first run from what the rate at which a flood was
stored predicts, the UDP search from the highest of UDP_RATES that lost nothing; later
runs start from the same setting's last result. From there it steps up or down by STEP
until the outcome flips, then bisects to PRECISION.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import bench_stack
import gelf_load
import yaml

from graylog_installer import entry_tls
from graylog_installer.sandbox import container
from graylog_installer.sandbox.host_tools import run

CONTAINER = "graylog-installer-bench-ingest"
GELF_PORT = 12201
# A step sends at a steady rate for a number of seconds; it passes when every message is
# found by a search at most FOUND_WITHIN seconds after the last one was sent.
FOUND_WITHIN = 15.0
# The search steps by this share of the rate from its start until the outcome flips, and
# bisects until the pass/fail bracket is narrower than PRECISION of the rate.
STEP = 0.2
PRECISION = 0.1
# Rates are multiples of this.
GRAIN = 500
# Messages of each flood, sent unpaced: the first warms the JIT up, and the rate at which
# the journal drains is where the first run's search starts.
FLOOD = 150_000
UDP_RATES = (5000, 10000)
UDP_SECONDS = 10
# Waiting for stragglers: done when the journal is empty and the count has not moved
# for this long.
QUIET_SECONDS = 10.0
SETTLE_LIMIT = 240.0
ROTATE_LIMIT = 120.0

# server.conf and inputs as graylog-server 2.0.3's package ships them.
PACKAGE_DEFAULTS = {
    "graylog_output_batch_size": 500,
    "graylog_processbuffer_processors": 5,
    "graylog_outputbuffer_processors": 3,
    "graylog_outputbuffer_processor_threads": 3,
    "graylog_inputbuffer_processors": 2,
    "graylog_ring_size": 65536,
    "graylog_inputbuffer_ring_size": 65536,
    "graylog_processor_wait_strategy": "blocking",
    "graylog_inputbuffer_wait_strategy": "blocking",
    "graylog_udp_recv_buffer_size": 262144,
    "graylog_elasticsearch_shards": 4,
    "elasticsearch_index_refresh_interval": "1s",
}
SETTINGS = ("tuned", "package defaults")


@dataclass
class Node:
    name: str
    address: str
    password: str
    # The certificate the playbook generates next to the inventory, at the first converge.
    certificate: Path

    def api(self, path: str, method: str = "GET") -> dict:
        """Graylog's REST API through nginx, as a user reaches it."""
        request = urllib.request.Request(f"https://{self.address}/api/{path}", method=method)
        token = base64.b64encode(f"admin:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Accept", "application/json")
        request.add_header("X-Requested-By", "benchmark")
        tls = ssl.create_default_context(cafile=str(self.certificate))  # trusts only it
        with urllib.request.urlopen(request, timeout=30, context=tls) as response:
            body = response.read()
        return json.loads(body) if body else {}


def found(node: Node, run_token: str) -> int:
    query = urllib.parse.urlencode({"query": f"bench_run:{run_token}", "range": 0, "limit": 1})
    return int(node.api(f"search/universal/relative?{query}")["total_results"])


def wait_for_all(node: Node, run_token: str, total: int, limit: float) -> tuple[int, float]:
    """Poll the count until it reaches total or limit seconds pass: (count, seconds)."""
    started = time.monotonic()
    count = found(node, run_token)
    while count < total and time.monotonic() - started < limit:
        time.sleep(1)
        count = found(node, run_token)
    return count, time.monotonic() - started


def journal_backlog(node: Node) -> int:
    return int(node.api("system/journal").get("uncommitted_journal_entries", 0))


def settle(node: Node, run_token: str, total: int) -> int:
    """Wait until the count reaches total, or the journal is empty and the count stops
    moving (the backlog is gone: a busy machine can stall the count for a while)."""
    started = last_change = time.monotonic()
    count = found(node, run_token)
    while count < total and time.monotonic() - started < SETTLE_LIMIT:
        if time.monotonic() - last_change >= QUIET_SECONDS and journal_backlog(node) == 0:
            break
        time.sleep(1)
        latest = found(node, run_token)
        if latest != count:
            count, last_change = latest, time.monotonic()
    return count


def send_gelf(protocol: str, node: Node, token: str, total: int, rate: float) -> float:
    """Messages 0..total-1 at rate over GELF TCP or UDP; seconds taken."""
    address = (node.address, GELF_PORT)
    if protocol == "udp":
        return gelf_load.send_udp(address, token, total, rate)
    return gelf_load.send_tcp(address, token, total, rate, connections=2)


def step(node: Node, protocol: str, rate: int, seconds: int) -> bool:
    """Send at rate for seconds; True when all arrive in time and steadily."""
    token = f"{protocol[0]}{secrets.token_hex(6)}"
    total = rate * seconds
    taken = send_gelf(protocol, node, token, total, rate)
    steady = taken <= seconds * 1.05  # the stack did not push back on the (TCP) sender
    count, waited = wait_for_all(node, token, total, FOUND_WITHIN)
    passed = steady and count == total
    print(
        f"#   {protocol.upper()} {rate:>6} msg/s: sent in {taken:.1f}s, {count}/{total} found"
        f" after {waited:.0f}s -> {'pass' if passed else 'fail'}",
        flush=True,
    )
    if not passed:
        # The next step must not start on this one's backlog. What arrives late tells a
        # slow stack from a lossy one.
        stored = settle(node, token, total)
        print(f"#     then {stored}/{total} found once the backlog was gone", flush=True)
    return passed


def sustained(node: Node, protocol: str, rate: int, seconds: int) -> bool:
    """A rate fails only when two steps at it fail: one hiccup of the machine is not enough."""
    return step(node, protocol, rate, seconds) or step(node, protocol, rate, seconds)


def grain(rate: float) -> int:
    return max(GRAIN, round(rate / GRAIN) * GRAIN)


def highest_rate(node: Node, protocol: str, seconds: int, start: float, ceiling: float) -> int:
    """Step from start by STEP until pass and fail meet, then bisect between them."""
    passed, failed, rate = 0, None, min(grain(start), grain(ceiling))
    while failed is None or failed - passed > max(PRECISION * passed, GRAIN):
        if passed and failed:
            rate = grain((passed + failed) / 2)
            if rate in (passed, failed):
                break
        if sustained(node, protocol, rate, seconds):
            passed = rate
            if failed is None:
                if rate >= grain(ceiling):  # the ceiling, as close as the grain allows
                    break
                rate = min(max(grain(rate * (1 + STEP)), rate + GRAIN), grain(ceiling))
        else:
            failed = rate
            if not passed:
                if rate <= GRAIN:
                    break
                rate = min(grain(rate / (1 + STEP)), rate - GRAIN)
    return passed


def udp_loss(node: Node, rate: int) -> float:
    token = f"u{secrets.token_hex(6)}"
    total = rate * UDP_SECONDS
    send_gelf("udp", node, token, total, rate)
    count = settle(node, token, total)
    print(f"#   UDP {rate} msg/s: {count}/{total} found", flush=True)
    return 1 - count / total


def granted_udp_buffer(node: Node) -> str:
    """The receive buffer the kernel gave the GELF UDP socket (ss: rb, bytes)."""
    sockets = run(["docker", "exec", node.name, "ss", "-ulmn", f"sport = :{GELF_PORT}"])
    granted = re.search(r"rb(\d+)", sockets)
    return granted.group(1) if granted else "?"


def rotate(node: Node) -> None:
    """Start a new index, made with the shards and refresh interval just converged.

    Once, right after the fresh converge, the master answered 500 and the whole run
    stopped (not seen again in the next tries, cause unknown): a 500 is asked again
    until ROTATE_LIMIT seconds have passed, and printed.
    """
    deadline = time.monotonic() + ROTATE_LIMIT
    while True:
        try:
            node.api("system/deflector/cycle", method="POST")
            return
        except urllib.error.HTTPError as error:
            if error.code != 500 or time.monotonic() > deadline:
                raise
            print(f"#   rotation refused, asking again: {error.read()[:300]!r}", flush=True)
            time.sleep(2)


def wait_for_input(node: Node) -> None:
    token = f"w{secrets.token_hex(6)}"
    deadline = time.monotonic() + 180
    while True:
        try:
            gelf_load.send_tcp((node.address, GELF_PORT), token, 10, 10)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def java_cpu_seconds(node: Node) -> float:
    """CPU seconds graylog-server and Elasticsearch have used since they started."""
    script = (
        "for user in graylog elasticsearch; do"
        " awk '{print $14 + $15}' /proc/$(pgrep -u $user java)/stat; done; getconf CLK_TCK"
    )
    *ticks, per_second = run(["docker", "exec", node.name, "sh", "-c", script]).split()
    return sum(int(tick) for tick in ticks) / int(per_second)


def flood(node: Node) -> tuple[float, float]:
    """Warm up with FLOOD messages sent unpaced: the rate at which all were stored, and
    the CPU seconds graylog-server and Elasticsearch spent per 100,000 of them."""
    token = f"f{secrets.token_hex(6)}"
    cpu_before, started = java_cpu_seconds(node), time.monotonic()
    send_gelf("tcp", node, token, FLOOD, float("inf"))
    count = settle(node, token, FLOOD)
    rate = count / (time.monotonic() - started)
    cpu = (java_cpu_seconds(node) - cpu_before) * 100_000 / max(count, 1)
    print(f"#   flood of {FLOOD}: {count} stored at {rate:.0f} msg/s, {cpu:.1f} CPU-s per 100,000",
          flush=True)  # fmt: skip
    return rate, cpu


def measure(
    node: Node, seconds: int, last: dict[str, float] | None, ceiling: float
) -> dict[str, float]:
    """Figures of one setting; each search starts at the setting's last result, if any."""
    wait_for_input(node)
    rotate(node)
    flood(node)  # the JIT compiles the hot paths anew after each restart
    drained, cpu = flood(node)
    print(f"#   GELF UDP receive buffer granted by the kernel: {granted_udp_buffer(node)}")
    # A step at R passes once the stack stores R * seconds in seconds + FOUND_WITHIN.
    expected = drained * (seconds + FOUND_WITHIN) / seconds
    start = last["tcp"] if last else expected
    figures = {"tcp": float(highest_rate(node, "tcp", seconds, start, ceiling)), "cpu": cpu}
    for rate in UDP_RATES:
        figures[f"udp{rate}"] = udp_loss(node, rate)
    lossless = max((rate for rate in UDP_RATES if figures[f"udp{rate}"] == 0), default=GRAIN)
    start = last["udp"] if last else lossless
    figures["udp"] = float(highest_rate(node, "udp", seconds, start, ceiling))
    return figures


def apply_setting(setting: str, files: dict[str, Path]) -> None:
    """Converge the container with the role's defaults (tuned) or the package's values.

    The role updates its inputs in place when their receive buffers differ.
    """
    extra = [files["package defaults"]] if setting == "package defaults" else []
    seconds, changed = bench_stack.timed_converge(files["inventory"], files["secrets"], extra)
    print(f"# converged: {setting} settings, {seconds:.0f}s, {changed} changed", flush=True)


def print_table(results: dict[str, list[dict[str, float]]], runs: int) -> None:
    rows = [
        ("GELF TCP highest steady rate, msg/s", "tcp", "{:.0f}"),
        ("GELF UDP highest steady rate with nothing lost, msg/s", "udp", "{:.0f}"),
        ("CPU-s per 100,000 in a warm flood (less is better)", "cpu", "{:.1f}"),
    ] + [(f"GELF UDP loss at {rate} msg/s", f"udp{rate}", "{:.1%}") for rate in UDP_RATES]
    heaps = ", ".join(f"{key} {value}" for key, value in bench_stack.HEAPS.items())
    print(f"\nmedian of {runs}; the same heaps in both ({heaps}): only the tuning differs")
    width = max(len(label) for label, _, _ in rows)
    print(f"{'setting':<{width}} {'tuned':>10} {'package defaults':>17} {'ratio':>7}")
    for label, key, shape in rows:
        tuned, stock = (statistics.median(r[key] for r in results[s]) for s in SETTINGS)
        ratio = f"{tuned / stock:.2f}" if stock else "-"
        print(f"{label:<{width}} {shape.format(tuned):>10} {shape.format(stock):>17} {ratio:>7}")


def write_files(directory: Path, testbed) -> dict[str, Path]:
    """The inventory, the secrets, and the extra vars that restore the package's values."""
    mirror = (testbed.mirror.apt_line, testbed.mirror.public_key)
    files = {
        "inventory": bench_stack.write_inventory(directory, [CONTAINER], *mirror),
        "secrets": bench_stack.write_secrets(directory),
        "package defaults": directory / "package-defaults.yml",
    }
    files["package defaults"].write_text(yaml.safe_dump(PACKAGE_DEFAULTS))
    return files


def node_of(secrets_file: Path) -> Node:
    password = yaml.safe_load(secrets_file.read_text())["graylog_admin_password"]
    address = run(["docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", CONTAINER])
    certificate = entry_tls.generated_certificate(secrets_file.parent)
    return Node(CONTAINER, address.strip(), password, certificate)


def run_ingest(testbed, runs: int, seconds: int) -> None:
    ceiling = gelf_load.sender_ceiling()
    print(f"# sender alone, unpaced, to a local socket: TCP {ceiling['tcp']:.0f} msg/s,"
          f" UDP {ceiling['udp']:.0f} msg/s")  # fmt: skip
    tick_ms = gelf_load.gelf_sender.TCP_TICK * 1000
    print(f"# TCP sender: the messages due are written together every {tick_ms:.0f} ms")
    print(f"# TCP or UDP step: {seconds}s at a steady rate R; passes when all are found within"
          f" {FOUND_WITHIN:.0f}s after the last is sent (the stack then indexed at least"
          f" R*{seconds}/{seconds + FOUND_WITHIN:.0f} msg/s)")  # fmt: skip
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    container.ensure_host(CONTAINER, testbed.image, testbed.mirror.directory)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            files = write_files(Path(scratch), testbed)
            node = node_of(files["secrets"])
            results: dict[str, list[dict[str, float]]] = {s: [] for s in SETTINGS}
            for index in range(1, runs + 1):
                # Tuned first in odd runs, last in even ones: a drift in load hits both.
                for setting in SETTINGS if index % 2 else SETTINGS[::-1]:
                    apply_setting(setting, files)
                    last = results[setting][-1] if results[setting] else None
                    figures = measure(node, seconds, last, min(ceiling.values()) / 2)
                    results[setting].append(figures)
                    print(f"# run {index} {setting}: {figures}", flush=True)
            print_table(results, runs)
    finally:
        run(["docker", "rm", "-f", CONTAINER])
