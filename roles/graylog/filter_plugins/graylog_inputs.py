"""Filters of role graylog: what to change through the REST API, decided without any I/O.

``graylog_inputs_plan`` compares the inputs Graylog lists with the ones the role wants;
``graylog_config_differs`` compares a stored configuration object with the wanted one;
``graylog_period_setting`` turns an ISO-8601 period into server.conf's form (``1d``).
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

# Weeks, days and time parts only: months and years have no fixed length in hours.
_PERIOD = re.compile(
    r"^P(?=\d|T\d)(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _period_seconds(value: str) -> int | None:
    match = _PERIOD.match(value)
    if match is None:
        return None
    return sum(int(count) * _SECONDS[unit] for unit, count in match.groupdict().items() if count)


def _normalise(value: Any) -> str:
    """One spelling per value: 514 and "514" agree, as do True and "true", P1D and PT24H."""
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return str(int(text))
    seconds = _period_seconds(text)
    if seconds is not None:
        return f"period:{seconds}"
    return text.lower() if text.lower() in ("true", "false") else text


def _typed(value: Any) -> Any:
    """Numbers and booleans as JSON types: Graylog 2.0 refuses port "514" ("missing").

    Ansible hands over text for an extra var (-e graylog_syslog_port=1514) or a
    templated value; input settings that are all digits are numbers in Graylog 2.0.
    """
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value


def graylog_config_differs(current: dict | None, wanted: dict) -> bool:
    """True when one key of ``wanted`` has another value (or none) in ``current``."""
    current = current or {}
    return any(
        key not in current or _normalise(current[key]) != _normalise(value)
        for key, value in wanted.items()
    )


def _key(item: dict) -> tuple[str, str]:
    return str(item["type"]), str(item["title"])


def graylog_inputs_plan(existing: list[dict], wanted: list[dict]) -> dict[str, list]:
    """Decide which wanted inputs to create and which existing ones to update.

    Returns ``changes``, each ``{"action": "create" | "update", "id", "body"}`` (the id of
    the input to update, or None), and ``duplicates``, ids of inputs repeating one of ours.

    An existing input is ours when its type and title are those of a wanted item; any
    other input (made by an operator) is left alone. Of several inputs with our type and
    title the oldest is kept in line and the others are reported, never multiplied.
    An update sends the input's whole configuration: its own keys, then ours.
    """
    ours: dict[tuple[str, str], list[dict]] = {}
    for item in sorted(existing, key=lambda i: (str(i.get("created_at", "")), str(i["id"]))):
        ours.setdefault(_key(item), []).append(item)
    plan: dict[str, list] = {"changes": [], "duplicates": []}
    seen: set[tuple[str, str]] = set()
    for item in wanted:
        key = _key(item)
        if key in seen:
            raise AnsibleFilterError(f"graylog_inputs lists type {key[0]} titled {key[1]!r} twice")
        seen.add(key)
        body = {
            "title": item["title"],
            "type": item["type"],
            "global": bool(item.get("global", True)),
            "configuration": {k: _typed(v) for k, v in item["configuration"].items()},
        }
        found = ours.get(key, [])
        if not found:
            plan["changes"].append({"action": "create", "id": None, "body": body})
            continue
        current = found[0]
        plan["duplicates"].extend(i["id"] for i in found[1:])
        attributes = current.get("attributes") or {}
        if (
            graylog_config_differs(attributes, body["configuration"])
            or bool(current.get("global", False)) != body["global"]
        ):
            merged = {**attributes, **body["configuration"]}
            body = {**body, "configuration": merged}
            plan["changes"].append({"action": "update", "id": current["id"], "body": body})
    return plan


def graylog_period_setting(value: str) -> str:
    """server.conf's spelling of an ISO-8601 period: the largest whole unit (P1D -> 1d)."""
    seconds = _period_seconds(str(value))
    if not seconds:
        raise AnsibleFilterError(f"{value!r} is not a positive ISO-8601 period like P1D or PT6H")
    for unit, size in _SECONDS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every count of seconds is whole seconds")


class FilterModule:
    def filters(self) -> dict:
        return {
            "graylog_inputs_plan": graylog_inputs_plan,
            "graylog_config_differs": graylog_config_differs,
            "graylog_period_setting": graylog_period_setting,
        }
