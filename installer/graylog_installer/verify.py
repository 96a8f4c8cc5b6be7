"""Post-install checks made the way a user reaches Graylog: through the stack's entry only.

Plain urllib and sockets (no new dependencies), a timeout on every request, and one
PASS/FAIL line per check. Two round trips, one per way logs come in: a GELF message with a
unique token to the HTTP input behind <url>/gelf, and a syslog line with another token over
TCP to the entry's syslog port; then both are searched for through the REST API, within
one shared time limit.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

REQUEST_TIMEOUT = 10.0
ROUND_TRIP_TIMEOUT = 120.0
POLL_INTERVAL = 2.0
BODY_LIMIT = 2 * 1024 * 1024


GELF_CHECK = "GELF round trip"
SYSLOG_CHECK = "syslog round trip"
SENDER_HOST = "graylog-installer-verify"


class HttpFailure(Exception):
    """No HTTP answer at all (refused, timed out, bad TLS): the detail for a FAIL line."""


@dataclass(frozen=True)
class SyslogTarget:
    """Where the entry takes syslog over TCP (the published port, behind a port mapping)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is a failed check, not a crash."""
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise HttpFailure(f"HTTP {self.status} with a body that is not a JSON object")
        return data

    def short(self) -> str:
        text = " ".join(self.text().split())
        return f"HTTP {self.status}: {text[:120]}" if text else f"HTTP {self.status}"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


class Client:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = REQUEST_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        # Which certificates HTTPS trusts (None: the system's authorities).
        self.tls = tls
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._auth = f"Basic {token}"

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url, path.lstrip("/"))

    def get(self, path: str, auth: bool = False) -> Response:
        return self._send(urllib.request.Request(self.url(path), method="GET"), auth)

    def post_json(self, path: str, payload: Any, auth: bool = False) -> Response:
        request = urllib.request.Request(
            self.url(path),
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        return self._send(request, auth)

    def _send(self, request: urllib.request.Request, auth: bool) -> Response:
        request.add_header("Accept", "application/json, text/html;q=0.9, */*;q=0.8")
        if auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.tls) as reply:
                body = reply.read(BODY_LIMIT)
                return Response(reply.status, body, reply.headers.get_content_type())
        except urllib.error.HTTPError as reply:
            body = reply.read(BODY_LIMIT) if reply.fp else b""
            return Response(reply.code, body, reply.headers.get_content_type())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLCertVerificationError):
                reason = f"the certificate served is not the expected one ({reason.verify_message})"
            raise HttpFailure(f"no answer from {request.full_url}: {reason}") from None


def check_lbstatus(client: Client) -> Check:
    reply = client.get("api/system/lbstatus")
    alive = reply.status == 200 and reply.text().strip().upper() == "ALIVE"
    return Check("load balancer status", alive, "ALIVE" if alive else reply.short())


def check_version(client: Client) -> Check:
    reply = client.get("api/system", auth=True)
    if reply.status == 401:
        return Check("REST API login", False, "HTTP 401: the admin credentials were refused")
    if reply.status != 200:
        return Check("REST API login", False, reply.short())
    version = str(reply.json().get("version", ""))
    ok = version.startswith("2.0")
    return Check("REST API login", ok, f"Graylog {version}" + ("" if ok else ", expected 2.0.x"))


def check_web_interface(client: Client) -> Check:
    reply = client.get("")
    ok = reply.status == 200 and "Graylog" in reply.text()
    detail = f"HTTP 200, {reply.content_type}" if ok else reply.short() + " (no 'Graylog' in page)"
    return Check("web interface", ok, detail)


def check_cluster(client: Client, expected_nodes: int) -> Check:
    reply = client.get("api/system/cluster/nodes", auth=True)
    if reply.status != 200:
        return Check("cluster nodes", False, reply.short())
    data = reply.json()
    nodes = data.get("nodes") or []
    total = data.get("total", len(nodes))
    masters = [n for n in nodes if isinstance(n, dict) and n.get("is_master")]
    names = ", ".join(str(m.get("hostname") or m.get("node_id")) for m in masters)
    detail = f"{total} node(s), expected {expected_nodes}; {len(masters)} master(s)"
    detail += f": {names}" if names else ""
    return Check("cluster nodes", total == expected_nodes and len(masters) == 1, detail)


def new_token() -> str:
    """Letters and digits only: one term to Elasticsearch, found by a plain search."""
    return "glverify" + secrets.token_hex(8)


def send_gelf(client: Client, token: str) -> str | None:
    """POST a GELF message to <url>/gelf; the reason it failed, or None."""
    message = {
        "version": "1.1",
        "host": SENDER_HOST,
        "short_message": f"graylog-installer verify {token}",
        "_verify_token": token,
    }
    sent = client.post_json("gelf", message)
    return None if 200 <= sent.status < 300 else f"sending to /gelf: {sent.short()}"


def syslog_line(token: str, now: datetime | None = None) -> bytes:
    """One RFC 5424 message (facility user, severity info), newline-framed for TCP."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"<14>1 {stamp} {SENDER_HOST} graylog-installer - - - verify {token}\n".encode()


