"""Every service survives crashes, and no message is lost on the way.

Each test breaks the running stack on purpose (kill -9, a host restart, Elasticsearch
down while messages arrive, a long steady stream), checks what a user would check, and
leaves the stack healthy for the next: all services active and the installer's own
verify checks passing. Messages travel over GELF TCP (JSON frames ended by a NUL byte),
each batch tagged with a token that the search API counts.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
from conftest import NODE, SERVICES
from gelf_sender import Frame, send_tcp

GELF_TCP_PORT = 12201
COME_BACK_TIMEOUT = 180  # a unit active again after kill -9 (RestartSec and a JVM start)
STORE_TIMEOUT = 600  # every message of a batch found by the search after sending ends
OUTAGE_COUNT = 5000
OUTAGE_SECONDS = 60
STREAM_COUNT = 100_000
STREAM_RATE = 2500  # messages per second, one connection: well below the node's pace
RESTART_COUNT = 1000


def report(line: str) -> None:
    """Figures of a test, shown with pytest -s (the scenario's verifier runs it so)."""
    print(f"\n[ingest] {line}", flush=True)


def gelf_frames(token: str) -> Frame:
    """Message seq of a batch, tagged with the batch's token."""

    def frame(seq: int) -> bytes:
        message = {
            "version": "1.1",
            "host": "molecule-ingest",
            "short_message": f"ingest {token} {seq}",
            "_run": token,
            "_seq": seq,
        }
        return json.dumps(message).encode()

    return frame


def send_gelf_tcp(address: str, token: str, count: int, rate: float) -> float:
    """Send a batch paced on one connection; the seconds taken."""
    return send_tcp((address, GELF_TCP_PORT), gelf_frames(token), count, rate)


def main_pid(node, service: str) -> int:
    # systemd 229 has no `systemctl show --value`.
    return int(node.check_output(f"systemctl show -p MainPID {service}").split("=", 1)[1])


def new_token() -> str:
    return "ingest" + uuid.uuid4().hex[:16]


@pytest.fixture(autouse=True)
def healthy_before(wait_until_healthy):
    """Each test starts from a healthy stack (the one before must have left it so)."""
    problems, _ = wait_until_healthy()
    assert problems == [], "the stack is not healthy before the test"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_killed_with_sigkill_comes_back_by_itself(node, wait_until_healthy, service):
    before = main_pid(node, service)
    assert before > 0
    node.run_expect([0], f"kill -9 {before}")
    killed = time.monotonic()
    after = main_pid(node, service)
    while not (node.service(service).is_running and after not in (0, before)):
        if time.monotonic() - killed > COME_BACK_TIMEOUT:
            pytest.fail(f"{service} not active again {COME_BACK_TIMEOUT} s after kill -9")
        time.sleep(1)
        after = main_pid(node, service)
    back = time.monotonic() - killed
    problems, verified = wait_until_healthy()
    report(
        f"kill -9 {service}: PID {before} -> {after}, active after {back:.0f} s, "
        f"verify passing {back + verified:.0f} s after the kill"
    )
    assert problems == []


def test_messages_sent_while_elasticsearch_is_down_wait_in_the_journal(
    node, graylog, node_address, wait_until_healthy
):
    token = new_token()
    node.run_expect([0], "systemctl stop elasticsearch")
    try:
        seconds = send_gelf_tcp(node_address, token, OUTAGE_COUNT, OUTAGE_COUNT / OUTAGE_SECONDS)
        time.sleep(5)  # the input hands frames to the journal asynchronously
        journal = graylog.get_json("system/journal") or {}
        uncommitted = journal.get("uncommitted_journal_entries", 0)
        stopped = node.run("systemctl is-active elasticsearch").stdout.strip()
    finally:
        node.run_expect([0], "systemctl start elasticsearch")
    started = time.monotonic()
    total, took = graylog.wait_for_total(f"run:{token}", OUTAGE_COUNT, STORE_TIMEOUT)
    report(
        f"elasticsearch down: {OUTAGE_COUNT} sent in {seconds:.0f} s, elasticsearch {stopped}, "
        f"journal uncommitted {uncommitted}; after the start {total} found in {took:.0f} s"
    )
    assert stopped == "inactive", "a deliberate stop must not be undone by the restart policy"
    assert uncommitted >= OUTAGE_COUNT, "the journal does not hold the messages"
    assert total == OUTAGE_COUNT
    problems, _ = wait_until_healthy(STORE_TIMEOUT - (time.monotonic() - started))
    assert problems == []


def test_a_steady_stream_of_100000_messages_is_stored_completely(graylog, node_address):
    token = new_token()
    seconds = send_gelf_tcp(node_address, token, STREAM_COUNT, STREAM_RATE)
    total, took = graylog.wait_for_total(f"run:{token}", STREAM_COUNT, STORE_TIMEOUT)
    report(
        f"stream: {STREAM_COUNT} sent in {seconds:.0f} s ({STREAM_COUNT / seconds:.0f}/s); "
        f"{total} found {took:.0f} s after the last was sent ({seconds + took:.0f} s in all)"
    )
    assert total == STREAM_COUNT


def test_after_a_host_restart_every_service_is_back_with_its_messages(
    node, graylog, node_address, wait_until_healthy
):
    token = new_token()
    send_gelf_tcp(node_address, token, RESTART_COUNT, 500)
    stored, _ = graylog.wait_for_total(f"run:{token}", RESTART_COUNT, STORE_TIMEOUT)
    assert stored == RESTART_COUNT
    # systemd as PID 1 ignores docker's SIGTERM: after the grace time the container is
    # killed, every service with it, as in a power cut. Then it boots again.
    subprocess.run(
        ["docker", "restart", "--timeout", "10", NODE],
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
    )
    restarted = time.monotonic()
    states = {}
    while time.monotonic() - restarted < COME_BACK_TIMEOUT * 2:
        states = {
            s: node.run(f"systemctl is-enabled {s}; systemctl is-active {s}").stdout.split()
            for s in SERVICES
        }
        if all(state == ["enabled", "active"] for state in states.values()):
            break
        time.sleep(3)
    active = time.monotonic() - restarted
    problems, verified = wait_until_healthy()
    total = graylog.total(f"run:{token}")
    report(
        f"host restart: services enabled+active after {active:.0f} s, verify passing after "
        f"{active + verified:.0f} s, {total} of {RESTART_COUNT} messages from before found"
    )
    assert all(state == ["enabled", "active"] for state in states.values()), states
    assert problems == []
    assert total == RESTART_COUNT
