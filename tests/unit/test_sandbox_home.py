"""Where the installer finds its playbooks and keeps the sandbox's inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

from graylog_installer import paths, sandbox_home, sandbox_identity
from graylog_installer.errors import UsageError
from graylog_installer.sandbox import hosts_file

REPOSITORY = Path(__file__).resolve().parents[2]


def write_hosts_file(directory: Path) -> None:
    """What the sandbox's install does with its inventory before running the playbook."""
    sandbox_home.make_private(directory)
    hosts_file.write(directory, sandbox_identity.current())


def expected_hosts() -> str:
    return hosts_file.render(sandbox_identity.current())


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # Never the real checkout: a sandbox it still holds would be moved into tmp_path.
    monkeypatch.setattr(paths, "checkout_root", lambda: tmp_path / "no-checkout")
    return tmp_path / "data"


@pytest.fixture
def old_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout whose inventories/sandbox/ an earlier version filled."""
    legacy = tmp_path / "checkout" / "inventories" / "sandbox"
    (legacy / "tls").mkdir(parents=True)
    (legacy / "hosts.yml").write_text("# written by an earlier version\n")
    (legacy / "secrets.yml").write_text("old: secrets\n")
    (legacy / "tls" / "entry.key").write_text("old key\n")
    monkeypatch.setattr(paths, "checkout_root", lambda: tmp_path / "checkout")
    return legacy


def test_playbooks_come_from_the_package_when_it_carries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    assert paths.repo_root() == REPOSITORY  # a checkout: nothing bundled
    bundled = tmp_path / "bundled"
    (bundled / "playbooks").mkdir(parents=True)
    (bundled / "playbooks" / "site.yml").write_text("[]\n")
    monkeypatch.setattr(paths, "BUNDLED", bundled)
    assert paths.playbook_path() == bundled / "playbooks" / "site.yml"
    assert paths.ansible_cfg_path() == bundled / "ansible.cfg"


def test_sandbox_inventory_lives_in_the_data_directory(data_home: Path) -> None:
    reports: list[str] = []
    directory = sandbox_home.inventory(reports.append)
    assert directory == data_home / "graylog-installer" / "sandbox"
    assert reports == [] and not directory.exists()  # nothing to read, nothing made
    write_hosts_file(directory)
    assert (directory / "hosts.yml").read_text() == expected_hosts()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_without_xdg_data_home_it_is_under_local_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "share" / "graylog-installer" / "sandbox"
    assert paths.sandbox_inventory() == expected


def test_an_existing_directory_gets_this_versions_hosts_file_and_is_made_private(
    data_home: Path,
) -> None:
    directory = paths.sandbox_inventory()
    directory.mkdir(parents=True, mode=0o755)
    (directory / "hosts.yml").write_text("# written by an earlier version\n")
    write_hosts_file(directory)
    assert (directory / "hosts.yml").read_text() == expected_hosts()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_reading_a_sandbox_that_was_never_installed_says_so(data_home: Path) -> None:
    with pytest.raises(UsageError, match="there is no sandbox yet .*'graylog-installer install'"):
        sandbox_home.installed_inventory(lambda _line: None)


def test_an_earlier_sandbox_is_moved_out_of_the_checkout_once(
    data_home: Path, old_checkout: Path
) -> None:
    reports: list[str] = []
    directory = sandbox_home.installed_inventory(reports.append)
    assert (directory / "secrets.yml").read_text() == "old: secrets\n"
    assert (directory / "tls" / "entry.key").read_text() == "old key\n"
    assert (directory / "hosts.yml").read_text() == "# written by an earlier version\n"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert list(old_checkout.iterdir()) == []
    assert len(reports) == 1 and str(old_checkout) in reports[0] and str(directory) in reports[0]
    sandbox_home.inventory(reports.append)
    assert len(reports) == 1  # nothing left to move, nothing said


def test_two_sandboxes_are_both_kept_and_named(data_home: Path, old_checkout: Path) -> None:
    directory = paths.sandbox_inventory()
    directory.mkdir(parents=True)
    (directory / "secrets.yml").write_text("new: secrets\n")
    reports: list[str] = []
    sandbox_home.inventory(reports.append)
    assert (directory / "secrets.yml").read_text() == "new: secrets\n"
    assert (old_checkout / "secrets.yml").read_text() == "old: secrets\n"
    assert (old_checkout / "tls" / "entry.key").exists() and not (directory / "tls").exists()
    assert len(reports) == 1 and reports[0].startswith("warning: ")
    assert str(old_checkout) in reports[0] and "secrets.yml" in reports[0]
