"""The real graylog-installer command against real Ubuntu 16.04 containers.

These tests replace the sandbox: they start by destroying any sandbox container of this
machine, so that the first install really is a first install.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from graylog_installer import paths, secrets_store
from graylog_installer.redact import Hidden
from graylog_installer.sandbox import build_testbed

REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 1800


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def graylog_installer(*args: str, timeout: int = COMMAND_TIMEOUT) -> Result:
    """Run the console script as an operator would, from the repository."""
    command = [str(Path(sys.executable).with_name("graylog-installer")), *args]
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture(scope="session")
def testbed():
    return build_testbed(lambda _line: None)


@pytest.fixture(scope="session")
def first_install(testbed) -> Result:
    """A fresh sandbox installed by `graylog-installer install` with no arguments."""
    destroyed = graylog_installer("sandbox", "destroy")
    assert destroyed.returncode == 0, destroyed.stderr
    return graylog_installer("install")


@pytest.fixture(scope="session")
def sandbox_inventory(first_install) -> Path:
    assert first_install.returncode == 0, first_install.stderr
    return paths.sandbox_inventory()


@pytest.fixture(scope="session")
def admin_password(sandbox_inventory) -> str:
    # Hidden: a failing test prints its arguments, and this one must show only a mask.
    return Hidden(secrets_store.load(paths.secrets_file(sandbox_inventory)).admin_password)


@pytest.fixture
def installed_copy(sandbox_inventory: Path, tmp_path: Path) -> Path:
    """A copy of the installed sandbox inventory (marker included) to break on purpose."""
    copy = tmp_path / "inventory"
    shutil.copytree(sandbox_inventory, copy, ignore=shutil.ignore_patterns(".runs"))
    return copy


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` with its content, to prove a refusal changed nothing."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("graylog-installer: error: ")
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
