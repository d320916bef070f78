"""Where the sandbox does what AWS does and moto alone does not (sandbox/moto_gaps.py)."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient

# IAM wants at least 1000 characters of metadata.
METADATA = (
    '<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
    + "<!-- "
    + "padding " * 125
    + "-->"
    + "</EntityDescriptor>"
)


def test_a_saml_provider_keeps_the_tags_it_was_created_with_and_later_changes(sandbox: SandboxClient) -> None:
    iam = sandbox.boto3("iam", "us-east-1")
    name = f"tags-{uuid.uuid4().hex[:8]}-idp"
    arn = iam.create_saml_provider(
        Name=name, SAMLMetadataDocument=METADATA, Tags=[{"Key": "tenant", "Value": "a"}, {"Key": "x", "Value": "1"}]
    )["SAMLProviderArn"]
    assert {t["Key"]: t["Value"] for t in iam.get_saml_provider(SAMLProviderArn=arn)["Tags"]} == {
        "tenant": "a",
        "x": "1",
    }

    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "x", "Value": "2"}, {"Key": "y", "Value": "3"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["tenant"])
    listed = iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"]
    assert listed == [{"Key": "x", "Value": "2"}, {"Key": "y", "Value": "3"}]
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == METADATA


def test_tagging_an_unknown_saml_provider_is_no_such_entity(sandbox: SandboxClient) -> None:
    iam = sandbox.boto3("iam", "us-east-1")
    with pytest.raises(ClientError) as raised:
        iam.tag_saml_provider(
            SAMLProviderArn="arn:aws:iam::123456789012:saml-provider/nobody-idp", Tags=[{"Key": "a", "Value": "b"}]
        )
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_provider_created_without_tags_has_none(sandbox: SandboxClient) -> None:
    iam = sandbox.boto3("iam", "us-east-1")
    arn = iam.create_saml_provider(Name=f"bare-{uuid.uuid4().hex[:8]}-idp", SAMLMetadataDocument=METADATA)[
        "SAMLProviderArn"
    ]
    assert iam.get_saml_provider(SAMLProviderArn=arn).get("Tags", []) == []
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == []


def test_dhcp_options_get_the_tags_of_their_creation(sandbox: SandboxClient) -> None:
    ec2 = sandbox.boto3("ec2", "eu-west-3")
    created = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name", "Values": ["corp.x.example"]}],
        TagSpecifications=[{"ResourceType": "dhcp-options", "Tags": [{"Key": "tenant", "Value": "x"}]}],
    )["DhcpOptions"]
    assert created["Tags"] == [{"Key": "tenant", "Value": "x"}]
    [described] = ec2.describe_dhcp_options(DhcpOptionsIds=[created["DhcpOptionsId"]])["DhcpOptions"]
    assert described["Tags"] == [{"Key": "tenant", "Value": "x"}]


# --- S3 SHA-256 additional checksums ---------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def checksum_bucket(sandbox: SandboxClient) -> str:
    name = f"checksums-{uuid.uuid4().hex[:8]}"
    sandbox.boto3("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return name


def test_a_put_whose_sha256_differs_from_its_body_is_bad_digest_and_stores_nothing(
    sandbox: SandboxClient, checksum_bucket: str
) -> None:
    s3 = sandbox.boto3("s3")
    with pytest.raises(ClientError) as raised:
        s3.put_object(
            Bucket=checksum_bucket, Key="k", Body=b"data", ChecksumAlgorithm="SHA256", ChecksumSHA256=_sha256(b"other")
        )
    assert raised.value.response["Error"]["Code"] == "BadDigest"
    assert s3.list_objects_v2(Bucket=checksum_bucket).get("KeyCount") == 0
    s3.put_object(
        Bucket=checksum_bucket, Key="k", Body=b"data", ChecksumAlgorithm="SHA256", ChecksumSHA256=_sha256(b"data")
    )
    attributes = s3.get_object_attributes(Bucket=checksum_bucket, Key="k", ObjectAttributes=["Checksum"])
    assert attributes["Checksum"]["ChecksumSHA256"] == _sha256(b"data")


def test_list_parts_returns_each_part_s_sha256_and_a_wrong_one_is_refused(
    sandbox: SandboxClient, checksum_bucket: str
) -> None:
    s3 = sandbox.boto3("s3")
    upload = s3.create_multipart_upload(Bucket=checksum_bucket, Key="big", ChecksumAlgorithm="SHA256")["UploadId"]
    first, second = b"a" * (5 * 1024 * 1024), b"tail"
    common = {"Bucket": checksum_bucket, "Key": "big", "UploadId": upload, "ChecksumAlgorithm": "SHA256"}
    with pytest.raises(ClientError) as raised:
        s3.upload_part(**common, PartNumber=1, Body=first, ChecksumSHA256=_sha256(second))
    assert raised.value.response["Error"]["Code"] == "BadDigest"
    etags = [
        s3.upload_part(**common, PartNumber=number, Body=body, ChecksumSHA256=_sha256(body))["ETag"]
        for number, body in ((1, first), (2, second))
    ]
    listed = s3.list_parts(Bucket=checksum_bucket, Key="big", UploadId=upload)
    assert listed["ChecksumAlgorithm"] == "SHA256"
    assert [(p["PartNumber"], p["ChecksumSHA256"]) for p in listed["Parts"]] == [
        (1, _sha256(first)),
        (2, _sha256(second)),
    ]

    parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=checksum_bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    assert raised.value.response["Error"]["Code"] == "InvalidRequest"
    assert "missing for part 1" in raised.value.response["Error"]["Message"]
    for part, body in zip(parts, (first, second), strict=True):
        part["ChecksumSHA256"] = _sha256(body)
    s3.complete_multipart_upload(Bucket=checksum_bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    composite = base64.b64encode(
        hashlib.sha256(hashlib.sha256(first).digest() + hashlib.sha256(second).digest()).digest()
    )
    attributes = s3.get_object_attributes(Bucket=checksum_bucket, Key="big", ObjectAttributes=["Checksum"])
    assert attributes["Checksum"] == {"ChecksumSHA256": composite.decode(), "ChecksumType": "COMPOSITE"}


def _bucket_with_policy(sandbox: SandboxClient, statements: list[dict]) -> str:
    import json

    s3 = sandbox.boto3("s3")
    bucket = f"policy-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    document = {"Version": "2012-10-17", "Statement": [{**s, "Resource": resources} for s in statements]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return bucket


TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_a_tls_only_bucket_policy_lets_the_sandbox_s_requests_through(sandbox: SandboxClient) -> None:
    """moto counts a Deny whose condition does not hold as a Deny; the sandbox's requests stand for TLS ones."""
    s3 = sandbox.boto3("s3")
    bucket = _bucket_with_policy(sandbox, [TLS_ONLY])
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject"},
        {**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_a_deny_whose_conditions_hold_refuses_the_request(sandbox: SandboxClient, statement: dict) -> None:
    s3 = sandbox.boto3("s3")
    bucket = _bucket_with_policy(sandbox, [statement])
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_of_simultaneous_conditional_puts_on_one_item_exactly_one_succeeds(sandbox: SandboxClient) -> None:
    # DynamoDB applies a conditional write atomically; the sandbox's threaded server must not let two
    # requests pass the same condition (the toolkit's tenant locks rest on it).
    from concurrent.futures import ThreadPoolExecutor

    dynamodb = sandbox.boto3("dynamodb", "eu-west-3")
    table = f"race-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def attempt(index: int) -> bool:
        client = sandbox.boto3("dynamodb", "eu-west-3")
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "lock#t"}, "run": {"S": str(index)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    for _ in range(5):
        dynamodb.delete_item(TableName=table, Key={"pk": {"S": "lock#t"}})
        with ThreadPoolExecutor(max_workers=16) as pool:
            won = list(pool.map(attempt, range(16)))
        assert won.count(True) == 1
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "lock#t"}}, ConsistentRead=True)["Item"]
        assert won[int(item["run"]["S"])]  # the stored item is the winner's


