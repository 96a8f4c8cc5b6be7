"""The Ubuntu 16.04 systemd image the sandbox and the tests run on.

No container registry can be reached, so the image is bootstrapped from Ubuntu's archive
with debootstrap and imported into Docker once. The archive's signature is checked with
Ubuntu's keyring, which Debian ships (and signs) in its package ``ubuntu-keyring``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from graylog_installer.errors import InstallerError
from graylog_installer.sandbox.host_tools import require_tool, run, succeeds

# Bump the tag whenever the recipe below changes, so cached images are rebuilt.
IMAGE = "graylog-installer/ubuntu-xenial-systemd:1"
UBUNTU_ARCHIVE = "http://archive.ubuntu.com/ubuntu"
# Debian release whose ubuntu-keyring package carries the archive keys that signed xenial.
KEYRING_SUITE = "trixie"
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# What Ansible and the roles need on a bare host: systemd as PID 1 and the full python 2.7
# (python-minimal lacks zipfile, which every Ansible module needs).
INCLUDED_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "python",
    "ca-certificates",
    "apt-transport-https",
    "iproute2",
)
SOURCES_LIST = f"""\
deb {UBUNTU_ARCHIVE} xenial main universe
deb {UBUNTU_ARCHIVE} xenial-updates main universe
deb {UBUNTU_ARCHIVE} xenial-security main universe
"""


def image_exists(image: str = IMAGE) -> bool:
    return succeeds(["docker", "image", "inspect", image])


def ubuntu_keyring(cache_dir: Path) -> Path:
    """Ubuntu's archive keyring, taken from Debian's signed ``ubuntu-keyring`` package."""
    keyring = cache_dir / "ubuntu-keyring" / "ubuntu-archive-keyring.gpg"
    if keyring.exists():
        return keyring
    work = cache_dir / "ubuntu-keyring" / "apt"
    for sub in ("lists/partial", "cache/archives/partial"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    sources = work / "sources.list"
    sources.write_text(f"deb [signed-by={DEBIAN_KEYRING}] {DEBIAN_ARCHIVE} {KEYRING_SUITE} main\n")
    # A private apt configuration: the host's own sources and state stay untouched.
    apt_options = [
        f"-oDir::Etc::SourceList={sources}",
        "-oDir::Etc::SourceParts=/dev/null",
        f"-oDir::State::Lists={work / 'lists'}",
        f"-oDir::Cache={work / 'cache'}",
        "-oDir::State::Status=/dev/null",
        "-oAPT::Sandbox::User=root",
    ]
    run(["apt-get", *apt_options, "update"])
    run(["apt-get", *apt_options, "download", "ubuntu-keyring"], cwd=work)
    debs = sorted(work.glob("ubuntu-keyring_*.deb"))
    if not debs:
        raise InstallerError("apt did not download the ubuntu-keyring package")
    extracted = work / "extracted"
    run(["dpkg-deb", "-x", debs[-1], extracted])
    shutil.copyfile(extracted / "usr/share/keyrings/ubuntu-archive-keyring.gpg", keyring)
    return keyring


def build_image(cache_dir: Path, image: str = IMAGE) -> None:
    """Bootstrap xenial into a temporary root and import it as ``image``."""
    require_tool("debootstrap", "debootstrap")
    keyring = ubuntu_keyring(cache_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="xenial-root-") as root_dir:
        root = Path(root_dir)
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--keyring={keyring}",
                f"--include={','.join(INCLUDED_PACKAGES)}",
                "xenial",
                root,
                UBUNTU_ARCHIVE,
            ]
        )
        # A real 16.04 host has universe, updates and security; minbase has only main.
        (root / "etc/apt/sources.list").write_text(SOURCES_LIST)
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        (root / "var/lib/apt/lists/partial").mkdir(parents=True)
        import_root(root, image, 'CMD ["/sbin/init"]')


def import_root(root: Path, image: str, *changes: str) -> None:
    """Import the file system under ``root`` into Docker as ``image`` (no registry needed)."""
    change_options = [option for change in changes for option in ("--change", change)]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    try:
        run(["docker", "import", *change_options, "-", image], stdin=tar.stdout)
    finally:
        tar.wait()


def ensure_image(cache_dir: Path, image: str = IMAGE) -> bool:
    """Build ``image`` unless Docker has it already; True if it was built."""
    if image_exists(image):
        return False
    build_image(cache_dir, image)
    return True
