"""The version rule: which graylog-server and Elasticsearch pairs an install or upgrade refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SINGLE_NODE, load_plugin, write_inventory

from graylog_installer import versions
from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory
from graylog_installer.sandbox import artifacts
from graylog_installer.validation import validate

ONE_HOST = {"graylog": ["gl1"], "elasticsearch": ["gl1"], "mongodb": ["gl1"]}


@pytest.mark.parametrize(
    ("graylog", "elasticsearch"),
    [
        ("2.0.3", "2.3.5"),
        ("2.0.2", "2.3.4"),  # the upgrade proof's starting point
        ("2.0.0", "2.0.0"),
        ("2.0.3-1", "2.3"),  # a Debian revision; any 2.3.x
    ],
)
def test_pairs_graylog_2_0_works_with_are_accepted(graylog, elasticsearch):
    assert versions.pair_problem(graylog, elasticsearch) is None


@pytest.mark.parametrize("elasticsearch", ["2.4.0", "2.4", "2.4.6", "5.0.0", "1.7.5", "0.90.3"])
def test_elasticsearch_outside_2_0_to_2_3_is_refused_with_graylog_2_0(elasticsearch):
    line = versions.pair_problem("2.0.3", elasticsearch)
    assert line == (
        f"elasticsearch_version {elasticsearch} is refused with graylog_version 2.0.3: "
        "Graylog 2.0 works with Elasticsearch 2.0 to 2.3.x only (its embedded client "
        "breaks on 2.4 and later)"
    )


@pytest.mark.parametrize("graylog", ["2.1.0", "1.3.4", "3.0"])
def test_graylog_outside_2_0_is_refused(graylog):
    assert "installs Graylog 2.0.x only" in versions.pair_problem(graylog, "2.3.5")


@pytest.mark.parametrize(
    ("graylog", "elasticsearch", "named"),
    [("latest", "2.3.5", "graylog_version"), ("2.0.3", "2.3.x", "elasticsearch_version")],
)
def test_something_that_is_no_version_is_refused(graylog, elasticsearch, named):
    assert versions.pair_problem(graylog, elasticsearch).startswith(f"{named} '")


def test_the_roles_defaults_are_accepted_and_built_by_the_test_bed_mirror():
    graylog = versions.role_default("graylog", "graylog_version")
    elasticsearch = versions.role_default("elasticsearch", "elasticsearch_version")
    assert (graylog, elasticsearch) == ("2.0.3", "2.3.5")
    assert versions.pair_problem(graylog, elasticsearch) is None
    assert graylog in artifacts.GRAYLOG_SHADED_JARS
    assert elasticsearch in artifacts.ELASTICSEARCH_TARBALLS


def test_unset_versions_are_the_roles_defaults():
    assert versions.problem(ONE_HOST, lambda _host, _name: None) is None


def test_one_host_asking_for_elasticsearch_2_4_refuses_the_whole_stack():
    asked = {("es2", "elasticsearch_version"): "2.4.1"}
    groups = {"graylog": ["gl1"], "elasticsearch": ["es1", "es2", "es3"]}
    line = versions.problem(groups, lambda host, name: asked.get((host, name)))
    assert line and line.startswith(
        "elasticsearch_version 2.4.1 is refused with graylog_version 2.0.3"
    )


def test_the_installer_refuses_the_pair_before_any_host_is_touched(tmp_path: Path):
    inventory = write_inventory(
        tmp_path / "inv",
        SINGLE_NODE,
        group_vars={"all": "graylog_version: 2.0.3\nelasticsearch_version: 2.4.0\n"},
    )
    with pytest.raises(UsageError) as caught:
        validate(load_inventory(inventory))
    assert str(caught.value).startswith("elasticsearch_version 2.4.0 is refused")
    assert "\n" not in str(caught.value)


def test_the_installer_accepts_the_upgrade_proofs_older_pair(tmp_path: Path):
    inventory = write_inventory(
        tmp_path / "inv",
        SINGLE_NODE,
        group_vars={"all": "graylog_version: 2.0.2\nelasticsearch_version: 2.3.4\n"},
    )
    assert validate(load_inventory(inventory)).master == "gl1"


def test_the_playbooks_filter_gives_the_same_line():
    plugin = load_plugin("playbooks/filter_plugins/stack_versions.py")
    problem = plugin.FilterModule().filters()["stack_version_problem"]
    hostvars = {"gl1": {"elasticsearch_version": "5.0.0"}}
    assert problem(ONE_HOST, hostvars) == versions.pair_problem("2.0.3", "5.0.0")
    assert problem(ONE_HOST, {"gl1": {}}) == ""
