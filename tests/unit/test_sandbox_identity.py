"""Which sandbox the command works on: the operator's by default, another by environment."""

from __future__ import annotations

import pytest
import yaml

from graylog_installer import paths
from graylog_installer.errors import UsageError
from graylog_installer.sandbox import hosts_file
from graylog_installer.sandbox_identity import (
    NAME_ENV,
    PORT_OFFSET_ENV,
    SandboxIdentity,
    current,
)


def test_without_the_variables_it_is_the_operators_sandbox():
    identity = current({})
    assert identity == SandboxIdentity("graylog-installer-sandbox", 0)
    assert identity.directory_name == "sandbox"
    assert identity.url == "https://127.0.0.1:8443/"
    assert identity.published() == (
        "127.0.0.1:8780:80",
        "127.0.0.1:8443:443",
        "127.0.0.1:12201:12201/udp",
        "127.0.0.1:12201:12201/tcp",
        "127.0.0.1:8514:514/tcp",
    )


def test_another_name_and_offset_move_the_container_ports_and_directory():
    identity = current({NAME_ENV: "itest", PORT_OFFSET_ENV: "10000"})
    assert identity.directory_name == "itest"
    assert identity.url == "https://127.0.0.1:18443/"
    assert identity.published() == (
        "127.0.0.1:18780:80",
        "127.0.0.1:18443:443",
        "127.0.0.1:22201:12201/udp",
        "127.0.0.1:22201:12201/tcp",
        "127.0.0.1:18514:514/tcp",
    )


@pytest.mark.parametrize(
    "environ, fragment",
    [
        ({NAME_ENV: "../elsewhere"}, NAME_ENV),
        ({NAME_ENV: "-starts-with-a-dash"}, NAME_ENV),
        ({PORT_OFFSET_ENV: "ten"}, PORT_OFFSET_ENV),
        ({PORT_OFFSET_ENV: "60000"}, PORT_OFFSET_ENV),  # 12201 + 60000 is no port
        ({PORT_OFFSET_ENV: "-8000"}, PORT_OFFSET_ENV),  # below 1024: a privileged port
    ],
)
def test_a_bad_name_or_offset_is_refused_in_one_line(environ, fragment):
    with pytest.raises(UsageError, match=fragment):
        current(environ)


def test_the_inventory_directory_follows_the_name(monkeypatch):
    default = paths.sandbox_inventory()
    monkeypatch.setenv(NAME_ENV, "itest")
    assert paths.sandbox_inventory() == default.with_name("itest")


def test_the_hosts_file_names_the_container_url_and_syslog_port(tmp_path):
    identity = SandboxIdentity("itest", 10000)
    hosts = yaml.safe_load(hosts_file.write(tmp_path, identity).read_text())
    for group in ("graylog", "elasticsearch", "mongodb"):
        assert hosts["all"]["children"][group]["hosts"] == {"itest": None}
    assert hosts["all"]["vars"]["graylog_external_url"] == "https://127.0.0.1:18443/"
    assert hosts["all"]["vars"]["graylog_entry_syslog_port"] == 18514
