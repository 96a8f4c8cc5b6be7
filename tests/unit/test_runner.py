"""Running Ansible: flags pass through, secrets never reach disk or the terminal unmasked."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conftest import local_inventory

from graylog_installer import paths, runner
from graylog_installer.redact import MASK, Redactor

SECRET = "Zq7" * 30


def test_cmdline_passes_flags_through(tmp_path: Path) -> None:
    vault = tmp_path / "v"
    options = runner.PlaybookOptions(
        check=True,
        diff=True,
        limit="gl1",
        tags="nginx,graylog",
        verbosity=2,
        vault_password_file=vault,
    )
    assert options.cmdline() == [
        "--check",
        "--diff",
        "--limit",
        "gl1",
        "--tags",
        "nginx,graylog",
        "-vv",
        "--vault-password-file",
        str(vault.resolve()),
    ]
    assert runner.PlaybookOptions().cmdline() == []


def test_private_data_dir_is_0700_and_removed_even_on_error() -> None:
    with pytest.raises(RuntimeError), runner.private_data_dir() as data_dir:
        holder = data_dir.parent
        assert stat.S_IMODE(holder.stat().st_mode) == 0o700
        (data_dir / "env").mkdir()
        (data_dir / "env" / "extravars").write_text(SECRET)
        raise RuntimeError("the run blew up")
    assert not holder.exists()


def test_redactor_masks_longest_first() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.text("x abcdef y abc") == f"x {MASK} y {MASK}"
    assert SECRET not in Redactor([SECRET]).json_line({"msg": f"is {SECRET}"})


def test_env_points_ansible_at_repo_config_and_this_python() -> None:
    env = paths.ansible_env()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    if paths.ansible_cfg_path().is_file():
        assert env["ANSIBLE_CONFIG"] == str(paths.ansible_cfg_path())


def test_real_run_masks_secrets_and_leaves_no_extravars(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "inv")
    playbook = tmp_path / "site.yml"
    playbook.write_text(
        textwrap.dedent("""
        - name: Leaky play
          hosts: all
          gather_facts: false
          tasks:
            - name: A task that forgot no_log
              ansible.builtin.debug:
                msg: "secret={{ graylog_password_secret }}"
            - name: Fail with the secret in the message
              ansible.builtin.fail:
                msg: "bad {{ graylog_password_secret }}"
    """)
    )
    events: list[dict] = []
    run_dir = paths.new_run_dir(inventory)
    before = set(os.listdir(tempfile.gettempdir()))
    outcome = runner.run_playbook(
        inventory,
        {"graylog_password_secret": SECRET},
        runner.PlaybookOptions(),
        run_dir,
        Redactor([SECRET]),
        events.append,
        playbook=playbook,
    )
    assert not outcome.ok and outcome.log_path == run_dir / "ansible.log"
    log = outcome.log_path.read_text()
    assert "A task that forgot no_log" in log and f"secret={MASK}" in log
    for path in [*run_dir.iterdir(), *inventory.rglob("*")]:
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path
    assert {stat.S_IMODE(p.stat().st_mode) for p in run_dir.iterdir()} == {0o600}
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    leftovers = set(os.listdir(tempfile.gettempdir())) - before
    assert not [name for name in leftovers if name.startswith("graylog-installer-")]
    kinds = [e["event"] for e in events]
    assert "playbook_on_task_start" in kinds and "runner_on_failed" in kinds
