"""Running the host tools the sandbox needs, with failures turned into one-line errors."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from graylog_installer.errors import InstallerError


def require_tool(name: str, package: str) -> None:
    if shutil.which(name) is None:
        raise InstallerError(
            f"'{name}' is not installed on this machine (apt-get install {package})"
        )


def run(
    command: Sequence[str | Path],
    *,
    input_bytes: bytes | None = None,
    stdin: IO[bytes] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``command``; return its stdout, or raise with the last line it printed on failure."""
    completed = subprocess.run(
        [str(part) for part in command],
        input=input_bytes,
        stdin=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).decode(errors="replace").strip()
        last_line = output.splitlines()[-1] if output else "no output"
        raise InstallerError(f"{Path(str(command[0])).name} failed: {last_line}")
    return completed.stdout.decode(errors="replace")


def succeeds(command: Sequence[str | Path]) -> bool:
    """True when ``command`` exits 0; its output is discarded."""
    return (
        subprocess.run(
            [str(part) for part in command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        ).returncode
        == 0
    )
