"""The test bed's package building: owners, control fields, layout and pinned downloads."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from graylog_installer.errors import InstallerError
from graylog_installer.sandbox import artifacts, debs
from graylog_installer.sandbox.deb_archive import owners_in, write_deb


def dpkg_deb(*args: str | Path) -> str:
    return subprocess.run(
        ["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True
    ).stdout


def package_root(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@y.invalid>\n"
        "Description: demo\n a second line\n"
    )
    (root / "var/lib/demo").mkdir(parents=True)
    (root / "usr/share/demo").mkdir(parents=True)
    (root / "usr/share/demo/file.txt").write_text("payload\n")
    return root


def test_written_deb_carries_owner_names_dpkg_reads(tmp_path):
    root = package_root(tmp_path)

    def owner_of(path: str) -> tuple[str, str]:
        return ("demo", "demo") if path.startswith("/var/lib/demo") else ("root", "root")

    deb = write_deb(root, tmp_path / "demo.deb", owner_of)
    owners = owners_in(deb)
    assert owners["/var/lib/demo"] == ("demo", "demo")
    assert owners["/usr/share/demo/file.txt"] == ("root", "root")
    assert "Package: demo" in dpkg_deb("--info", deb)
    assert "payload" in subprocess.run(
        ["sh", "-c", f"dpkg-deb --fsys-tarfile {deb} | tar -xOf - ./usr/share/demo/file.txt"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_control_update_keeps_continuation_lines_and_order(tmp_path):
    control = package_root(tmp_path) / "DEBIAN/control"
    fields = debs._update_control(control, Version="2.0", Installed_Size="42")
    assert list(fields)[:2] == ["Package", "Version"]
    text = control.read_text()
    assert "Version: 2.0\n" in text
    assert "Installed-Size: 42\n" in text
    assert "Description: demo\n a second line\n" in text


def test_vendor_owners_apply_to_new_files_by_nearest_directory():
    owner_of = debs._owners_like(
        {
            "/etc/elasticsearch": ("root", "elasticsearch"),
            "/var/lib/elasticsearch": ("elasticsearch", "elasticsearch"),
            "/usr/share/elasticsearch": ("root", "root"),
        }
    )
    assert owner_of("/etc/elasticsearch/elasticsearch.yml") == ("root", "elasticsearch")
    assert owner_of("/var/lib/elasticsearch") == ("elasticsearch", "elasticsearch")
    assert owner_of("/usr/share/elasticsearch/modules/lang-groovy/x.jar") == ("root", "root")
    assert owner_of("/opt/unknown") == ("root", "root")


def test_graylog_package_has_the_official_layout(tmp_path):
    jar = tmp_path / "graylog.jar"
    jar.write_bytes(b"not really a jar; the layout is what is tested here")
    out = tmp_path / "out"
    out.mkdir()
    deb = debs.build_graylog("2.0.2", jar, tmp_path / "work", out)
    assert deb.name == "graylog-server_2.0.2-1_all.deb"
    listing = dpkg_deb("--contents", deb)
    for path in (
        "./usr/share/graylog-server/graylog.jar",
        "./usr/share/graylog-server/bin/graylog-server",
        "./usr/share/graylog-server/plugin/",
        "./etc/graylog/server/server.conf",
        "./etc/graylog/server/log4j2.xml",
        "./etc/default/graylog-server",
        "./usr/lib/systemd/system/graylog-server.service",
    ):
        assert path in listing
    launcher = next(line for line in listing.splitlines() if line.endswith("bin/graylog-server"))
    assert launcher.startswith("-rwxr-xr-x")
    info = dpkg_deb("--info", deb)
    assert "Depends" not in info  # as the official package: Java is installed beforehand
    assert "Graylog server 2.0.2 (test-bed repackage)" in info
    assert " graylog2-server 2.0.2 shaded jar" in info


@pytest.fixture
def served_file(tmp_path, monkeypatch):
    """A local HTTP server standing in for Maven Central, serving one file."""
    (tmp_path / "served").mkdir()
    (tmp_path / "served/artifact.bin").write_bytes(b"published bytes")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(artifacts, "MAVEN_CENTRAL", f"http://127.0.0.1:{server.server_port}")
    yield hashlib.sha256(b"published bytes").hexdigest()
    server.shutdown()


def test_download_matching_its_pin_is_kept(tmp_path, served_file):
    fetched = artifacts.fetch(artifacts.Artifact("artifact.bin", served_file), tmp_path / "dl")
    assert fetched.read_bytes() == b"published bytes"


def test_download_not_matching_its_pin_is_refused_and_discarded(tmp_path, served_file):
    pinned = artifacts.Artifact("artifact.bin", "0" * 64)
    with pytest.raises(InstallerError, match="does not match its pinned SHA-256"):
        artifacts.fetch(pinned, tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_the_mirror_builds_each_pinned_version_of_both_packages():
    # The upgrade proof installs the older pair, then the roles' defaults.
    assert {"2.3.4", "2.3.5"} <= set(artifacts.ELASTICSEARCH_TARBALLS)
    assert {"2.0.2", "2.0.3"} <= set(artifacts.GRAYLOG_SHADED_JARS)
    pinned = [*artifacts.ELASTICSEARCH_TARBALLS.items(), *artifacts.GRAYLOG_SHADED_JARS.items()]
    for version, artifact in pinned:
        assert f"/{version}/" in artifact.path and len(artifact.sha256) == 64
