"""init keeps an inventory's secrets out of git; install warns when git would commit them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from graylog_installer import git_guard

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    inventory = tmp_path / "inventories" / "prod"
    inventory.mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all: {}\n")
    (inventory / "secrets.yml").write_text("graylog_admin_password: x\n")
    (inventory / ".runs").mkdir()
    (inventory / ".runs" / "ansible.log").write_text("log\n")
    (inventory / ".secrets-before-rotation.yml.bak").write_text("old\n")
    (inventory / "tls").mkdir()
    (inventory / "tls" / "entry.key").write_text("key\n")
    (inventory / "tls" / "entry.crt").write_text("certificate\n")
    return inventory


def untracked(root: Path) -> set[str]:
    result = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {line[3:] for line in result.stdout.splitlines()}


def test_the_ignore_file_keeps_secrets_backups_and_logs_out(checkout: Path) -> None:
    root = checkout.parents[1]
    assert "inventories/prod/secrets.yml" in untracked(root)
    git_guard.write_ignore_file(checkout)
    assert untracked(root) == {
        "inventories/prod/.gitignore",
        "inventories/prod/hosts.yml",
        "inventories/prod/tls/entry.crt",  # public: fine to keep in git
    }
    assert git_guard.exposure_warning(checkout) is None


def test_an_operators_ignore_file_keeps_its_lines_and_gains_ours(checkout: Path) -> None:
    (checkout / ".gitignore").write_text("*.retry")  # no final newline
    git_guard.write_ignore_file(checkout)
    git_guard.write_ignore_file(checkout)  # a second time adds nothing
    lines = (checkout / ".gitignore").read_text().splitlines()
    assert lines[0] == "*.retry"
    assert [line for line in lines if line.startswith("/")] == list(git_guard.IGNORED)


def test_warns_when_secrets_are_not_ignored(checkout: Path) -> None:
    warning = git_guard.exposure_warning(checkout)
    assert warning and "not ignored" in warning and "secrets.yml" in warning


def test_warns_when_secrets_are_already_tracked(checkout: Path) -> None:
    git(checkout, "add", "secrets.yml")
    git_guard.write_ignore_file(checkout)  # ignoring does not untrack a tracked file
    warning = git_guard.exposure_warning(checkout)
    assert warning and "tracked by git" in warning and "git rm --cached" in warning


def test_no_warning_outside_a_git_work_tree(tmp_path: Path) -> None:
    (tmp_path / "secrets.yml").write_text("x\n")
    assert git_guard.exposure_warning(tmp_path) is None


def test_warns_when_the_generated_tls_key_is_not_ignored(checkout: Path) -> None:
    (checkout / ".gitignore").write_text("/secrets.yml\n")
    warning = git_guard.exposure_warning(checkout)
    assert warning and "entry.key" in warning and "not ignored" in warning
