"""A host that is not Ubuntu 16.04, for the installer's refusal of other systems.

Debian 12 from Debian's own archive (its signature checked with the host's keyring): the
installer must see it for what it is and refuse before changing anything.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from graylog_installer.sandbox import cache_dir
from graylog_installer.sandbox.base_image import image_exists, import_root
from graylog_installer.sandbox.host_tools import run

IMAGE = "graylog-installer/test-debian-bookworm:1"
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"


def ensure_image() -> str:
    if image_exists(IMAGE):
        return IMAGE
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="bookworm-root-") as root:
        run(["debootstrap", "--variant=minbase", "bookworm", root, DEBIAN_ARCHIVE])
        import_root(Path(root), IMAGE)
    return IMAGE


def start_host(name: str) -> str:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    run(["docker", "run", "--detach", "--name", name, ensure_image(), "sleep", "infinity"])
    return name


def remove_host(name: str) -> None:
    run(["docker", "rm", "-f", name])


def inventory_for(directory: Path, host: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "hosts.yml").write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_connection: docker\n"
        "  children:\n"
        + "".join(
            f"    {group}:\n      hosts:\n        {host}:\n"
            for group in ("graylog", "elasticsearch", "mongodb")
        )
    )
    return directory
