"""Keeping an inventory's secrets out of git.

Inventories often live in a git checkout next to the rest of an operator's configuration.
``init`` writes a .gitignore naming the files that hold secrets, and ``install`` warns when
the secrets file of an inventory inside a git work tree is tracked or not ignored.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from graylog_installer import paths

IGNORE_FILE = ".gitignore"
# Relative to the inventory: the secrets, the plain copies a rotation keeps until it
# completes, and the run logs (they are redacted, but hold host details).
IGNORED = (f"/{paths.SECRETS_FILE}", "/.secrets-*.yml.bak", f"/{paths.RUNS_DIR}/")
HEADER = "# Written by graylog-installer: files that hold secrets never belong in git.\n"


def write_ignore_file(directory: Path) -> None:
    """Create the inventory's .gitignore, or add our lines to the operator's own one."""
    path = directory / IGNORE_FILE
    if not path.exists():
        path.write_text(HEADER + "".join(f"{line}\n" for line in IGNORED))
        return
    text = path.read_text()
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in IGNORED if line not in present]
    if missing:
        joiner = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + joiner + HEADER + "".join(f"{line}\n" for line in missing))


def exposure_warning(directory: Path) -> str | None:
    """A warning when git would commit the inventory's secrets file, else None."""
    secrets = paths.secrets_file(directory)
    if shutil.which("git") is None or not secrets.exists():
        return None
    name = secrets.name
    tracked = _git(directory, "ls-files", "--error-unmatch", "--", name)
    if tracked == 0:
        return f"warning: {secrets} is tracked by git; run: git rm --cached {secrets}"
    ignored = _git(directory, "check-ignore", "-q", "--", name)
    if ignored == 1:  # 0: ignored; 128: not inside a git work tree
        return (
            f"warning: {secrets} is inside a git work tree and not ignored; "
            f"add {paths.SECRETS_FILE} to {directory / IGNORE_FILE}"
        )
    return None


def _git(directory: Path, *args: str) -> int:
    result = subprocess.run(
        ["git", "-C", str(directory), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode
