"""The real graylog-installer command against real Ubuntu 16.04 containers.

The tests leave the machine as they found it. They install a sandbox of their own
(container graylog-installer-itest-sandbox, ports offset by 10000, an inventory of its
own), chosen through sandbox_identity's environment variables, which every command
they run inherits: an operator's sandbox is never touched. Theirs is destroyed at the
start, so that the first install really is a first install, and removed at the end; every
container they start is named TEST_PREFIX..., and none may be left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from graylog_installer import paths, sandbox_identity, secrets_store
from graylog_installer.redact import Hidden
from graylog_installer.sandbox import build_testbed, container

REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 1800
TEST_PREFIX = "graylog-installer-itest-"
# Set before any test runs, so the commands and this process agree on the sandbox.
os.environ[sandbox_identity.NAME_ENV] = f"{TEST_PREFIX}sandbox"
os.environ[sandbox_identity.PORT_OFFSET_ENV] = "10000"
SANDBOX = sandbox_identity.current()


@contextmanager
def operators_environment() -> Iterator[None]:
    """Without the tests' sandbox variables: what an operator's command would see."""
    saved = {
        name: os.environ.pop(name)
        for name in (sandbox_identity.NAME_ENV, sandbox_identity.PORT_OFFSET_ENV)
    }
    try:
        yield
    finally:
        os.environ.update(saved)


def containers(prefix: str) -> dict[str, str]:
    """Containers whose name starts with ``prefix``: name -> id, state and start time."""
    listed = subprocess.run(
        ["docker", "ps", "--all", "--filter", f"name=^{prefix}", "--format", "{{.Names}}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    found = {}
    for name in listed:
        shown = subprocess.run(
            ["docker", "container", "inspect", "--format", "{{json .State}} {{.Id}}", name],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        if shown:
            state_json, _, ident = shown.strip().rpartition(" ")
            state = json.loads(state_json)
            found[name] = f"{ident[:12]} {state['Status']} since {state['StartedAt']}"
    return found


def file_stamps(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``directory`` with its size and modification time."""
    if not directory.is_dir():
        return {}
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def machine_left_as_found() -> Iterator[None]:
    """Fails the session (at its teardown, after every other fixture's) when the tests
    touched the operator's sandbox or left a container of theirs behind."""
    with operators_environment():
        operator = sandbox_identity.current()
        operator_inventory = paths.sandbox_inventory()
    before = (containers(operator.name).get(operator.name), file_stamps(operator_inventory))
    assert operator.name != SANDBOX.name and operator_inventory != paths.sandbox_inventory()
    yield
    after = (containers(operator.name).get(operator.name), file_stamps(operator_inventory))
    assert after == before, f"the operator's sandbox changed: {before} -> {after}"
    left = containers(TEST_PREFIX)
    assert not left, f"the tests left containers behind: {left}"
    assert not paths.sandbox_inventory().exists(), "the tests' sandbox inventory was left"


@contextmanager
def fresh_container(name: str, testbed) -> Iterator[str]:
    """A new test-bed container (name starts with TEST_PREFIX), removed afterwards."""
    subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)
    container.ensure_host(name, testbed.image, testbed.mirror.directory)
    try:
        yield name
    finally:
        subprocess.run(
            ["docker", "rm", "--force", "--volumes", name], capture_output=True, check=False
        )


def container_address(name: str) -> str:
    """The container's address on Docker's default bridge, reachable from this machine."""
    return subprocess.run(
        ["docker", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", name],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


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
def first_install(testbed) -> Iterator[Result]:
    """A fresh sandbox (the tests' own) installed by `graylog-installer install` with no
    arguments; removed, inventory and all, when the session ends."""
    destroyed = graylog_installer("sandbox", "destroy")
    assert destroyed.returncode == 0, destroyed.stderr
    yield graylog_installer("install")
    destroyed = graylog_installer("sandbox", "destroy")
    shutil.rmtree(paths.sandbox_inventory(), ignore_errors=True)
    assert destroyed.returncode == 0, destroyed.stderr


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
