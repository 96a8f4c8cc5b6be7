"""`pip install` gives a command that works from any directory, without the checkout.

A wheel is built from a copy of the sources (the way `pip install .` builds it), installed
into a new virtualenv, and run from an unrelated directory with no path back to this
repository. Its dependencies (Ansible, ansible-runner...) come from this test's own
virtualenv through a .pth file rather than from PyPI: what is under test is what the
package itself carries. No container is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What setup.py needs to build the wheel; tests, Molecule and the venv stay behind.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "ansible.cfg", "installer", "playbooks")
SOURCES_ALSO = ("roles",)
# Runs a command line through the installed CLI, then names the installer's modules it
# imported: the test bed (graylog_installer.sandbox) must not be among them for -i runs.
CLI_AND_MODULES = (
    "import sys; from graylog_installer import cli; code = cli.main(sys.argv[1:]); "
    "print('imported:', *sorted(m for m in sys.modules if m.startswith('graylog_installer')));"
    "sys.exit(code)"
)


def copy_sources(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in (*SOURCES, *SOURCES_ALSO):
        source, destination = REPO / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, destination)
    return target


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = env if env is not None else {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("package")
    sources = copy_sources(root / "src")
    # An operator's sandbox secrets in the old place: they must never ship in a wheel.
    planted = sources / "inventories" / "sandbox" / "secrets.yml"
    planted.parent.mkdir(parents=True)
    planted.write_text("planted: secret\n")
    pip = (sys.executable, "-m", "pip")
    built = run(*pip, "wheel", "--no-deps", "-q", "-w", str(root / "dist"), ".", cwd=sources)
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("graylog_installer-*.whl")

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root)
    (Path(purelib.stdout.strip()) / "dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    done = run(*pip, "--python", python, "install", "-q", "--no-deps", str(wheel), cwd=root)
    assert done.returncode == 0, done.stderr
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return {"wheel": wheel, "venv": venv, "cwd": elsewhere, "home": root / "home"}


@pytest.fixture
def operator_env(installed: dict[str, Path]) -> dict[str, str]:
    """No PYTHONPATH, no GRAYLOG_INSTALLER_HOME: nothing leads back to the checkout."""
    home = installed["home"]
    home.mkdir(exist_ok=True)
    # The new venv's bin first; the Ansible executables, dependencies, from this test's venv.
    bin_path = f"{installed['venv'] / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin"
    return {"PATH": bin_path, "HOME": str(home), "LANG": "C.UTF-8"}


def test_the_wheel_carries_the_playbooks_and_no_secret(installed: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    bundled = "graylog_installer/bundled/"
    for needed in (
        "ansible.cfg",
        "playbooks/site.yml",
        "playbooks/group_vars/all.yml",
        "playbooks/filter_plugins/stack_plan.py",
        "roles/graylog/tasks/main.yml",
    ):
        assert bundled + needed in names
    assert "graylog_installer/sandbox/graylog_server_package/DEBIAN/postinst" in names
    assert not [n for n in names if "secrets" in Path(n).name and n.endswith(".yml")]


def test_help_init_and_the_sandbox_inventory_from_another_directory(
    installed: dict[str, Path], operator_env: dict[str, str]
) -> None:
    cwd, command = installed["cwd"], str(installed["venv"] / "bin" / "graylog-installer")
    shown = run(command, "--help", cwd=cwd, env=operator_env)
    assert shown.returncode == 0 and "init" in shown.stdout and "install" in shown.stdout

    inventory = cwd / "logs"
    init = ("init", str(inventory), "--graylog", "gl1=gl1.invalid")
    made = run(command, *init, cwd=cwd, env=operator_env)
    assert made.returncode == 0, made.stderr
    assert (inventory / "hosts.yml").is_file() and (inventory / "secrets.yml").is_file()

    # The sandbox keeps its inventory in the user's data directory.
    sandbox = installed["home"] / ".local" / "share" / "graylog-installer" / "sandbox"
    shown = run(command, "secrets", "show", cwd=cwd, env=operator_env)
    assert shown.returncode == 2, shown.stderr
    assert f"there is no sandbox yet (nothing in {sandbox})" in shown.stderr
    python = str(installed["venv"] / "bin" / "python")
    write = (
        "from graylog_installer import paths, sandbox_identity; "
        "from graylog_installer.sandbox import hosts_file; "
        "hosts_file.write(paths.sandbox_inventory(), sandbox_identity.current())"
    )
    assert run(python, "-c", write, cwd=cwd, env=operator_env).returncode == 0
    assert "graylog-installer-sandbox:" in (sandbox / "hosts.yml").read_text()


def test_install_reads_the_bundled_playbooks_without_the_test_bed(
    installed: dict[str, Path], operator_env: dict[str, str]
) -> None:
    cwd, python = installed["cwd"], str(installed["venv"] / "bin" / "python")
    where = "from graylog_installer import paths; print(paths.repo_root())"
    root = Path(run(python, "-c", where, cwd=cwd, env=operator_env).stdout.strip())
    assert root.is_relative_to(installed["venv"]) and root.name == "bundled"

    inventory = cwd / "unreachable"
    command = str(installed["venv"] / "bin" / "graylog-installer")
    init = ("init", str(inventory), "--graylog", "gl1=gl1.invalid")
    made = run(command, *init, cwd=cwd, env=operator_env)
    assert made.returncode == 0, made.stderr
    # The whole playbook with its roles and plugins, as the installed package resolves them.
    site, hosts = str(root / "playbooks" / "site.yml"), str(inventory / "hosts.yml")
    env = {**operator_env, "ANSIBLE_CONFIG": str(root / "ansible.cfg")}
    checked = run("ansible-playbook", "--syntax-check", "-i", hosts, site, cwd=cwd, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    install = ("install", "-i", str(inventory), "--check")
    result = run(python, "-c", CLI_AND_MODULES, *install, cwd=cwd, env=operator_env)
    assert result.returncode == 1
    assert result.stderr.startswith("graylog-installer: error: preflight failed, no host ")
    assert "gl1: unreachable" in result.stderr and result.stderr.count("\n") == 1
    modules = result.stdout.splitlines()[-1].split()
    assert "graylog_installer.preflight" in modules  # the report below is of a real run
    assert "graylog_installer.sandbox" not in modules
