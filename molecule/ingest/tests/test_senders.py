"""A log sender's own rsyslog forwards to the stack, and holds its lines while Graylog is down.

ingest-sender is in the inventory group log_senders: the installer pointed its stock rsyslog
at ingest-node's Syslog TCP input. The tests write lines with logger(1), as any program on
the sender does through syslog(3), and find them with the search API as a user would.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import uuid

import pytest
import testinfra
from conftest import NODE, SYSLOG_TCP_PORT, container_address

# The scenario's sender; another container can be named for a run outside Molecule.
SENDER = os.environ.get("INGEST_SENDER", "ingest-sender")
FORWARD_CONFIG = "/etc/rsyslog.d/05-graylog-forward.conf"
FOUND_TIMEOUT = 120  # a line sent while everything runs is found within this
OUTAGE_LINES = 50
# After Graylog is back: rsyslog retries at growing intervals (10 s, 20 s after ten tries).
CATCH_UP_TIMEOUT = 300


def report(line: str) -> None:
    print(f"\n[senders] {line}", flush=True)


@pytest.fixture(scope="module")
def sender():
    return testinfra.get_host(f"docker://{SENDER}")


def new_token(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def search(graylog, query: str, limit: int) -> list[dict]:
    """The stored fields of the messages of the last hour that match a query."""
    params = urllib.parse.urlencode({"query": query, "range": 3600, "limit": limit})
    answer = graylog.get_json(f"search/universal/relative?{params}") or {}
    return [m["message"] for m in answer.get("messages", [])]


def test_rsyslog_runs_and_its_forward_configuration_passes_its_own_check(sender):
    rsyslog = sender.service("rsyslog")
    assert rsyslog.is_running and rsyslog.is_enabled
    check = sender.run(f"rsyslogd -N1 -f {FORWARD_CONFIG}")
    assert check.rc == 0, check.stderr


def test_the_sender_forwards_to_the_nodes_syslog_tcp_input(sender):
    # A restarted node container may come back on another bridge address: say so plainly.
    config = sender.file(FORWARD_CONFIG).content_string
    assert f'target="{container_address(NODE)}"' in config, config
    assert f'port="{SYSLOG_TCP_PORT}"' in config and 'protocol="tcp"' in config


def test_a_logger_line_is_found_with_the_senders_name_and_facility(sender, graylog):
    token = new_token("sender")
    sender.run_expect([0], f"logger -p local3.warning -t molecule-sender 'hello {token}'")
    total, took = graylog.wait_for_total(token, 1, FOUND_TIMEOUT)
    assert total == 1, f"{token} found {total} times after {took:.0f} s"
    [message] = search(graylog, token, 5)
    report(f"found after {took:.0f} s: {json.dumps(message, sort_keys=True)}")
    # Graylog 2.0's Syslog input reports the facility by name, the severity as a number.
    assert (message["source"], message["facility"], message["level"]) == (SENDER, "local3", 4)
    assert message.get("application_name") == "molecule-sender"


def test_lines_written_while_graylog_is_stopped_are_all_found_after_it_is_back(
    sender, node, graylog, wait_until_healthy
):
    batch = new_token("outage")
    node.run_expect([0], "systemctl stop graylog-server")
    try:
        # Plain TCP: rsyslog learns that Graylog closed the connection only by writing into
        # it, and that first write is gone (README: limits). Spend it on a line of its own.
        sender.run_expect([0], f"logger -p local3.info -t molecule-sender 'wake {batch}'")
        time.sleep(5)
        sender.run_expect(
            [0],
            f"for i in $(seq 1 {OUTAGE_LINES}); do "
            f"logger -p local3.warning -t molecule-sender '{batch} line '$i; done",
        )
        time.sleep(5)
        # Graylog is down: rsyslog must keep running and hold the lines in its queue.
        assert sender.service("rsyslog").is_running
    finally:
        node.run_expect([0], "systemctl start graylog-server")
    problems, back = wait_until_healthy()
    assert not problems, problems
    started = time.monotonic()
    total, took = graylog.wait_for_total(f'"{batch} line"', OUTAGE_LINES, CATCH_UP_TIMEOUT)
    lines = search(graylog, f'"{batch} line"', 4 * OUTAGE_LINES)
    numbers = sorted(int(m["message"].rsplit(" ", 1)[-1]) for m in lines)
    report(
        f"Graylog healthy {back:.0f} s after its start; {total} of {OUTAGE_LINES} lines "
        f"found {took:.0f} s later ({time.monotonic() - started:.0f} s)"
    )
    missing = sorted(set(range(1, OUTAGE_LINES + 1)) - set(numbers))
    assert not missing, f"lines never found: {missing}"
    assert total == OUTAGE_LINES, f"duplicates: {len(numbers) - len(set(numbers))}"
