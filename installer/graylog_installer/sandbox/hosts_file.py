"""The sandbox's hosts.yml, written from its identity (container name and ports)."""

from __future__ import annotations

from pathlib import Path

from graylog_installer import paths
from graylog_installer.sandbox_identity import SandboxIdentity

TEMPLATE = """\
---
# The local sandbox {name}: one Ubuntu 16.04 container that `graylog-installer
# install` builds and starts itself when no inventory is given. Rewritten by every such
# install: put variables of your own in group_vars/all/*.yml beside it. Ansible reaches
# the container through the Docker engine; its nginx is published on this machine's
# loopback only: HTTPS on {https_port}, and on {http_port} the plain HTTP that redirects there.
all:
  vars:
    ansible_connection: docker
    ansible_python_interpreter: /usr/bin/python2.7
    graylog_external_url: {url}
    # Syslog's port 514 of the container is published on this machine as {syslog_port}.
    graylog_entry_syslog_port: {syslog_port}
    # Modest heaps: the sandbox shares this machine with everything else.
    elasticsearch_heap_size: 1g
    graylog_heap_size: 1g
  children:
    graylog:
      hosts:
        {name}:
    elasticsearch:
      hosts:
        {name}:
    mongodb:
      hosts:
        {name}:
"""


def render(identity: SandboxIdentity) -> str:
    return TEMPLATE.format(
        name=identity.name,
        url=identity.url,
        http_port=identity.http_port,
        https_port=identity.https_port,
        syslog_port=identity.syslog_port,
    )


def write(inventory: Path, identity: SandboxIdentity) -> Path:
    target = paths.hosts_file(inventory)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render(identity)
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return target
