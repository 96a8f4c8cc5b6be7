"""Writing a .deb whose files belong to the package's own users.

``dpkg-deb --build`` records the builder's ownership of each file; a package such as
Elasticsearch's needs some paths to belong to a user that exists only on the target (its
preinst creates it, and dpkg resolves the owner's name at unpack time). Writing the
archive here lets each member carry the owner's name, as the vendor's package does.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

Owner = tuple[str, str]
OwnerRule = Callable[[str], Owner]
ROOT: Owner = ("root", "root")


def _walk(top: Path, base: Path) -> Iterator[tuple[Path, str]]:
    """``top`` and everything below it, each with its archive name (./relative/path)."""
    for path in [top, *sorted(top.rglob("*"))]:
        relative = path.relative_to(base).as_posix()
        yield path, "./" if relative == "." else f"./{relative}"


def _xz_tar(members: Iterable[tuple[Path, str]], owner_of: OwnerRule) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz", format=tarfile.GNU_FORMAT) as archive:
        for path, name in members:
            info = archive.gettarinfo(str(path), arcname=name)
            info.uname, info.gname = owner_of(name[1:].rstrip("/") or "/")
            info.uid = info.gid = 0
            if info.isfile():
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
            else:
                archive.addfile(info)
    return buffer.getvalue()


def _ar_member(name: str, data: bytes) -> bytes:
    header = (
        f"{name:<16}{int(time.time()):<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n"
    ).encode()
    padding = b"\n" if len(data) % 2 else b""
    return header + data + padding


def write_deb(package_root: Path, deb: Path, owner_of: OwnerRule) -> Path:
    """Pack ``package_root`` (with its DEBIAN/ control directory) into ``deb``."""
    control_dir = package_root / "DEBIAN"
    control = _xz_tar(_walk(control_dir, control_dir), lambda _path: ROOT)
    data_members: list[tuple[Path, str]] = [(package_root, "./")]
    for top in sorted(p for p in package_root.iterdir() if p.name != "DEBIAN"):
        data_members.extend(_walk(top, package_root))
    data = _xz_tar(data_members, owner_of)
    deb.write_bytes(
        b"!<arch>\n"
        + _ar_member("debian-binary", b"2.0\n")
        + _ar_member("control.tar.xz", control)
        + _ar_member("data.tar.xz", data)
    )
    return deb


def owners_in(deb: Path) -> dict[str, Owner]:
    """Owner names of every path a built package installs, keyed by absolute path."""
    data = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    owners: dict[str, Owner] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            path = "/" + member.name.removeprefix("./").rstrip("/")
            owners[path] = (member.uname or "root", member.gname or "root")
    return owners
