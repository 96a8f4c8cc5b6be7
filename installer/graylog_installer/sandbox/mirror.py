"""The test bed's signed local apt repository holding Elasticsearch and graylog-server.

Each version pinned in artifacts.py is built, so the roles' defaults and the older
versions the upgrade proof starts from can both be installed from it.

It is the same kind of repository an air-gapped operator points the roles at with
``package_mirror_repository``: a flat apt repository (``deb file:/DIR ./`` or over HTTP)
whose Release file is signed by a key the roles install. Here the key is generated for
this machine and never leaves its cache directory.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from graylog_installer.sandbox import artifacts, debs
from graylog_installer.sandbox.host_tools import require_tool, run

# Bump when the packages or the repository layout change, so cached mirrors are rebuilt.
# 2: the upgrade proof's older versions (Elasticsearch 2.3.4, graylog-server 2.0.2) added.
MIRROR_RECIPE = "2"
# Where the sandbox and the tests mount the mirror inside a host.
MOUNT_POINT = "/srv/graylog-installer-mirror"
KEY_NAME = "graylog-installer test bed mirror"


@dataclass(frozen=True)
class Mirror:
    directory: Path
    apt_line: str
    public_key: str


def _gpg(gnupg_home: Path, *args: str | Path) -> str:
    env = dict(os.environ, GNUPGHOME=str(gnupg_home))
    return run(["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", *args], env=env)


def _ensure_signing_key(gnupg_home: Path) -> None:
    gnupg_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if KEY_NAME in _gpg(gnupg_home, "--list-secret-keys"):
        return
    _gpg(gnupg_home, "--passphrase", "", "--quick-gen-key", KEY_NAME, "rsa3072", "sign", "never")


def _index_and_sign(directory: Path, gnupg_home: Path) -> None:
    (directory / "Packages").write_text(run(["apt-ftparchive", "packages", "."], cwd=directory))
    run(["gzip", "-9kf", "Packages"], cwd=directory)
    release = run(
        [
            "apt-ftparchive",
            "-o",
            "APT::FTPArchive::Release::Origin=graylog-installer-testbed",
            "release",
            ".",
        ],
        cwd=directory,
    )
    (directory / "Release").write_text(release)
    for stale in ("InRelease", "Release.gpg"):
        (directory / stale).unlink(missing_ok=True)
    _gpg(gnupg_home, "--clearsign", "-o", directory / "InRelease", directory / "Release")
    _gpg(gnupg_home, "-abs", "-o", directory / "Release.gpg", directory / "Release")
    (directory / "mirror-key.asc").write_text(_gpg(gnupg_home, "--armor", "--export", KEY_NAME))


def ensure_mirror(cache_dir: Path) -> Mirror:
    """Build the mirror once per recipe; later calls return the cached one."""
    directory = cache_dir / f"mirror-{MIRROR_RECIPE}"
    stamp = directory / ".complete"
    if not stamp.exists():
        require_tool("apt-ftparchive", "apt-utils")
        require_tool("gpg", "gnupg")
        downloads = cache_dir / "downloads"
        tarballs = {
            version: artifacts.fetch(artifact, downloads)
            for version, artifact in artifacts.ELASTICSEARCH_TARBALLS.items()
        }
        packaging = artifacts.fetch(artifacts.ELASTICSEARCH_PACKAGING_DEB, downloads)
        jars = {
            version: artifacts.fetch(artifact, downloads)
            for version, artifact in artifacts.GRAYLOG_SHADED_JARS.items()
        }
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        work = cache_dir / "package-build"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        for version, tarball in tarballs.items():
            debs.build_elasticsearch(version, tarball, packaging, work, directory)
        for version, jar in jars.items():
            debs.build_graylog(version, jar, work, directory)
        shutil.rmtree(work)
        gnupg_home = cache_dir / "mirror-gnupg"
        _ensure_signing_key(gnupg_home)
        _index_and_sign(directory, gnupg_home)
        stamp.write_text(MIRROR_RECIPE + "\n")
    return Mirror(
        directory=directory,
        apt_line=f"deb file:{MOUNT_POINT} ./",
        public_key=(directory / "mirror-key.asc").read_text(),
    )
