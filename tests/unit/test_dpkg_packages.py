"""site.yml's read of the installed packages: what dpkg lists in full, in package_facts' shape."""

from __future__ import annotations

from conftest import load_plugin

module = load_plugin("playbooks/library/dpkg_packages.py")

LISTING = (
    "nginx-core\t1.10.3-0ubuntu0.16.04.5\tamd64\tinstalled\n"
    "elasticsearch\t2.3.5\tall\tinstalled\n"
    "mongodb-server\t1:2.6.10-0ubuntu1\tamd64\tconfig-files\n"
    "graylog-server\t2.0.3-1\tall\thalf-installed\n"
    "openjdk-8-jre-headless\t\t\tnot-installed\n"
    "broken line\n"
)


def test_only_packages_installed_in_full_are_listed():
    assert set(module.installed(LISTING)) == {"nginx-core", "elasticsearch"}


def test_each_package_has_package_facts_shape():
    assert module.installed(LISTING)["nginx-core"] == [
        {
            "name": "nginx-core",
            "version": "1.10.3-0ubuntu0.16.04.5",
            "arch": "amd64",
            "source": "apt",
        }
    ]


def test_an_epoch_stays_in_the_version():
    listing = "mongodb-server\t1:2.6.10-0ubuntu1\tamd64\tinstalled\n"
    assert module.installed(listing)["mongodb-server"][0]["version"] == "1:2.6.10-0ubuntu1"


def test_nothing_installed_is_an_empty_dict():
    assert module.installed("") == {}
