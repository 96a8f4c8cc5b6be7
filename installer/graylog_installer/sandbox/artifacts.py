"""The vendors' published binaries the test-bed mirror is built from.

Neither vendor's apt repository can be reached from the test bed, but both publish their
real binaries on Maven Central. Each download is checked against a SHA-256 pinned here, so
a changed or truncated artifact stops the build instead of producing a different package.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path

from graylog_installer.errors import InstallerError
from graylog_installer.files import sha256_of

MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"


@dataclass(frozen=True)
class Artifact:
    """One file on Maven Central, pinned by content."""

    path: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.path}"


# Elasticsearch tarballs by version (Central has no 2.x .deb but 2.0.0): 2.3.5, the newest
# 2.x that Graylog 2.0 supports and the roles' default, and 2.3.4, which the upgrade proof
# (molecule/cluster) installs first. Central publishes no checksum beside these tarballs:
# the pins were compared with an independent published table of Elastic's SHA-256 sums.
ELASTICSEARCH_TARBALLS = {
    "2.3.5": Artifact(
        "org/elasticsearch/distribution/tar/elasticsearch/2.3.5/elasticsearch-2.3.5.tar.gz",
        "1119a8c18620b98c4b85261318663a1f26dea92a26f34dfeb7f813fb7cbb468a",
    ),
    "2.3.4": Artifact(
        "org/elasticsearch/distribution/tar/elasticsearch/2.3.4/elasticsearch-2.3.4.tar.gz",
        "371e0c5f4ded0a8548f1cce55faff3efebcfd5f895c2c816f220146521f6f06e",
    ),
}
# The one 2.x .deb Central holds: its packaging (maintainer scripts, systemd unit,
# /etc/default file) is reused around each tarball's payload.
ELASTICSEARCH_PACKAGING_DEB = Artifact(
    "org/elasticsearch/distribution/deb/elasticsearch/2.0.0/elasticsearch-2.0.0.deb",
    "f846cab2b7e99159650d38767249275c2fd5d3574fe700ef199cd1cb06ef28bf",
)
# graylog-server's shaded jars by version: the same graylog.jar the official tarball and
# package carry, web interface assets included. 2.0.3 is the default, 2.0.2 the upgrade
# proof's starting point (its pin checked against Central's published .sha1).
GRAYLOG_SHADED_JARS = {
    "2.0.3": Artifact(
        "org/graylog2/graylog2-server/2.0.3/graylog2-server-2.0.3-shaded.jar",
        "6918a765ffade7eb404f820853e4883b978fa2fce24e4caa230d7dd93c1696c2",
    ),
    "2.0.2": Artifact(
        "org/graylog2/graylog2-server/2.0.2/graylog2-server-2.0.2-shaded.jar",
        "771ef16c533df71312c11915e4806a9fa35fec567223555696a5437d9a200ce0",
    ),
}


def fetch(artifact: Artifact, download_dir: Path) -> Path:
    """Return the verified local copy of ``artifact``, downloading it when missing."""
    target = download_dir / artifact.filename
    if target.exists() and sha256_of(target) == artifact.sha256:
        return target
    download_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with (
            urllib.request.urlopen(artifact.url, timeout=120) as response,
            partial.open("wb") as out,
        ):
            while block := response.read(1 << 20):
                out.write(block)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InstallerError(f"could not download {artifact.url}: {exc}") from exc
    actual = sha256_of(partial)
    if actual != artifact.sha256:
        partial.unlink()
        raise InstallerError(
            f"{artifact.url} does not match its pinned SHA-256 (got {actual}); refusing to use it"
        )
    partial.replace(target)
    return target
