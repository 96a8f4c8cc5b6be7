"""Role graylog's urgent stream: which REST requests bring it in line, and server.conf values."""

from __future__ import annotations

import pytest
from conftest import load_plugin

plugin = load_plugin("roles/graylog/filter_plugins/graylog_alerts.py")

EMAIL = "org.graylog2.alarmcallbacks.EmailAlarmCallback"
SETTINGS = {
    "title": "urgent",
    "description": "error and worse",
    "max_level": "3",  # Ansible hands templated numbers over as text
    "recipients": ["oncall@example.org", "second@example.org"],
    "threshold": "0",
    "time": "1",
    "grace": "5",
    "backlog": "5",
    "sender": "graylog@example.org",
}
PARAMETERS = {"time": 1, "threshold": 0, "threshold_type": "more", "grace": 5, "backlog": 5}


def in_line_stream(**changes) -> dict:
    """The stream as Graylog lists it once the role has set it up."""
    stream = {
        "id": "s1",
        "title": "urgent",
        "disabled": False,
        "created_at": "2026-11-27T05:00:00.000Z",
        "rules": [{"id": "r1", "field": "level", "type": 4, "value": "4", "inverted": False}],
        "alert_conditions": [{"id": "c1", "type": "message_count", "parameters": dict(PARAMETERS)}],
        "alert_receivers": {"emails": ["oncall@example.org", "second@example.org"], "users": []},
    }
    return {**stream, **changes}


def in_line_callbacks(**configuration) -> list[dict]:
    config = {"sender": "graylog@example.org", "subject": plugin.SUBJECT, **configuration}
    return [{"id": "a1", "type": EMAIL, "configuration": config}]


def requests(stream: dict, callbacks: list[dict], **settings) -> list[tuple[str, str]]:
    changes = plugin.graylog_urgent_changes(stream, callbacks, {**SETTINGS, **settings})
    return [(change["method"], change["path"]) for change in changes]


def test_a_missing_stream_is_created_with_the_level_rule():
    found = plugin.graylog_urgent_stream([{"id": "x", "title": "other"}], SETTINGS)
    assert found["id"] is None
    assert found["create"]["title"] == "urgent"
    # Syslog level 3 (error) and worse: level smaller than 4.
    assert found["create"]["rules"] == [
        {"field": "level", "type": 4, "value": "4", "inverted": False}
    ]


def test_the_oldest_stream_of_that_title_is_ours_and_the_others_are_reported():
    streams = [
        {"id": "new", "title": "urgent", "created_at": "2026-11-27T06:00:00Z"},
        {"id": "old", "title": "urgent", "created_at": "2026-11-27T05:00:00Z"},
        {"id": "mine", "title": "Urgent by hand", "created_at": "2026-11-27T04:00:00Z"},
    ]
    found = plugin.graylog_urgent_stream(streams, SETTINGS)
    assert (found["id"], found["create"], found["duplicates"]) == ("old", None, ["new"])


def test_a_stream_in_line_needs_no_request():
    assert requests(in_line_stream(), in_line_callbacks()) == []


def test_a_new_stream_gets_its_condition_callback_recipients_and_is_started():
    stream = in_line_stream(alert_conditions=[], alert_receivers={"emails": []}, disabled=True)
    changes = plugin.graylog_urgent_changes(stream, [], SETTINGS)
    assert [(c["method"], c["path"], c["status"]) for c in changes] == [
        ("POST", "/streams/s1/alerts/conditions", 201),
        ("POST", "/streams/s1/alarmcallbacks", 201),
        ("POST", "/streams/s1/alerts/receivers?type=emails&entity=oncall%40example.org", 201),
        ("POST", "/streams/s1/alerts/receivers?type=emails&entity=second%40example.org", 201),
        ("POST", "/streams/s1/resume", 204),
    ]
    assert changes[0]["body"] == {"type": "message_count", "parameters": PARAMETERS}
    assert changes[1]["body"]["configuration"]["sender"] == "graylog@example.org"
    assert "${stream.title}" in changes[1]["body"]["configuration"]["subject"]


def test_a_changed_threshold_updates_our_condition_in_place():
    changes = plugin.graylog_urgent_changes(
        in_line_stream(), in_line_callbacks(), {**SETTINGS, "threshold": "10"}
    )
    assert [(c["method"], c["path"]) for c in changes] == [
        ("PUT", "/streams/s1/alerts/conditions/c1")
    ]
    assert changes[0]["body"]["parameters"]["threshold"] == 10


def test_a_changed_recipient_list_adds_and_removes_only_emails():
    stream = in_line_stream(
        alert_receivers={"emails": ["oncall@example.org", "gone@example.org"], "users": ["bob"]}
    )
    assert requests(stream, in_line_callbacks()) == [
        ("POST", "/streams/s1/alerts/receivers?type=emails&entity=second%40example.org"),
        ("DELETE", "/streams/s1/alerts/receivers?type=emails&entity=gone%40example.org"),
    ]


def test_the_operators_own_condition_and_callback_on_our_stream_are_left_alone():
    http = {"id": "h1", "type": "org.graylog2.alarmcallbacks.HTTPAlarmCallback"}
    field_value = {"id": "c0", "type": "field_value", "parameters": {"field": "x"}}
    stream = in_line_stream(alert_conditions=[field_value, *in_line_stream()["alert_conditions"]])
    assert requests(stream, [http, *in_line_callbacks()]) == []


def test_a_changed_sender_updates_the_callback_and_keeps_the_operators_body():
    changes = plugin.graylog_urgent_changes(
        in_line_stream(), in_line_callbacks(body="mine"), {**SETTINGS, "sender": "new@example.org"}
    )
    assert [(c["method"], c["path"]) for c in changes] == [("PUT", "/streams/s1/alarmcallbacks/a1")]
    assert changes[0]["body"]["configuration"] == {
        "sender": "new@example.org",
        "subject": plugin.SUBJECT,
        "body": "mine",
    }


def test_a_changed_level_updates_the_rule_and_a_lost_rule_is_added_again():
    assert requests(in_line_stream(), in_line_callbacks(), max_level="4") == [
        ("PUT", "/streams/s1/rules/r1")
    ]
    assert requests(in_line_stream(rules=[]), in_line_callbacks()) == [
        ("POST", "/streams/s1/rules")
    ]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain-Pass1", "plain-Pass1"),
        ("back\\slash", "back\\\\slash"),
        (" leading", "\\ leading"),
        ("inner space", "inner space"),
        ("caf\u00e9", "caf\\u00e9"),
        ("\U0001f511", "\\ud83d\\udd11"),
    ],
)
def test_server_conf_values_read_back_unaltered(value, written):
    assert plugin.graylog_properties_value(value) == written
