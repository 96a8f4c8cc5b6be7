"""Alert emails end to end: an error-level message reaches the test's own SMTP server.

The stack's host is tested through testinfra; the mail server (group smtp_sink, started
by prepare.yml) is read through a second testinfra host of the same inventory.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pytest
import testinfra
from graylog_checks import http_get, load_test_secrets, nginx_url, post_gelf

testinfra_hosts = ["ansible://graylog"]

MAILDIR = "/var/lib/smtp-sink"
EMAIL_CALLBACK = "org.graylog2.alarmcallbacks.EmailAlarmCallback"
# molecule.yml's group_vars.
RECIPIENTS = ["oncall@molecule.test", "second@molecule.test"]
# Alert checks every 10 s (molecule.yml): a minute covers the search index's delay too.
EMAIL_WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def sink(request):
    inventory = request.config.option.ansible_inventory
    return testinfra.get_host("ansible://molecule-smtp-sink", ansible_inventory=inventory)


@pytest.fixture(scope="module")
def api(host):
    base_url = nginx_url(host)
    auth = ("admin", load_test_secrets()["graylog_admin_password"])

    def get(path: str):
        status, body, _ = http_get(f"{base_url}/api{path}", auth=auth)
        assert status == 200, path
        return json.loads(body)

    return get


@pytest.fixture(scope="module")
def urgent(api) -> dict:
    streams = [s for s in api("/streams")["streams"] if s["title"] == "urgent"]
    assert len(streams) == 1, "the re-runs must not duplicate the urgent stream"
    return streams[0]


def _mails(sink) -> dict[str, str]:
    names = sink.check_output(f"ls -1 {MAILDIR}").split()
    return {name: sink.file(f"{MAILDIR}/{name}").content_string for name in names}


def test_server_conf_sends_email_through_the_test_smtp_server(host):
    conf = host.file("/etc/graylog/server/server.conf").content_string
    for line in (
        "transport_email_enabled = true",
        "transport_email_hostname = molecule-smtp-sink",
        "transport_email_port = 25",
        "transport_email_use_tls = true",
        "transport_email_use_ssl = false",
        "transport_email_use_auth = false",
        "transport_email_from_email = graylog@molecule.test",
        "alert_check_interval = 10",
    ):
        assert f"\n{line}\n" in conf, line


def test_the_urgent_stream_takes_error_and_worse_and_runs(urgent):
    assert urgent["disabled"] is False, "side_effect.yml paused it; the re-run must resume it"
    assert [(r["field"], r["type"], r["value"], r["inverted"]) for r in urgent["rules"]] == [
        ("level", 4, "4", False)
    ]


def test_one_alert_condition_with_the_configured_threshold(urgent):
    # side_effect.yml raised the threshold to 100 by hand.
    conditions = urgent["alert_conditions"]
    assert [(c["type"], c["parameters"]["threshold"]) for c in conditions] == [("message_count", 0)]
    assert conditions[0]["parameters"]["grace"] == 0


def test_one_email_callback_to_exactly_the_configured_recipients(api, urgent):
    callbacks = api(f"/streams/{urgent['id']}/alarmcallbacks")["alarmcallbacks"]
    assert Counter(c["type"] for c in callbacks) == {EMAIL_CALLBACK: 1}
    assert callbacks[0]["configuration"]["sender"] == "graylog@molecule.test"
    # side_effect.yml added by-hand@molecule.test; the re-run must have removed it.
    assert sorted(urgent["alert_receivers"]["emails"]) == RECIPIENTS


def test_an_error_message_is_emailed_naming_the_stream(host, sink):
    token = f"urgent-{uuid.uuid4().hex}"
    before = set(_mails(sink))
    assert post_gelf(nginx_url(host), {"short_message": token, "level": 3}) in (200, 202)
    deadline = time.monotonic() + EMAIL_WAIT_SECONDS
    found: dict[str, str] = {}
    while not found and time.monotonic() < deadline:
        time.sleep(5)
        found = {n: m for n, m in _mails(sink).items() if n not in before and token in m}
    assert found, f"no email quoting {token} reached the SMTP server in {EMAIL_WAIT_SECONDS} s"
    recipients = set()
    for mail in found.values():
        assert "Subject: Graylog alert for stream: urgent" in mail
        assert "Stream title: urgent" in mail
        recipients.update(
            line.split(": ", 1)[1]
            for line in mail.splitlines()
            if line.startswith("X-Envelope-To: ")
        )
    assert recipients == set(RECIPIENTS)


def test_an_info_message_is_not_emailed(host, sink):
    token = f"calm-{uuid.uuid4().hex}"
    assert post_gelf(nginx_url(host), {"short_message": token, "level": 6}) in (200, 202)
    # Two alert checks (10 s apart) after the message is searchable.
    time.sleep(35)
    assert not [name for name, mail in _mails(sink).items() if token in mail]
