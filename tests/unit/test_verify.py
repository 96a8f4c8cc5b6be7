"""verify's HTTP client logic against a tiny real server on 127.0.0.1 with canned answers."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from graylog_installer import verify
from graylog_installer.verify import Client, check_round_trip, format_table, run_checks

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
        self.messages: list[dict[str, Any]] = []
        self.auth_seen: list[str | None] = []

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


def quick_round_trip(client: Client) -> verify.Check:
    return check_round_trip(client, timeout=0.5, interval=0.05)


def by_name(checks: list[verify.Check]) -> dict[str, verify.Check]:
    return {c.name: c for c in checks}


def test_healthy_stack_passes_every_check(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    checks = run_checks(Client(url, USER, PASSWORD), 1, quick_round_trip)
    assert [c.name for c in checks] == [
        "load balancer status",
        "REST API login",
        "web interface",
        "cluster nodes",
        "message round trip",
    ]
    assert all(c.passed for c in checks), format_table(checks)
    assert by_name(checks)["REST API login"].detail == "Graylog 2.0.3+a3e4ab6"
    sent = fake.messages[0]
    assert sent["version"] == "1.1" and sent["_verify_token"] in sent["short_message"]


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


def test_wrong_password_fails_and_skips_round_trip(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    checks = by_name(run_checks(Client(url, USER, "wrong"), 1, quick_round_trip))
    assert not checks["REST API login"].passed
    assert "401" in checks["REST API login"].detail
    assert "skipped" in checks["message round trip"].detail
    assert checks["load balancer status"].passed and checks["web interface"].passed
    assert fake.messages == []


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


def test_message_never_indexed_fails_after_timeout(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    fake.store_messages = False
    check = quick_round_trip(Client(url, USER, PASSWORD))
    assert not check.passed and check.detail.startswith("not found within")


def test_round_trip_polls_until_found() -> None:
    class Scripted(Client):
        def __init__(self) -> None:
            super().__init__("http://unused/", USER, PASSWORD)
            self.searches = 0

        def post_json(self, path: str, payload: Any, auth: bool = False) -> verify.Response:
            return verify.Response(202, b"", "text/plain")

        def get(self, path: str, auth: bool = False) -> verify.Response:
            self.searches += 1
            body = {"total_results": 1 if self.searches >= 3 else 0}
            return verify.Response(200, json.dumps(body).encode(), "application/json")

    now = [0.0]
    client = Scripted()
    check = check_round_trip(
        client,
        timeout=60,
        interval=2,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert check.passed and client.searches == 3 and check.detail == "found after 4 s"


def test_no_server_gives_fail_lines_not_exceptions() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    checks = run_checks(Client(f"http://127.0.0.1:{port}/", USER, PASSWORD, timeout=2), 1)
    assert not any(c.passed for c in checks)
    assert "no answer from" in checks[0].detail


def test_non_json_api_reply_is_a_failed_check(graylog: tuple[FakeGraylog, str]) -> None:
    fake, url = graylog
    checks = by_name(run_checks(Client(url + "nowhere/", USER, PASSWORD), 1, quick_round_trip))
    assert not checks["REST API login"].passed


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
