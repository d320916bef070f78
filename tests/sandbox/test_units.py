"""Pure parts of the sandbox: model validation, scaled lifecycles, fault decisions, log helpers."""

from __future__ import annotations

import time

import botocore.session
import pytest

from sandbox.clock import Lifecycle, SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import paginate, snake
from sandbox.reqlog import is_mutating, tenant_of
from sandbox.server import Faults, fault_response
from sandbox.validation import raise_for, validate

APPSTREAM = botocore.session.get_session().get_service_model("appstream")


def shape(operation: str):
    return APPSTREAM.operation_model(operation).input_shape


def test_valid_input_has_no_error():
    assert validate(shape("CreateStack"), {"Name": "demo-stack"}) == []


def test_missing_required_member_is_named():
    errors = validate(shape("CreateStack"), {})
    assert any("'Name'" in e and "must not be null" in e for e in errors)


def test_pattern_violation_is_reported():
    errors = validate(shape("CreateStack"), {"Name": "-starts-with-dash"})
    assert any("regular expression pattern" in e for e in errors)


def test_enum_violation_lists_the_allowed_values():
    errors = validate(shape("CreateFleet"), {"Name": "f", "InstanceType": "x", "FleetType": "SOMETIMES"})
    assert any("enum value set" in e and "ON_DEMAND" in e for e in errors)


def test_length_and_range_limits_are_enforced():
    errors = validate(shape("CreateStack"), {"Name": "s", "Description": "x" * 300})
    assert any("length less than or equal to 256" in e for e in errors)


def test_unknown_member_is_rejected():
    assert any("Unknown parameter 'Colour'" in e for e in validate(shape("CreateStack"), {"Name": "s", "Colour": 1}))


def test_wrong_type_is_rejected():
    errors = validate(shape("CreateFleet"), {"Name": "f", "InstanceType": "x", "MaxUserDurationInSeconds": "long"})
    assert any("must be an integer" in e for e in errors)


def test_raise_for_uses_validation_exception_and_counts_errors():
    with pytest.raises(AwsError) as caught:
        raise_for(shape("CreateStack"), {"Description": "x" * 300})
    assert caught.value.code == "ValidationException"
    assert caught.value.message.startswith("2 validation errors detected")


def test_lifecycle_moves_through_steps_in_scaled_time():
    clock = SimClock(time_scale=0.0001)
    life = Lifecycle(clock, "STOPPED")
    life.go("STARTING", (600, "RUNNING"))  # ten modelled minutes = 60 ms
    assert life.state == "STARTING"
    time.sleep(0.1)
    assert life.state == "RUNNING"
    assert not life.pending


def test_lifecycle_runs_callbacks_once_and_set_cancels_pending_steps():
    clock = SimClock(time_scale=0.0001)
    entered: list[str] = []
    life = Lifecycle(clock, "A")
    life.go("B", (100, "C", lambda: entered.append("C")))
    time.sleep(0.03)
    assert life.state == "C" and life.state == "C"
    assert entered == ["C"]
    life.go("D", (10_000, "E"))
    life.set("F")
    assert life.state == "F" and not life.pending


def test_paginate_returns_pages_and_tokens():
    items = list(range(5))
    page, token = paginate(items, {"MaxResults": 2})
    assert page == [0, 1] and token
    page, token = paginate(items, {"MaxResults": 2, "NextToken": token})
    assert page == [2, 3]
    page, token = paginate(items, {"MaxResults": 2, "NextToken": token})
    assert page == [4] and token is None


def test_paginate_rejects_a_forged_token():
    with pytest.raises(AwsError):
        paginate([1], {"NextToken": "garbage"})


def test_snake_case_of_operation_names():
    assert snake("DescribeImageBuilders") == "describe_image_builders"
    assert snake("CreateStreamingURL") == "create_streaming_url"


@pytest.mark.parametrize(
    ("operation", "mutating"),
    [
        ("DescribeFleets", False),
        ("ListTagsForResource", False),
        ("GET /bucket", False),
        ("CreateFleet", True),
        ("BatchAssociateUserStack", True),
        ("PUT /bucket/key", True),
        ("StartFleet", True),
    ],
)
def test_mutating_classification(operation, mutating):
    assert is_mutating(operation) is mutating


def test_tenant_tag_is_found_in_json_and_query_bodies():
    assert tenant_of(b'{"Name": "f", "Tags": {"tenant": "acme"}}') == "acme"
    assert tenant_of(b'{"Tags": [{"Key": "tenant", "Value": "lab"}]}') == "lab"
    query = b"Action=CreateVpc&TagSpecification.1.Tag.1.Key=tenant&TagSpecification.1.Tag.1.Value=demo"
    assert tenant_of(query) == "demo"
    assert tenant_of(b"Action=DescribeVpcs") is None


def test_fault_rules_match_by_service_and_operation():
    faults = Faults()
    faults.configure({"service": "ec2", "operation": "CreateVpc", "throttle_rate": 1.0, "latency_ms": 5})
    assert faults.decide("ec2", "CreateVpc") == ("throttle", 0.005)
    assert faults.decide("ec2", "DescribeVpcs") == (None, 0.0)
    assert faults.decide("appstream", "CreateVpc") == (None, 0.0)


def test_fault_rates_are_checked():
    with pytest.raises(ValueError, match="throttle_rate"):
        Faults().configure({"throttle_rate": 2})


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [
        ("ec2", 503, b"RequestLimitExceeded"),
        ("iam", 400, b"<Code>Throttling"),
        ("s3", 503, b"SlowDown"),
        ("appstream", 400, b"ThrottlingException"),
    ],
)
def test_throttling_looks_like_each_protocol(service, status, code):
    got_status, _, body = fault_response(service, "throttle")
    assert got_status == status and code in body
