"""backup, then the hosts destroyed, a fresh install, and restore: everything comes back.

One test, in steps, on the session's sandbox: it leaves the sandbox installed, with the
same inventory and secrets, for the tests that run after it.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import SANDBOX, assert_one_line_error, graylog_installer, snapshot

from graylog_installer import entry_tls, paths, secrets_store

API_URL = f"{SANDBOX.url}api/"
MESSAGES = 20
SEARCH_TIMEOUT = 120
RAW_INPUT = "org.graylog2.inputs.raw.tcp.RawTCPInput"


@dataclass
class Api:
    """Graylog's REST API through the sandbox's entry, trusting its certificate only."""

    username: str
    # Out of repr: pytest prints the object when an assertion about a call fails.
    password: str = field(repr=False)
    tls: ssl.SSLContext = field(repr=False)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            API_URL + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Authorization": f"Basic {token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-Requested-By": "graylog-installer tests",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=20, context=self.tls) as reply:
                raw = reply.read()
                return reply.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as reply:
            return reply.code, None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert 200 <= status < 300, f"{method} {path}: HTTP {status}"
        return answer

    def count(self, query: str, stream: str | None = None) -> int:
        fields = {"query": query, "range": 0, "limit": 1}
        if stream:
            fields["filter"] = f"streams:{stream}"
        status, answer = self.call(
            "GET", "search/universal/relative?" + urllib.parse.urlencode(fields)
        )
        return int(answer.get("total_results") or 0) if status == 200 else -1

    def wait_count(self, query: str, expected: int, stream: str | None = None) -> int:
        deadline = time.monotonic() + SEARCH_TIMEOUT
        found = self.count(query, stream)
        while found != expected and time.monotonic() < deadline:
            time.sleep(3)
            found = self.count(query, stream)
        return found

    def wait_until_routed(self, stream: str, token: str) -> None:
        """Until Graylog's stream router has taken up a new stream.

        The router takes a new stream up only seconds after it is made: 20 messages
        posted within 0.3 s of it all passed it by. A probe, which the test's searches
        for the token do not find, is posted until one is found in the stream.
        """
        deadline = time.monotonic() + SEARCH_TIMEOUT
        while time.monotonic() < deadline:
            self.ok("POST", "../gelf", probe_message(token))
            for _ in range(3):
                time.sleep(1)
                if self.count("probe", stream) > 0:
                    return
        raise AssertionError(f"no probe message reached stream {stream}")


def routing_key(token: str) -> str:
    """The value the backup stream's rule matches: one term, not the token's."""
    return f"{token}stream"


def probe_message(token: str) -> dict[str, str]:
    """A message for the backup stream that a search for the token does not find."""
    return {
        "version": "1.1",
        "host": "backup-test",
        "short_message": "probe",
        "_backup_stream": routing_key(token),
    }


def gelf_message(token: str, text: str) -> dict[str, str]:
    """A message for the backup stream that a search for the token finds."""
    return probe_message(token) | {"short_message": text, "_backup_token": token}


def admin_api(inventory: Path) -> Api:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.load_verify_locations(cafile=str(entry_tls.generated_certificate(inventory)))
    value = secrets_store.load(paths.secrets_file(inventory))
    return Api("admin", value.admin_password, tls)


def make_stored_state(api: Api, token: str) -> dict[str, str]:
    """A stream with a rule and an alert condition, a user, an input and MESSAGES messages."""
    rule = {"field": "backup_stream", "value": routing_key(token), "type": 1, "inverted": False}
    stream = api.ok(
        "POST",
        "streams",
        {
            "title": f"backup {token}",
            "description": "made by the backup test",
            "matching_type": "AND",
            "rules": [rule],
        },
    )["stream_id"]
    api.ok("POST", f"streams/{stream}/resume")
    condition = api.ok(
        "POST",
        f"streams/{stream}/alerts/conditions",
        {
            "type": "message_count",
            "parameters": {
                "time": 5,
                "threshold": 1000,
                "threshold_type": "more",
                "grace": 1,
                "backlog": 0,
            },
        },
    )["alert_condition_id"]
    user, password = f"backup{token}", secrets.token_urlsafe(18)
    api.ok(
        "POST",
        "users",
        {
            "username": user,
            "password": password,
            "email": f"{user}@example.invalid",
            "full_name": "Backup Test",
            "permissions": ["users:edit:" + user, "searches:relative"],
        },
    )
    api.ok(
        "POST",
        "system/inputs",
        {
            "title": f"backup {token}",
            "type": RAW_INPUT,
            "global": True,
            "configuration": {"bind_address": "127.0.0.1", "port": 5555},
        },
    )
    api.wait_until_routed(stream, token)
    for number in range(MESSAGES):
        api.ok("POST", "../gelf", gelf_message(token, f"{token} {number}"))
    return {"stream": stream, "condition": condition, "user": user, "password": password}


def input_titles(api: Api) -> set[str]:
    return {i["title"] for i in api.ok("GET", "system/inputs")["inputs"]}


def test_backup_destroy_reinstall_restore_brings_everything_back(sandbox_inventory, tmp_path):
    api = admin_api(sandbox_inventory)
    token = "bk" + secrets.token_hex(6)
    made = make_stored_state(api, token)
    assert api.wait_count(token, MESSAGES, made["stream"]) == MESSAGES, "messages not routed"
    installer_inputs = input_titles(api)

    archive = tmp_path / "backup.tar"
    backed_up = graylog_installer("backup", "-i", str(sandbox_inventory), "--output", str(archive))
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    assert archive.stat().st_mode & 0o777 == 0o600
    stored = secrets_store.load(paths.secrets_file(sandbox_inventory))
    content = archive.read_bytes()
    assert stored.password_secret.encode() not in content, "password_secret is in the archive"
    assert stored.admin_password.encode() not in content, "the admin password is in the archive"

    # A corrupt archive is refused in one line, and the stack is left alone.
    before = snapshot(sandbox_inventory)
    broken = tmp_path / "broken.tar"
    broken.write_bytes(content[: len(content) // 2])
    refused = graylog_installer("restore", "-i", str(sandbox_inventory), str(broken))
    # Cut inside a member: unreadable; cut between members: a part is missing.
    assert_one_line_error(refused, "broken.tar")
    assert "corrupt" in refused.stderr or "not a readable" in refused.stderr, refused.stderr
    assert snapshot(sandbox_inventory) == before
    assert api.count(token) == MESSAGES

    # The hosts are lost; the inventory (secrets included) is kept, as an operator would.
    subprocess.run(["docker", "rm", "--force", "--volumes", SANDBOX.name], check=True)
    fresh = graylog_installer("install")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert api.count(token) == 0, "the fresh installation already has the messages"
    assert api.call("GET", f"streams/{made['stream']}")[0] == 404

    restored = graylog_installer("restore", "-i", str(sandbox_inventory), str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr

    stream = api.ok("GET", f"streams/{made['stream']}")
    assert stream["title"] == f"backup {token}"
    assert stream["disabled"] is False
    conditions = stream["alert_conditions"]
    assert [c["id"] for c in conditions] == [made["condition"]]
    assert conditions[0]["parameters"]["threshold"] == 1000
    assert installer_inputs <= input_titles(api)
    assert f"backup {token}" in input_titles(api)
    # The user logs in with the password set before the backup: same password_secret.
    user_api = Api(made["user"], made["password"], api.tls)
    assert user_api.ok("GET", f"users/{made['user']}")["username"] == made["user"]
    assert api.wait_count(token, MESSAGES, made["stream"]) == MESSAGES
    # One node and one master (not the lost host's, whose record came back with MongoDB).
    verified = graylog_installer("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # New messages still reach the restored stream.
    api.ok("POST", "../gelf", gelf_message(token, f"{token} after"))
    assert api.wait_count(token, MESSAGES + 1, made["stream"]) == MESSAGES + 1
