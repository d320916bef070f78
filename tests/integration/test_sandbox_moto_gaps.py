"""Where the sandbox does what AWS does and moto alone does not (sandbox/moto_gaps.py)."""

from __future__ import annotations

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