def test_each_ec2_resource_shows_its_own_tags_and_tag_filters_select_by_them(sandbox: SandboxClient) -> None:
    """install_ec2_tags_by_id: Describe* calls read each resource's tags by its id; the answer is moto's."""
    ec2 = sandbox.boto3("ec2")
    marker = uuid.uuid4().hex[:8]
    made = {}
    for name in ("a", "b", "c"):
        vpc = ec2.create_vpc(
            CidrBlock="10.250.0.0/16",
            TagSpecifications=[
                {
                    "ResourceType": "vpc",
                    "Tags": [{"Key": "test", "Value": marker}, {"Key": "Name", "Value": f"{marker}-{name}"}],
                }
            ],
        )["Vpc"]
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.250.1.0/24")["Subnet"]
        ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "tier", "Value": name}])
        made[name] = (vpc["VpcId"], subnet["SubnetId"])
    ec2.delete_tags(Resources=[made["c"][0]], Tags=[{"Key": "Name"}])

    found = ec2.describe_vpcs(Filters=[{"Name": "tag:test", "Values": [marker]}])["Vpcs"]
    assert {v["VpcId"]: {t["Key"]: t["Value"] for t in v.get("Tags", [])} for v in found} == {
        made["a"][0]: {"test": marker, "Name": f"{marker}-a"},
        made["b"][0]: {"test": marker, "Name": f"{marker}-b"},
        made["c"][0]: {"test": marker},
    }
    named = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{marker}-b"]}])["Vpcs"]
    assert [v["VpcId"] for v in named] == [made["b"][0]]
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["a", "c"]}])["Subnets"]
    assert sorted(s["SubnetId"] for s in subnets) == sorted([made["a"][1], made["c"][1]])
    for vpc_id, subnet_id in made.values():
        for resource in (vpc_id, subnet_id):
            described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
            shown = (
                ec2.describe_vpcs(VpcIds=[resource])["Vpcs"][0]
                if resource == vpc_id
                else ec2.describe_subnets(SubnetIds=[resource])["Subnets"][0]
            )
            assert sorted((t["Key"], t["Value"]) for t in shown.get("Tags", [])) == sorted(
                (t["Key"], t["Value"]) for t in described
            )
    for vpc_id, subnet_id in made.values():
        ec2.delete_subnet(SubnetId=subnet_id)
        ec2.delete_vpc(VpcId=vpc_id)


