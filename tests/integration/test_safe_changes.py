"""Changing an installed stack safely: a dry run changes nothing, and a site that nginx
rejects never replaces the one nginx serves.

Both run copies of the installed sandbox's inventory against the sandbox itself.
"""

from __future__ import annotations

import ssl
import subprocess
import urllib.request
from pathlib import Path

from conftest import SANDBOX, graylog_installer, snapshot
from test_sandbox_install import SANDBOX_URL, recap_counts

SITE = "/etc/nginx/sites-available/graylog.conf"
TEST_VARS = Path("group_vars") / "all" / "zz-test.yml"


def host_digest(path: str) -> str:
    return subprocess.run(
        ["docker", "exec", SANDBOX.name, "sha256sum", path],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip


def leftover_site_tests() -> str:
    """Files the site check left beside nginx.conf (it must remove its own)."""
    return subprocess.run(
        ["docker", "exec", SANDBOX.name, "sh", "-c", "ls -A /etc/nginx | grep site-test || true"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def entry_answers() -> int:
    """The status of the load balancer check, asked through nginx as a client would."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the served certificate is test_entry_https's topic
    with urllib.request.urlopen(
        SANDBOX_URL + "api/system/lbstatus", context=context, timeout=10
    ) as reply:
        return reply.status


def set_vars(inventory: Path, text: str) -> None:
    (inventory / TEST_VARS).write_text(text)


def everything_below(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_check_reports_a_change_and_makes_none(installed_copy: Path):
    set_vars(installed_copy, "nginx_client_max_body_size: 3m\n")
    files, listing, site = (
        snapshot(installed_copy),
        everything_below(installed_copy),
        host_digest(SITE),
    )
    result = graylog_installer("install", "-i", str(installed_copy), "--check")
    assert result.returncode == 0, result.stderr
    assert f"{SANDBOX.name}: nginx : Write the Graylog site" in result.stdout, result.stdout
    assert f"{SANDBOX.name}: graylog :" not in result.stdout, result.stdout
    assert host_digest(SITE) == site
    kept = snapshot(installed_copy) == files  # compared apart: a failure must not print secrets
    assert kept, "the dry run changed a file of the inventory"
    assert everything_below(installed_copy) == listing


def test_a_site_nginx_rejects_never_replaces_the_running_one(installed_copy: Path):
    site = host_digest(SITE)
    set_vars(installed_copy, "nginx_client_max_body_size: lots\n")
    refused = graylog_installer("install", "-i", str(installed_copy))
    assert refused.returncode != 0
    message = refused.stderr.strip().splitlines()[-1]
    assert "'nginx : Write the Graylog site'" in message, message
    assert '"client_max_body_size" directive invalid value' in message, message
    assert host_digest(SITE) == site, "the rejected site replaced the running one"
    assert leftover_site_tests() == ""
    assert entry_answers() == 200

    set_vars(installed_copy, "{}\n")
    good = graylog_installer("install", "-i", str(installed_copy))
    assert good.returncode == 0, good.stderr
    counts = recap_counts(good.stdout, SANDBOX.name)
    assert (counts["changed"], counts["failed"]) == (0, 0)
