"""Inventory rules, each shown passing and failing on real inventory directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_inventory

from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory
from graylog_installer.validation import parse_heap_size, validate


def topology(root: Path, hosts: str, **kwargs):
    return validate(load_inventory(write_inventory(root, hosts, **kwargs)))


def refused(root: Path, hosts: str, **kwargs) -> str:
    with pytest.raises(UsageError) as caught:
        topology(root, hosts, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def groups(graylog: list[str], es: list[str], mongo: list[str], extra: str = "") -> str:
    def block(name: str, hosts: list[str]) -> str:
        lines = "".join(f"        {h}:\n" for h in hosts)
        return f"    {name}:\n      hosts:\n{lines}"

    return (
        "all:\n  children:\n"
        + block("graylog", graylog)
        + block("elasticsearch", es)
        + block("mongodb", mongo)
        + extra
    )


def test_single_node_defaults(tmp_path: Path) -> None:
    topo = topology(tmp_path, groups(["gl1"], ["gl1"], ["gl1"]))
    assert topo.master == "gl1" and topo.master_chosen
    assert "chosen automatically" in topo.describe_master()
    assert topo.admin_username == "admin"
    assert topo.external_url == "https://gl1/"
    assert topo.hosts["gl1"].components == ("graylog", "elasticsearch", "mongodb")
    assert topo.hosts["gl1"].heaps_mb == {"elasticsearch": None, "graylog": None}


def test_first_graylog_host_in_inventory_order_is_master(tmp_path: Path) -> None:
    topo = topology(tmp_path, groups(["zeta", "alpha"], ["alpha"], ["alpha"]))
    assert topo.master == "zeta"
    assert topo.groups["graylog"] == ["zeta", "alpha"]


def test_flagged_master_wins(tmp_path: Path) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1", "gl2"], ["gl1"], ["gl1"]),
        host_vars={"gl2": "graylog_master: true\n"},
    )
    assert topo.master == "gl2" and not topo.master_chosen


def test_two_flagged_masters_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        groups(["gl1", "gl2"], ["gl1"], ["gl1"]),
        group_vars={"graylog": "graylog_master: yes\n"},
    )
    assert "gl1, gl2" in message and "at most one" in message


def test_master_flag_outside_graylog_group_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        groups(["gl1"], ["es1"], ["gl1"]),
        host_vars={"es1": "graylog_master: true\n"},
    )
    assert "es1" in message and "not in the graylog group" in message


def test_master_flag_must_be_boolean(tmp_path: Path) -> None:
    message = refused(
        tmp_path, groups(["gl1"], ["gl1"], ["gl1"]), host_vars={"gl1": "graylog_master: maybe\n"}
    )
    assert "true or false" in message


def test_unknown_group_refused(tmp_path: Path) -> None:
    extra = "    kibana:\n      hosts:\n        k1:\n"
    message = refused(tmp_path, groups(["gl1"], ["gl1"], ["gl1"], extra))
    assert "unknown inventory group(s): kibana" in message


def test_ungrouped_host_refused(tmp_path: Path) -> None:
    hosts = "all:\n  hosts:\n    stray:\n" + groups(["gl1"], ["gl1"], ["gl1"])[len("all:\n") :]
    message = refused(tmp_path, hosts)
    assert "in no group: stray" in message


@pytest.mark.parametrize("missing", ["graylog", "elasticsearch", "mongodb"])
def test_each_role_group_needs_a_host(tmp_path: Path, missing: str) -> None:
    members = {name: ["gl1"] for name in ("graylog", "elasticsearch", "mongodb")}
    members[missing] = []
    hosts = groups(members["graylog"], members["elasticsearch"], members["mongodb"])
    hosts = hosts.replace(f"    {missing}:\n      hosts:\n", "")
    message = refused(tmp_path, hosts)
    assert f"'{missing}' needs at least one host" in message


@pytest.mark.parametrize(
    ("es", "mongo", "group"),
    [(["e1", "e2"], ["m1"], "elasticsearch"), (["e1"], ["m1", "m2", "m3", "m4"], "mongodb")],
)
def test_even_quorum_groups_refused(tmp_path: Path, es: list[str], mongo: list[str], group: str):
    message = refused(tmp_path, groups(["gl1"], es, mongo))
    assert f"'{group}' has {len(es if group == 'elasticsearch' else mongo)} hosts" in message
    assert "odd number" in message


def test_odd_quorum_groups_and_two_graylog_nodes_accepted(tmp_path: Path) -> None:
    topo = topology(tmp_path, groups(["g1", "g2"], ["e1", "e2", "e3"], ["m1", "m2", "m3"]))
    assert topo.groups["elasticsearch"] == ["e1", "e2", "e3"]
    assert topo.hosts["e2"].components == ("elasticsearch",)
    assert "graylog" not in topo.hosts["m1"].heaps_mb


def test_group_vars_and_host_vars_apply_as_in_ansible(tmp_path: Path) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1", "gl2"], ["gl1"], ["gl1"]),
        group_vars={
            "all": "graylog_admin_username: operator\nbase: 3\n",
            "graylog": 'graylog_heap_size: "{{ base }}g"\n',
        },
        host_vars={"gl1": "elasticsearch_heap_size: 512m\n"},
    )
    assert topo.admin_username == "operator"
    assert topo.hosts["gl1"].heaps_mb == {"elasticsearch": 512, "graylog": 3072}
    assert topo.hosts["gl2"].heaps_mb == {"graylog": 3072}


def test_heap_template_needing_facts_is_left_for_later(tmp_path: Path) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={"all": 'elasticsearch_heap_size: "{{ ansible_memtotal_mb // 4 }}m"\n'},
    )
    assert topo.hosts["gl1"].unresolved == ("elasticsearch_heap_size",)
    assert topo.hosts["gl1"].unresolved_components() == {"elasticsearch"}


def test_ini_hosts_file_is_read_like_ansible_does(tmp_path: Path) -> None:
    hosts = "[graylog]\nn1 ansible_host=192.0.2.7\n[elasticsearch]\nn1\n[mongodb]\nn1\n"
    topo = topology(tmp_path, hosts)
    assert topo.external_url == "https://192.0.2.7/"


@pytest.mark.parametrize(
    ("value", "mib"), [("512m", 512), ("1g", 1024), ("2G", 2048), (" 768M ", 768)]
)
def test_heap_sizes(value: str, mib: int) -> None:
    assert parse_heap_size(value, "graylog_heap_size", "h") == mib


@pytest.mark.parametrize("value", ["1024", "1t", "g", "0m", "-1g", "1.5g"])
def test_bad_heap_sizes_refused(value: str) -> None:
    with pytest.raises(UsageError, match="write a size like 512m or 2g"):
        parse_heap_size(value, "graylog_heap_size", "h")


def test_bad_heap_in_inventory_names_host_and_variable(tmp_path: Path) -> None:
    message = refused(
        tmp_path, groups(["gl1"], ["gl1"], ["gl1"]), host_vars={"gl1": "graylog_heap_size: 1024\n"}
    )
    assert "graylog_heap_size on gl1" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://logs.example.com", "https://logs.example.com/"), ("https://[::1]:8443/", None)],
)
def test_external_url_accepted(tmp_path: Path, url: str, expected: str | None) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={"all": f"graylog_external_url: '{url}'\n"},
    )
    assert topo.external_url == (expected or url)


@pytest.mark.parametrize(
    ("url", "why"),
    [("http://logs/graylog/", "must not have a path"), ("ftp://logs/", "must look like")],
)
def test_external_url_refused(tmp_path: Path, url: str, why: str) -> None:
    message = refused(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={"all": f"graylog_external_url: '{url}'\n"},
    )
    assert why in message


def test_external_url_must_agree_across_graylog_hosts(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        groups(["gl1", "gl2"], ["gl1"], ["gl1"]),
        host_vars={"gl2": "graylog_external_url: http://other/\n"},
    )
    assert "must be the same on every graylog host" in message


def test_default_url_uses_the_nginx_port_without_tls(tmp_path: Path) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={
            "all": "nginx_listen_port: 8080\ngraylog_external_url: ''\ngraylog_entry_tls: false\n"
        },
    )
    assert topo.external_url == "http://gl1:8080/"
    assert not topo.tls.enabled


def test_default_url_uses_the_https_port(tmp_path: Path) -> None:
    topo = topology(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={"all": "nginx_listen_port: 8080\ngraylog_entry_https_port: 8443\n"},
    )
    assert topo.external_url == "https://gl1:8443/"


def test_generated_certificate_is_kept_next_to_the_inventory(tmp_path: Path) -> None:
    topo = topology(tmp_path, groups(["gl1"], ["gl1"], ["gl1"]))
    assert topo.tls.enabled and topo.tls.generated
    assert topo.tls.certificate.parent.parent == tmp_path.resolve()
    assert topo.tls.certificate.name == "entry.crt"


def test_operator_certificate_is_the_one_trusted(tmp_path: Path) -> None:
    variables = "graylog_tls_certificate_file: /etc/ssl/logs.pem\ngraylog_tls_key_file: /k.pem\n"
    topo = topology(tmp_path, groups(["gl1"], ["gl1"], ["gl1"]), group_vars={"all": variables})
    assert not topo.tls.generated and str(topo.tls.certificate) == "/etc/ssl/logs.pem"


@pytest.mark.parametrize(
    ("variables", "why"),
    [
        ("graylog_external_url: http://logs/\n", "must start with https://"),
        ("graylog_tls_certificate_file: /c.pem\n", "set both"),
        ("graylog_tls_certificate_file: c.pem\ngraylog_tls_key_file: k.pem\n", "absolute path"),
        ("graylog_entry_https_port: 0\n", "graylog_entry_https_port"),
    ],
    ids=["http-url", "key-missing", "relative-path", "bad-port"],
)
def test_entry_tls_settings_refused(tmp_path: Path, variables: str, why: str) -> None:
    message = refused(tmp_path, groups(["gl1"], ["gl1"], ["gl1"]), group_vars={"all": variables})
    assert why in message


def test_admin_username_with_colon_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        groups(["gl1"], ["gl1"], ["gl1"]),
        group_vars={"all": "graylog_admin_username: 'a:b'\n"},
    )
    assert "graylog_admin_username" in message


def test_unparsable_hosts_file_is_one_line_with_position(tmp_path: Path) -> None:
    message = refused(tmp_path, "all:\n  children:\n   graylog: [\n")
    assert message.startswith("unable to parse inventory")
    assert "YAML syntax error" in message and "line 4" in message


def test_wrong_structure_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "all:\n  children:\n    graylog:\n      hosts: [a, b]\n")
    assert "unable to parse inventory" in message and "hosts" in message


def test_broken_group_vars_file_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, groups(["gl1"], ["gl1"], ["gl1"]), group_vars={"all": "a: [\n"})
    assert "group_vars/all.yml" in message and "YAML syntax error" in message


def test_empty_hosts_file_refused(tmp_path: Path) -> None:
    assert "defines no hosts" in refused(tmp_path, "")


def test_missing_hosts_file_refused(tmp_path: Path) -> None:
    (tmp_path / "inv").mkdir()
    with pytest.raises(UsageError, match="needs a hosts.yml"):
        load_inventory(tmp_path / "inv")


def test_missing_directory_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="inventory directory not found"):
        load_inventory(tmp_path / "nope")


def test_secrets_file_is_not_read_as_inventory(tmp_path: Path) -> None:
    root = write_inventory(tmp_path / "inv", groups(["gl1"], ["gl1"], ["gl1"]))
    (root / "secrets.yml").write_text("graylog_admin_password: x\n")
    inventory = load_inventory(root)
    assert set(inventory.groups) == {"all", "ungrouped", "graylog", "elasticsearch", "mongodb"}


def test_example_inventory_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "inventories" / "example"
    if not (example / "hosts.yml").exists():
        pytest.skip("inventories/example not written yet")
    topo = validate(load_inventory(example))
    assert len(topo.groups["elasticsearch"]) % 2 == 1
    assert topo.master in topo.groups["graylog"]


def test_ignored_part_of_hosts_file_is_refused(tmp_path: Path) -> None:
    hosts = groups(["gl1"], ["gl1"], ["gl1"]).replace(
        "    graylog:\n      hosts:", "    graylog:\n      hostz:\n        gl9:\n      hosts:"
    )
    message = refused(tmp_path, hosts)
    assert "hostz" in message