def test_reading_a_resource_s_tags_by_id_gives_what_moto_s_scan_gives() -> None:
    """The same list, in the same order and form, as moto's describe_tags filtered on the resource's id."""
    import boto3
    from moto import mock_aws
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.core import TaggedEC2Resource

    from sandbox import moto_gaps

    moto_gaps.install()  # what the sandbox installs when it starts (sandbox/backends/__init__.py)
    with mock_aws():
        client = boto3.client("ec2", region_name="eu-west-3")
        vpc = client.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        group = client.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
        client.create_tags(Resources=[vpc, subnet], Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
        client.create_tags(Resources=[vpc], Tags=[{"Key": "c", "Value": "3"}])
        backend = ec2_backends["123456789012"]["eu-west-3"]
        resources = [backend.get_vpc(vpc), backend.get_subnet(subnet), backend.get_security_group_from_id(group)]
        for resource in resources:
            assert isinstance(resource, TaggedEC2Resource)
            assert resource.get_tags() == backend.describe_tags(filters={"resource-id": [resource.id]})
        assert [t["key"] for t in resources[0].get_tags()] == ["b", "a", "c"]
        assert resources[2].get_tags() == []
        assert vpc not in backend.tags or backend.tags[vpc]  # reading made no empty entry
        assert group not in backend.tags

        # Installed, a Describe* reads no tag through the region-wide scan (whose cost grew with the square of
        # the sandbox's tenants): the same answers come without it.
        def no_scan(*args: object, **kwargs: object) -> None:
            raise AssertionError("a resource's tags were read by scanning every tag of the region")

        backend.describe_tags = no_scan
        found = client.describe_vpcs(Filters=[{"Name": "tag:c", "Values": ["3"]}])["Vpcs"]
        assert [(v["VpcId"], [t["Key"] for t in v["Tags"]]) for v in found] == [(vpc, ["b", "a", "c"])]
        assert [
            s["SubnetId"] for s in client.describe_subnets(Filters=[{"Name": "tag:a", "Values": ["1"]}])["Subnets"]
        ] == [subnet]
