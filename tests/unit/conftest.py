"""Shared helpers: real inventory directories on disk, as an operator would write them."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import socket
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from graylog_installer.redact import GLOBAL

SINGLE_NODE = """
all:
  children:
    graylog:
      hosts:
        gl1:
          ansible_host: 10.0.0.1
    elasticsearch:
      hosts:
        gl1:
    mongodb:
      hosts:
        gl1:
"""


REPOSITORY = Path(__file__).resolve().parents[2]


def load_plugin(relative_path: str) -> ModuleType:
    """An Ansible plugin file of the repository, imported as a module of its own."""
    path = REPOSITORY / relative_path
    spec = importlib.util.spec_from_file_location(f"plugin_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stand_in_home(root: Path, playbooks: dict[str, str]) -> Path:
    """A stand-in installer home at ROOT: the real wiring, roles (their defaults hold the
    versions checked), strategy plugins and ansible.cfg, with PLAYBOOKS (file name to
    text) in place of the real playbooks."""
    for shared in ("playbooks/group_vars", "playbooks/strategy_plugins", "roles"):
        shutil.copytree(REPOSITORY / shared, root / shared)
    for name, text in playbooks.items():
        (root / "playbooks" / name).write_text(textwrap.dedent(text))
    shutil.copy(REPOSITORY / "ansible.cfg", root / "ansible.cfg")
    return root


def write_inventory(
    root: Path,
    hosts: str = SINGLE_NODE,
    group_vars: dict[str, str] | None = None,
    host_vars: dict[str, str] | None = None,
) -> Path:
    """Create INVENTORY/hosts.yml (+ group_vars/, host_vars/) and return the directory."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hosts.yml").write_text(textwrap.dedent(hosts))
    for kind, files in (("group_vars", group_vars), ("host_vars", host_vars)):
        for name, body in (files or {}).items():
            (root / kind).mkdir(exist_ok=True)
            (root / kind / f"{name}.yml").write_text(textwrap.dedent(body))
    return root


def this_machine_os() -> tuple[str, str]:
    """This machine's os-release ID and VERSION_ID, as preflight's probe reads them."""
    release = platform.freedesktop_os_release()
    return release["ID"], release.get("VERSION_ID", "")


# A stand-in for ``python -m graylog_installer.cli`` whose preflight accepts this machine's
# system as it accepts Ubuntu 16.04: the install tests run on this machine, not on 16.04.
CLI_ON_THIS_MACHINE = (
    "import sys; from graylog_installer import cli, preflight; "
    f"preflight.SUPPORTED = {this_machine_os()!r}; sys.exit(cli.main())"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local_inventory(root: Path) -> Path:
    """A one-host inventory Ansible runs on this machine (connection local), tiny heaps.
    Its movable ports are ones free here now, so that preflight's port check does not
    depend on what else this machine runs (a sandbox publishes 12201, for one)."""
    ports = "".join(
        f"        {name}: {free_port()}\n"
        for name in (  # not nginx's port: the tests expect the URL http://127.0.0.1/
            "graylog_rest_port",
            "graylog_syslog_port",
            "graylog_gelf_port",
            "graylog_gelf_http_port",
            "elasticsearch_http_port",
            "mongodb_port",
        )
    )
    hosts = f"""
    all:
      vars:
        ansible_connection: local
        ansible_python_interpreter: {sys.executable}
        elasticsearch_heap_size: 64m
        graylog_heap_size: 64m
{ports}      children:
        graylog:
          hosts:
            local1:
              ansible_host: 127.0.0.1
        elasticsearch:
          hosts:
            local1:
        mongodb:
          hosts:
            local1:
    """
    return write_inventory(root, hosts)


@pytest.fixture
def inventory_dir(tmp_path: Path) -> Path:
    return write_inventory(tmp_path / "inv")


@pytest.fixture(autouse=True)
def _fresh_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    # Secrets registered by one test must not mask text in the next.
    monkeypatch.setattr(GLOBAL, "_values", [])
