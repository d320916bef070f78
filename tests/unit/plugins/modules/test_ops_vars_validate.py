"""ops_vars_validate: the extra variables of a runbook, checked before any AWS call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import ops_vars_validate as OPS

ROOT = Path(__file__).resolve().parents[4]


SCALE: dict[str, Any] = {
    "spec": {
        "desired": {"type": "int", "minimum": 0},
        "min_capacity": {"type": "int", "minimum": 0},
        "max_capacity": {"type": "int", "minimum": 1},
    },
    "required_one_of": [["desired", "min_capacity", "max_capacity"]],
    "mutually_exclusive": [],
    "only_if": [],
    "ordered": [["min_capacity", "desired", "max_capacity"]],
}

SCHEDULE: dict[str, Any] = {
    "spec": {
        "schedule": {"type": "str", "required": True, "choices": ["on", "off"]},
        "start": {"type": "str", "format": "time"},
        "stop": {"type": "str", "format": "time"},
        "timezone": {"type": "str", "format": "timezone"},
        "weekdays": {
            "type": "list",
            "min_items": 1,
            "unique": True,
            "items": {"type": "str", "choices": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        },
    },
    "required_one_of": [],
    "mutually_exclusive": [],
    "only_if": [["schedule", "on", ["start", "stop", "timezone", "weekdays"]]],
    "ordered": [["start", "stop"]],
}


def check(params: dict[str, Any], variables: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return OPS.evaluate({**params, "variables": variables})


def test_key_value_strings_are_read_as_their_types_with_defaults_filled_in() -> None:
    params = {**SCALE, "spec": {**SCALE["spec"], "wait": {"type": "bool", "default": True}}}
    variables, errors = check(params, {"desired": "3", "max_capacity": 4, "wait": "no"})
    assert errors == []
    assert variables == {"desired": 3, "min_capacity": None, "max_capacity": 4, "wait": False}


def test_every_error_names_its_variable_and_all_are_reported_at_once() -> None:
    _unused, errors = check(SCALE, {"desired": "three", "max_capacity": 0})
    assert errors == ['desired: must be an integer, got string "three"', "max_capacity: 0 is below the minimum of 1"]


def test_one_of_a_group_is_required() -> None:
    _unused, errors = check(SCALE, {"desired": None})
    assert errors == ["desired, min_capacity, max_capacity: at least one of them is required (pass -e desired=...)"]


def test_ordered_values_must_not_decrease() -> None:
    _unused, errors = check(SCALE, {"min_capacity": 5, "desired": 3, "max_capacity": 4})
    assert errors == ["min_capacity: 5 is above desired (3)", "min_capacity: 5 is above max_capacity (4)"]


def test_an_invalid_value_is_not_also_reported_as_out_of_order() -> None:
    _unused, errors = check(SCALE, {"min_capacity": -1, "max_capacity": 4, "desired": "x"})
    assert errors == ['desired: must be an integer, got string "x"', "min_capacity: -1 is below the minimum of 0"]


def test_formats_check_times_time_zones_and_list_items() -> None:
    _unused, errors = check(
        SCHEDULE, {"schedule": "on", "start": "7:30", "timezone": "Europe/Pariss", "weekdays": "mon,xyz,mon"}
    )
    assert errors == [
        'start: "7:30" does not match "HH:MM" (24 h)',
        'timezone: "Europe/Pariss" is not an IANA time zone name (did you mean Europe/Paris?)',
        'weekdays[1]: "xyz" is not one of mon, tue, wed, thu, fri, sat, sun',
        "weekdays[2]: duplicate of weekdays[0]",
    ]


def test_dates_are_real_calendar_dates_in_order() -> None:
    spec = {"since": {"type": "str", "format": "date"}, "until": {"type": "str", "format": "date"}}
    params = {
        "spec": spec,
        "required_one_of": [],
        "mutually_exclusive": [],
        "only_if": [],
        "ordered": [["since", "until"]],
    }
    _unused, errors = check(params, {"since": "2026-02-30", "until": "06/12/2026"})
    assert errors == [
        'since: "2026-02-30" is not a date (day is out of range for month)',
        'until: "06/12/2026" is not a date written YYYY-MM-DD',
    ]
    _unused, errors = check(params, {"since": "2026-12-06", "until": "2026-12-01"})
    assert errors == ['since: "2026-12-06" is above until ("2026-12-01")']
    variables, errors = check(params, {"since": "2026-12-01", "until": "2026-12-06"})
    assert errors == [] and variables == {"since": "2026-12-01", "until": "2026-12-06"}


def test_a_comma_separated_string_is_a_list() -> None:
    variables, errors = check(SCHEDULE, {"schedule": "on", "weekdays": "sat, sun", "start": "08:00", "stop": "12:00"})
    assert errors == []
    assert variables["weekdays"] == ["sat", "sun"]


def test_variables_only_used_with_a_value_are_refused_without_it() -> None:
    _unused, errors = check(SCHEDULE, {"schedule": "off", "start": "07:30"})
    assert errors == ['start: only used with schedule=on (got schedule="off")']


def test_times_are_ordered_too() -> None:
    _unused, errors = check(SCHEDULE, {"schedule": "on", "start": "20:00", "stop": "07:30"})
    assert errors == ['start: "20:00" is above stop ("07:30")']


def test_at_most_one_of_a_mutually_exclusive_group() -> None:
    params = {**SCALE, "required_one_of": [], "ordered": [], "mutually_exclusive": [["desired", "max_capacity"]]}
    _unused, errors = check(params, {"desired": 1, "max_capacity": 2})
    assert errors == ["desired, max_capacity: give only one of desired, max_capacity"]


def test_rows_of_a_file_are_checked_with_nested_rules() -> None:
    row = {
        "type": "dict",
        "fields": {
            "email": {"type": "str", "required": True, "format": "email"},
            "action": {"type": "str", "required": True, "choices": ["add", "remove"]},
        },
    }
    params = {
        "spec": {"row 1": row, "row 2": row},
        "required_one_of": [],
        "mutually_exclusive": [],
        "only_if": [],
        "ordered": [],
    }
    _unused, errors = check(
        params, {"row 1": {"email": "ada@lab.example", "action": "add"}, "row 2": {"email": "x", "actoin": "add"}}
    )
    assert errors == [
        "row 2.actoin: unknown key (did you mean action?)",
        'row 2.email: "x" is not an e-mail address',
        "row 2.action: is required but missing",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.40.250.0/28", None),
        ("192.0.2.7/32", None),
        ("10.40.250.1/28", "has host bits set (did you mean 10.40.250.0/28?)"),
        ("10.40.250.0", "has no prefix length"),
        ("0.0.0.0/0", "wider than /8"),
        ("10.40.250.0/28; rm -rf /", "is not an IPv4 network in CIDR notation"),
    ],
)
def test_a_cidr_format_accepts_a_controller_range_only(value: str, message: str | None) -> None:
    params = {
        "spec": {"image_controller_cidr": {"type": "str", "required": True, "format": "cidr"}},
        "required_one_of": [],
        "mutually_exclusive": [],
        "only_if": [],
        "ordered": [],
    }
    _unused, errors = check(params, {"image_controller_cidr": value})
    if message is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith("image_controller_cidr: ") and message in errors[0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"x": {"type": "integer"}}, "spec.x.type: must be one of"),
        ({"x": {"type": "int", "minimun": 0}}, "spec.x: unknown rule key(s) minimun"),
        ({"x": {"type": "str", "format": "uuid"}}, "spec.x.format: must be one of time, timezone, email, cidr, date"),
        ({"x": "int"}, "spec.x: a rule must be a mapping"),
    ],
)
def test_a_wrong_spec_is_the_runbook_s_bug(spec: dict[str, Any], message: str) -> None:
    params = {"spec": spec, "required_one_of": [], "mutually_exclusive": [], "only_if": [], "ordered": []}
    with pytest.raises(OPS.SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(params, {})


def test_groups_must_name_variables_of_the_spec() -> None:
    with pytest.raises(OPS.SpecError, match="required_one_of: typo not in spec"):
        check({**SCALE, "required_one_of": [["typo"]]}, {"desired": 1})


def test_the_failure_message_counts_the_errors_and_says_nothing_was_done() -> None:
    assert OPS.format_errors("extra variables of x.yml", ["a: b", "c: d"]) == (
        "Invalid extra variables of x.yml: 2 errors, nothing was done:\n- a: b\n- c: d"
    )
