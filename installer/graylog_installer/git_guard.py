"""Keeping an inventory's secrets out of git.

Inventories often live in a git checkout next to the rest of an operator's configuration.
``init`` writes a .gitignore naming the files that hold secrets, and ``install`` warns when
the secrets file or the generated TLS key of an inventory inside a git work tree is
tracked or not ignored.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from graylog_installer import entry_tls, paths

IGNORE_FILE = ".gitignore"
# Relative to the inventory: the secrets, the plain copies a rotation keeps until it
# completes, the generated TLS key of the entry, and the run logs (they are redacted,
# but hold host details).
IGNORED = (
    f"/{paths.SECRETS_FILE}",
    "/.secrets-*.yml.bak",
    f"/{entry_tls.GENERATED_DIR}/*.key",
    f"/{paths.RUNS_DIR}/",
)
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
    """A warning when git would commit the inventory's secrets file or TLS key, else None."""
    if shutil.which("git") is None:
        return None
    for secret in (paths.secrets_file(directory), entry_tls.generated_key(directory)):
        if not secret.exists():
            continue
        name = str(secret.relative_to(directory))
        if _git(directory, "ls-files", "--error-unmatch", "--", name) == 0:
            return f"warning: {secret} is tracked by git; run: git rm --cached {secret}"
        if _git(directory, "check-ignore", "-q", "--", name) == 1:  # 128: not in a work tree
            return (
                f"warning: {secret} is inside a git work tree and not ignored; "
                f"add /{name} to {directory / IGNORE_FILE}"
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
