"""Which sandbox the command works on: its container's name and the ports it publishes.

One machine can hold two sandboxes side by side: the operator's (the defaults) and
another chosen by environment, as the end-to-end tests do so that an operator's sandbox
is never touched. Only a name and a port offset are chosen here; where the sandbox keeps
its inventory is paths.sandbox_inventory()'s business. Kept out of the sandbox package,
which builds the test bed, so that reading these names imports nothing of it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from graylog_installer.errors import UsageError

NAME_ENV = "GRAYLOG_INSTALLER_SANDBOX"
PORT_OFFSET_ENV = "GRAYLOG_INSTALLER_SANDBOX_PORT_OFFSET"
DEFAULT_NAME = "graylog-installer-sandbox"
# The default sandbox's inventory directory keeps the name it always had.
DEFAULT_DIRECTORY = "sandbox"
# What Docker accepts as a container name (and a host name, an inventory directory).
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")
# This machine's ports of the default sandbox, on loopback only. Port 514 of this machine
# may be its own syslog daemon's: the container's 514 is published as 8514.
HTTP_PORT = 8780
HTTPS_PORT = 8443
GELF_PORT = 12201
SYSLOG_PORT = 8514


@dataclass(frozen=True)
class SandboxIdentity:
    name: str = DEFAULT_NAME
    port_offset: int = 0

    @property
    def directory_name(self) -> str:
        return DEFAULT_DIRECTORY if self.name == DEFAULT_NAME else self.name

    @property
    def http_port(self) -> int:
        return HTTP_PORT + self.port_offset

    @property
    def https_port(self) -> int:
        return HTTPS_PORT + self.port_offset

    @property
    def gelf_port(self) -> int:
        return GELF_PORT + self.port_offset

    @property
    def syslog_port(self) -> int:
        return SYSLOG_PORT + self.port_offset

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/"

    def published(self) -> tuple[str, ...]:
        """Docker's ``--publish`` mappings: HTTP (redirecting to HTTPS), HTTPS, GELF, syslog."""
        return (
            f"127.0.0.1:{self.http_port}:80",
            f"127.0.0.1:{self.https_port}:443",
            f"127.0.0.1:{self.gelf_port}:12201/udp",
            f"127.0.0.1:{self.gelf_port}:12201/tcp",
            f"127.0.0.1:{self.syslog_port}:514/tcp",
        )


def current(environ: dict[str, str] | None = None) -> SandboxIdentity:
    """The sandbox the environment names; the operator's own when it names none."""
    env = os.environ if environ is None else environ
    name = env.get(NAME_ENV) or DEFAULT_NAME
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"{NAME_ENV} is {name!r}: use letters, digits, '.', '_' and '-' (64 at most)"
        )
    offset_text = env.get(PORT_OFFSET_ENV) or "0"
    highest = 65535 - max(HTTP_PORT, HTTPS_PORT, GELF_PORT, SYSLOG_PORT)
    lowest = 1024 - min(HTTP_PORT, HTTPS_PORT, GELF_PORT, SYSLOG_PORT)
    try:
        offset = int(offset_text)
    except ValueError:
        offset = None
    if offset is None or not lowest <= offset <= highest:
        raise UsageError(
            f"{PORT_OFFSET_ENV} is {offset_text!r}: write a whole number from {lowest} to {highest}"
        )
    return SandboxIdentity(name, offset)
