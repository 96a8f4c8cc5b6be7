"""Role graylog's REST decisions: which inputs to create or update, when a config differs."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from conftest import load_plugin

plugin = load_plugin("roles/graylog/filter_plugins/graylog_inputs.py")

GELF_UDP = "org.graylog2.inputs.gelf.udp.GELFUDPInput"
SYSLOG_TCP = "org.graylog2.inputs.syslog.tcp.SyslogTCPInput"
RAW_TCP = "org.graylog2.inputs.raw.tcp.RawTCPInput"


def wanted(title: str = "GELF UDP", kind: str = GELF_UDP, port: int = 12201, **config) -> dict:
    configuration = {"bind_address": "0.0.0.0", "port": port, **config}
    return {"title": title, "type": kind, "global": True, "configuration": configuration}


def actions(plan: dict) -> list[tuple[str, str | None]]:
    return [(change["action"], change["id"]) for change in plan["changes"]]


def listed(ident: str, title: str = "GELF UDP", kind: str = GELF_UDP, **attributes) -> dict:
    """An input as GET /system/inputs lists it (Graylog 2.0: settings under attributes)."""
    settings = {"bind_address": "0.0.0.0", "port": 12201, "recv_buffer_size": 262144}
    return {
        "id": ident,
        "title": title,
        "type": kind,
        "global": True,
        "created_at": f"2026-11-27T00:00:0{ident[-1]}.000Z",
        "attributes": {**settings, **attributes},
    }


def test_missing_input_is_created_with_the_wanted_body() -> None:
    plan = plugin.graylog_inputs_plan([], [wanted()])
    assert plan == {
        "changes": [
            {
                "action": "create",
                "id": None,
                "body": {
                    "title": "GELF UDP",
                    "type": GELF_UDP,
                    "global": True,
                    "configuration": {"bind_address": "0.0.0.0", "port": 12201},
                },
            }
        ],
        "duplicates": [],
    }


def test_numbers_and_booleans_given_as_text_are_sent_as_json_types() -> None:
    item = wanted(port="1514", store_full_message="True", override_source="edge")
    (change,) = plugin.graylog_inputs_plan([], [item])["changes"]
    configuration = change["body"]["configuration"]
    assert configuration["port"] == 1514
    assert configuration["store_full_message"] is True
    assert configuration["override_source"] == "edge"


def test_input_already_as_wanted_is_left_alone_even_with_string_numbers() -> None:
    existing = [listed("a1", port="12201", recv_buffer_size="262144")]
    plan = plugin.graylog_inputs_plan(existing, [wanted(recv_buffer_size=262144)])
    assert plan == {"changes": [], "duplicates": []}


def test_changed_port_is_updated_keeping_the_inputs_other_settings() -> None:
    existing = [listed("a1", port=12299, override_source="edge")]
    plan = plugin.graylog_inputs_plan(existing, [wanted(port=12201)])
    assert actions(plan) == [("update", "a1")]
    configuration = plan["changes"][0]["body"]["configuration"]
    assert configuration["port"] == 12201
    assert configuration["override_source"] == "edge"
    assert configuration["recv_buffer_size"] == 262144


def test_a_key_we_set_that_the_input_lacks_is_a_difference() -> None:
    plan = plugin.graylog_inputs_plan([listed("a1")], [wanted(store_full_message=True)])
    assert actions(plan) == [("update", "a1")]


def test_a_local_input_is_made_global() -> None:
    local = {**listed("a1"), "global": False}
    plan = plugin.graylog_inputs_plan([local], [wanted()])
    assert plan["changes"][0]["body"]["global"] is True


def test_operator_inputs_of_another_title_or_type_are_untouched() -> None:
    existing = [
        listed("a1", title="operator's own", kind=RAW_TCP, port=5555),
        listed("a2", title="GELF UDP", kind=SYSLOG_TCP, port=5556),
    ]
    plan = plugin.graylog_inputs_plan(existing, [wanted()])
    assert actions(plan) == [("create", None)]


def test_duplicates_are_reported_and_only_the_oldest_is_updated() -> None:
    existing = [listed("a2", port=1), listed("a1", port=2)]
    plan = plugin.graylog_inputs_plan(existing, [wanted()])
    assert actions(plan) == [("update", "a1")]
    assert plan["duplicates"] == ["a2"]


def test_the_same_title_with_two_types_makes_two_inputs() -> None:
    plan = plugin.graylog_inputs_plan(
        [], [wanted("Syslog", SYSLOG_TCP, 514), wanted("Syslog", GELF_UDP, 514)]
    )
    assert actions(plan) == [("create", None), ("create", None)]


def test_a_wanted_input_listed_twice_is_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="twice"):
        plugin.graylog_inputs_plan([], [wanted(), wanted(port=1)])


@pytest.mark.parametrize(
    ("current", "wanted_config", "differs"),
    [
        ({"max_docs_per_index": 20000000}, {"max_docs_per_index": "20000000"}, False),
        ({"max_docs_per_index": 20000000}, {"max_docs_per_index": 1000}, True),
        ({"rotation_period": "P1D", "type": "x"}, {"rotation_period": "PT24H"}, False),
        ({"rotation_period": "P1D"}, {"rotation_period": "PT12H"}, True),
        ({"type": "a.Config"}, {"type": "b.Config"}, True),
        ({}, {"max_number_of_indices": 20}, True),
        (None, {"max_number_of_indices": 20}, True),
    ],
)
def test_config_differs_only_on_wanted_keys(current, wanted_config, differs) -> None:
    assert plugin.graylog_config_differs(current, wanted_config) is differs


@pytest.mark.parametrize(
    ("period", "setting"),
    [("P1D", "1d"), ("P1W", "1w"), ("PT6H", "6h"), ("P1DT12H", "36h"), ("PT90M", "90m")],
)
def test_period_setting_uses_the_largest_whole_unit(period, setting) -> None:
    assert plugin.graylog_period_setting(period) == setting


@pytest.mark.parametrize("period", ["1d", "P1M", "P0D", "PT", "P"])
def test_period_setting_refuses_what_it_cannot_convert(period) -> None:
    with pytest.raises(AnsibleFilterError, match="ISO-8601"):
        plugin.graylog_period_setting(period)
