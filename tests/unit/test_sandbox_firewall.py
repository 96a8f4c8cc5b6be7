"""A sandbox container made without NET_ADMIN is installed without the firewall role."""

from __future__ import annotations

from pathlib import Path

import yaml

from graylog_installer.sandbox import FIREWALL_VARS_FILE, write_firewall_vars


def test_a_container_without_net_admin_turns_the_firewall_off(tmp_path: Path) -> None:
    write_firewall_vars(tmp_path, firewall=False)
    written = yaml.safe_load((tmp_path / FIREWALL_VARS_FILE).read_text())
    assert written == {"firewall_enabled": False}


def test_a_container_with_net_admin_gets_the_firewall_back(tmp_path: Path) -> None:
    write_firewall_vars(tmp_path, firewall=False)
    write_firewall_vars(tmp_path, firewall=True)
    assert not (tmp_path / FIREWALL_VARS_FILE).exists()
