"""The command line: exit codes, one-line errors, and the install flow end to end.

The install tests run the real code path (validation, secrets, a raw-module preflight,
ansible-runner) against this machine over a local connection, with a stand-in
site.yml found through GRAYLOG_INSTALLER_HOME, so they touch no remote host.
"""

from __future__ import annotations

import stat
import sys
import textwrap
import types
from pathlib import Path

import pytest
import yaml
from conftest import (
    SINGLE_NODE,
    local_inventory,
    stand_in_home,
    this_machine_os,
    write_inventory,
)

from graylog_installer import cli, commands, secrets_store, state
from graylog_installer.inventory import load_inventory
from graylog_installer.secrets_store import ADMIN_PASSWORD_KEY as ADMIN_KEY
from graylog_installer.validation import validate

STAND_IN_SITE = """
- name: Stand-in site
  hosts: all
  gather_facts: false
  tasks:
    - name: Configure graylog-server
      ansible.builtin.debug:
        msg: "password_secret is {{ graylog_password_secret }}"
    - name: Start graylog-server
      ansible.builtin.command: /bin/true
      changed_when: true
    - name: Report the rotation flag
      ansible.builtin.debug:
        msg: "secret change allowed={{ graylog_allow_secret_change | default(false) }}"
"""


def last_log(inventory: Path) -> str:
    return sorted((inventory / ".runs").iterdir())[-1].joinpath("ansible.log").read_text()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, fragment: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("graylog-installer: error: ")
    assert fragment in err
    assert "Traceback" not in err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in repository: playbooks/site.yml, the real wiring, roles and ansible.cfg.

    Preflight accepts this machine's system as it would Ubuntu 16.04: the install runs here.
    """
    root = stand_in_home(tmp_path / "home", {"site.yml": STAND_IN_SITE})
    monkeypatch.setenv("GRAYLOG_INSTALLER_HOME", str(root))
    monkeypatch.setattr("graylog_installer.preflight.SUPPORTED", this_machine_os())
    return root


# ---- usage and validation errors ------------------------------------------------------------


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "required")


def test_unknown_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["install", "--frobnicate"])
    assert caught.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "--frobnicate")


def test_allow_other_os_is_no_longer_offered(capsys: pytest.CaptureFixture[str]) -> None:
    # The roles refuse every system but Ubuntu 16.04, so no flag may promise otherwise.
    with pytest.raises(SystemExit) as caught:
        cli.main(["install", "-i", "inv", "--allow-other-os"])
    assert caught.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "unrecognized arguments: --allow-other-os")


def test_missing_inventory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "install", "-i", str(tmp_path / "nope"))
    assert code == 2
    assert_one_line_error(err, "inventory directory not found")


def test_bad_inventory_changes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    hosts = SINGLE_NODE.replace(
        "elasticsearch:\n      hosts:\n        gl1:",
        "elasticsearch:\n      hosts:\n        gl1:\n        es2:",
    )
    inventory = write_inventory(tmp_path / "inv", hosts)
    code, _, err = run(capsys, "install", "-i", str(inventory))
    assert code == 2
    assert_one_line_error(err, "'elasticsearch' has 2 hosts")
    assert sorted(p.name for p in inventory.iterdir()) == ["hosts.yml"]


def test_wrong_vault_password(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "inv")
    right, wrong = tmp_path / "right", tmp_path / "wrong"
    right.write_text("right\n")
    wrong.write_text("wrong\n")
    from graylog_installer.vault import load_vault_secret

    value = secrets_store.generate()
    secrets_store.save(inventory / "secrets.yml", value, load_vault_secret(right))
    code, _, err = run(
        capsys, "secrets", "show", "-i", str(inventory), "--vault-password-file", str(wrong)
    )
    assert code == 2
    assert_one_line_error(err, "wrong vault password")
    code, out, _ = run(
        capsys, "secrets", "show", "-i", str(inventory), "--vault-password-file", str(right)
    )
    assert code == 0 and "admin username: admin" in out


def test_unexpected_exception_is_one_line_unless_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def explode(*args: object) -> int:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(commands, "verify_stack", explode)
    code, _, err = run(capsys, "verify", "-i", str(tmp_path))
    assert code == 1
    assert_one_line_error(err, "unexpected RuntimeError: disk on fire second line")
    code, _, err = run(capsys, "verify", "--debug", "-i", str(tmp_path))
    assert code == 1 and "Traceback" in err


def test_verify_before_install_needs_secrets(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    inventory = write_inventory(tmp_path / "inv")
    code, _, err = run(capsys, "verify", "-i", str(inventory))
    assert code == 2
    assert_one_line_error(err, "does not exist yet")


# ---- init -----------------------------------------------------------------------------------


def test_init_writes_inventory_and_secrets(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    target = tmp_path / "prod"
    code, out, _ = run(
        capsys,
        "init",
        str(target),
        "--graylog",
        "gl1=10.0.0.1",
        "--graylog",
        "gl2=10.0.0.2",
        "--elasticsearch",
        "es1",
        "--mongodb",
        "gl1",
        "--external-url",
        "https://logs.example.com",
        "--admin-user",
        "ops",
        "--ssh-user",
        "ubuntu",
    )
    assert code == 0 and "Graylog master: gl1" in out
    hosts = yaml.safe_load((target / "hosts.yml").read_text())["all"]["children"]
    assert hosts["graylog"]["hosts"] == {
        "gl1": {"ansible_host": "10.0.0.1"},
        "gl2": {"ansible_host": "10.0.0.2"},
    }
    assert list(hosts["mongodb"]["hosts"]) == ["gl1"]
    variables = yaml.safe_load((target / "group_vars" / "all.yml").read_text())
    assert variables == {
        "graylog_admin_username": "ops",
        "graylog_external_url": "https://logs.example.com/",
        "ansible_user": "ubuntu",
    }
    secrets_file = target / "secrets.yml"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    value = secrets_store.load(secrets_file)
    assert value.admin_password not in out  # shown at the end of the first install, not here
    ignored = (target / ".gitignore").read_text().splitlines()
    assert "/secrets.yml" in ignored and "/.runs/" in ignored


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # Several all-in-one hosts behind one entry: replica set, quorum, balanced; a log
        # sender forwards to the nodes.
        (
            ["--graylog", "n1=10.0.0.1", "--graylog", "n2=10.0.0.2", "--graylog", "n3=10.0.0.3"]
            + ["--loadbalancer", "lb=10.0.0.9", "--log-sender", "web1=10.0.0.50"],
            {
                "graylog": ["n1", "n2", "n3"],
                "elasticsearch": ["n1", "n2", "n3"],
                "mongodb": ["n1", "n2", "n3"],
                "loadbalancer": ["lb"],
                "log_senders": ["web1"],
            },
        ),
        # The documented architecture: Elasticsearch on its own hosts.
        (
            ["--graylog", "g1", "--graylog", "g2", "--graylog", "g3"]
            + ["--elasticsearch", "e1", "--elasticsearch", "e2", "--elasticsearch", "e3"],
            {
                "graylog": ["g1", "g2", "g3"],
                "elasticsearch": ["e1", "e2", "e3"],
                "mongodb": ["g1", "g2", "g3"],
            },
        ),
    ],
)
def test_init_writes_each_cluster_topology(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], expected: dict
) -> None:
    target = tmp_path / "cluster"
    code, _, err = run(capsys, "init", str(target), *argv)
    assert code == 0, err
    hosts = yaml.safe_load((target / "hosts.yml").read_text())["all"]["children"]
    assert {group: list(body["hosts"]) for group, body in hosts.items()} == expected
    topo = validate(load_inventory(target))
    assert topo.plan["mongodb"]["replica_set"] == "rs01"
    assert topo.plan["elasticsearch"]["minimum_master_nodes"] == 2
    entry = "https://10.0.0.9/" if "loadbalancer" in expected else "https://g1/"
    assert topo.external_url == entry
    if "log_senders" in expected:
        assert topo.plan["senders"]["targets"] == {"web1": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]}


def test_init_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "inv"
    assert run(capsys, "init", str(target), "--graylog", "a")[0] == 0
    before = (target / "secrets.yml").read_bytes()
    code, _, err = run(capsys, "init", str(target), "--graylog", "b")
    assert code == 2
    assert_one_line_error(err, "refusing to overwrite")
    assert (target / "secrets.yml").read_bytes() == before


def test_init_validates_before_writing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "inv"
    # Two Graylog hosts make two default Elasticsearch and MongoDB members: no quorum.
    code, _, err = run(capsys, "init", str(target), "--graylog", "a", "--graylog", "b")
    assert code == 2
    assert_one_line_error(err, "odd number")
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no scratch directory left behind


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--graylog", "bad name"], "invalid host name"),
        (["--graylog", "a=1.1.1.1", "--mongodb", "a=2.2.2.2"], "two addresses"),
        (["--graylog", "a", "--external-url", "http://x/path"], "must not have a path"),
    ],
)
def test_init_bad_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], fragment: str
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "inv"), *argv)
    assert code == 2
    assert_one_line_error(err, fragment)


def test_init_without_hosts_and_no_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: False))
    code, _, err = run(capsys, "init", str(tmp_path / "inv"))
    assert code == 2
    assert_one_line_error(err, "--graylog HOST")


def test_init_prompts_on_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr("builtins.input", lambda prompt: "logs1=192.0.2.5")
    code, out, _ = run(capsys, "init", str(tmp_path / "inv"))
    assert code == 0 and "graylog: logs1" in out


# ---- install, end to end on this machine ----------------------------------------------------


def test_install_twice_keeps_secrets_and_shows_password_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    inventory = local_inventory(tmp_path / "inv")
    code, out, err = run(capsys, "install", "-i", str(inventory))
    assert code == 0, err
    value = secrets_store.load(inventory / "secrets.yml")
    assert f"admin password: {value.admin_password}" in out
    assert "Graylog is installed: https://127.0.0.1/" in out
    assert "local1" in out and "Start graylog-server" in out
    assert value.password_secret not in out + err
    assert (inventory / ".graylog-installer-state.json").exists()

    code, out, err = run(capsys, "install", "-i", str(inventory))
    assert code == 0, err
    assert "secret change allowed=False" in last_log(inventory)
    # The first run counted the tasks, so the second shows done/total.
    assert "TASK 3/3 Report the rotation flag" in out
    assert secrets_store.load(inventory / "secrets.yml") == value
    assert value.admin_password not in out
    assert "secrets show" in out
    for path in inventory.rglob("*"):
        if path.is_file() and path.name != "secrets.yml":
            text = path.read_text(errors="replace")
            assert value.password_secret not in text and value.admin_password not in text, path

    code, out, _ = run(capsys, "secrets", "show", "-i", str(inventory))
    assert code == 0 and out.splitlines()[-1] == f"admin password: {value.admin_password}"


def test_install_refuses_lost_secrets_before_touching_hosts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    inventory = local_inventory(tmp_path / "inv")
    assert run(capsys, "install", "-i", str(inventory))[0] == 0
    (inventory / "secrets.yml").unlink()
    runs_before = sorted((inventory / ".runs").iterdir())
    code, _, err = run(capsys, "install", "-i", str(inventory))
    assert code == 2
    assert_one_line_error(err, "restore the file from your backup (MongoDB")
    assert sorted((inventory / ".runs").iterdir()) == runs_before  # no run was started
    # MongoDB's users and key file exist on the hosts: no flag may start over without them.
    flag = "--rotate-password-secret"
    code, _, err = run(capsys, "install", "-i", str(inventory), flag)
    assert code == 2 and not (inventory / "secrets.yml").exists()
    assert sorted((inventory / ".runs").iterdir()) == runs_before


def test_a_rotation_retried_after_a_failure_shows_the_new_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    inventory = local_inventory(tmp_path / "inv")
    assert run(capsys, "install", "-i", str(inventory))[0] == 0
    marker = state.load_state(inventory)
    rotated = state.resolve_secrets(inventory, marker, rotate=frozenset({ADMIN_KEY}))
    # The run of that rotation failed; the operator runs install again, without the flag.
    code, out, err = run(capsys, "install", "-i", str(inventory))
    assert code == 0, err
    assert f"admin password: {rotated.secrets.admin_password}" in out
    assert "copy of the previous secrets was removed" in out
    assert not state.load_state(inventory).rotation_pending


def test_install_rotates_the_admin_password_and_then_drops_the_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    inventory = local_inventory(tmp_path / "inv")
    assert run(capsys, "install", "-i", str(inventory))[0] == 0
    old = secrets_store.load(inventory / "secrets.yml")
    flags = ("install", "-i", str(inventory), "--rotate-admin-password")
    for partial in (["--limit", "localhost"], ["--tags", "x"], ["--check"]):
        code, _, err = run(capsys, *flags, *partial)
        assert code == 2 and secrets_store.load(inventory / "secrets.yml") == old
        assert_one_line_error(err, "rotat")
    code, out, err = run(capsys, *flags)
    assert code == 0, err
    new = secrets_store.load(inventory / "secrets.yml")
    assert new.password_secret == old.password_secret
    assert f"admin password: {new.admin_password}" in out
    assert "copy of the previous secrets was removed" in out
    assert not list(inventory.glob(".secrets-*"))


def test_install_failure_is_one_sentence_with_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    (home / "playbooks" / "site.yml").write_text(
        textwrap.dedent("""
        - name: Graylog master
          hosts: all
          gather_facts: false
          tasks:
            - name: "graylog : start graylog-server"
              ansible.builtin.fail:
                msg: "graylog-server did not open port 12900 ({{ graylog_admin_password }})"
    """)
    )
    inventory = local_inventory(tmp_path / "inv")
    code, out, err = run(capsys, "install", "-i", str(inventory))
    assert code == 1
    assert_one_line_error(
        err,
        "site.yml failed on host local1 at task "
        "'graylog : start graylog-server' (play 'Graylog master'): "
        "graylog-server did not open port 12900 (********)",
    )
    assert "Full log: " + str(inventory / ".runs") in err
    assert "HOST" in out and not (inventory / ".graylog-installer-state.json").exists()


def test_install_refuses_other_os_in_preflight(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graylog_installer.preflight.SUPPORTED", ("plan9", "4"))
    inventory = local_inventory(tmp_path / "inv")
    code, _, err = run(capsys, "install", "-i", str(inventory))
    assert code == 1
    assert_one_line_error(err, "not Ubuntu 16.04, the only system the roles support")
    assert "no host was changed" in err


def test_install_without_inventory_uses_the_sandbox(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = local_inventory(tmp_path / "sandbox")
    calls: list[str] = []

    def prepare_sandbox(report):  # the contract: report(str) -> inventory directory
        report("sandbox ready")
        calls.append("prepared")
        return inventory

    # The real sandbox starts a container; here the unit under test is install's use of it.
    monkeypatch.setattr("graylog_installer.sandbox.prepare_sandbox", prepare_sandbox)
    code, out, err = run(capsys, "install")
    assert code == 0, err
    assert calls == ["prepared"] and "sandbox ready" in out
    assert (inventory / "secrets.yml").exists()
