"""Fixtures of the ingest scenario: the node, its address, the admin login, search, health.

The tests run on this machine and reach the node as a user would: over the Docker bridge,
HTTP through nginx on port 80 and the inputs on their own ports. Commands on the node
(systemctl, kill) go through testinfra's docker backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
from graylog_checks import entry_context, http_get, load_test_secrets, search_total  # noqa: E402

from graylog_installer.verify import (  # noqa: E402
    Check,
    Client,
    SyslogTarget,
    check_round_trips,
    run_checks,
)

# The scenario's node; another container can be named for a run outside Molecule.
NODE = os.environ.get("INGEST_NODE", "ingest-node")
SERVICES = ("mongodb", "elasticsearch", "graylog-server", "nginx")
SYSLOG_TCP_PORT = 514  # graylog_syslog_port's default
HEALTH_TIMEOUT = 420
POLL = 5


def container_address(name: str) -> str:
    """Address on the Docker bridge; read anew each time: a restarted container may move."""
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


class Graylog:
    """The node's REST API through nginx, as the admin."""

    def __init__(self, name: str, auth: tuple[str, str]) -> None:
        self.name = name
        self.auth = auth

    @property
    def base_url(self) -> str:
        return f"https://{container_address(self.name)}"

    def get_json(self, path: str) -> dict | None:
        """GET /api/<path> as JSON; None when there is no good answer."""
        try:
            status, body, _ = http_get(f"{self.base_url}/api/{path.lstrip('/')}", self.auth)
        except OSError:
            return None
        return json.loads(body) if status == 200 else None

    def total(self, query: str) -> int | None:
        """Messages of the last hour that match a query (search API total_results)."""
        return search_total(self.base_url, self.auth, query)

    def wait_for_total(self, query: str, expected: int, timeout: float) -> tuple[int | None, float]:
        """Poll the search until it counts ``expected``: the last count and the seconds taken."""
        started = time.monotonic()
        total = self.total(query)
        while total != expected and time.monotonic() - started < timeout:
            time.sleep(POLL)
            total = self.total(query)
        return total, time.monotonic() - started

    def checks(self) -> list[Check]:
        """The installer's own verify checks, against this node's nginx."""
        address = container_address(self.name)
        client = Client(f"https://{address}/", self.auth[0], self.auth[1], tls=entry_context())
        syslog = SyslogTarget(address, SYSLOG_TCP_PORT)
        return run_checks(client, 1, round_trips=lambda c: check_round_trips(c, syslog))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fault tests last: killing or restarting the node breaks the TCP stream a sender's
    rsyslog holds open, and the first line written into a broken stream is lost."""
    items.sort(key=lambda item: item.path.name == "test_faults.py")


@pytest.fixture(scope="session")
def secrets() -> dict[str, str]:
    return load_test_secrets()


@pytest.fixture(scope="session")
def admin_auth(secrets) -> tuple[str, str]:
    return ("admin", secrets["graylog_admin_password"])


@pytest.fixture(scope="session")
def node():
    """testinfra host of the node (commands run inside the container)."""
    return testinfra.get_host(f"docker://{NODE}")


@pytest.fixture()
def node_address() -> str:
    return container_address(NODE)


@pytest.fixture(scope="session")
def graylog(admin_auth) -> Graylog:
    return Graylog(NODE, admin_auth)


def unhealthy(node, graylog: Graylog) -> list[str]:
    """What is wrong with the stack now: services not active, verify checks failing."""
    problems = [
        f"{service} is {node.run(f'systemctl is-active {service}').stdout.strip()}"
        for service in SERVICES
        if not node.service(service).is_running
    ]
    if problems:
        return problems
    return [f"{c.name}: {c.detail}" for c in graylog.checks() if not c.passed]


@pytest.fixture(scope="session")
def wait_until_healthy(node, graylog) -> Callable[[float], tuple[list[str], float]]:
    """Poll until every service runs and verify passes: the problems left and the seconds."""

    def wait(timeout: float = HEALTH_TIMEOUT) -> tuple[list[str], float]:
        started = time.monotonic()
        problems = unhealthy(node, graylog)
        while problems and time.monotonic() - started < timeout:
            time.sleep(POLL)
            problems = unhealthy(node, graylog)
        return problems, time.monotonic() - started

    return wait
