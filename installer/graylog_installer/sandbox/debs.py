"""Building the two vendor packages the test bed cannot download as packages.

Both are made only from the vendors' own published files (see artifacts.py):
- elasticsearch 2.3.x: an official tarball's payload, wrapped in the packaging
  (maintainer scripts, unit, /etc/default file) of Elastic's own 2.0.0 .deb, with the two
  values Elastic's build fills in differently for a .deb than for a tarball.
- graylog-server 2.0.x: Graylog's shaded jar in the official package layout, whose
  packaging files live in graylog_server_package/ (its README says what differs).
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path

from graylog_installer.sandbox.deb_archive import ROOT, Owner, OwnerRule, owners_in, write_deb
from graylog_installer.sandbox.host_tools import run

GRAYLOG_PACKAGE_FILES = Path(__file__).with_name("graylog_server_package")
EXECUTABLE_SCRIPTS = ("preinst", "postinst", "prerm", "postrm")
TESTBED_MAINTAINER = "graylog-installer test bed <testbed@graylog-installer.invalid>"


def _write_md5sums(package_root: Path) -> None:
    lines = []
    for path in sorted(package_root.rglob("*")):
        relative = path.relative_to(package_root)
        if path.is_file() and not path.is_symlink() and relative.parts[0] != "DEBIAN":
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {relative}\n")
    (package_root / "DEBIAN" / "md5sums").write_text("".join(lines))


def _read_control(control: Path) -> dict[str, str]:
    """Control fields in order; a continuation line (leading space) extends the field above."""
    fields: dict[str, str] = {}
    name = ""
    for line in control.read_text().splitlines():
        if line.startswith(" ") and name:
            fields[name] += "\n" + line
        elif ":" in line:
            name, value = line.split(":", 1)
            fields[name] = value.strip()
    return fields


def _update_control(control: Path, **changes: str) -> dict[str, str]:
    fields = _read_control(control) | {name.replace("_", "-"): v for name, v in changes.items()}
    control.write_text("".join(f"{name}: {value}\n" for name, value in fields.items()))
    return fields


def _installed_size_kib(package_root: Path) -> str:
    total = sum(
        path.stat().st_size
        for path in package_root.rglob("*")
        if path.is_file() and "DEBIAN" not in path.relative_to(package_root).parts
    )
    return str(total // 1024 + 1)


def _build(package_root: Path, out_dir: Path, owner_of: OwnerRule = lambda _path: ROOT) -> Path:
    control = package_root / "DEBIAN" / "control"
    fields = _update_control(control, Installed_Size=_installed_size_kib(package_root))
    _write_md5sums(package_root)
    deb = out_dir / f"{fields['Package']}_{fields['Version']}_{fields['Architecture']}.deb"
    return write_deb(package_root, deb, owner_of)


def build_elasticsearch(
    version: str, tarball: Path, packaging_deb: Path, work: Path, out_dir: Path
) -> Path:
    root = work / "elasticsearch"
    shutil.rmtree(root, ignore_errors=True)
    run(["dpkg-deb", "--raw-extract", packaging_deb, root])
    with tarfile.open(tarball) as archive:
        archive.extractall(work, filter="data")
    payload = work / f"elasticsearch-{version}"
    home = root / "usr/share/elasticsearch"
    for name in ("lib", "modules"):
        shutil.rmtree(home / name, ignore_errors=True)
        shutil.copytree(payload / name, home / name)
    for name in ("elasticsearch", "elasticsearch.in.sh", "plugin"):
        shutil.copy2(payload / "bin" / name, home / "bin" / name)
    for name in ("NOTICE.txt", "README.textile"):
        shutil.copy2(payload / name, home / name)
    for name in ("elasticsearch.yml", "logging.yml"):
        shutil.copy2(payload / "config" / name, root / "etc/elasticsearch" / name)
    # The values Elastic's build substitutes for a .deb (where config and defaults live).
    plugin = home / "bin/plugin"
    plugin.write_text(
        plugin.read_text()
        .replace('CONF_DIR="$ES_HOME/config"', 'CONF_DIR="/etc/elasticsearch"')
        .replace('ES_ENV_FILE=""', 'ES_ENV_FILE="/etc/default/elasticsearch"')
    )
    _update_control(
        root / "DEBIAN/control",
        Version=version,
        Maintainer=TESTBED_MAINTAINER,
        Description=(
            f"Elasticsearch {version} (test-bed repackage)\n"
            f" Elastic's official {version} tarball in the packaging of Elastic's\n"
            " 2.x .deb, built by graylog-installer's test bed because the vendor\n"
            " repository cannot be reached there."
        ),
    )
    return _build(root, out_dir, _owners_like(owners_in(packaging_deb)))


def _owners_like(vendor_owners: dict[str, Owner]) -> OwnerRule:
    """Owners as in the vendor's package; a path it lacks takes its nearest directory's."""

    def owner_of(path: str) -> Owner:
        while path not in vendor_owners and path != "/":
            path = path.rsplit("/", 1)[0] or "/"
        # New payload (lib/, modules/) lands under root-owned directories, as in the vendor deb.
        return vendor_owners.get(path, ROOT)

    return owner_of


def build_graylog(version: str, shaded_jar: Path, work: Path, out_dir: Path) -> Path:
    root = work / "graylog-server"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(GRAYLOG_PACKAGE_FILES, root, ignore=shutil.ignore_patterns("README.md"))
    share = root / "usr/share/graylog-server"
    for empty in ("plugin", "contentpacks", "lib/sigar"):
        (share / empty).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shaded_jar, share / "graylog.jar")
    for script in EXECUTABLE_SCRIPTS:
        (root / "DEBIAN" / script).chmod(0o755)
    (share / "bin/graylog-server").chmod(0o755)
    _update_control(
        root / "DEBIAN/control",
        Version=f"{version}-1",
        Description=(
            f"Graylog server {version} (test-bed repackage)\n"
            f" Graylog's published graylog2-server {version} shaded jar, in the layout of the\n"
            " official graylog-server package. Built by graylog-installer's test bed because\n"
            " the vendor repository cannot be reached there."
        ),
    )
    return _build(root, out_dir)
