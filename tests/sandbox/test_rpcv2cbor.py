"""The Smithy RPC v2 CBOR gateway (sandbox/rpcv2cbor.py): wire details, errors, and services of moto's.

Spec: https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html; the client is botocore's
own RpcV2CBORSerializer and RpcV2CBORParser (botocore 1.44).
"""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
from functools import cache
from typing import Any

import botocore.session
import cbor2
import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer

from sandbox import rpcv2cbor
from sandbox.client import SandboxClient
from tests.sandbox.cbor import CBOR

SERVICES = ("appstream", "ds", "datasync", "cloudwatch")
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=datetime.UTC)


# -- model-driven transcoding: every operation of every CBOR service, input and output ----------------------
def sample(shape: Shape, depth: int = 0, *, wire: bool) -> Any:
    """A value of every member of `shape` (as a caller gives it, or as awsJson carries it when `wire`)."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 5:
            return {}
        members = dict(shape.members)
        if shape.metadata.get("union") and members:
            members = dict([next(iter(members.items()))])
        return {name: sample(member, depth + 1, wire=wire) for name, member in members.items()}
    if kind == "list":
        return [sample(shape.member, depth + 1, wire=wire)] if depth <= 5 else []
    if kind == "map":
        return {"key": sample(shape.value, depth + 1, wire=wire)} if depth <= 5 else {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "value"
    if kind in ("integer", "long", "short", "byte"):
        return 7
    if kind in ("double", "float"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return WHEN.timestamp() if wire else WHEN
    if kind == "blob":
        return "YmxvYg==" if wire else b"blob"
    return "value"


def _without_metadata(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "ResponseMetadata"}


def _operations() -> list[tuple[str, str]]:
    session = botocore.session.get_session()
    return [
        (service, operation) for service in SERVICES for operation in session.get_service_model(service).operation_names
    ]


@cache
def _json_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _cbor_model(service: str) -> Any:
    from sandbox.client import speaking

    return speaking(CBOR, service).get_service_model(service)


@pytest.mark.parametrize(("service", "operation"), _operations())
def test_every_operation_s_input_decodes_to_the_json_document_botocore_would_send(service: str, operation: str) -> None:
    json_model, cbor_model = _json_model(service), _cbor_model(service)
    shape = json_model.operation_model(operation).input_shape
    params = sample(shape, wire=False) if shape is not None else {}
    over_json = JSONSerializer().serialize_to_request(params, json_model.operation_model(operation))
    over_cbor = RpcV2CBORSerializer().serialize_to_request(params, cbor_model.operation_model(operation))
    assert over_cbor["url_path"] == f"/service/{json_model.metadata['targetPrefix']}/operation/{operation}"
    decoded = cbor2.loads(over_cbor["body"]) if over_cbor["body"] else {}
    assert rpcv2cbor.to_json(decoded, shape) == json.loads(over_json["body"] or b"{}")


@pytest.mark.parametrize(("service", "operation"), _operations())
def test_every_operation_s_output_parses_as_botocore_parses_the_json_answer(service: str, operation: str) -> None:
    shape = _json_model(service).operation_model(operation).output_shape
    document = sample(shape, wire=True) if shape is not None else {}
    headers = {"smithy-protocol": "rpc-v2-cbor", "x-amzn-requestid": "r"}
    body = cbor2.dumps(rpcv2cbor.to_cbor(document, shape))
    over_cbor = RpcV2CBORParser().parse({"body": body, "headers": headers, "status_code": 200}, shape)
    over_json = JSONParser().parse(
        {"body": json.dumps(document).encode(), "headers": {"x-amzn-requestid": "r"}, "status_code": 200}, shape
    )
    assert _without_metadata(over_cbor) == _without_metadata(over_json)


def _follows(body: bytes, key: str) -> bytes:
    """The encoded bytes right after the map key `key` (cbor2 decodes tag 1 itself, so look at the bytes)."""
    encoded_key = cbor2.dumps(key)
    return body[body.index(encoded_key) + len(encoded_key) :]


def test_timestamps_are_tag_1_epoch_seconds_and_blobs_byte_strings() -> None:
    shape = botocore.session.get_session().get_service_model("ds").operation_model("DescribeDirectories").output_shape
    body = cbor2.dumps(rpcv2cbor.to_cbor({"DirectoryDescriptions": [{"LaunchTime": 1704164645.25}]}, shape))
    assert _follows(body, "LaunchTime")[:1] == b"\xc1"  # major type 6, tag 1: epoch-based date/time
    assert cbor2.loads(body)["DirectoryDescriptions"][0]["LaunchTime"] == WHEN
    model = botocore.session.get_session().get_service_model("cloudwatch")
    image = model.operation_model("GetMetricWidgetImage").output_shape
    assert cbor2.loads(cbor2.dumps(rpcv2cbor.to_cbor({"MetricWidgetImage": "YmxvYg=="}, image))) == {
        "MetricWidgetImage": b"blob"
    }


def test_an_error_carries_its_shape_id_in_type() -> None:
    model = botocore.session.get_session().get_service_model("ds")
    body = cbor2.loads(rpcv2cbor.encode_error({"__type": "EntityDoesNotExistException", "message": "gone"}, model))
    assert body == {"__type": "com.amazonaws.directoryservice#EntityDoesNotExistException", "message": "gone"}
    assert rpcv2cbor.error_code("com.amazonaws.cloudwatch#ResourceNotFound:http://internal") == "ResourceNotFound"


# -- over the wire -----------------------------------------------------------------------------------------
def _post(sandbox: SandboxClient, path: str, body: bytes, scope: str = "ds") -> tuple[int, dict[str, str], bytes]:
    """A hand-made RPC v2 CBOR request (the sandbox reads the SigV4 scope, it does not check the signature)."""
    request = urllib.request.Request(
        sandbox.endpoint + path,
        data=body,
        method="POST",
        headers={
            "smithy-protocol": "rpc-v2-cbor",
            "Content-Type": "application/cbor",
            "Accept": "application/cbor",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{sandbox.region}/{scope}/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_a_cbor_answer_has_the_protocol_header_and_tag_1_timestamps(sandbox: SandboxClient) -> None:
    ec2 = sandbox.boto3("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.93.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.93.{n}.0/24", AvailabilityZone=f"{sandbox.region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    ds = sandbox.boto3("ds", protocol=CBOR)
    created = ds.create_microsoft_ad(
        Name="cbor.example.com", Password="Cb0r-Passw0rd!", VpcSettings={"VpcId": vpc, "SubnetIds": subnets}
    )
    assert created["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == "rpc-v2-cbor"
    request = cbor2.dumps({"DirectoryIds": [created["DirectoryId"]]})
    status, headers, body = _post(sandbox, "/service/DirectoryService_20150416/operation/DescribeDirectories", request)
    assert status == 200
    assert headers["smithy-protocol"] == "rpc-v2-cbor" and headers["Content-Type"] == "application/cbor"
    assert _follows(body, "LaunchTime")[:1] == b"\xc1"  # tag 1 over epoch seconds
    launch = cbor2.loads(body)["DirectoryDescriptions"][0]["LaunchTime"]
    described = ds.describe_directories(DirectoryIds=[created["DirectoryId"]])["DirectoryDescriptions"][0]
    assert described["LaunchTime"] == launch
    over_json = sandbox.boto3("ds").describe_directories(DirectoryIds=[created["DirectoryId"]])
    assert over_json["DirectoryDescriptions"][0]["LaunchTime"] == launch
    ds.delete_directory(DirectoryId=created["DirectoryId"])


def test_a_cbor_error_has_the_service_s_code(sandbox: SandboxClient) -> None:
    ds = sandbox.boto3("ds", protocol=CBOR)
    with pytest.raises(ClientError) as caught:
        ds.describe_directories(DirectoryIds=["d-0000000000"])
    assert caught.value.response["Error"]["Code"] == "EntityDoesNotExistException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    status, headers, body = _post(
        sandbox, "/service/DirectoryService_20150416/operation/DescribeDirectories", cbor2.dumps({"DirectoryIds": [1]})
    )
    assert status == 400 and headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cbor2.loads(body)["__type"] == "com.amazonaws.directoryservice#ValidationException"


def test_requests_the_gateway_cannot_read_are_refused_in_cbor(sandbox: SandboxClient) -> None:
    status, _, body = _post(sandbox, "/service/DirectoryService_20150416/operation/DescribeDirectories", b"\xff\x00")
    assert status == 400 and cbor2.loads(body)["__type"] == "SerializationException"
    status, _, body = _post(sandbox, "/service/DirectoryService_20150416/operation/Nope", b"")
    assert status == 404 and cbor2.loads(body)["__type"] == "UnknownOperationException"


def test_cbor_is_logged_as_the_json_operation_it_became(sandbox: SandboxClient) -> None:
    mark = sandbox.log_mark()
    sandbox.boto3("appstream", protocol=CBOR).describe_stacks()
    entries = [e for e in sandbox.log(mark) if e["service"] == "appstream"]
    assert [(e["operation"], e.get("protocol")) for e in entries] == [("DescribeStacks", "rpc-v2-cbor")]


def test_an_injected_throttle_is_a_cbor_throttling_error(sandbox: SandboxClient) -> None:
    sandbox.add_fault(service="appstream", operation="DescribeFleets", throttle_rate=1.0)
    try:
        status, headers, body = _post(
            sandbox, "/service/PhotonAdminProxyService/operation/DescribeFleets", b"", "appstream"
        )
    finally:
        sandbox.clear_faults()
    assert status == 400 and headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cbor2.loads(body)["__type"] == "com.amazonaws.appstream#ThrottlingException"


# -- services the project has no backend for: moto answers JSON, the gateway CBOR ----------------------------
def test_cloudwatch_over_cbor_answers_what_it_answers_over_json(sandbox: SandboxClient) -> None:
    over_cbor, over_json = sandbox.boto3("cloudwatch", protocol=CBOR), sandbox.boto3("cloudwatch")
    over_cbor.put_metric_data(Namespace="Sandbox/Cbor", MetricData=[{"MetricName": "Calls", "Value": 3.0}])
    listed = over_cbor.list_metrics(Namespace="Sandbox/Cbor")
    assert listed["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == "rpc-v2-cbor"
    assert [metric["MetricName"] for metric in listed["Metrics"]] == ["Calls"]
    assert _without_metadata(listed) == _without_metadata(over_json.list_metrics(Namespace="Sandbox/Cbor"))


def test_datasync_over_cbor_needs_no_backend_of_its_own(sandbox: SandboxClient) -> None:
    over_cbor, over_json = sandbox.boto3("datasync", protocol=CBOR), sandbox.boto3("datasync")
    listed = over_cbor.list_tasks()
    assert listed["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == "rpc-v2-cbor"
    assert _without_metadata(listed) == _without_metadata(over_json.list_tasks())
