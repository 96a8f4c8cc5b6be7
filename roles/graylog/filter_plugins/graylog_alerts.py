"""Filters of role graylog: the urgent stream and its email alert, decided without any I/O.

``graylog_urgent_stream`` finds the role's stream among those Graylog lists (by title) or
says how to create it; ``graylog_urgent_changes`` lists the REST requests that bring that
stream's rule, alert condition, email callback, recipients and state in line;
``graylog_properties_value`` writes a value for server.conf (Java properties) unaltered.

In Graylog 2.0 alert conditions and alarm callbacks have no title: on the role's stream,
the condition of type ``message_count``, the email callback and the rule on field
``level`` are the role's; anything else there (an operator's own) is left alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

EMAIL_CALLBACK = "org.graylog2.alarmcallbacks.EmailAlarmCallback"
MESSAGE_COUNT = "message_count"
SMALLER_THAN = 4  # Graylog's stream rule type "smaller than"
LEVEL_FIELD = "level"
# Graylog fills ${stream.title}: the email names the stream in its subject.
SUBJECT = "Graylog alert for stream: ${stream.title}: ${check_result.resultDescription}"


def _oldest_first(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda i: (str(i.get("created_at", "")), str(i["id"])))


def _rule(settings: dict) -> dict:
    # Syslog levels count down: "error and worse" is level <= max_level.
    value = str(int(settings["max_level"]) + 1)
    return {"field": LEVEL_FIELD, "type": SMALLER_THAN, "value": value, "inverted": False}


def _condition(settings: dict) -> dict:
    parameters = {
        "time": int(settings["time"]),
        "threshold": int(settings["threshold"]),
        "threshold_type": "more",
        "grace": int(settings["grace"]),
        "backlog": int(settings["backlog"]),
    }
    return {"type": MESSAGE_COUNT, "parameters": parameters}


def _callback(settings: dict) -> dict:
    return {
        "type": EMAIL_CALLBACK,
        "configuration": {"sender": str(settings["sender"]), "subject": SUBJECT},
    }


def graylog_urgent_stream(streams: list[dict], settings: dict) -> dict:
    """The role's stream: ``id`` of the oldest stream titled ``settings.title`` (or None),
    ``create`` (the body to create it with when there is none) and ``duplicates``."""
    found = _oldest_first([s for s in streams if s.get("title") == settings["title"]])
    if found:
        return {"id": found[0]["id"], "create": None, "duplicates": [s["id"] for s in found[1:]]}
    body = {
        "title": settings["title"],
        "description": settings["description"],
        "matching_type": "AND",
        "rules": [_rule(settings)],
    }
    return {"id": None, "create": body, "duplicates": []}


def _differs(current: dict, wanted: dict) -> bool:
    """Compared as text: Graylog may hand back 3 where "3" was sent, and the reverse."""
    return any(str(current.get(key)) != str(value) for key, value in wanted.items())


def _request(label: str, method: str, path: str, status: int, body: Any = None) -> dict:
    request = {"label": label, "method": method, "path": path, "status": status}
    if body is not None:
        request["body"] = body
    return request


def _rule_requests(base: str, stream: dict, settings: dict) -> list[dict]:
    wanted = _rule(settings)
    ours = [r for r in stream.get("rules") or [] if r.get("field") == LEVEL_FIELD]
    if not ours:
        return [_request("add the level rule", "POST", f"{base}/rules", 201, wanted)]
    if _differs(ours[0], wanted):
        path = f"{base}/rules/{ours[0]['id']}"
        return [_request("update the level rule", "PUT", path, 200, wanted)]
    return []


def _condition_requests(base: str, stream: dict, settings: dict) -> list[dict]:
    wanted = _condition(settings)
    conditions = stream.get("alert_conditions") or []
    ours = _oldest_first([c for c in conditions if c.get("type") == MESSAGE_COUNT])
    path = f"{base}/alerts/conditions"
    if not ours:
        return [_request("add the alert condition", "POST", path, 201, wanted)]
    if _differs(ours[0].get("parameters") or {}, wanted["parameters"]):
        path = f"{path}/{ours[0]['id']}"
        return [_request("update the alert condition", "PUT", path, 204, wanted)]
    return []


def _callback_requests(base: str, callbacks: list[dict], settings: dict) -> list[dict]:
    wanted = _callback(settings)
    ours = _oldest_first([c for c in callbacks if c.get("type") == EMAIL_CALLBACK])
    path = f"{base}/alarmcallbacks"
    if not ours:
        return [_request("add the email callback", "POST", path, 201, wanted)]
    current = ours[0].get("configuration") or {}
    if _differs(current, wanted["configuration"]):
        # Keep settings of the operator's (a body template) beside ours.
        body = {**wanted, "configuration": {**current, **wanted["configuration"]}}
        return [_request("update the email callback", "PUT", f"{path}/{ours[0]['id']}", 204, body)]
    return []


def _recipient_requests(base: str, stream: dict, settings: dict) -> list[dict]:
    current = set(((stream.get("alert_receivers") or {}).get("emails")) or [])
    wanted = [str(address) for address in settings["recipients"]]
    path = f"{base}/alerts/receivers?type=emails&entity="
    adds = [
        _request(f"add recipient {a}", "POST", path + quote(a, safe=""), 201)
        for a in wanted
        if a not in current
    ]
    removals = [
        _request(f"remove recipient {a}", "DELETE", path + quote(a, safe=""), 204)
        for a in sorted(current - set(wanted))
    ]
    return adds + removals


def graylog_urgent_changes(stream: dict, callbacks: list[dict], settings: dict) -> list[dict]:
    """REST requests (label, method, path, status, optional body) for the role's stream.

    Paths are relative to the REST API's root. An empty list means nothing to change.
    """
    base = f"/streams/{stream['id']}"
    changes = (
        _rule_requests(base, stream, settings)
        + _condition_requests(base, stream, settings)
        + _callback_requests(base, callbacks, settings)
        + _recipient_requests(base, stream, settings)
    )
    if stream.get("disabled"):
        changes.append(_request("start the stream", "POST", f"{base}/resume", 204))
    return changes


def graylog_properties_value(value: Any) -> str:
    r"""A value as Java's Properties reads it back unaltered: backslashes and a leading
    space escaped, and every character beyond ASCII as \uXXXX (UTF-16 units)."""
    out = []
    for index, char in enumerate(str(value)):
        if char == "\\":
            out.append("\\\\")
        elif index == 0 and char in " \t\f":
            out.append("\\" + char)
        elif ord(char) > 0x7E:
            units = char.encode("utf-16-be")
            out.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)


class FilterModule:
    def filters(self) -> dict:
        return {
            "graylog_urgent_stream": graylog_urgent_stream,
            "graylog_urgent_changes": graylog_urgent_changes,
            "graylog_properties_value": graylog_properties_value,
        }
