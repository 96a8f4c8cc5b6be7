"""verify's checks against tiny real servers on 127.0.0.1: HTTP with canned answers, and a
syslog TCP listener whose lines the fake search then finds."""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import write_inventory

from graylog_installer import commands, verify
from graylog_installer.errors import UsageError
from graylog_installer.inventory import load_inventory
from graylog_installer.validation import validate
from graylog_installer.verify import (
    GELF_CHECK,
    SYSLOG_CHECK,
    Client,
    SyslogTarget,
    check_round_trips,
    format_table,
    run_checks,
)

USER, PASSWORD = "admin", "s3cretPassw0rdForTests"


class FakeGraylog:
    """What nginx in front of Graylog 2.0 answers; tests change fields to break it."""

    def __init__(self) -> None:
        self.lbstatus = (200, "ALIVE")
        self.version = "2.0.3+a3e4ab6"
        self.index = "<html><head><title>Graylog Web Interface</title></head></html>"
        self.nodes = [{"node_id": "n1", "hostname": "gl1", "is_master": True}]
        self.total: int | None = None
        self.store_messages = True
        self.store_syslog = False
        self.messages: list[dict[str, Any]] = []
        self.auth_seen: list[str | None] = []
        self.search_ranges: list[str] = []

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, str]:
        url = urlsplit(path)
        if method == "POST" and url.path == "/gelf":
            if self.store_messages:
                self.messages.append(json.loads(body))
            return 202, "text/plain", ""
        if url.path == "/api/system/lbstatus":
            return self.lbstatus[0], "text/plain", self.lbstatus[1]
        if url.path == "/":
            return 200, "text/html", self.index
        self.auth_seen.append(headers.get("Authorization"))
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, "text/plain", ""
        if url.path == "/api/system":
            return 200, "application/json", json.dumps({"version": self.version})
        if url.path == "/api/system/cluster/nodes":
            total = len(self.nodes) if self.total is None else self.total
            return 200, "application/json", json.dumps({"nodes": self.nodes, "total": total})
        if url.path == "/api/search/universal/relative":
            query = parse_qs(url.query)["query"][0]
            self.search_ranges.append(parse_qs(url.query)["range"][0])
            hits = [m for m in self.messages if query in m["short_message"]]
            found = {"messages": hits, "total_results": len(hits)}
            return 200, "application/json", json.dumps(found)
        return 404, "text/plain", "not found"


