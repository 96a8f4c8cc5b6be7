"""Checks the Molecule scenarios share: HTTP as a user reaches nginx, and reads on the host.

Written independently of the installer's own `verify` command, so that a bug there cannot
hide the same bug here.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

REQUEST_TIMEOUT = 15
SEARCH_DEADLINE = 120


def nginx_url(host) -> str:
    """http://<container address>: the container runs on this machine's Docker bridge."""
    address = host.interface("eth0").addresses[0]
    return f"http://{address}"


def http_get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    return _request(urllib.request.Request(url), auth)


def _request(
    request: urllib.request.Request, auth: tuple[str, str] | None
) -> tuple[int, str, dict[str, str]]:
    request.add_header("Accept", "application/json, text/html, */*")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
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
    token = f"molecule-{uuid.uuid4().hex}"
    message = {"version": "1.1", "host": "molecule-test", "short_message": token}
    post = urllib.request.Request(
        f"{base_url}/gelf",
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    status, _, _ = _request(post, None)
    if status not in (200, 202):
        return False
    query = urllib.parse.urlencode({"query": token, "range": 300, "limit": 5})
    deadline = time.monotonic() + SEARCH_DEADLINE
    while time.monotonic() < deadline:
        status, body, _ = http_get(f"{base_url}/api/search/universal/relative?{query}", auth)
        if status == 200 and json.loads(body).get("total_results", 0) >= 1:
            return True
        time.sleep(3)
    return False
