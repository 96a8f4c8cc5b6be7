"""Where things live: the playbooks and ansible.cfg, the sandbox, and files inside an inventory."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from graylog_installer.errors import InstallerError

HOME_ENV = "GRAYLOG_INSTALLER_HOME"

# The playbooks, roles and ansible.cfg that setup.py copies into an installed package.
BUNDLED = Path(__file__).resolve().parent / "bundled"

HOSTS_FILE = "hosts.yml"
SECRETS_FILE = "secrets.yml"
STATE_FILE = ".graylog-installer-state.json"
RUNS_DIR = ".runs"


def repo_root() -> Path:
    """The directory holding playbooks/, roles/ and ansible.cfg.

    GRAYLOG_INSTALLER_HOME when set (tests, a checkout of another version), else the copy
    bundled into the installed package, else the checkout this code runs from.
    """
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().resolve()
    if (BUNDLED / "playbooks" / "site.yml").is_file():
        return BUNDLED
    return checkout_root()


def checkout_root() -> Path:
    # installer/graylog_installer/paths.py: the repository is two levels above the package.
    return Path(__file__).resolve().parents[2]


def playbook_path() -> Path:
    path = repo_root() / "playbooks" / "site.yml"
    if not path.is_file():
        raise InstallerError(
            f"playbook not found at {path}: reinstall graylog-installer, or set {HOME_ENV} "
            "to a graylog-installer checkout"
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


def data_dir() -> Path:
    """This user's graylog-installer data: $XDG_DATA_HOME/graylog-installer, else ~/.local/share."""
    base = os.environ.get("XDG_DATA_HOME", "")
    # The XDG specification ignores a relative value.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "graylog-installer"


def sandbox_inventory() -> Path:
    """The sandbox's inventory: its secrets, certificate and run logs, outside any source tree.

    Each sandbox (sandbox_identity: the operator's, or one the environment names) has a
    directory of its own.
    """
    from graylog_installer import sandbox_identity

    return data_dir() / sandbox_identity.current().directory_name


def legacy_sandbox_inventory() -> Path:
    """Where earlier versions kept the sandbox's inventory: inside the checkout."""
    from graylog_installer import sandbox_identity

    return checkout_root() / "inventories" / sandbox_identity.current().directory_name


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
