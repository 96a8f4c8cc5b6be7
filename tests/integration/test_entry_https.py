"""HTTPS at the sandbox's entry: the generated certificate, the redirect, and a real
browser that logs in over HTTPS and reaches the search page.

The browser is Debian's chromium (scripts/test installs it) trusting exactly the
generated certificate's key, so a page or an API call served with any other certificate,
or over plain HTTP from the HTTPS page, stops the login.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import SANDBOX, graylog_installer
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from graylog_installer import entry_tls

HTTPS_URL = SANDBOX.url
HTTP_PORT = SANDBOX.http_port
BROWSER_TIMEOUT = 90


@pytest.fixture(scope="module")
def certificate(sandbox_inventory) -> Path:
    return entry_tls.generated_certificate(sandbox_inventory)


@pytest.fixture(scope="module")
def trusting(certificate: Path) -> ssl.SSLContext:
    """Trusts the generated certificate only, for 127.0.0.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(certificate))
    return context


def test_generated_key_is_private_and_stays_out_of_the_output(first_install, sandbox_inventory):
    key = entry_tls.generated_key(sandbox_inventory)
    assert key.stat().st_mode & 0o777 == 0o600
    body = key.read_text().split("-----")[2].strip().splitlines()[1]
    assert body not in first_install.stdout + first_install.stderr


def test_http_redirects_to_the_same_path_over_https(sandbox_inventory):
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
    conn.request("GET", "/api/system/lbstatus?x=1")
    reply = conn.getresponse()
    assert reply.status == 301
    assert reply.getheader("Location") == HTTPS_URL + "api/system/lbstatus?x=1"


def test_the_served_certificate_is_the_generated_one(certificate: Path):
    served = ssl.get_server_certificate(("127.0.0.1", SANDBOX.https_port))
    expected = x509.load_pem_x509_certificate(certificate.read_bytes())
    assert x509.load_pem_x509_certificate(served.encode()) == expected


def handshake(version: ssl.TLSVersion) -> str:
    """The TLS version the entry agrees to when offered only ``version``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this side offer the old versions
    with (
        socket.create_connection(("127.0.0.1", SANDBOX.https_port), timeout=15) as raw,
        context.wrap_socket(raw) as tls,
    ):
        return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_only_tls_1_2_is_agreed_to(sandbox_inventory):
    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            handshake(old)


def test_the_web_interface_calls_the_api_over_https(trusting: ssl.SSLContext):
    with urllib.request.urlopen(HTTPS_URL + "config.js", context=trusting, timeout=10) as reply:
        config = reply.read().decode()
    assert re.search(r"gl2ServerUrl:\s*'([^']*)'", config).group(1) == HTTPS_URL + "api/"


def test_verify_refuses_an_entry_serving_another_certificate(installed_copy: Path):
    # The copy expects a certificate of its own: the sandbox's is then not the expected one.
    other = installed_copy / "other"
    other.mkdir()
    key = other / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", str(key),
         "-out", str(entry_tls.generated_certificate(installed_copy))],
        check=True, capture_output=True,
    )  # fmt: skip
    result = graylog_installer("verify", "-i", str(installed_copy))
    assert result.returncode != 0
    assert "not the expected one" in result.stdout
    assert "FAIL" in result.stdout and "PASS" not in result.stdout


def spki_pin(certificate: Path) -> str:
    """base64 SHA-256 of the certificate's public key: what chromium is told to trust."""
    key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture
def browser(certificate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from selenium import webdriver

    # Debian's chromium and chromedriver only: Selenium must never download a browser.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        # Trust exactly this key; chromium honours the pin only with its own profile.
        f"--ignore-certificate-errors-spki-list={spki_pin(certificate)}",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_browser_logs_in_over_https_and_sees_the_search_page(browser, admin_password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, BROWSER_TIMEOUT)
    password_field = (By.CSS_SELECTOR, "input[type=password]")
    browser.get(f"http://127.0.0.1:{HTTP_PORT}/")  # as typed: plain HTTP, redirected
    wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, "input[type=text]")))
    browser.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("admin")
    browser.find_element(*password_field).send_keys(str(admin_password))
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The login is a call to the API at config.js's address: over HTTPS, or blocked.
    wait.until(shown.invisibility_of_element_located(password_field))
    browser.get(HTTPS_URL + "search")
    query = wait.until(shown.visibility_of_element_located((By.NAME, "q")))
    assert "search query" in query.get_attribute("placeholder")
    assert browser.current_url == HTTPS_URL + "search"
    assert not browser.find_elements(*password_field)
