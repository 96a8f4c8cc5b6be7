"""An install killed midway (SIGKILL, no cleanup code runs), then run again.

The re-run must converge and pass verify with the same secrets file, and at no point may
a secret lie anywhere on this machine's disk but in the inventory's 0600 secrets file.
The test uses a container of its own, so that the kill hits a first install.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import COMMAND_TIMEOUT, REPO, container_address, fresh_container

from graylog_installer import paths, secrets_store
from graylog_installer.sandbox import write_mirror_vars

HOST = "graylog-installer-itest-resume"
# The first task of role graylog: on a bare host, in the play that installs the packages
# of every role at once, whose apt run goes on in the container after the kill.
KILL_AT = "TASK [graylog : "
CHUNK = 1 << 20


def docker_exec(*command: str) -> str:
    return subprocess.run(
        ["docker", "exec", HOST, *command], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def fresh_host(testbed) -> Iterator[str]:
    with fresh_container(HOST, testbed):
        yield HOST


@pytest.fixture(scope="module")
def inventory(fresh_host, testbed, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("resume") / "inventory"
    directory.mkdir()
    # No port mapping: verify reaches nginx and syslog (514) at the container's own address.
    (directory / "hosts.yml").write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_connection: docker\n"
        "    ansible_python_interpreter: /usr/bin/python2.7\n"
        f"    graylog_external_url: https://{container_address(fresh_host)}/\n"
        "    elasticsearch_heap_size: 512m\n"
        "    graylog_heap_size: 768m\n"
        "  children:\n"
        + "".join(
            f"    {group}:\n      hosts:\n        {fresh_host}:\n"
            for group in ("graylog", "elasticsearch", "mongodb")
        )
    )
    write_mirror_vars(directory, testbed.mirror)
    return directory


@pytest.fixture(scope="module")
def temp_dir(tmp_path_factory) -> Path:
    """The installer's TMPDIR (below /tmp, which is searched too)."""
    return tmp_path_factory.mktemp("resume-tmpdir")


def installer(*args: str, temp: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("graylog-installer")), *args],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(temp)},
        text=True,
        **popen,
    )


def run_log_shows(inventory: Path, text: str) -> bool:
    runs = inventory / paths.RUNS_DIR
    logs = runs.glob("*/ansible.log") if runs.exists() else []
    return any(text in log.read_text(errors="replace") for log in logs)


def ansible_processes(inventory: Path) -> list[int]:
    """ansible-playbook processes working on this inventory, in whatever session."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ansible-playbook" in argv and str(inventory).encode() in argv:
            found.append(int(entry.name))
    return found


def files_holding(secrets: list[str], roots: list[Path], allowed: Path) -> list[str]:
    """Regular files below ``roots`` holding any of ``secrets``: paths only, never content."""
    needles = [s.encode() for s in secrets]
    overlap = max(len(n) for n in needles)
    found = []
    for root in roots:
        for directory, _dirs, names in os.walk(root):
            for name in names:
                path = Path(directory, name)
                if path == allowed or path.is_symlink() or not path.is_file():
                    continue
                if _holds(path, needles, overlap):
                    found.append(str(path))
    return found


def _holds(path: Path, needles: list[bytes], overlap: int) -> bool:
    try:
        with path.open("rb") as handle:
            tail = b""
            while chunk := handle.read(CHUNK):
                window = tail + chunk
                if any(n in window for n in needles):
                    return True
                tail = window[-overlap:]
    except OSError:  # vanished or unreadable (another user's, a socket...)
        return False
    return False


def places_to_search(inventory: Path, temp: Path) -> list[Path]:
    places = [Path("/tmp"), Path(tempfile.gettempdir()), temp, inventory, Path.home() / ".ansible"]
    return [p for p in dict.fromkeys(places) if p.exists()]


@dataclass(frozen=True)
class Killed:
    returncode: int
    orphans: list[int]
    leaked: list[str]
    # Never shown in a failure report.
    secrets_bytes: bytes = field(repr=False)
    secrets: list[str] = field(repr=False)


@pytest.fixture(scope="module")
def killed(inventory: Path, temp_dir: Path) -> Killed:
    """The first install, SIGKILLed (its whole process group) once the graylog role started."""
    log = inventory.parent / "killed-install.out"
    with log.open("w") as out:
        process = installer(
            "install", "-i", str(inventory), temp=temp_dir,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while not run_log_shows(inventory, KILL_AT):
            assert process.poll() is None, f"the install ended before the graylog role: {log}"
            assert time.monotonic() < deadline, "the graylog role never started"
            time.sleep(0.5)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    secrets_path = paths.secrets_file(inventory)
    deadline = time.monotonic() + 30
    while ansible_processes(inventory) and time.monotonic() < deadline:
        time.sleep(0.5)
    value = secrets_store.load(secrets_path).values()
    return Killed(
        returncode=process.returncode,
        orphans=ansible_processes(inventory),
        leaked=files_holding(value, places_to_search(inventory, temp_dir), secrets_path),
        secrets_bytes=secrets_path.read_bytes(),
        secrets=value,
    )


@pytest.fixture(scope="module")
def rerun(killed: Killed, inventory: Path, temp_dir: Path) -> subprocess.CompletedProcess:
    # Over SSH, a killed run can kill dpkg midway and leave its journal behind; the docker
    # connection cannot (dpkg goes on in the container), so leave that trace by hand.
    docker_exec("touch", "/var/lib/dpkg/updates/0000")
    process = installer(
        "install", "-i", str(inventory), temp=temp_dir,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = process.communicate(timeout=COMMAND_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_kill_stops_ansible_too(killed):
    assert killed.returncode == -signal.SIGKILL
    # ansible-playbook runs in a session of its own: it must not go on converging alone.
    assert killed.orphans == []


def test_no_secret_is_left_on_disk_by_the_killed_run(killed):
    assert killed.leaked == [], "files outside secrets.yml hold a secret"


def test_the_rerun_converges_with_the_same_secrets(killed, rerun, inventory):
    assert rerun.returncode == 0, rerun.stderr
    kept = paths.secrets_file(inventory).read_bytes() == killed.secrets_bytes
    assert kept, "the secrets file changed"
    generated = "Generated secrets" in rerun.stdout  # stdout shows the admin password
    assert not generated, "the re-run generated new secrets"
    assert docker_exec("ls", "-A", "/var/lib/dpkg/updates") == ""


def test_the_rerun_leaves_no_secret_and_no_private_dir(killed, rerun, inventory, temp_dir):
    assert rerun.returncode == 0, rerun.stderr
    leaked = files_holding(
        killed.secrets, places_to_search(inventory, temp_dir), paths.secrets_file(inventory)
    )
    assert leaked == [], "files outside secrets.yml hold a secret"
    # The killed run's private data dir went when the re-run started.
    assert list(temp_dir.glob("graylog-installer-*")) == []


def test_verify_passes_after_the_rerun(rerun, inventory, temp_dir):
    assert rerun.returncode == 0, rerun.stderr
    process = installer(
        "verify", "-i", str(inventory), temp=temp_dir,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    assert " PASS " in rows["GELF round trip"] and " PASS " in rows["syslog round trip"]
