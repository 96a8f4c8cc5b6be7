"""Checks the Molecule scenarios share: HTTPS as a user reaches the entry, and reads on
the host.

Written independently of the installer's own `verify` command, so that a bug there cannot
hide the same bug here.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

from graylog_installer.redact import Hidden

REQUEST_TIMEOUT = 15
SEARCH_DEADLINE = 120

T = TypeVar("T")


def load_test_secrets() -> dict[str, str]:
    """The secrets file the test command made, each value hidden from tracebacks."""
    with open(os.environ["GRAYLOG_TEST_SECRETS_FILE"]) as handle:
        return {name: Hidden(value) for name, value in yaml.safe_load(handle).items()}


def entry_certificate() -> Path:
    """The certificate the entry must serve: the one the playbook generated next to the
    inventory (GRAYLOG_TEST_ENTRY_CERTIFICATE names it for an inventory of your own)."""
    named = os.environ.get("GRAYLOG_TEST_ENTRY_CERTIFICATE")
    if named:
        return Path(named)
    return Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "tls" / "entry.crt"


@functools.cache
def _trusting(certificate: Path, modified: float) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(certificate))
    return context


def entry_context() -> ssl.SSLContext:
    """HTTPS that trusts exactly the entry's certificate (re-read when it is replaced)."""
    certificate = entry_certificate()
    return _trusting(certificate, certificate.stat().st_mtime)


def nginx_url(host) -> str:
    """https://<container address>: the container runs on this machine's Docker bridge."""
    address = host.interface("eth0").addresses[0]
    return f"https://{address}"


def http_get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    return _request(urllib.request.Request(url), auth)


def http_put(url: str, auth: tuple[str, str]) -> int:
    request = urllib.request.Request(url, method="PUT", headers={"X-Requested-By": "molecule"})
    return _request(request, auth)[0]


def post_gelf(base_url: str, message: dict) -> int:
    post = urllib.request.Request(
        f"{base_url}/gelf",
        data=json.dumps({"version": "1.1", "host": "molecule-test", **message}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return _request(post, None)[0]


def _search(base_url: str, auth: tuple[str, str], query: str) -> dict | None:
    """One search of the last hour for a query: Graylog's answer, or None when it failed."""
    params = urllib.parse.urlencode({"query": query, "range": 3600, "limit": 1})
    try:
        status, body, _ = http_get(f"{base_url}/api/search/universal/relative?{params}", auth)
    except OSError:
        return None
    return json.loads(body) if status == 200 else None


def _poll(attempt: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Call attempt every few seconds until done says so or SEARCH_DEADLINE passes."""
    deadline = time.monotonic() + SEARCH_DEADLINE
    result = attempt()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(3)
        result = attempt()
    return result


def search_total(base_url: str, auth: tuple[str, str], query: str) -> int | None:
    """Messages of the last hour matching a query, or None when the search failed."""
    answer = _search(base_url, auth, query)
    return answer.get("total_results") if answer else None


def wait_for_total(base_url: str, auth: tuple[str, str], query: str, expected: int) -> int | None:
    """Poll the search until it finds ``expected`` messages; the last count seen."""
    return _poll(lambda: search_total(base_url, auth, query), lambda total: total == expected)


def wait_for_first_message(base_url: str, auth: tuple[str, str], query: str) -> dict | None:
    """Poll the search until a message of the last hour matches; its fields, or None.

    Each copy of a shard refreshes on its own: a message one search found can be missing
    from the next, served by a copy that has not refreshed yet.
    """
    answer = _poll(
        lambda: _search(base_url, auth, query), lambda found: bool(found and found.get("messages"))
    )
    messages = (answer or {}).get("messages") or []
    return messages[0]["message"] if messages else None


def _request(
    request: urllib.request.Request, auth: tuple[str, str] | None
) -> tuple[int, str, dict[str, str]]:
    request.add_header("Accept", "application/json, text/html, */*")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        context = entry_context() if request.full_url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT, context=context) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), dict(error.headers)


def elasticsearch_health(host) -> dict:
    return json.loads(host.check_output("curl -s http://127.0.0.1:9200/_cluster/health"))


def server_conf_settings(host) -> dict[str, str]:
    """server.conf as key -> value (its format: `key = value`, # comments)."""
    settings = {}
    for line in host.file("/etc/graylog/server/server.conf").content_string.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def send_gelf_and_search(base_url: str, auth: tuple[str, str]) -> bool:
    """POST one GELF message to nginx's /gelf and poll the search API until it is found."""
    # One word: Graylog joins a query's terms with OR, and "molecule-<hex>" would be two,
    # the first of them in every other test message's source.
    token = f"molecule{uuid.uuid4().hex}"
    if post_gelf(base_url, {"short_message": token}) not in (200, 202):
        return False
    return wait_for_total(base_url, auth, token, 1) == 1
