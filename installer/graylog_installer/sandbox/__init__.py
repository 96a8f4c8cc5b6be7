"""The local sandbox: an Ubuntu 16.04 container the installer builds, starts and installs onto.

It stands in for an operator's server when no inventory is given. Everything it needs is
made here, because this machine may have no Docker engine running, no image and no access
to the vendors' repositories: see README.md in the repository for what is replaced and why.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from graylog_installer import entry_tls, paths, sandbox_home, sandbox_identity
from graylog_installer.errors import InstallerError, UsageError
from graylog_installer.sandbox import (
    artifacts,
    base_image,
    container,
    docker_engine,
    hosts_file,
    mirror,
)
from graylog_installer.sandbox.host_tools import run

MIRROR_VARS_FILE = "group_vars/all/package_mirror.yml"
FIREWALL_VARS_FILE = "group_vars/all/firewall.yml"

Report = Callable[[str], None]


@dataclass(frozen=True)
class Testbed:
    image: str
    mirror: mirror.Mirror


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graylog-installer"


def build_testbed(report: Report) -> Testbed:
    """Docker engine running, the Ubuntu 16.04 image built and the package mirror signed."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    if docker_engine.ensure_engine(cache / "dockerd.log"):
        report("started the Docker engine")
    report(f"preparing the Ubuntu 16.04 image {base_image.IMAGE}")
    if base_image.ensure_image(cache):
        report("built the Ubuntu 16.04 image")
    versions = (
        f"Elasticsearch {', '.join(artifacts.ELASTICSEARCH_TARBALLS)}, "
        f"graylog-server {', '.join(artifacts.GRAYLOG_SHADED_JARS)}"
    )
    report(f"preparing the local package mirror ({versions})")
    return Testbed(image=base_image.IMAGE, mirror=mirror.ensure_mirror(cache))


def write_mirror_vars(inventory: Path, package_mirror: mirror.Mirror) -> Path:
    """Point an inventory at the mirror: the operator's air-gap switch, set for the sandbox."""
    target = inventory / MIRROR_VARS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by graylog-installer's sandbox: the local mirror mounted in the container.\n"
        + yaml.safe_dump(
            {
                "package_mirror_repository": package_mirror.apt_line,
                "package_mirror_key": package_mirror.public_key,
            },
            default_flow_style=False,
        )
    )
    return target


def prepare_sandbox(report: Report) -> Path:
    """Make the sandbox container ready to install onto; return its inventory directory."""
    identity = sandbox_identity.current()
    testbed = build_testbed(report)
    firewall = True
    host, published = identity.name, identity.published()
    if container.ensure_host(host, testbed.image, testbed.mirror.directory, published=published):
        report(f"started the sandbox container {host}")
    else:
        firewall = container.has_capability(host, "NET_ADMIN")
        if not firewall:
            report(
                "warning: the sandbox container may not change its iptables (made by an older "
                "version, without NET_ADMIN): installing without its firewall; "
                "'graylog-installer sandbox destroy' and install again to have one"
            )
        missing = unpublished(host, published)
        if missing:
            # Docker cannot add a mapping to an existing container; it holds the stack.
            report(
                f"warning: the sandbox container does not publish {', '.join(missing)} "
                "(made by an older version); 'graylog-installer sandbox destroy' and "
                "install again to add them"
            )
    inventory = sandbox_home.inventory(report)
    sandbox_home.make_private(inventory)
    hosts_file.write(inventory, identity)
    write_mirror_vars(inventory, testbed.mirror)
    write_firewall_vars(inventory, firewall)
    return inventory


def running_sandbox_inventory() -> Path:
    """The sandbox's inventory as it is, for a dry run: only while its container runs."""
    host = sandbox_identity.current().name
    if container.state_of(host) != "running":
        raise UsageError(
            f"--check without -i dry-runs the sandbox, but its container {host} "
            "is not running: install it first, or name an inventory with -i"
        )
    return paths.sandbox_inventory()


def write_firewall_vars(inventory: Path, firewall: bool) -> None:
    """Turn the firewall role off for a sandbox container that cannot have one."""
    target = inventory / FIREWALL_VARS_FILE
    if firewall:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by graylog-installer's sandbox: this container lacks NET_ADMIN.\n"
        "firewall_enabled: false\n"
    )


def unpublished(name: str, published: tuple[str, ...]) -> list[str]:
    """The mappings ``ADDRESS:PORT:CONTAINER_PORT[/PROTO]`` the container lacks."""
    missing = []
    for mapping in published:
        address, port, inner = mapping.split(":")
        inner = inner if "/" in inner else f"{inner}/tcp"
        try:
            shown = run(["docker", "port", name, inner]).split()
        except InstallerError:  # docker port fails when nothing is published there
            shown = []
        if f"{address}:{port}" not in shown:
            missing.append(mapping)
    return missing


def destroy_sandbox(report: Report) -> None:
    """Remove the sandbox container and what was generated for it (its secrets included).

    The secrets and the entry's self-signed certificate go with the container: they
    belong to an installed stack, and none is left.
    """
    host = sandbox_identity.current().name
    if container.state_of(host) is not None:
        run(["docker", "rm", "--force", "--volumes", host])
        report(f"removed the sandbox container {host}")
    inventory = sandbox_home.inventory(report)
    for generated in (
        paths.hosts_file(inventory),
        paths.secrets_file(inventory),
        paths.state_file(inventory),
        inventory / MIRROR_VARS_FILE,
        inventory / FIREWALL_VARS_FILE,
        entry_tls.generated_certificate(inventory),
        entry_tls.generated_key(inventory),
    ):
        if generated.exists():
            generated.unlink()
            report(f"removed {generated}")
