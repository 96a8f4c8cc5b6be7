"""Making sure a Docker engine answers: machines here start without one running."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from graylog_installer.errors import InstallerError
from graylog_installer.sandbox.host_tools import require_tool, succeeds

STARTUP_SECONDS = 60


def engine_answers() -> bool:
    return succeeds(["docker", "info"])


def ensure_engine(log_path: Path) -> bool:
    """Start ``dockerd`` in its own session when no engine answers; True if it was started."""
    require_tool("docker", "docker.io")
    if engine_answers():
        return False
    require_tool("dockerd", "docker.io")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # A session of its own, so the engine outlives this command and its terminal.
        subprocess.Popen(
            ["dockerd"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if engine_answers():
            return True
        time.sleep(1)
    raise InstallerError(
        f"the Docker engine did not start within {STARTUP_SECONDS}s; see {log_path}"
    )
