"""`graylog-installer install` with no inventory: a working stack, and a re-run that keeps it."""

from __future__ import annotations

import base64
import re
import ssl
import urllib.error
import urllib.request

from conftest import SANDBOX, graylog_installer

from graylog_installer import entry_tls, paths, secrets_store
from graylog_installer.redact import Hidden

SANDBOX_URL = SANDBOX.url
SANDBOX_HOST = SANDBOX.name


def recap_counts(stdout: str, host: str) -> dict[str, int]:
    """The per-host summary row the installer prints at the end of a run."""
    header, row = None, None
    for line in stdout.splitlines():
        cells = line.split()
        if cells[:1] == ["HOST"]:
            header = cells[1:]
        elif header and cells[:1] == [host]:
            row = cells[1:]
    assert header and row, f"no summary row for {host}"
    return {name.lower(): int(value) for name, value in zip(header, row, strict=True)}


def test_first_install_prints_the_url_and_the_admin_credentials(first_install, admin_password):
    assert first_install.returncode == 0, first_install.stderr
    # Booleans, not `in` asserts: a failure must not print stdout, which holds the password.
    url_shown = f"Graylog is installed: {SANDBOX_URL}" in first_install.stdout
    user_shown = "admin username: admin" in first_install.stdout
    assert url_shown, "the URL was not printed"
    assert user_shown, "the admin username was not printed"
    shown = re.search(r"admin password: (\S+)", first_install.stdout)
    matches = shown is not None and shown.group(1) == admin_password
    assert matches, "the printed admin password is not the stored one"


def test_secrets_file_is_private(sandbox_inventory):
    mode = paths.secrets_file(sandbox_inventory).stat().st_mode & 0o777
    assert mode == 0o600


def test_no_secret_reaches_the_output_or_the_run_logs(first_install, sandbox_inventory):
    stored = secrets_store.load(paths.secrets_file(sandbox_inventory))
    logs = [p for p in (sandbox_inventory / ".runs").rglob("*") if p.is_file()]
    assert logs, "the install left no run log"
    texts = [first_install.stderr] + [p.read_text(errors="replace") for p in logs]
    leaked = [stored.password_secret in text for text in texts]
    assert not any(leaked), "password_secret appears in the output or a run log"
    # The admin password is printed once on purpose, on stdout; never in a log.
    assert not any(stored.admin_password in text for text in texts[1:])
    secret_printed = stored.password_secret in first_install.stdout
    assert not secret_printed, "password_secret was printed"


def test_first_install_changed_the_host(first_install):
    assert recap_counts(first_install.stdout, SANDBOX_HOST)["changed"] > 0


def test_verify_passes_through_nginx_over_https(sandbox_inventory):
    result = graylog_installer("verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Verifying {SANDBOX_URL} " in result.stdout
    assert "FAIL" not in result.stdout
    assert result.stdout.count("PASS") >= 5


def test_secrets_show_prints_the_admin_password(sandbox_inventory, admin_password):
    result = graylog_installer("secrets", "show")
    assert result.returncode == 0, result.stderr
    shown = admin_password in result.stdout
    assert shown, "secrets show did not print the stored admin password"


def test_second_install_changes_nothing_and_keeps_the_secrets(sandbox_inventory, admin_password):
    secrets_path = paths.secrets_file(sandbox_inventory)
    before = secrets_path.read_bytes()
    result = graylog_installer("install")
    assert result.returncode == 0, result.stderr
    counts = recap_counts(result.stdout, SANDBOX_HOST)
    assert (counts["changed"], counts["failed"], counts["unreachable"]) == (0, 0, 0)
    kept = secrets_path.read_bytes() == before
    assert kept, "the secrets file changed"
    # Shown once, after the first install only.
    shown_again = admin_password in result.stdout
    assert not shown_again, "the admin password was printed again on a re-run"


def api_status(inventory, password: str) -> int:
    """The HTTP status of an authenticated API call through nginx as the admin."""
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(
        SANDBOX_URL + "api/system", headers={"Authorization": f"Basic {token}"}
    )
    trusted = ssl.create_default_context(cafile=str(entry_tls.generated_certificate(inventory)))
    try:
        with urllib.request.urlopen(request, timeout=10, context=trusted) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# Last in this file: it changes the admin password the tests above use.
def test_rotating_the_admin_password_reaches_graylog(sandbox_inventory, admin_password):
    secrets_path = paths.secrets_file(sandbox_inventory)
    before = secrets_store.load(secrets_path)
    result = graylog_installer("install", "--rotate-admin-password")
    assert result.returncode == 0, result.stderr
    after = secrets_store.load(secrets_path)
    new_password = Hidden(after.admin_password)
    rotated = new_password != admin_password
    assert rotated, "the admin password was not replaced"
    kept = after.password_secret == before.password_secret
    assert kept, "password_secret changed although only the admin password was rotated"
    shown = f"admin password: {new_password}" in result.stdout
    assert shown, "the new admin password was not printed at the end of the run"
    assert not list(sandbox_inventory.glob(".secrets-*")), "a copy of the old secrets was left"
    assert api_status(sandbox_inventory, new_password) == 200
    assert api_status(sandbox_inventory, admin_password) == 401
    verified = graylog_installer("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
