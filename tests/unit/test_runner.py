"""Running Ansible: flags pass through, secrets never reach disk or the terminal unmasked."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import CLI_ON_THIS_MACHINE, local_inventory, stand_in_home, write_inventory

from graylog_installer import paths, runner, secrets_store
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
        assert holder.name.startswith(f"graylog-installer-{os.getpid()}-")
        (data_dir / "env").mkdir()
        (data_dir / "env" / "extravars").write_text(SECRET)
        raise RuntimeError("the run blew up")
    assert not holder.exists()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_holders_left_by_dead_installers_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f"graylog-installer-{dead_pid()}-abc"
    alive = tmp_path / f"graylog-installer-{os.getpid()}-def"
    unrelated = [tmp_path / "graylog-installer-old", tmp_path / "other-123-x"]
    for directory in (dead, alive, *unrelated):
        (directory / "runner").mkdir(parents=True)
    (dead / "runner" / "leftover").write_text(SECRET)
    assert runner.remove_stale_holders(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and all(p.exists() for p in unrelated)


def test_env_points_ansible_at_repo_config_and_this_python() -> None:
    env = paths.ansible_env()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    if paths.ansible_cfg_path().is_file():
        assert env["ANSIBLE_CONFIG"] == str(paths.ansible_cfg_path())


def secrets_file(directory: Path) -> Path:
    path = directory / "secrets.yml"
    path.write_text(f"graylog_password_secret: {SECRET}\n")
    path.chmod(0o600)
    return path


def files_holding(secret: str, *roots: Path) -> list[Path]:
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_an_ad_hoc_raw_probe_reaches_a_host_without_python(tmp_path: Path) -> None:
    """Preflight's and status's raw probes meet hosts before Python is there: under
    ansible.cfg's Mitogen, which needs Python even for raw, such a host is unreachable."""
    inventory = write_inventory(
        tmp_path / "inv",
        """
        all:
          hosts:
            bare1:
              ansible_connection: local
              ansible_python_interpreter: /nonexistent/python2.7
        """,
    )
    events: list[dict] = []
    outcome = runner.run_module(
        inventory, "raw", "echo probe-ran", tmp_path, Redactor(), events.append
    )
    answers = [
        event["event_data"]["res"].get("stdout", "")
        for event in events
        if event.get("event") == "runner_on_ok"
    ]
    assert outcome.rc == 0, outcome
    assert [answer.strip() for answer in answers] == ["probe-ran"]


def test_real_run_masks_secrets_and_never_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    inventory = local_inventory(tmp_path / "inv")
    secrets = secrets_file(tmp_path)
    playbook = tmp_path / "site.yml"
    playbook.write_text(
        textwrap.dedent("""
        - name: Leaky play
          hosts: all
          gather_facts: false
          tasks:
            - name: A task that forgot no_log
              ansible.builtin.debug:
                msg: "secret={{ graylog_password_secret }} change={{ graylog_allow_secret_change }}"
            - name: Fail with the secret in the message
              ansible.builtin.fail:
                msg: "bad {{ graylog_password_secret }}"
    """)
    )
    events: list[dict] = []
    during_run: list[Path] = []

    def on_event(event: dict) -> None:
        events.append(event)
        # While Ansible runs: nothing in the private data dir (or anywhere in TMPDIR) holds it.
        during_run.extend(files_holding(SECRET, temp))

    run_dir = paths.new_run_dir(inventory)
    outcome = runner.run_playbook(
        inventory,
        {"graylog_allow_secret_change": True},
        runner.PlaybookOptions(),
        run_dir,
        Redactor([SECRET]),
        on_event,
        playbook=playbook,
        vars_files=[secrets],
    )
    assert not outcome.ok and outcome.log_path == run_dir / "ansible.log"
    log = outcome.log_path.read_text()
    assert "A task that forgot no_log" in log and f"secret={MASK} change=True" in log
    assert during_run == [] and len(events) > 5
    assert files_holding(SECRET, run_dir, inventory, temp) == []
    assert {stat.S_IMODE(p.stat().st_mode) for p in run_dir.iterdir()} == {0o600}
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    assert list(temp.iterdir()) == []
    kinds = [e["event"] for e in events]
    assert "playbook_on_task_start" in kinds and "runner_on_failed" in kinds


# ---- an install stopped midway ------------------------------------------------------------

SLOW_SITE = """
- name: Stand-in site
  hosts: all
  gather_facts: false
  tasks:
    - name: Configure graylog-server
      ansible.builtin.command: sleep 120
      changed_when: false
"""


def start_slow_install(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    """``graylog-installer install`` in a process group of its own, at its long task."""
    home = stand_in_home(tmp_path / "home", {"site.yml": SLOW_SITE})
    temp = tmp_path / "temp"
    temp.mkdir()
    inventory = local_inventory(tmp_path / "inv")
    env = {**os.environ, "GRAYLOG_INSTALLER_HOME": str(home), "TMPDIR": str(temp)}
    command = [sys.executable, "-c", CLI_ON_THIS_MACHINE, "install", "-i", str(inventory)]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not ansible_processes(inventory):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "ansible-playbook never started"
        time.sleep(0.2)
    time.sleep(3)  # into the long task
    return process, inventory, temp


def ansible_processes(inventory: Path) -> list[int]:
    """ansible-playbook processes started for this inventory (whatever their session)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"ansible-playbook" in a for a in argv) and str(inventory).encode() in b" ".join(
            argv
        ):
            found.append(int(entry.name))
    return found


def holders(temp: Path) -> list[Path]:
    """Our private data dirs (the local connection's own module temp files are the host's)."""
    return sorted(temp.glob("graylog-installer-*"))


def gone(inventory: Path, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while ansible_processes(inventory):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C (SIGINT)")]
)
def test_a_stop_signal_stops_ansible_with_one_line(tmp_path: Path, signum: int, name: str) -> None:
    process, inventory, temp = start_slow_install(tmp_path)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert err.count("\n") == 1, err
    assert err.startswith(f"graylog-installer: error: interrupted by {name}; ")
    assert "run the same command again" in err and "Traceback" not in err
    assert gone(inventory), "ansible-playbook still runs"
    assert holders(temp) == []  # the private data dir went with the run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc")
def test_killed_installer_takes_ansible_along_and_leaves_no_secret(tmp_path: Path) -> None:
    process, inventory, temp = start_slow_install(tmp_path)
    value = secrets_store.load(paths.secrets_file(inventory))
    # ansible-playbook leads a process group of its own; the "host's" sleep is in it too.
    ansible_group = min(os.getpgid(pid) for pid in ansible_processes(inventory))
    os.killpg(process.pid, signal.SIGKILL)  # no cleanup code of ours runs
    process.communicate(timeout=60)
    try:
        # ansible-playbook runs in a session of its own: only the kernel's notice stops it.
        assert gone(inventory), "ansible-playbook went on converging after the installer died"
    finally:
        # Here the host is this machine: end the module Ansible left running on it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(ansible_group, signal.SIGKILL)
    for secret in value.values():
        assert files_holding(secret, temp, tmp_path / "home") == []
        leaked = [p for p in files_holding(secret, inventory) if p.name != "secrets.yml"]
        assert leaked == []
    # The private data dir the killed run left in TMPDIR goes when the next run starts.
    left = holders(temp)
    assert len(left) == 1 and runner.remove_stale_holders(temp) == left
    assert holders(temp) == []
