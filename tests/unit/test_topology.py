"""The one topology rule, as the installer and the playbook's filter plugin both apply it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_plugin, write_inventory

from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory
from graylog_installer.topology import StackInput, TopologyError, as_count, plan
from graylog_installer.validation import validate

ROOT = Path(__file__).resolve().parents[2]
THREE = ["n1", "n2", "n3"]
ADDRESSES = {"n1": "10.0.0.1", "n2": "10.0.0.2", "n3": "10.0.0.3", "lb": "10.0.0.9"}


def all_in_one(hosts: list[str], **kwargs) -> dict:
    groups = {"graylog": hosts, "elasticsearch": hosts, "mongodb": hosts}
    return plan(StackInput(groups=groups, addresses=ADDRESSES, **kwargs))


def test_single_node_binds_loopback_and_needs_no_replica_set() -> None:
    layout = all_in_one(["n1"])
    assert layout["single_node"] is True
    assert layout["hosts"]["n1"]["bind_address"] == "127.0.0.1"
    assert layout["elasticsearch"]["transport_hosts"] == ["127.0.0.1:9300"]
    assert layout["elasticsearch"]["minimum_master_nodes"] == 1
    assert layout["elasticsearch"]["index_replicas"] == 0
    assert layout["mongodb"]["replica_set"] == ""
    assert layout["mongodb"]["uri"] == "mongodb://127.0.0.1:27017/graylog"


def test_three_all_in_one_nodes_form_a_cluster() -> None:
    layout = all_in_one(THREE)
    assert layout["single_node"] is False
    assert layout["hosts"]["n2"] == {"address": "10.0.0.2", "bind_address": "10.0.0.2"}
    assert layout["elasticsearch"]["transport_hosts"] == [
        "10.0.0.1:9300",
        "10.0.0.2:9300",
        "10.0.0.3:9300",
    ]
    assert layout["elasticsearch"]["minimum_master_nodes"] == 2
    assert layout["elasticsearch"]["index_replicas"] == 1
    assert layout["mongodb"]["replica_set"] == "rs01"
    assert layout["mongodb"]["members"] == ["10.0.0.1:27017", "10.0.0.2:27017", "10.0.0.3:27017"]
    assert layout["mongodb"]["uri"] == (
        "mongodb://10.0.0.1:27017,10.0.0.2:27017,10.0.0.3:27017/graylog?replicaSet=rs01"
    )
    assert layout["graylog"]["master"] == "n1"


def test_documented_architecture_separate_elasticsearch_hosts() -> None:
    groups = {"graylog": ["n1", "n2"], "elasticsearch": ["e1", "e2", "e3"], "mongodb": ["n1"]}
    addresses = {"n1": "10.0.0.1", "n2": "10.0.0.2", "e1": "10.0.1.1", "e2": "10.0.1.2"}
    layout = plan(StackInput(groups=groups, addresses={**addresses, "e3": "10.0.1.3"}))
    assert layout["elasticsearch"]["transport_hosts"][0] == "10.0.1.1:9300"
    assert layout["mongodb"]["replica_set"] == ""
    assert layout["mongodb"]["uri"] == "mongodb://10.0.0.1:27017/graylog"


def test_a_named_replica_set_is_used_with_one_member() -> None:
    layout = all_in_one(["n1"], replica_set_name="logs")
    assert layout["mongodb"]["uri"] == "mongodb://127.0.0.1:27017/graylog?replicaSet=logs"


def test_the_running_master_stays_when_the_inventory_order_changes() -> None:
    assert all_in_one(["n3", "n1", "n2"], running_masters=["n1"])["graylog"]["master"] == "n1"
    assert all_in_one(["n3", "n1", "n2"])["graylog"]["master"] == "n3"


def test_the_operator_moves_the_master_with_graylog_master() -> None:
    layout = all_in_one(THREE, flagged_masters=["n2"], running_masters=["n1"])
    assert (layout["graylog"]["master"], layout["graylog"]["master_reason"]) == (
        "n2",
        "graylog_master",
    )


def test_a_removed_running_master_is_replaced_by_the_first_host() -> None:
    assert all_in_one(["n2"], running_masters=["gone"])["graylog"]["master"] == "n2"


def test_an_unknown_address_in_a_cluster_is_refused_not_left_empty() -> None:
    with pytest.raises(TopologyError, match="n2 has no known address; set cluster_address"):
        plan(
            StackInput(
                groups={"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE},
                addresses={"n1": "10.0.0.1", "n2": "", "n3": "10.0.0.3"},
            )
        )


def test_more_replicas_than_nodes_can_hold_are_refused() -> None:
    with pytest.raises(TopologyError, match="at most 2 replica"):
        all_in_one(THREE, index_replicas=3)
    assert all_in_one(THREE, index_replicas=2)["elasticsearch"]["index_replicas"] == 2


@pytest.mark.parametrize("value", ["two", "-1", True, "1.5"])
def test_a_replica_count_that_is_not_a_whole_number_is_refused(value) -> None:
    with pytest.raises(TopologyError, match="graylog_index_replicas must be a whole number"):
        as_count(value, "graylog_index_replicas")
    assert as_count(" 2 ", "graylog_index_replicas") == 2
    assert as_count("", "graylog_index_replicas") is None


def test_the_entry_balances_over_every_graylog_node_by_address() -> None:
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE, "loadbalancer": ["lb"]}
    layout = plan(StackInput(groups=groups, addresses=ADDRESSES))
    assert layout["entry"]["hosts"] == ["lb"]
    assert layout["entry"]["backends"] == [
        {"name": "n1", "address": "10.0.0.1"},
        {"name": "n2", "address": "10.0.0.2"},
        {"name": "n3", "address": "10.0.0.3"},
    ]


def test_a_single_node_behind_a_load_balancer_is_reached_by_address() -> None:
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"], "loadbalancer": ["lb"]}
    layout = plan(StackInput(groups=groups, addresses=ADDRESSES))
    assert layout["single_node"] is True
    assert layout["entry"]["backends"] == [{"name": "n1", "address": "10.0.0.1"}]


def test_the_load_balancer_cannot_share_a_host_with_nginx() -> None:
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE, "loadbalancer": ["n1"]}
    with pytest.raises(TopologyError, match="both need port 80"):
        plan(StackInput(groups=groups, addresses=ADDRESSES))


# ---- log senders forward to the Graylog nodes, each starting at another one ---------------


def test_log_senders_forward_to_the_nodes_even_behind_a_load_balancer() -> None:
    groups = {
        "graylog": THREE,
        "elasticsearch": THREE,
        "mongodb": THREE,
        "loadbalancer": ["lb"],
        "log_senders": ["lb", "app"],
    }
    layout = plan(StackInput(groups=groups, addresses=ADDRESSES, running_masters=["n2"]))
    assert layout["senders"] == {
        "hosts": ["lb", "app"],
        "targets": {
            "lb": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            "app": ["10.0.0.2", "10.0.0.3", "10.0.0.1"],
        },
    }


def test_a_graylog_node_sends_to_itself_first() -> None:
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE, "log_senders": ["n3"]}
    layout = plan(StackInput(groups=groups, addresses=ADDRESSES))
    assert layout["senders"]["targets"] == {"n3": ["10.0.0.3", "10.0.0.1", "10.0.0.2"]}


def test_a_sender_outside_a_single_node_stack_needs_the_graylog_hosts_address() -> None:
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"], "log_senders": ["app"]}
    with pytest.raises(TopologyError, match="n1 has no known address; set cluster_address"):
        plan(StackInput(groups=groups, addresses={"n1": "", "app": "10.0.5.5"}))
    layout = plan(StackInput(groups=groups, addresses=ADDRESSES))
    assert layout["senders"]["targets"] == {"app": ["10.0.0.1"]}
    # The node itself still binds loopback: only the senders need its address.
    assert layout["hosts"]["n1"]["bind_address"] == "127.0.0.1"


def test_a_single_node_that_sends_its_own_logs_may_stay_on_loopback() -> None:
    groups = {"graylog": ["n1"], "elasticsearch": ["n1"], "mongodb": ["n1"], "log_senders": ["n1"]}
    layout = plan(StackInput(groups=groups, addresses={"n1": ""}))
    assert layout["senders"] == {"hosts": ["n1"], "targets": {"n1": ["127.0.0.1"]}}


# ---- the playbook's filter plugin applies the same rule ---------------------------------


def _filter_plugin():
    return load_plugin("playbooks/filter_plugins/stack_plan.py")


def test_filter_plugin_takes_addresses_from_facts_unless_cluster_address_is_set() -> None:
    stack_plan = _filter_plugin().FilterModule().filters()["stack_plan"]
    groups = {
        "all": THREE,
        "graylog": THREE,
        "elasticsearch": THREE,
        "mongodb": THREE,
        "graylog_new_nodes": ["n2"],  # made by group_by: not the inventory's
    }
    hostvars = {h: {"ansible_facts": {"default_ipv4": {"address": ADDRESSES[h]}}} for h in THREE}
    hostvars["n3"]["cluster_address"] = "192.0.2.3"
    layout = stack_plan(groups, hostvars, ["n2"])
    expected = all_in_one(THREE, running_masters=["n2"])
    assert layout["hosts"]["n3"] == {"address": "192.0.2.3", "bind_address": "192.0.2.3"}
    assert layout["mongodb"]["members"][2] == "192.0.2.3:27017"
    assert layout["graylog"] == expected["graylog"]
    assert layout["graylog"]["master"] == "n2"
    assert layout["elasticsearch"]["transport_hosts"][:2] == ["10.0.0.1:9300", "10.0.0.2:9300"]


def test_filter_plugin_reports_a_topology_error_as_an_ansible_error() -> None:
    from ansible.errors import AnsibleFilterError

    stack_plan = _filter_plugin().FilterModule().filters()["stack_plan"]
    groups = {"graylog": THREE, "elasticsearch": THREE, "mongodb": THREE}
    hostvars = {h: {"graylog_master": True, "cluster_address": ADDRESSES[h]} for h in THREE}
    with pytest.raises(AnsibleFilterError, match="graylog_master is true on 3 hosts"):
        stack_plan(groups, hostvars, [])


# ---- the installer refuses what the playbook would silently override ---------------------


def test_a_wired_role_variable_in_the_inventory_is_refused(tmp_path: Path) -> None:
    hosts = "all:\n  children:\n" + "".join(
        f"    {g}:\n      hosts:\n        n1:\n" for g in ("graylog", "elasticsearch", "mongodb")
    )
    root = write_inventory(
        tmp_path / "inv", hosts, group_vars={"all": "elasticsearch_network_host: 0.0.0.0\n"}
    )
    with pytest.raises(UsageError) as caught:
        validate(load_inventory(root))
    assert str(caught.value).startswith("elasticsearch_network_host (set for n1) is computed")


def test_every_wired_variable_is_a_role_variable() -> None:
    from graylog_installer.paths import wired_variables

    documented = "".join(path.read_text() for path in (ROOT / "roles").glob("*/defaults/main.yml"))
    missing = [name for name in wired_variables() if f"\n{name}:" not in documented]
    assert missing == []
