"""`graylog-installer status` end to end in-process: the hosts' probe and Graylog's API
stand-ins, the real inventory, secrets, decisions and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import local_inventory

from graylog_installer import cli, commands, paths, runner, secrets_store, status_graylog
from graylog_installer.status_graylog import GraylogNode, GraylogView

HEALTHY = """SERVICE mongodb active
SERVICE elasticsearch active
SERVICE graylog-server active
SERVICE nginx active
SERVICE haproxy inactive
DISK /var/lib/elasticsearch /dev/sda1 100 40 60 40% /
ESHEALTH {"status": "green", "number_of_nodes": 1}
ESSTATE {"master_node": "a", "nodes": {"a": {"name": "local1"}}}
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    inventory = local_inventory(tmp_path / "inv")
    secrets_store.save(paths.secrets_file(inventory), secrets_store.generate())
    view = GraylogView((GraylogNode("local1", "id1", True, 0),))
    # Graylog's API through the entry (and the entry's certificate) stand in as one answer.
    monkeypatch.setattr(commands, "entry_client", lambda topo, value: None)
    monkeypatch.setattr(status_graylog, "read_graylog", lambda client: view)
    return inventory


def hosts_answer(monkeypatch: pytest.MonkeyPatch, stdout: str) -> list[str]:
    """Every host's probe prints ``stdout``; returns the modules the command ran."""
    ran: list[str] = []

    def run_module(inventory, module, module_args, run_dir, redactor, on_event, **kwargs):
        ran.append(module)
        on_event(
            {"event": "runner_on_ok", "event_data": {"host": "local1", "res": {"stdout": stdout}}}
        )
        return runner.RunOutcome(rc=0, status="successful", log_path=run_dir / "status.log")

    monkeypatch.setattr(runner, "run_module", run_module)
    return ran


def test_a_healthy_stack_exits_zero_with_its_table(installed, monkeypatch, capsys):
    ran = hosts_answer(monkeypatch, HEALTHY)
    assert cli.main(["status", "-i", str(installed)]) == 0
    out = capsys.readouterr().out
    assert ran == ["raw"]  # the read-only probe, nothing that could change a host
    assert "local1  active   active         active          active" in out
    assert out.rstrip().endswith("All healthy.")
    assert not (installed / ".runs").exists(), "status left a run log in the inventory"


def test_a_stopped_service_exits_non_zero_naming_it(installed, monkeypatch, capsys):
    hosts_answer(monkeypatch, HEALTHY.replace("graylog-server active", "graylog-server failed"))
    assert cli.main(["status", "-i", str(installed)]) == 1
    captured = capsys.readouterr()
    assert captured.err == "graylog-installer: error: degraded: local1: graylog-server is failed\n"
    assert "All healthy." not in captured.out


def test_no_secret_is_printed(installed, monkeypatch, capsys):
    stored = secrets_store.load(paths.secrets_file(installed))
    # A host that echoed a secret back (it never should) is masked, not shown.
    hosts_answer(monkeypatch, HEALTHY.replace("nginx active", f"nginx {stored.admin_password}"))
    cli.main(["status", "-i", str(installed)])
    captured = capsys.readouterr()
    assert not any(value in captured.out + captured.err for value in stored.values())
