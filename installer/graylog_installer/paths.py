"""Where things live: the repository (playbooks, ansible.cfg) and files inside an inventory."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from graylog_installer.errors import InstallerError

HOME_ENV = "GRAYLOG_INSTALLER_HOME"

HOSTS_FILE = "hosts.yml"
SECRETS_FILE = "secrets.yml"
STATE_FILE = ".graylog-installer-state.json"
RUNS_DIR = ".runs"


def repo_root() -> Path:
    """The checkout holding playbooks/ and roles/ (overridable for installed copies)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().resolve()
    # installer/graylog_installer/paths.py -> the repository is two levels above the package.
    return Path(__file__).resolve().parents[2]


def playbook_path() -> Path:
    path = repo_root() / "playbooks" / "site.yml"
    if not path.is_file():
        raise InstallerError(
            f"playbook not found at {path}; set {HOME_ENV} to the graylog-installer checkout"
        )
    return path


def wired_variables() -> frozenset[str]:
    """Role variables playbooks/group_vars/all.yml computes (its own stack_* names aside)."""
    import yaml

    document = yaml.safe_load((repo_root() / "playbooks" / "group_vars" / "all.yml").read_text())
    return frozenset(name for name in document if not name.startswith("stack"))


def ansible_cfg_path() -> Path:
    return repo_root() / "ansible.cfg"


def ansible_env() -> dict[str, str]:
    """Environment for every Ansible process we start, in-process parsing included."""
    env: dict[str, str] = {}
    cfg = ansible_cfg_path()
    if cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(cfg)
    # ansible-runner looks ansible-playbook up on PATH: prefer the one beside this interpreter,
    # so an unactivated virtualenv still runs its own Ansible.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", os.defpath)])
    return env


def sandbox_inventory() -> Path:
    """The inventory the sandbox uses (what sandbox.prepare_sandbox returns).

    Each sandbox (sandbox_identity: the operator's, or one the environment names) has a
    directory of its own.
    """
    from graylog_installer import sandbox_identity

    return repo_root() / "inventories" / sandbox_identity.current().directory_name


def configure_ansible() -> None:
    """Point in-process Ansible at ansible.cfg; it reads its config once, on first import."""
    cfg = ansible_cfg_path()
    if cfg.is_file():
        os.environ["ANSIBLE_CONFIG"] = str(cfg)


def hosts_file(inventory: Path) -> Path:
    return inventory / HOSTS_FILE


def secrets_file(inventory: Path) -> Path:
    return inventory / SECRETS_FILE


def state_file(inventory: Path) -> Path:
    return inventory / STATE_FILE


def new_run_dir(inventory: Path, now: datetime | None = None) -> Path:
    """Create INVENTORY/.runs/<UTC timestamp>/ readable by the owner only."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    runs = inventory / RUNS_DIR
    runs.mkdir(mode=0o700, exist_ok=True)
    os.chmod(runs, 0o700)
    run_dir = runs / stamp
    suffix = 1
    while run_dir.exists():  # two runs in the same second keep separate logs
        suffix += 1
        run_dir = runs / f"{stamp}-{suffix}"
    run_dir.mkdir(mode=0o700)
    os.chmod(run_dir, 0o700)
    return run_dir
