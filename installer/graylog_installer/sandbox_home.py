"""The sandbox's inventory directory, in the user's data directory rather than the source tree.

Light on purpose (no Docker, no image building): ``verify`` and ``secrets show`` without
``-i`` read the sandbox through it, and so does ``install`` before it builds anything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from graylog_installer import paths
from graylog_installer.errors import UsageError

Report = Callable[[str], None]


def inventory(report: Report) -> Path:
    """The sandbox's inventory directory, with what an earlier version left in the checkout."""
    directory = paths.sandbox_inventory()
    move_legacy(paths.legacy_sandbox_inventory(), directory, report)
    return directory


def installed_inventory(report: Report) -> Path:
    """The sandbox's inventory for the commands that only read it; refused before install."""
    directory = inventory(report)
    if not paths.hosts_file(directory).is_file():
        raise UsageError(
            f"there is no sandbox yet (nothing in {directory}): "
            "'graylog-installer install' without -i makes one"
        )
    return directory


def make_private(directory: Path) -> None:
    """The directory, readable by this user only: it holds the secrets and the TLS key."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def move_legacy(legacy: Path, directory: Path, report: Report) -> None:
    """Move once what an earlier version generated in the checkout's inventories/sandbox/.

    When the new directory already holds any of the same names (a sandbox installed
    since), nothing is moved or lost: one line says where each is.
    """
    if not legacy.is_dir() or legacy.resolve() == directory.resolve():
        return
    generated = sorted(legacy.iterdir())
    if not generated:
        return
    clashes = [p.name for p in generated if (directory / p.name).exists()]
    if clashes:
        report(
            f"warning: the sandbox now keeps its inventory in {directory}; {legacy} still "
            f"holds an earlier sandbox's {', '.join(clashes)}, left as they are: remove them "
            "once you no longer need them"
        )
        return
    make_private(directory)
    for path in generated:
        shutil.move(str(path), str(directory / path.name))
    report(
        f"moved the sandbox's secrets, state and run logs from {legacy} to {directory}, "
        "where the sandbox keeps them from now on"
    )
