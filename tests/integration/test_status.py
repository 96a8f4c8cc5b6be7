"""`graylog-installer status` on the tests' sandbox: healthy, then with a service stopped."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from conftest import SANDBOX, graylog_installer

from graylog_installer import paths, secrets_store

# The probe and a few API calls: seconds on a quiet machine, more on a loaded one.
STATUS_SECONDS = 45
RECOVERY_SECONDS = 300


def sandbox_exec(*command: str) -> None:
    subprocess.run(["docker", "exec", SANDBOX.name, *command], check=True, capture_output=True)


def test_status_shows_every_service_healthy(sandbox_inventory):
    started = time.monotonic()
    result = graylog_installer("status")
    elapsed = time.monotonic() - started
    print(result.stdout)  # the table, for `pytest -rP`; status prints no secret (below)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = next(line.split() for line in lines if line.startswith("HOST"))
    assert header[:5] == ["HOST", "mongodb", "elasticsearch", "graylog-server", "nginx"]
    row = next(line.split() for line in lines if line.startswith(SANDBOX.name))
    assert row[1:5] == ["active"] * 4
    assert "Elasticsearch: green" in result.stdout
    assert "(master) journal backlog" in result.stdout
    assert "All healthy." in result.stdout
    assert elapsed < STATUS_SECONDS, f"status took {elapsed:.0f} s"


def test_status_prints_no_secret(sandbox_inventory):
    result = graylog_installer("status")
    stored = secrets_store.load(paths.secrets_file(sandbox_inventory))
    leaked = [value in result.stdout + result.stderr for value in stored.values()]
    assert not any(leaked), "a secret appears in status's output"


@pytest.fixture
def elasticsearch_stopped(sandbox_inventory) -> Iterator[None]:
    """Elasticsearch stopped in the sandbox; started again and the stack healthy after."""
    sandbox_exec("systemctl", "stop", "elasticsearch")
    yield
    sandbox_exec("systemctl", "start", "elasticsearch")
    deadline = time.monotonic() + RECOVERY_SECONDS
    while graylog_installer("status").returncode != 0:
        assert time.monotonic() < deadline, "the sandbox did not recover within 5 minutes"
        time.sleep(5)


def test_status_names_a_stopped_service_and_fails(elasticsearch_stopped):
    result = graylog_installer("status")
    assert result.returncode != 0
    row = next(line.split() for line in result.stdout.splitlines() if line.startswith(SANDBOX.name))
    assert row[2] != "active"
    error = result.stderr.strip()
    assert error.startswith("graylog-installer: error: degraded: ")
    assert f"{SANDBOX.name}: elasticsearch is " in error
    assert "Elasticsearch: no node answered" in error
