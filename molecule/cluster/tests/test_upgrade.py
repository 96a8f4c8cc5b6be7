"""What an operator checks after upgrading the cluster in place (side_effect.yml, upgrade.py).

The cluster was installed and grown at graylog-server 2.0.2 and Elasticsearch 2.3.4, then
re-run with the roles' defaults while a probe used it through the entry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra
from graylog_checks import http_get, load_test_secrets, search_total, wait_for_total

NODES = ("cluster-n1", "cluster-n2", "cluster-n3")
ENTRY = "cluster-lb"


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


def address(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.check_output(["docker", "inspect", "-f", fmt, name], text=True).strip()


@pytest.fixture(scope="module")
def upgrade() -> dict:
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "upgrade.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def auth() -> tuple[str, str]:
    return ("admin", load_test_secrets()["graylog_admin_password"])


def test_the_upgrade_went_to_versions_other_than_the_installed_ones(upgrade):
    # Else nothing would have been upgraded: the scenario installs older versions first.
    assert upgrade["versions"] == {"graylog_version": "2.0.3", "elasticsearch_version": "2.3.5"}
    print(f"upgrade: {upgrade['upgrade_seconds']} s, re-run: {upgrade['rerun_seconds']} s")


@pytest.mark.parametrize("name", NODES)
def test_each_graylog_node_runs_the_new_version(name, upgrade, auth):
    wanted = upgrade["versions"]["graylog_version"]
    status, body, _ = http_get(f"http://{address(name)}/api/system", auth)
    assert status == 200
    # "2.0.3+a3e4ab6" or "2.0.2 (4da1379)": the release, then the commit.
    assert re.split(r"[+ ]", json.loads(body)["version"])[0] == wanted, body
    assert node(name).package("graylog-server").version == f"{wanted}-1"


@pytest.mark.parametrize("name", NODES)
def test_each_elasticsearch_node_runs_the_new_version(name, upgrade):
    answer = json.loads(node(name).check_output("curl -s http://127.0.0.1:9200/"))
    assert answer["version"]["number"] == upgrade["versions"]["elasticsearch_version"]
    assert node(name).package("elasticsearch").version == answer["version"]["number"]


def test_elasticsearch_was_restarted_node_by_node_with_replicas_held(upgrade):
    assert upgrade["allocation_holds"] == len(NODES)
    settings = json.loads(
        node("cluster-n1").check_output(
            "curl -s 'http://127.0.0.1:9200/_cluster/settings?flat_settings=true'"
        )
    )
    # The hold is lifted again after each node.
    assert settings["transient"].get("cluster.routing.allocation.enable", "all") == "all"


def test_the_upgrade_changed_every_node_and_the_next_run_changed_nothing(upgrade):
    assert all(upgrade["upgrade_changed"][name] > 0 for name in NODES), upgrade["upgrade_changed"]
    assert upgrade["rerun_changed"], "no recap was read from the re-run"
    assert set(upgrade["rerun_changed"].values()) == {0}, upgrade["rerun_changed"]


def test_every_message_stored_before_the_upgrade_is_found(upgrade, auth):
    entry = f"https://{address(ENTRY)}"
    assert search_total(entry, auth, f"batch:{upgrade['batch']}") == upgrade["count"]


def test_the_entry_kept_taking_messages_and_answering_during_the_upgrade(upgrade, auth):
    probe = upgrade["probe"]
    assert probe["failures"] == []
    # It asked all along (a round a second at best, slower while requests wait).
    assert probe["sent"] == probe["rounds"] >= upgrade["upgrade_seconds"] // 10
    entry = f"https://{address(ENTRY)}"
    assert wait_for_total(entry, auth, f"probe:{probe['tag']}", probe["sent"]) == probe["sent"]
