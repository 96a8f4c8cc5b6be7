"""Starting a systemd host from the test bed's image, as the sandbox and the tests need it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from graylog_installer.sandbox.host_tools import run, succeeds
from graylog_installer.sandbox.mirror import MOUNT_POINT

# systemd as PID 1 without --privileged (refused here): these are the rights it needs;
# NET_ADMIN lets the firewall role load the host's iptables rules.
SYSTEMD_OPTIONS = (
    "--cap-add", "SYS_ADMIN",
    "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "--tmpfs", "/run",
    "--tmpfs", "/run/lock",
    "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
    "--cgroupns", "host",
)  # fmt: skip


def state_of(name: str) -> str | None:
    """'running', 'exited', ... or None when no such container exists."""
    if not succeeds(["docker", "container", "inspect", name]):
        return None
    return run(["docker", "container", "inspect", "--format", "{{.State.Status}}", name]).strip()


def has_capability(name: str, capability: str) -> bool:
    """Whether the container was started with ``--cap-add CAPABILITY``."""
    shown = run(["docker", "container", "inspect", "--format", "{{json .HostConfig.CapAdd}}", name])
    return capability in {c.removeprefix("CAP_") for c in json.loads(shown) or []}


def ensure_host(name: str, image: str, mirror_dir: Path, published: Sequence[str] = ()) -> bool:
    """Run container ``name`` (systemd, mirror mounted read-only); True if it was created.

    An existing container is started again rather than replaced: it holds the installed stack.
    """
    state = state_of(name)
    if state == "running":
        return False
    if state is not None:
        run(["docker", "start", name])
        return False
    publish = [option for port in published for option in ("--publish", port)]
    run(
        [
            "docker", "run", "--detach", "--name", name, "--hostname", name,
            *SYSTEMD_OPTIONS, *publish,
            "--volume", f"{mirror_dir}:{MOUNT_POINT}:ro",
            image, "/sbin/init",
        ]
    )  # fmt: skip
    return True