def send_syslog(target: SyslogTarget, line: bytes, timeout: float = REQUEST_TIMEOUT) -> str | None:
    """Send one line over TCP and close; the reason it failed, or None."""
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as conn:
            conn.sendall(line)
            conn.shutdown(socket.SHUT_WR)  # the end of our stream: nothing is left unsent
    except OSError as exc:
        reason = exc.strerror or exc
        return f"sending to {target}: {reason}"
    return None


def is_found(client: Client, token: str) -> tuple[bool, Response]:
    # range 0: every message, whatever timestamp the input gave it (syslog carries its own).
    query = urllib.parse.urlencode({"query": token, "range": 0, "limit": 1})
    reply = client.get(f"api/search/universal/relative?{query}", auth=True)
    return reply.status == 200 and int(reply.json().get("total_results") or 0) > 0, reply


def check_round_trips(
    client: Client,
    syslog: SyslogTarget,
    timeout: float = ROUND_TRIP_TIMEOUT,
    interval: float = POLL_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Check]:
    """Send a GELF message and a syslog line, then search for both until ``timeout``."""
    tokens = {GELF_CHECK: new_token(), SYSLOG_CHECK: new_token()}
    failed_send = {
        GELF_CHECK: _sent_or_why(lambda: send_gelf(client, tokens[GELF_CHECK])),
        SYSLOG_CHECK: _sent_or_why(lambda: send_syslog(syslog, syslog_line(tokens[SYSLOG_CHECK]))),
    }
    results = {name: Check(name, False, why) for name, why in failed_send.items() if why}
    pending = [name for name in tokens if name not in results]
    started = clock()
    last: dict[str, str] = {}
    while pending:
        for name in list(pending):
            try:
                found, reply = is_found(client, tokens[name])
            except HttpFailure as exc:
                found, last[name] = False, str(exc)
            else:
                last[name] = "" if reply.status == 200 else reply.short()
            if found:
                results[name] = Check(name, True, f"found after {clock() - started:.0f} s")
                pending.remove(name)
        if pending and clock() - started + interval > timeout:
            for name in pending:
                why = f" (last search: {last[name]})" if last.get(name) else ""
                results[name] = Check(name, False, f"not found within {timeout:.0f} s{why}")
            break
        if pending:
            sleep(interval)
    return [results[name] for name in tokens]


def _sent_or_why(send: Callable[[], str | None]) -> str | None:
    try:
        return send()
    except HttpFailure as exc:
        return str(exc)


def run_checks(
    client: Client,
    expected_nodes: int,
    round_trips: Callable[[Client], list[Check]],
) -> list[Check]:
    """Every check, in the order a user would look; one failing does not hide the others."""
    checks = [
        _guarded("load balancer status", lambda: check_lbstatus(client)),
        _guarded("REST API login", lambda: check_version(client)),
        _guarded("web interface", lambda: check_web_interface(client)),
        _guarded("cluster nodes", lambda: check_cluster(client, expected_nodes)),
    ]
    names = (GELF_CHECK, SYSLOG_CHECK)
    if not checks[1].passed:
        return checks + [Check(n, False, "skipped: the REST API login failed") for n in names]
    try:
        return checks + round_trips(client)
    except (ValueError, TypeError, AttributeError) as exc:  # a reply shaped unlike Graylog's
        return checks + [Check(n, False, f"unexpected reply: {exc}") for n in names]


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except HttpFailure as exc:
        return Check(name, False, str(exc))
    except (ValueError, TypeError, AttributeError) as exc:  # a reply shaped unlike Graylog's
        return Check(name, False, f"unexpected reply: {exc}")


def format_table(checks: list[Check]) -> str:
    width = max(len("CHECK"), *(len(c.name) for c in checks))
    lines = [f"{'CHECK'.ljust(width)}  RESULT  DETAIL"]
    for check in checks:
        result = "PASS" if check.passed else "FAIL"
        lines.append(f"{check.name.ljust(width)}  {result:6}  {check.detail}")
    return "\n".join(lines)