@pytest.fixture
def graylog() -> Iterator[tuple[FakeGraylog, str]]:
    fake = FakeGraylog()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status, kind, text = fake.answer(method, self.path, self.headers, body)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._reply("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._reply("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class SyslogListener:
    """A syslog TCP input: newline-framed lines, indexed into the fake Graylog when asked."""

    def __init__(self, fake: FakeGraylog) -> None:
        self.lines: list[bytes] = []
        listener = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    listener.lines.append(line)
                    if fake.store_syslog:
                        fake.messages.append({"short_message": line.decode()})

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.target = SyslogTarget("127.0.0.1", self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def syslog(graylog: tuple[FakeGraylog, str]) -> Iterator[SyslogListener]:
    graylog[0].store_syslog = True
    listener = SyslogListener(graylog[0])
    try:
        yield listener
    finally:
        listener.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def quick(target: SyslogTarget):
    def round_trips(client: Client) -> list[verify.Check]:
        return check_round_trips(client, target, timeout=0.5, interval=0.05)

    return round_trips


def by_name(checks: list[verify.Check]) -> dict[str, verify.Check]:
    return {c.name: c for c in checks}


def test_healthy_stack_passes_every_check(
    graylog: tuple[FakeGraylog, str], syslog: SyslogListener
) -> None:
    fake, url = graylog
    checks = run_checks(Client(url, USER, PASSWORD), 1, quick(syslog.target))
    assert [c.name for c in checks] == [
        "load balancer status",
        "REST API login",
        "web interface",
        "cluster nodes",
        "GELF round trip",
        "syslog round trip",
    ]
    assert all(c.passed for c in checks), format_table(checks)
    assert by_name(checks)["REST API login"].detail == "Graylog 2.0.3+a3e4ab6"
    gelf, line = fake.messages[0], syslog.lines[0]
    assert gelf["version"] == "1.1" and gelf["_verify_token"] in gelf["short_message"]
    # Two different tokens: each search can only find its own message.
    assert gelf["_verify_token"].encode() not in line
    assert set(fake.search_ranges) == {"0"}  # every message, whatever its timestamp


def test_syslog_line_is_one_newline_framed_rfc5424_message() -> None:
    line = verify.syslog_line("glverify0123", datetime(2026, 11, 27, 3, 4, 5, 678000, timezone.utc))
    assert line == (
        b"<14>1 2026-11-27T03:04:05.678Z graylog-installer-verify graylog-installer"
        b" - - - verify glverify0123\n"
    )
    token = verify.new_token()
    assert token.isalnum() and token != verify.new_token()


def test_syslog_line_arrives_whole_over_tcp(syslog: SyslogListener) -> None:
    assert verify.send_syslog(syslog.target, b"<14>1 - h a - - - one\n") is None
    deadline = 50
    while not syslog.lines and deadline:
        threading.Event().wait(0.02)
        deadline -= 1
    assert syslog.lines == [b"<14>1 - h a - - - one\n"]


def test_refused_syslog_port_fails_only_the_syslog_check(
    graylog: tuple[FakeGraylog, str],
) -> None:
    fake, url = graylog
    target = SyslogTarget("127.0.0.1", free_port())
    checks = by_name(run_checks(Client(url, USER, PASSWORD), 1, quick(target)))
    assert checks[GELF_CHECK].passed
    failed = checks[SYSLOG_CHECK]
    assert not failed.passed and failed.detail.startswith(f"sending to 127.0.0.1:{target.port}: ")
    assert "refused" in failed.detail.lower()


def test_syslog_line_never_indexed_fails_after_the_shared_timeout(
    graylog: tuple[FakeGraylog, str], syslog: SyslogListener
) -> None:
    fake, url = graylog
    fake.store_syslog = False
    checks = by_name(run_checks(Client(url, USER, PASSWORD), 1, quick(syslog.target)))
    assert checks[GELF_CHECK].passed and syslog.lines
    assert checks[SYSLOG_CHECK].detail == "not found within 0 s"


def test_dead_load_balancer_fails(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    fake.lbstatus = (503, "DEAD")
    check = verify.check_lbstatus(Client(url, USER, PASSWORD))
    assert not check.passed and check.detail == "HTTP 503: DEAD"


def test_wrong_version_fails(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    fake.version = "2.1.0"
    check = verify.check_version(Client(url, USER, PASSWORD))
    assert not check.passed and "expected 2.0.x" in check.detail


def test_wrong_password_fails_and_skips_round_trips(
    graylog: tuple[FakeGraylog, str], syslog: SyslogListener
) -> None:
    fake, url = graylog
    checks = by_name(run_checks(Client(url, USER, "wrong"), 1, quick(syslog.target)))
    assert not checks["REST API login"].passed
    assert "401" in checks["REST API login"].detail
    assert "skipped" in checks[GELF_CHECK].detail and "skipped" in checks[SYSLOG_CHECK].detail
    assert checks["load balancer status"].passed and checks["web interface"].passed
    assert fake.messages == [] and syslog.lines == []


def test_auth_header_is_basic_auth(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    verify.check_version(Client(url, USER, PASSWORD))
    assert fake.auth_seen[-1] == "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()


def test_page_without_graylog_fails(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    fake.index = "<html>Welcome to nginx!</html>"
    check = verify.check_web_interface(Client(url, USER, PASSWORD))
    assert not check.passed and "Welcome to nginx" in check.detail


@pytest.mark.parametrize(
    ("nodes", "total", "expected", "passed"),
    [
        ([{"is_master": True}, {"is_master": False}], None, 2, True),
        ([{"is_master": True}, {"is_master": True}], None, 2, False),
        ([{"is_master": False}], None, 1, False),
        ([{"is_master": True}], None, 3, False),
        ([{"is_master": True}], 3, 3, True),
    ],
)
def test_cluster_node_count_and_single_master(
    graylog: tuple[FakeGraylog, str],
    nodes: list[dict[str, Any]],
    total: int | None,
    expected: int,
    passed: bool,
) -> None:
    fake, url = graylog
    fake.nodes, fake.total = nodes, total
    check = verify.check_cluster(Client(url, USER, PASSWORD), expected)
    assert check.passed is passed, check.detail


def test_gelf_never_indexed_fails_after_timeout(
    graylog: tuple[FakeGraylog, str], syslog: SyslogListener
) -> None:
    fake, url = graylog
    fake.store_messages = False
    gelf, sent = quick(syslog.target)(Client(url, USER, PASSWORD))
    assert not gelf.passed and gelf.detail.startswith("not found within")
    assert sent.passed


class Scripted(Client):
    """Sending always works; token N is found from its ``found_at[N]``-th search on."""

    def __init__(self, found_at: list[int | None]) -> None:
        super().__init__("http://unused/", USER, PASSWORD)
        self.found_at = found_at
        self.tokens: list[str] = []
        self.searches: dict[str, int] = {}

    def post_json(self, path: str, payload: Any, auth: bool = False) -> verify.Response:
        self.tokens.append(payload["_verify_token"])
        return verify.Response(202, b"", "text/plain")

    def get(self, path: str, auth: bool = False) -> verify.Response:
        token = parse_qs(urlsplit(path).query)["query"][0]
        self.searches[token] = self.searches.get(token, 0) + 1
        index = 0 if token in self.tokens else 1
        due = self.found_at[index]
        body = {"total_results": 1 if due is not None and self.searches[token] >= due else 0}
        return verify.Response(200, json.dumps(body).encode(), "application/json")


def run_scripted(client: Scripted, target: SyslogTarget, timeout: float) -> list[verify.Check]:
    now = [0.0]
    return check_round_trips(
        client,
        target,
        timeout=timeout,
        interval=2,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )


def test_round_trips_poll_both_within_one_bound(syslog: SyslogListener) -> None:
    client = Scripted(found_at=[3, 5])
    gelf, sent = run_scripted(client, syslog.target, timeout=60)
    assert gelf.passed and gelf.detail == "found after 4 s"
    assert sent.passed and sent.detail == "found after 8 s"
    # Found messages are not searched again; the other one goes on being polled.
    assert sorted(client.searches.values()) == [3, 5]


def test_round_trips_stop_at_the_bound(syslog: SyslogListener) -> None:
    client = Scripted(found_at=[2, None])
    gelf, sent = run_scripted(client, syslog.target, timeout=10)
    assert gelf.passed and gelf.detail == "found after 2 s"
    assert not sent.passed and sent.detail == "not found within 10 s"
    assert max(client.searches.values()) == 6  # at 0, 2, ... 10 s; the next would be late


def test_no_server_gives_fail_lines_not_exceptions() -> None:
    port = free_port()
    client = Client(f"http://127.0.0.1:{port}/", USER, PASSWORD, timeout=2)
    checks = run_checks(client, 1, quick(SyslogTarget("127.0.0.1", port)))
    assert not any(c.passed for c in checks)
    assert "no answer from" in checks[0].detail


def test_non_json_api_reply_is_a_failed_check(
    graylog: tuple[FakeGraylog, str], syslog: SyslogListener
) -> None:
    fake, url = graylog
    client = Client(url + "nowhere/", USER, PASSWORD)
    checks = by_name(run_checks(client, 1, quick(syslog.target)))
    assert not checks["REST API login"].passed


def test_search_replies_unlike_graylog_fail_both_round_trips(syslog: SyslogListener) -> None:
    class Odd(Scripted):
        def get(self, path: str, auth: bool = False) -> verify.Response:
            body = b'{"total_results": "many"}' if "search" in path else b'{"version": "2.0.3"}'
            return verify.Response(200, body, "application/json")

    odd = Odd([1, 1])
    checks = run_checks(odd, 1, lambda c: check_round_trips(c, syslog.target, timeout=1))
    assert [c.detail.split(":")[0] for c in checks[-2:]] == ["unexpected reply"] * 2


# ---- where verify sends syslog -----------------------------------------------------------

ENTRY_HOSTS = """
all:
  children:
    graylog:
      hosts:
        gl1: {ansible_host: 10.0.0.1}
    elasticsearch: {hosts: {gl1: }}
    mongodb: {hosts: {gl1: }}
"""


@pytest.mark.parametrize(
    ("variables", "hosts", "expected"),
    [
        ("", ENTRY_HOSTS, "10.0.0.1:514"),
        ("graylog_syslog_port: 1514\n", ENTRY_HOSTS, "10.0.0.1:1514"),
        (
            "graylog_syslog_port: 1514\ngraylog_entry_syslog_port: 8514\n",
            ENTRY_HOSTS,
            "10.0.0.1:8514",
        ),
        (
            "graylog_external_url: https://logs.example.com:8443/\n",
            ENTRY_HOSTS,
            "logs.example.com:514",
        ),
        (
            "",
            ENTRY_HOSTS + "    loadbalancer:\n      hosts:\n        lb: {ansible_host: 10.0.0.9}\n",
            "10.0.0.9:514",
        ),
    ],
    ids=["default", "syslog-port", "published-port", "external-url", "load-balancer"],
)
def test_syslog_goes_to_the_entry(
    tmp_path: Path, variables: str, hosts: str, expected: str
) -> None:
    inventory = write_inventory(tmp_path / "inv", hosts, group_vars={"all": variables or "{}"})
    loaded = load_inventory(inventory)
    assert str(commands.entry_syslog_target(loaded, validate(loaded))) == expected


def test_a_port_that_is_no_port_is_refused(tmp_path: Path) -> None:
    inventory = write_inventory(
        tmp_path / "inv", ENTRY_HOSTS, group_vars={"all": "graylog_entry_syslog_port: syslog\n"}
    )
    loaded = load_inventory(inventory)
    with pytest.raises(UsageError, match="graylog_entry_syslog_port is 'syslog'"):
        commands.entry_syslog_target(loaded, validate(loaded))


def test_table_layout() -> None:
    table = format_table(
        [
            verify.Check("web interface", True, "HTTP 200"),
            verify.Check("cluster nodes", False, "2 node(s)"),
        ]
    )
    assert table.splitlines() == [
        "CHECK          RESULT  DETAIL",
        "web interface  PASS    HTTP 200",
        "cluster nodes  FAIL    2 node(s)",
    ]
