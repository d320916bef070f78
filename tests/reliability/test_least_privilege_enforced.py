"""policies/deployer.json is sufficient, and no more: the demo converged and torn down by a user holding only it.

A sandbox of this module's own enforces IAM (SANDBOX_ENFORCE_IAM=1, sandbox/iam_enforce.py): resource
ARNs, tag conditions and the authorisations AWS adds to a call (tagging while creating, passing a role,
a service's own role, a final backup) are evaluated as AWS evaluates them. As root, an IAM user is given
policies/deployer.json, as managed policies of whole statements (one document of its size exceeds IAM's
quota on a managed policy), and an access key. With that key alone:

- site.yml converges a demo-like tenant, meeting no refusal, every call made as that user, and ends in
  the state a converge as root ends in (the reliability suite's reference run);
- playbooks/teardown.yml tears it down, again without a refusal;
- plain boto3 calls cannot delete or change what is not the toolkit's (another owner's VPC, fleet,
  secret and role, or an untagged VPC), nor read another owner's password, nor remove an ownership tag;
- a policy missing one needed statement stops the converge at the call that needed it, the refusal
  naming its action.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from sandbox.iam_enforce import DENIAL_CODES, ENV_VAR
from tests.conftest import TEST_TIME_SCALE
from tests.helpers import ROOT, PlaybookRun, run_playbook
from tests.reliability import footprint, policy
from tests.reliability.conftest import Converged
from tests.reliability.tenants import REGION, assert_converged, demo_tenant, write_demo_inventory
from tests.sandboxes import running_sandbox

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
TENANT = "lp-deployer"
OTHER = "someone-else"
TOOLKIT = "appstream-tenant-toolkit"


@dataclass
class Deployer:
    """An IAM user of the sandbox holding only the given policy (or a session of a role), and its key."""

    arn: str
    access_key_id: str
    secret_access_key: str
    endpoint: str
    session_token: str | None = None

    @property
    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )

    def assume(self, role_arn: str, session: str, tags: dict[str, str] | None = None) -> Deployer:
        """A session of `role_arn` assumed with this identity's key (with session tags)."""
        extra = {"Tags": _tag_list(tags)} if tags else {}
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session, **extra)
        role_name = role_arn.rsplit("/", 1)[-1]
        return Deployer(
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session}",
            credentials["Credentials"]["AccessKeyId"],
            credentials["Credentials"]["SecretAccessKey"],
            self.endpoint,
            credentials["Credentials"]["SessionToken"],
        )


def make_deployer(sandbox: SandboxClient, name: str, document: dict[str, Any]) -> Deployer:
    """As root: a user whose only permissions are `document`, attached as managed policies IAM accepts."""
    iam = sandbox.boto3("iam")
    iam.create_user(UserName=name)
    parts = policy.managed_policy_parts(document) if document["Statement"] else []
    for number, part in enumerate(parts, start=1):
        created = iam.create_policy(PolicyName=f"{name}-{number}", PolicyDocument=json.dumps(part))
        iam.attach_user_policy(UserName=name, PolicyArn=created["Policy"]["Arn"])
    assert not iam.list_user_policies(UserName=name)["PolicyNames"]
    assert not iam.list_groups_for_user(UserName=name)["Groups"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Deployer(f"arn:aws:iam::{ACCOUNT}:user/{name}", key["AccessKeyId"], key["SecretAccessKey"], sandbox.endpoint)


def deployer_inventory(directory: Path, tenant: str, sandbox: SandboxClient) -> Path:
    """A demo-like inventory without credentials: the run's environment gives the deployer's key."""
    inventory = write_demo_inventory(directory, demo_tenant(tenant), sandbox)
    aws_vars = inventory / "host_vars" / tenant / "aws.yml"
    settings = yaml.safe_load(aws_vars.read_text())
    del settings["aws_access_key_id"], settings["aws_secret_access_key"]
    aws_vars.write_text(yaml.safe_dump(settings))
    return inventory


def refusals(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [call for call in calls if call["error"] in DENIAL_CODES]


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """A sandbox of this module's own, started with IAM enforced (the variable is set for its start only)."""
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(ENV_VAR, "1")
            sandbox = stack.enter_context(
                running_sandbox(tmp_path_factory.mktemp("enforcing-sandbox"), TEST_TIME_SCALE)
            )
        assert sandbox.health()["enforce_iam"] is True
        sandbox.hook("ds", "set-limits", region=REGION, directories=200)
        policy.bootstrap_account(sandbox.boto3("iam"))  # the operator's one-time account setup
        yield sandbox


@dataclass
class Proof:
    sandbox: SandboxClient
    deployer: Deployer
    converge: PlaybookRun
    converge_calls: list[dict[str, Any]]
    after_converge: list[footprint.Resource]
    federation_tags: dict[str, dict[str, str]]  # tags of the SAML provider and the role, after the converge
    federated_role: dict[str, Any]  # the streaming role after the converge (boundary, trust policy)
    second: PlaybookRun  # the no-op converge: the reads of an unchanged tenant are allowed too
    second_calls: list[dict[str, Any]]
    teardown: PlaybookRun
    teardown_calls: list[dict[str, Any]]
    after_teardown: list[footprint.Resource]


@pytest.fixture(scope="module")
def proof(enforcing: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Proof:
    deployer = make_deployer(enforcing, "deployer", policy.load())
    inventory = deployer_inventory(tmp_path_factory.mktemp(TENANT), TENANT, enforcing)
    converge = run_playbook("site.yml", inventory, enforcing, env=deployer.environment, timeout=1800)
    converge_calls = converge.calls()
    after_converge = footprint.collect(enforcing, REGION)
    federation_tags = federation_tags_of(enforcing, TENANT) if converge.rc == 0 else {}
    federated_role = federated_role_of(enforcing, TENANT) if converge.rc == 0 else {}
    second = run_playbook("site.yml", inventory, enforcing, env=deployer.environment, timeout=1800)
    second_calls = second.calls()
    teardown = run_playbook(
        "playbooks/teardown.yml",
        inventory,
        enforcing,
        extra_vars={"confirm_teardown": TENANT},
        env=deployer.environment,
    )
    teardown_calls = teardown.calls()
    after_teardown = footprint.collect(enforcing, REGION)
    return Proof(
        enforcing,
        deployer,
        converge,
        converge_calls,
        after_converge,
        federation_tags,
        federated_role,
        second,
        second_calls,
        teardown,
        teardown_calls,
        after_teardown,
    )


def federation_tags_of(sandbox: SandboxClient, tenant: str) -> dict[str, dict[str, str]]:
    iam = sandbox.boto3("iam")
    role = iam.get_role(RoleName=f"{tenant}-appstream-saml")["Role"]
    provider = iam.get_saml_provider(SAMLProviderArn=f"arn:aws:iam::{ACCOUNT}:saml-provider/{tenant}-idp")
    return {"role": _tags(role.get("Tags")), "saml_provider": _tags(provider.get("Tags"))}


def federated_role_of(sandbox: SandboxClient, tenant: str) -> dict[str, Any]:
    return sandbox.boto3("iam").get_role(RoleName=f"{tenant}-appstream-saml")["Role"]


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in pairs or []}


# --- sufficient ----------------------------------------------------------------------------------------------
def test_the_deployer_converges_the_tenant(proof: Proof) -> None:
    assert_converged(proof.converge, TENANT)
    owned = {resource.kind for resource in proof.after_converge if resource.owner == TENANT}
    expected = {"vpc", "subnet", "nat_gateway", "directory", "file_system", "fleet", "stack", "image", "budget"}
    assert expected <= owned, sorted(owned)
    for kind in ("role", "saml_provider"):
        tags = proof.federation_tags[kind]
        assert tags.get("tenant") == TENANT and tags.get("managed-by") == TOOLKIT, (kind, tags)


def test_the_streaming_role_is_created_within_the_boundary_and_for_the_sign_in_endpoint_only(proof: Proof) -> None:
    role = proof.federated_role
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy.BOUNDARY_ARN
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/{TENANT}-idp"}
    assert statement["Condition"]["StringEquals"]["SAML:aud"] == "https://signin.aws.amazon.com/saml"


def test_the_converge_meets_no_refusal(proof: Proof) -> None:
    assert refusals(proof.converge_calls) == []
    assert {call["operation"] for call in proof.converge_calls} >= {"CreateVpc", "CreateMicrosoftAD", "CreateFleet"}


def test_the_second_converge_changes_nothing_and_meets_no_refusal(proof: Proof) -> None:
    assert proof.second.rc == 0, proof.second.stdout[-5000:]
    assert proof.second.recap[TENANT]["changed"] == 0
    assert proof.second_calls and refusals(proof.second_calls) == []
    mutating = [call["operation"] for call in proof.second_calls if call.get("mutating")]
    assert mutating == []


def test_every_call_of_the_converge_and_the_teardown_is_the_deployer_s(proof: Proof) -> None:
    principals = {call.get("principal") for call in proof.converge_calls + proof.teardown_calls}
    assert principals == {proof.deployer.arn}


def test_the_deployer_s_tenant_ends_like_a_converge_as_root(proof: Proof, reference: Converged) -> None:
    actual = footprint.normalised(proof.after_converge, TENANT, demo_tenant(TENANT)["directory"]["netbios"])
    assert footprint.difference(actual, reference.normalised) == {}


def test_the_deployer_tears_the_tenant_down(proof: Proof) -> None:
    assert proof.teardown.rc == 0, proof.teardown.stdout[-5000:]
    assert refusals(proof.teardown_calls) == []
    assert {call["operation"] for call in proof.teardown_calls} >= {"DeleteFleet", "DeleteDirectory", "DeleteVpc"}
    left = [(r.kind, r.id) for r in proof.after_teardown if r.owner == TENANT]
    # Images and secrets are kept unless purged; the file system's final backup is what remains of it.
    assert {kind for kind, _ in left} <= {"image", "secret", "fsx_backup"}, left


# --- and no more ---------------------------------------------------------------------------------------------
@dataclass
class Decoy:
    kind: str
    attempt: Any  # the deployer's call that must be refused
    read: Any  # root's view of the decoy, unchanged by the attempt


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def decoys(sandbox: SandboxClient, deployer: Deployer) -> list[Decoy]:
    """Resources that are not the toolkit's, made as root, and the deployer's attempt on each."""
    ec2, appstream = sandbox.boto3("ec2", REGION), sandbox.boto3("appstream", REGION)
    secrets, iam = sandbox.boto3("secretsmanager", REGION), sandbox.boto3("iam", REGION)
    found = []
    for label, tags in (("another owner's", {"tenant": OTHER, "Name": f"{TENANT}-vpc"}), ("untagged", {})):
        spec = [{"ResourceType": "vpc", "Tags": _tag_list(tags)}] if tags else []
        vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"]
        found.append(
            Decoy(
                f"{label} VPC",
                lambda vpc=vpc: deployer.client("ec2").delete_vpc(VpcId=vpc),
                lambda vpc=vpc: ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0].get("Tags"),
            )
        )
    appstream.create_fleet(
        Name=f"{OTHER}-fleet",
        ImageName=demo_tenant(TENANT)["appstream"]["base_image"],
        InstanceType="stream.standard.small",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        Tags={"tenant": OTHER},
    )
    found.append(
        Decoy(
            "another owner's fleet",
            lambda: deployer.client("appstream").delete_fleet(Name=f"{OTHER}-fleet"),
            lambda: appstream.describe_fleets(Names=[f"{OTHER}-fleet"])["Fleets"][0]["Name"],
        )
    )
    secret = f"{OTHER}/directory/admin"
    secrets.create_secret(Name=secret, SecretString="Decoy-0f-Someone-Else!2024", Tags=_tag_list({"tenant": OTHER}))
    found.append(
        Decoy(
            "another owner's secret",
            lambda: deployer.client("secretsmanager").put_secret_value(SecretId=secret, SecretString="taken"),
            lambda: secrets.get_secret_value(SecretId=secret)["SecretString"],
        )
    )
    found.append(
        Decoy(
            "another owner's password",
            lambda: deployer.client("secretsmanager").get_secret_value(SecretId=secret),
            lambda: secrets.describe_secret(SecretId=secret)["Name"],
        )
    )
    role = f"{OTHER}-appstream-saml"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust), Tags=_tag_list({"tenant": OTHER}))
    found.append(
        Decoy(
            "another owner's role",
            lambda: deployer.client("iam").delete_role(RoleName=role),
            lambda: iam.get_role(RoleName=role)["Role"]["RoleName"],
        )
    )
    owned = ec2.create_vpc(
        CidrBlock="10.91.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list({"tenant": OTHER, "managed-by": TOOLKIT})}],
    )["Vpc"]["VpcId"]
    found.append(
        Decoy(
            "the ownership tag of a toolkit VPC",
            lambda: deployer.client("ec2").delete_tags(Resources=[owned], Tags=[{"Key": "tenant"}]),
            lambda: ec2.describe_vpcs(VpcIds=[owned])["Vpcs"][0].get("Tags"),
        )
    )
    return found


def test_the_deployer_cannot_touch_what_is_not_the_toolkit_s(enforcing: SandboxClient) -> None:
    deployer = make_deployer(enforcing, "deployer-decoys", policy.load())
    for decoy in decoys(enforcing, deployer):
        before = decoy.read()
        with pytest.raises(ClientError) as refused:
            decoy.attempt()
        assert refused.value.response["Error"]["Code"] in DENIAL_CODES, (decoy.kind, refused.value.response)
        assert decoy.read() == before, decoy.kind


# --- every statement counts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("missing", "action"),
    [
        # Without it the very first creation stops.
        ("Ec2CreateOnlyResourcesTaggedForATenant", "ec2:CreateVpc"),
        ("TenantSecretsCreateTaggedForATenant", "secretsmanager:CreateSecret"),
        # The role's creation needs the boundary statement (and the boundary itself).
        ("FederatedRolesCreateTaggedForATenantWithinTheBoundary", "iam:CreateRole"),
    ],
)
def test_a_policy_missing_one_statement_stops_the_converge_naming_the_action(
    enforcing: SandboxClient, tmp_path: Path, missing: str, action: str
) -> None:
    document = policy.load()
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != missing]
    tenant = f"lp-{missing.lower()[:12]}"
    deployer = make_deployer(enforcing, f"without-{missing}"[:64], document)
    run = run_playbook("site.yml", deployer_inventory(tmp_path, tenant, enforcing), enforcing, env=deployer.environment)
    assert run.rc != 0 and run.recap[tenant]["failed"] == 1, run.stdout[-3000:]
    refused = refusals(run.calls())
    assert refused and {call["denied_action"] for call in refused} == {action}, refused
    assert f"is not authorized to perform: {action}" in run.stdout


# --- the security review: tagging is not adoption --------------------------------------------------------------
ADOPT = "adopt"  # the name of every untagged decoy: toolkit-like names, so only the ownership check stands
OUTSIDE_ACCOUNT = "999988887777"
TOOLKIT_TAGS = {"tenant": TENANT, "managed-by": TOOLKIT}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _error_code(attempt: Any) -> str | None:
    """The error code an attempt met, None when it succeeded."""
    try:
        attempt()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def _refused(attempt: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        attempt()
    return refused.value.response


def _network(sandbox: SandboxClient, cidr: str, tags: dict[str, str]) -> tuple[str, list[str], str]:
    """As root: a VPC with a subnet in each of two zones and a security group, carrying `tags` (none: untagged)."""
    ec2 = sandbox.boto3("ec2", REGION)

    def spec(kind: str) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": _tag_list(tags)}] if tags else []

    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec("vpc"))["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    prefix = cidr.rsplit(".", 2)[0]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{prefix}.{n * 16}.0/20", AvailabilityZone=zone, TagSpecifications=spec("subnet")
        )["Subnet"]["SubnetId"]
        for n, zone in enumerate(zones)
    ]
    group = ec2.create_security_group(
        VpcId=vpc, GroupName=f"decoy-{vpc}", Description="decoy", TagSpecifications=spec("security-group")
    )["GroupId"]
    return vpc, subnets, group


def untagged_decoys(sandbox: SandboxClient) -> dict[str, Any]:
    """As root: one resource of each tagged kind the deployer may tag, named as the toolkit names its own, untagged."""
    _vpc, subnets, _group = _network(sandbox, "10.92.0.0/16", {})
    vpc = _vpc
    secret = f"{ADOPT}/directory/admin"
    sandbox.boto3("secretsmanager", REGION).create_secret(Name=secret, SecretString="Decoy-Unt4gged-Secret!")
    directory = sandbox.boto3("ds", REGION).create_microsoft_ad(
        Name=f"corp.{ADOPT}.example",
        ShortName="ADOPT",
        Password="Decoy-Directory-Pa55!",
        Edition="Standard",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    file_system = sandbox.boto3("fsx", REGION).create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        StorageType="SSD",
        SubnetIds=subnets[:1],
        WindowsConfiguration={
            "ThroughputCapacity": 32,
            "DeploymentType": "SINGLE_AZ_2",
            "SelfManagedActiveDirectoryConfiguration": {
                "DomainName": "corp.adopt.example",
                "UserName": "fsxadmin",
                "Password": "Decoy-Fsx-Pa55!",
                "DnsIps": ["10.92.0.10"],
            },
        },
    )["FileSystem"]
    sandbox.boto3("appstream", REGION).create_fleet(
        Name=f"{ADOPT}-fleet",
        ImageName=demo_tenant(TENANT)["appstream"]["base_image"],
        InstanceType="stream.standard.small",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
    )
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam = sandbox.boto3("iam")
    iam.create_role(RoleName=f"{ADOPT}-appstream-saml", AssumeRolePolicyDocument=json.dumps(trust))
    metadata = (ROOT / "inventories" / "demo" / "files" / "saml-metadata.xml").read_text()
    provider = iam.create_saml_provider(Name=f"{ADOPT}-idp", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    budget = f"{ADOPT}-monthly"
    sandbox.boto3("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={"BudgetName": budget, "BudgetLimit": {"Amount": "10", "Unit": "USD"}, "TimeUnit": "MONTHLY",
                "BudgetType": "COST"},
    )  # fmt: skip
    return {
        "vpc": vpc,
        "secret": secret,
        "directory": directory,
        "file_system": file_system["ResourceARN"],
        "fleet": f"arn:aws:appstream:{REGION}:{ACCOUNT}:fleet/{ADOPT}-fleet",
        "role": f"{ADOPT}-appstream-saml",
        "provider": provider,
        "budget": f"arn:aws:budgets::{ACCOUNT}:budget/{budget}",
    }


def test_tagging_an_untagged_resource_does_not_make_it_the_toolkit_s(enforcing: SandboxClient) -> None:
    """Every tag call is refused on a resource that does not already carry the ownership tags, and so is what a
    successful tag would have opened: reading the secret, resetting the directory, deleting the fleet."""
    deployer = make_deployer(enforcing, "deployer-adopter", policy.load())
    decoy = untagged_decoys(enforcing)
    tags = _tag_list(TOOLKIT_TAGS)
    attempts = {
        "tag the VPC": lambda: deployer.client("ec2").create_tags(Resources=[decoy["vpc"]], Tags=tags),
        "tag the secret": lambda: deployer.client("secretsmanager").tag_resource(SecretId=decoy["secret"], Tags=tags),
        "tag the directory": lambda: deployer.client("ds").add_tags_to_resource(
            ResourceId=decoy["directory"], Tags=tags
        ),
        "tag the file system": lambda: deployer.client("fsx").tag_resource(ResourceARN=decoy["file_system"], Tags=tags),
        "tag the fleet": lambda: deployer.client("appstream").tag_resource(
            ResourceArn=decoy["fleet"], Tags=TOOLKIT_TAGS
        ),
        "tag the role": lambda: deployer.client("iam").tag_role(RoleName=decoy["role"], Tags=tags),
        "tag the SAML provider": lambda: deployer.client("iam").tag_saml_provider(
            SAMLProviderArn=decoy["provider"], Tags=tags
        ),
        "tag the budget": lambda: deployer.client("budgets").tag_resource(
            ResourceARN=decoy["budget"], ResourceTags=tags
        ),
        "then read the secret": lambda: deployer.client("secretsmanager").get_secret_value(SecretId=decoy["secret"]),
        "then reset the directory's Admin": lambda: deployer.client("ds").reset_user_password(
            DirectoryId=decoy["directory"], UserName="Admin", NewPassword="Taken-0ver-Pa55!"
        ),
        "then delete the fleet": lambda: deployer.client("appstream").delete_fleet(Name=f"{ADOPT}-fleet"),
        "then delete the role": lambda: deployer.client("iam").delete_role(RoleName=decoy["role"]),
        "then delete the budget": lambda: deployer.client("budgets").delete_budget(
            AccountId=ACCOUNT, BudgetName=f"{ADOPT}-monthly"
        ),
    }
    # An attempt IAM lets through reaches the service, whatever the service then answers.
    reached = [what for what, attempt in attempts.items() if _error_code(attempt) not in DENIAL_CODES]
    assert reached == []
    secret = enforcing.boto3("secretsmanager", REGION).describe_secret(SecretId=decoy["secret"])
    root_tags = {
        "secret": _tags(secret.get("Tags")),
        "role": _tags(enforcing.boto3("iam").get_role(RoleName=decoy["role"])["Role"].get("Tags")),
        "fleet": enforcing.boto3("appstream", REGION).list_tags_for_resource(ResourceArn=decoy["fleet"])["Tags"],
    }
    assert root_tags == {"secret": {}, "role": {}, "fleet": {}}


def test_the_saml_role_cannot_be_turned_into_an_escalation(enforcing: SandboxClient) -> None:
    """A role trusting another account, one under another boundary, an inline `*:*` on a role without the
    boundary, the boundary removed or replaced: each is refused, and nothing changed."""
    deployer = make_deployer(enforcing, "deployer-escalator", policy.load())
    iam_root = enforcing.boto3("iam")
    wide = iam_root.create_policy(PolicyName="wide-open", PolicyDocument=json.dumps(EVERYTHING))["Policy"]["Arn"]
    outside_root = {"AWS": f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root"}
    outside = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": outside_root, "Action": "sts:AssumeRole"}],
        }
    )
    tags = _tag_list(TOOLKIT_TAGS)
    # A toolkit role made before the boundary existed, and one made within it (as root: the operator's past).
    iam_root.create_role(RoleName="legacy-appstream-saml", AssumeRolePolicyDocument=outside, Tags=tags)
    iam_root.create_role(
        RoleName="bounded-appstream-saml",
        AssumeRolePolicyDocument=outside,
        Tags=tags,
        PermissionsBoundary=policy.BOUNDARY_ARN,
    )
    iam = deployer.client("iam")
    attempts = {
        "a role trusting another account, without the boundary": lambda: iam.create_role(
            RoleName="escape-appstream-saml", AssumeRolePolicyDocument=outside, Tags=tags
        ),
        "a role under another boundary": lambda: iam.create_role(
            RoleName="escape-appstream-saml", AssumeRolePolicyDocument=outside, Tags=tags, PermissionsBoundary=wide
        ),
        "an inline *:* on a role without the boundary": lambda: iam.put_role_policy(
            RoleName="legacy-appstream-saml", PolicyName="all", PolicyDocument=json.dumps(EVERYTHING)
        ),
        "a managed policy attached": lambda: iam.attach_role_policy(RoleName="legacy-appstream-saml", PolicyArn=wide),
        "the boundary removed": lambda: iam.delete_role_permissions_boundary(RoleName="bounded-appstream-saml"),
        "the boundary replaced": lambda: iam.put_role_permissions_boundary(
            RoleName="bounded-appstream-saml", PermissionsBoundary=wide
        ),
    }
    for what, attempt in attempts.items():
        assert _refused(attempt)["Error"]["Code"] in DENIAL_CODES, what
    roles = {r["RoleName"] for r in iam_root.list_roles()["Roles"]}
    assert "escape-appstream-saml" not in roles
    assert iam_root.list_role_policies(RoleName="legacy-appstream-saml")["PolicyNames"] == []
    assert iam_root.list_attached_role_policies(RoleName="legacy-appstream-saml")["AttachedPolicies"] == []
    bounded = iam_root.get_role(RoleName="bounded-appstream-saml")["Role"]
    assert bounded["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy.BOUNDARY_ARN


def test_a_role_made_within_the_boundary_can_do_nothing_but_stream(enforcing: SandboxClient) -> None:
    """What IAM lets the deployer do with a streaming role (any trust, any inline policy) is harmless: the
    boundary leaves a session of it nothing but appstream:Stream of a signed-in SAML user."""
    deployer = make_deployer(enforcing, "deployer-holder", policy.load())
    iam = deployer.client("iam")
    trust_self = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": deployer.arn}, "Action": "sts:AssumeRole"}]})  # fmt: skip
    iam.create_role(
        RoleName="holder-appstream-saml",
        AssumeRolePolicyDocument=trust_self,
        Tags=_tag_list(TOOLKIT_TAGS),
        PermissionsBoundary=policy.BOUNDARY_ARN,
    )
    iam.put_role_policy(RoleName="holder-appstream-saml", PolicyName="all", PolicyDocument=json.dumps(EVERYTHING))
    session = deployer.assume(f"arn:aws:iam::{ACCOUNT}:role/holder-appstream-saml", "holder")
    attempts = {
        "create a user": lambda: session.client("iam").create_user(UserName="backdoor"),
        "list secrets": lambda: session.client("secretsmanager").list_secrets(),
        "describe VPCs": lambda: session.client("ec2").describe_vpcs(),
        "delete a fleet": lambda: session.client("appstream").delete_fleet(Name=f"{TENANT}-fleet"),
    }
    for what, attempt in attempts.items():
        response = _refused(attempt)
        assert response["Error"]["Code"] in DENIAL_CODES, what
        assert "permissions boundary" in response["Error"]["Message"], (what, response["Error"]["Message"])
    assert "backdoor" not in {u["UserName"] for u in enforcing.boto3("iam").list_users()["Users"]}


def test_the_deployer_cannot_open_a_security_group_or_plug_an_interface_outside_toolkit_vpcs(
    enforcing: SandboxClient,
) -> None:
    deployer = make_deployer(enforcing, "deployer-network", policy.load())
    _vpc, subnets, group = _network(enforcing, "10.93.0.0/16", {"tenant": OTHER})
    ec2_root, ec2 = enforcing.boto3("ec2", REGION), deployer.client("ec2")
    rdp = [{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    before = ec2_root.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    attempts = {
        "open RDP to the world": lambda: ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rdp),
        "add an egress rule": lambda: ec2.authorize_security_group_egress(GroupId=group, IpPermissions=rdp),
        "revoke its egress": lambda: ec2.revoke_security_group_egress(
            GroupId=group, IpPermissions=before["IpPermissionsEgress"]
        ),
        "delete it": lambda: ec2.delete_security_group(GroupId=group),
        "plug an interface into its subnet": lambda: ec2.create_network_interface(SubnetId=subnets[0], Groups=[group]),
    }
    for what, attempt in attempts.items():
        assert _refused(attempt)["Error"]["Code"] in DENIAL_CODES, what
    after = ec2_root.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    assert (after["IpPermissions"], after["IpPermissionsEgress"]) == (
        before["IpPermissions"],
        before["IpPermissionsEgress"],
    )
    interfaces = ec2_root.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": subnets}])
    assert interfaces["NetworkInterfaces"] == []


def test_budgets_keys_and_image_shares_beyond_the_toolkit_s_are_refused(proof: Proof) -> None:
    sandbox, deployer = proof.sandbox, proof.deployer
    sandbox.boto3("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={"BudgetName": "finance-monthly", "BudgetLimit": {"Amount": "900", "Unit": "USD"},
                "TimeUnit": "MONTHLY", "BudgetType": "COST"},
    )  # fmt: skip
    (image,) = [r.id for r in proof.after_teardown if r.kind == "image" and r.owner == TENANT]
    key = sandbox.boto3("kms", REGION).create_key()["KeyMetadata"]["KeyId"]
    attempts = {
        "delete another owner's *-monthly budget": lambda: deployer.client("budgets").delete_budget(
            AccountId=ACCOUNT, BudgetName="finance-monthly"
        ),
        "share the tenant's image with an account nobody listed": lambda: deployer.client(
            "appstream"
        ).update_image_permissions(
            Name=image,
            SharedAccountId=OUTSIDE_ACCOUNT,
            ImagePermissions={"allowFleet": True, "allowImageBuilder": True},
        ),
        "grant a key directly, not through FSx": lambda: deployer.client("kms").create_grant(
            KeyId=key, GranteePrincipal=f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root", Operations=["Decrypt"]
        ),
    }
    for what, attempt in attempts.items():
        assert _refused(attempt)["Error"]["Code"] in DENIAL_CODES, what
    budgets = sandbox.boto3("budgets").describe_budgets(AccountId=ACCOUNT)["Budgets"]
    assert "finance-monthly" in {b["BudgetName"] for b in budgets}
    shared = sandbox.boto3("appstream", REGION).describe_image_permissions(Name=image)["SharedImagePermissionsList"]
    assert shared == []


# --- one deployer role, a session per tenant -----------------------------------------------------------------
SESSION_TENANT = "lp-session"
TENANT_B = "lp-other"
SESSION_ROLE = "toolkit-deployer"


def make_base_identity(sandbox: SandboxClient, name: str) -> Deployer:
    """As root: a user with no policy at all, whom the deployer role trusts (the CI's or operator's own key)."""
    return make_deployer(sandbox, name, {"Version": "2012-10-17", "Statement": []})


def make_session_role(sandbox: SandboxClient, name: str, base: Deployer, document: dict[str, Any]) -> str:
    """As root: the per-tenant deployer role, holding `document` as managed policies IAM accepts, that `base`
    may assume with a `tenant` session tag."""
    iam = sandbox.boto3("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": base.arn},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringLike": {"aws:RequestTag/tenant": "?*"}},
            }
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=43200)
    for number, part in enumerate(policy.managed_policy_parts(document), start=1):
        created = iam.create_policy(PolicyName=f"{name}-{number}", PolicyDocument=json.dumps(part))
        iam.attach_role_policy(RoleName=name, PolicyArn=created["Policy"]["Arn"])
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@dataclass
class SessionProof:
    base: Deployer
    role_arn: str
    converge: PlaybookRun
    converge_calls: list[dict[str, Any]]
    after_converge: list[footprint.Resource]
    second: PlaybookRun
    second_calls: list[dict[str, Any]]
    teardown: PlaybookRun
    teardown_calls: list[dict[str, Any]]
    after_teardown: list[footprint.Resource]


@pytest.fixture(scope="module")
def session_proof(enforcing: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> SessionProof:
    """The demo tenant converged, converged again and torn down through a session of the per-tenant role,
    assumed by the toolkit itself from the tenant's aws.yml (aws_assume_role_arn)."""
    base = make_base_identity(enforcing, "ci-runner")
    role_arn = make_session_role(enforcing, SESSION_ROLE, base, policy.per_tenant(policy.load()))
    inventory = deployer_inventory(tmp_path_factory.mktemp(SESSION_TENANT), SESSION_TENANT, enforcing)
    aws_vars = inventory / "host_vars" / SESSION_TENANT / "aws.yml"
    aws_vars.write_text(yaml.safe_dump({**yaml.safe_load(aws_vars.read_text()), "aws_assume_role_arn": role_arn}))
    sessions = tmp_path_factory.mktemp("sessions")
    environment = {**base.environment, "TENANT_TOOLKIT_SESSION_DIR": str(sessions)}
    converge = run_playbook("site.yml", inventory, enforcing, env=environment, timeout=1800)
    converge_calls = converge.calls()
    after_converge = footprint.collect(enforcing, REGION)
    second = run_playbook("site.yml", inventory, enforcing, env=environment, timeout=1800)
    second_calls = second.calls()
    teardown = run_playbook(
        "playbooks/teardown.yml",
        inventory,
        enforcing,
        extra_vars={"confirm_teardown": SESSION_TENANT},
        env=environment,
    )
    teardown_calls = teardown.calls()
    return SessionProof(
        base,
        role_arn,
        converge,
        converge_calls,
        after_converge,
        second,
        second_calls,
        teardown,
        teardown_calls,
        footprint.collect(enforcing, REGION),
    )


def test_a_tenant_session_converges_and_tears_down_its_tenant_without_a_refusal(session_proof: SessionProof) -> None:
    proof = session_proof
    assert_converged(proof.converge, SESSION_TENANT)
    assert refusals(proof.converge_calls) == []
    owned = {resource.kind for resource in proof.after_converge if resource.owner == SESSION_TENANT}
    assert {"vpc", "directory", "file_system", "fleet", "stack", "image", "budget"} <= owned, sorted(owned)
    assert proof.second.rc == 0 and proof.second.recap[SESSION_TENANT]["changed"] == 0
    assert refusals(proof.second_calls) == []
    assert [call["operation"] for call in proof.second_calls if call.get("mutating")] == []
    assert proof.teardown.rc == 0, proof.teardown.stdout[-5000:]
    assert refusals(proof.teardown_calls) == []
    left = {r.kind for r in proof.after_teardown if r.owner == SESSION_TENANT}
    assert left <= {"image", "secret", "fsx_backup"}, left


def test_every_call_of_a_tenant_run_is_made_by_its_tenant_s_session(session_proof: SessionProof) -> None:
    calls = session_proof.converge_calls + session_proof.second_calls + session_proof.teardown_calls
    by_principal: dict[str, set[str]] = {}
    for call in calls:
        by_principal.setdefault(call.get("principal") or "", set()).add(call["operation"])
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{SESSION_ROLE}/toolkit-{SESSION_TENANT}"
    # The base identity only ever assumes the role; everything else is the session's.
    assert by_principal.pop(session_proof.base.arn) == {"AssumeRole"}
    assert set(by_principal) == {session}, sorted(by_principal)


def test_no_secret_of_the_session_reaches_the_run_s_output(session_proof: SessionProof) -> None:
    output = session_proof.converge.stdout + session_proof.teardown.stdout
    assert "aws_secret_access_key" not in output.lower()
    assert "AWS_SECRET_ACCESS_KEY" not in output and "AWS_SESSION_TOKEN=" not in output


def other_tenant_decoys(sandbox: SandboxClient) -> dict[str, str]:
    """As root: resources of toolkit tenant B (managed-by and tenant tags), as another tenant's runs made them."""
    tags = {"tenant": TENANT_B, "managed-by": TOOLKIT}
    vpc, _subnets, _group = _network(sandbox, "10.94.0.0/16", tags)
    own = [{"ResourceType": "vpc", "Tags": _tag_list({**tags, "tenant": SESSION_TENANT})}]
    own_vpc = sandbox.boto3("ec2", REGION).create_vpc(CidrBlock="10.95.0.0/16", TagSpecifications=own)["Vpc"]["VpcId"]
    sandbox.boto3("appstream", REGION).create_fleet(
        Name=f"{TENANT_B}-fleet",
        ImageName=demo_tenant(TENANT_B)["appstream"]["base_image"],
        InstanceType="stream.standard.small",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        Tags=tags,
    )
    secret = f"{TENANT_B}/directory/admin"
    sandbox.boto3("secretsmanager", REGION).create_secret(
        Name=secret, SecretString="Tenant-B-0wn-Secret!", Tags=_tag_list(tags)
    )
    iam = sandbox.boto3("iam")
    appstream = {"Service": "appstream.amazonaws.com"}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": appstream, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(
        RoleName=f"{TENANT_B}-appstream-saml",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=_tag_list(tags),
        PermissionsBoundary=policy.BOUNDARY_ARN,
    )
    iam.create_role(RoleName=f"{TENANT_B}-appstream-builder", AssumeRolePolicyDocument=json.dumps(trust))
    sandbox.boto3("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={"BudgetName": f"{TENANT_B}-monthly", "BudgetLimit": {"Amount": "10", "Unit": "USD"},
                "TimeUnit": "MONTHLY", "BudgetType": "COST"},
        ResourceTags=_tag_list(tags),
    )  # fmt: skip
    return {"vpc": vpc, "own_vpc": own_vpc, "secret": secret}


def test_a_tenant_session_cannot_touch_another_tenant_s_resources(enforcing: SandboxClient) -> None:
    base = make_base_identity(enforcing, "ci-runner-decoys")
    role_arn = make_session_role(enforcing, "toolkit-deployer-decoys", base, policy.per_tenant(policy.load()))
    decoy = other_tenant_decoys(enforcing)
    session = base.assume(role_arn, f"toolkit-{SESSION_TENANT}", {"tenant": SESSION_TENANT})
    mine = _tag_list({"tenant": SESSION_TENANT, "managed-by": TOOLKIT})
    theirs = {"tenant": TENANT_B, "managed-by": TOOLKIT}
    base_image = demo_tenant(SESSION_TENANT)["appstream"]["base_image"]
    attempts = {
        "delete B's VPC": lambda: session.client("ec2").delete_vpc(VpcId=decoy["vpc"]),
        "re-tag B's VPC as its own": lambda: session.client("ec2").create_tags(Resources=[decoy["vpc"]], Tags=mine),
        "create a VPC tagged for B": lambda: session.client("ec2").create_vpc(
            CidrBlock="10.96.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(theirs)}]
        ),
        "delete B's fleet": lambda: session.client("appstream").delete_fleet(Name=f"{TENANT_B}-fleet"),
        "read B's admin password": lambda: session.client("secretsmanager").get_secret_value(SecretId=decoy["secret"]),
        "overwrite B's admin password": lambda: session.client("secretsmanager").put_secret_value(
            SecretId=decoy["secret"], SecretString="taken"
        ),
        "delete B's streaming role": lambda: session.client("iam").delete_role(RoleName=f"{TENANT_B}-appstream-saml"),
        "delete B's budget": lambda: session.client("budgets").delete_budget(
            AccountId=ACCOUNT, BudgetName=f"{TENANT_B}-monthly"
        ),
        "pass B's builder role to a builder of its own": lambda: session.client("appstream").create_image_builder(
            Name=f"{SESSION_TENANT}-stolen-builder",
            ImageName=base_image,
            InstanceType="stream.standard.medium",
            IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{TENANT_B}-appstream-builder",
            Tags={"tenant": SESSION_TENANT, "managed-by": TOOLKIT},
        ),
    }
    reached = [what for what, attempt in attempts.items() if _error_code(attempt) not in DENIAL_CODES]
    assert reached == []
    # Not a session that is refused everything: its own tenant's VPC is its to delete.
    session.client("ec2").delete_vpc(VpcId=decoy["own_vpc"])
    root_ec2 = enforcing.boto3("ec2", REGION)
    assert root_ec2.describe_vpcs(VpcIds=[decoy["vpc"]])["Vpcs"][0]["VpcId"] == decoy["vpc"]
    secret = enforcing.boto3("secretsmanager", REGION).get_secret_value(SecretId=decoy["secret"])["SecretString"]
    assert secret == "Tenant-B-0wn-Secret!"


def test_a_session_without_a_tenant_tag_is_refused_every_change(enforcing: SandboxClient) -> None:
    base = make_base_identity(enforcing, "ci-runner-untagged")
    iam = enforcing.boto3("iam")
    role = make_session_role(enforcing, "toolkit-deployer-untagged", base, policy.per_tenant(policy.load()))
    # A trust policy that does not demand the tag (the operator's mistake): the policy still fails closed.
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": base.arn},
                                                      "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.update_assume_role_policy(RoleName="toolkit-deployer-untagged", PolicyDocument=json.dumps(trust))
    session = base.assume(role, "untagged")
    mine = _tag_list({"tenant": SESSION_TENANT, "managed-by": TOOLKIT})
    code = _error_code(
        lambda: session.client("ec2").create_vpc(
            CidrBlock="10.97.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": mine}]
        )
    )
    assert code in DENIAL_CODES


# --- the instrument data ingest and the state store (issues 17, 19) --------------------------------------------
INGEST_TENANT = "lp-ingest"
INSTRUMENT = "ECHO-01"
INGEST_PATH = "/tenant-toolkit/ingest/"
UNTAGGED_USER = f"lp-untagged-ingest-{INSTRUMENT}"


def ingest_bucket(tenant: str, account: str = ACCOUNT) -> str:
    return f"{tenant}-ingest-{account}-{REGION}"


@dataclass
class IngestProof:
    deployer: Deployer
    runs: dict[str, PlaybookRun]
    calls: dict[str, list[dict[str, Any]]]  # each run's calls to the tenant's resources
    bookkeeping: dict[str, list[dict[str, Any]]]  # each run's calls to the state store (its lock, its record)
    converged: dict[str, Any]  # root's view of what the first ingest run made


def _send_acquisition(sandbox: SandboxClient, bucket: str, name: str) -> None:
    """As the instrument's uploader would (root here): a file, then the acquisition manifest, written last."""
    s3 = sandbox.boto3("s3", REGION)
    body = b"frame-0001"
    prefix = f"incoming/{INSTRUMENT}/{name}/"
    s3.put_object(Bucket=bucket, Key=prefix + "frames/0001.raw", Body=body)
    manifest = {
        "format": 1, "instrument": INSTRUMENT, "acquisition": name, "completed_at": "2026-12-06T10:42:17Z",
        "uploader_version": "0.1.0", "total_bytes": len(body),
        "files": [{"path": "frames/0001.raw", "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}],
    }  # fmt: skip
    s3.put_object(Bucket=bucket, Key=prefix + "_acquisition-manifest.json", Body=json.dumps(manifest))


def _ingest_state(sandbox: SandboxClient, tenant: str) -> dict[str, Any]:
    """Root's view of a tenant's ingest: its bucket's tags, its instrument user, its secret, its DataSync task."""
    iam, s3 = sandbox.boto3("iam"), sandbox.boto3("s3", REGION)
    user = iam.get_user(UserName=f"{tenant}-ingest-{INSTRUMENT}")["User"]
    tasks = sandbox.boto3("datasync", REGION).list_tasks()["Tasks"]
    return {
        "bucket_tags": _tags(s3.get_bucket_tagging(Bucket=ingest_bucket(tenant))["TagSet"]),
        "user_path": user["Path"],
        "user_boundary": (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        "role_boundary": (
            iam.get_role(RoleName=f"{tenant}-ingest-datasync")["Role"].get("PermissionsBoundary") or {}
        ).get("PermissionsBoundaryArn"),
        "keys": len(iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]),
        "secret": sandbox.boto3("secretsmanager", REGION).describe_secret(SecretId=f"{tenant}/ingest/{INSTRUMENT}")[
            "Name"
        ],
        "tasks": [task["Name"] for task in tasks if task.get("Name") == f"{tenant}-ingest"],
    }


@pytest.fixture(scope="module")
def ingest_proof(enforcing: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> IngestProof:
    """A SAML tenant with tenant.ingest: its directory and file system made as root (the stages the ingest
    needs), then, as the deployer: the ingest stage, again, a transfer, a key rotation, the history, and the
    teardown (with the landing bucket's data)."""
    definition = demo_tenant(INGEST_TENANT)
    definition["ingest"] = {"instruments": [{"name": INSTRUMENT}], "retention_days": 14}
    inventory = write_demo_inventory(tmp_path_factory.mktemp(INGEST_TENANT), definition, enforcing)
    for stage in ("playbooks/directory.yml", "playbooks/storage.yml"):
        prepared = run_playbook(stage, inventory, enforcing, timeout=1800)
        assert prepared.rc == 0, prepared.stdout[-4000:]
    aws_vars = inventory / "host_vars" / INGEST_TENANT / "aws.yml"
    settings = yaml.safe_load(aws_vars.read_text())
    del settings["aws_access_key_id"], settings["aws_secret_access_key"]
    aws_vars.write_text(yaml.safe_dump(settings))
    deployer = make_deployer(enforcing, "deployer-ingest", policy.load())
    runs: dict[str, PlaybookRun] = {}
    calls: dict[str, list[dict[str, Any]]] = {}
    bookkeeping: dict[str, list[dict[str, Any]]] = {}
    converged: dict[str, Any] = {}
    steps = (
        ("converge", "playbooks/ingest.yml", None),
        ("second", "playbooks/ingest.yml", None),
        ("sync", "playbooks/ops/ingest_sync.yml", None),
        ("rotate", "playbooks/ops/ingest_rotate.yml", None),
        ("history", "playbooks/ops/history.yml", None),
        ("teardown", "playbooks/teardown.yml", {"confirm_teardown": INGEST_TENANT, "purge_ingest_data": True}),
    )
    for name, playbook, extra in steps:
        if name == "sync":
            _send_acquisition(enforcing, ingest_bucket(INGEST_TENANT), "acq-0001")
        runs[name] = run_playbook(
            playbook, inventory, enforcing, extra_vars=extra, env=deployer.environment, timeout=1800
        )
        calls[name], bookkeeping[name] = runs[name].calls(), runs[name].bookkeeping()
        if name == "converge" and runs[name].rc == 0:
            converged = _ingest_state(enforcing, INGEST_TENANT)
    return IngestProof(deployer, runs, calls, bookkeeping, converged)


def test_the_deployer_runs_the_ingest_and_the_state_store_without_a_refusal(ingest_proof: IngestProof) -> None:
    for name, run in ingest_proof.runs.items():
        assert run.rc == 0, (name, run.stdout[-5000:])
        made = ingest_proof.calls[name] + ingest_proof.bookkeeping[name]
        assert refusals(made) == [], name
        assert {call.get("principal") for call in made} == {ingest_proof.deployer.arn}, name
    # The runs that lock the tenant took and released its lock, and those that changed it wrote their record in
    # the history: the state store, as the deployer (ingest_sync.yml and history.yml take no lock).
    lock = {("dynamodb", "PutItem"), ("dynamodb", "DeleteItem")}
    for name, expected in (("converge", lock | {("s3", "PUT")}), ("second", lock), ("rotate", lock | {("s3", "PUT")}),
                           ("teardown", lock | {("s3", "PUT")})):  # fmt: skip
        written = {(call["service"], call["operation"].split(" ")[0]) for call in ingest_proof.bookkeeping[name]}
        assert expected <= written, (name, written)
    assert ("s3", "PUT") not in {
        (call["service"], call["operation"].split(" ")[0]) for call in ingest_proof.bookkeeping["second"]
    }


def test_the_deployer_s_ingest_is_the_tenant_s_under_the_ingest_path_and_within_its_boundary(
    ingest_proof: IngestProof,
) -> None:
    state = ingest_proof.converged
    assert state["bucket_tags"]["tenant"] == INGEST_TENANT and state["bucket_tags"]["managed-by"] == TOOLKIT
    assert state["user_path"] == INGEST_PATH and state["keys"] == 1
    assert state["user_boundary"] == state["role_boundary"] == policy.INGEST_BOUNDARY_ARN
    assert state["secret"] == f"{INGEST_TENANT}/ingest/{INSTRUMENT}"
    assert state["tasks"] == [f"{INGEST_TENANT}-ingest"]
    operations = {call["operation"] for call in ingest_proof.calls["converge"]}
    assert {"CreateUser", "CreateAccessKey", "CreateRole", "CreateLocationS3", "CreateTask", "CreateLogGroup"} <= (
        operations
    )


def test_the_second_ingest_run_changes_nothing_but_its_lock_and_record(ingest_proof: IngestProof) -> None:
    second = ingest_proof.runs["second"]
    assert second.recap[INGEST_TENANT]["changed"] == 0
    assert [call["operation"] for call in ingest_proof.calls["second"] if call.get("mutating")] == []


def test_an_ingest_transfer_a_key_rotation_and_the_history_run_as_the_deployer(ingest_proof: IngestProof) -> None:
    assert "StartTaskExecution" in {call["operation"] for call in ingest_proof.calls["sync"]}
    assert "CreateAccessKey" in {call["operation"] for call in ingest_proof.calls["rotate"]}
    history = ingest_proof.runs["history"]
    assert "playbooks/ingest.yml" in history.stdout or "ingest.yml" in history.stdout, history.stdout[-3000:]


def test_the_deployer_tears_the_ingest_down_with_its_data(enforcing: SandboxClient, ingest_proof: IngestProof) -> None:
    buckets = {bucket["Name"] for bucket in enforcing.boto3("s3", REGION).list_buckets()["Buckets"]}
    assert ingest_bucket(INGEST_TENANT) not in buckets
    users = enforcing.boto3("iam").list_users(PathPrefix=INGEST_PATH)["Users"]
    assert [user["UserName"] for user in users if user["UserName"].startswith(INGEST_TENANT)] == []
    tasks = enforcing.boto3("datasync", REGION).list_tasks()["Tasks"]
    assert [task for task in tasks if task.get("Name") == f"{INGEST_TENANT}-ingest"] == []


def _ingest_decoys(sandbox: SandboxClient, owner: str, tags: dict[str, str]) -> dict[str, str]:
    """As root: what an ingest of `owner` would have, with `tags` (the toolkit's, another tenant's, or none)."""
    iam, s3 = sandbox.boto3("iam"), sandbox.boto3("s3", REGION)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service":
             "datasync.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    bucket = ingest_bucket(owner)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key=f"incoming/{INSTRUMENT}/a/_acquisition-manifest.json", Body=b"{}")
    iam.create_user(UserName=f"{owner}-ingest-{INSTRUMENT}", Path=INGEST_PATH, Tags=_tag_list(tags))
    role = iam.create_role(
        RoleName=f"{owner}-ingest-datasync", Path=INGEST_PATH, AssumeRolePolicyDocument=json.dumps(trust),
        Tags=_tag_list(tags),
    )["Role"]["Arn"]  # fmt: skip
    sandbox.boto3("secretsmanager", REGION).create_secret(
        Name=f"{owner}/ingest/{INSTRUMENT}", SecretString='{"secret_access_key": "decoy"}', Tags=_tag_list(tags)
    )
    sandbox.boto3("logs", REGION).create_log_group(logGroupName=f"/tenant-toolkit/datasync/{owner}", tags=tags)
    sandbox.boto3("dynamodb", REGION).put_item(
        TableName="tenant-toolkit-state", Item={"pk": {"S": f"lock#{owner}"}, "run_id": {"S": "r-0123456789ab"}}
    )
    return {"bucket": bucket, "role": role}


def test_the_deployer_cannot_touch_ingest_or_state_store_resources_that_are_not_the_toolkit_s(
    enforcing: SandboxClient,
) -> None:
    """An IAM user named like an instrument's but outside tenant-toolkit/ingest/ (even tagged), an untagged one
    inside it, a bucket of another account's name or of no ingest, a role not the DataSync role, a state store
    item that is not a lock, an untagged log group; an instrument user made without the ingest's boundary, or
    under another, a toolkit user without it given an inline policy, the boundary replaced or removed: each
    attempt is refused, and nothing changed."""
    deployer = make_deployer(enforcing, "deployer-ingest-decoys", policy.load())
    iam_root = enforcing.boto3("iam")
    decoy = _ingest_decoys(enforcing, "lp-untagged", {})
    iam_root.create_user(UserName="lp-outside-ingest-ECHO-01", Tags=_tag_list(TOOLKIT_TAGS))  # path "/"
    # Toolkit users of the ingest path: one made before the boundary existed, one within it (the operator's past).
    toolkit_tags = _tag_list(TOOLKIT_TAGS)
    iam_root.create_user(UserName="lp-legacy-ingest-ECHO-01", Path=INGEST_PATH, Tags=toolkit_tags)
    iam_root.create_user(
        UserName="lp-bounded-ingest-ECHO-01",
        Path=INGEST_PATH,
        Tags=toolkit_tags,
        PermissionsBoundary=policy.INGEST_BOUNDARY_ARN,
    )
    wide = iam_root.create_policy(PolicyName="wide-open-ingest", PolicyDocument=json.dumps(EVERYTHING))["Policy"]["Arn"]
    s3_root = enforcing.boto3("s3", REGION)
    for name in ("finance-data", ingest_bucket("lp-other", "999988887777")):
        s3_root.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    dynamodb_root = enforcing.boto3("dynamodb", REGION)
    dynamodb_root.put_item(TableName="tenant-toolkit-state", Item={"pk": {"S": "config#toolkit"}, "v": {"S": "1"}})
    iam, s3 = deployer.client("iam"), deployer.client("s3")
    dynamodb, datasync = deployer.client("dynamodb"), deployer.client("datasync")
    everything = json.dumps(EVERYTHING)
    tags = _tag_list(TOOLKIT_TAGS)
    attempts = {
        "a user outside the ingest path, created": lambda: iam.create_user(UserName="lp-new-ingest-X", Tags=tags),
        "a tagged user outside the ingest path, given a key": lambda: iam.create_access_key(
            UserName="lp-outside-ingest-ECHO-01"
        ),
        "a tagged user outside the ingest path, given an inline *:*": lambda: iam.put_user_policy(
            UserName="lp-outside-ingest-ECHO-01", PolicyName="all", PolicyDocument=everything
        ),
        "an untagged instrument user, given a key": lambda: iam.create_access_key(
            UserName="lp-untagged-ingest-ECHO-01"
        ),
        "... tagged": lambda: iam.tag_user(UserName="lp-untagged-ingest-ECHO-01", Tags=tags),
        "... deleted": lambda: iam.delete_user(UserName="lp-untagged-ingest-ECHO-01"),
        "an untagged DataSync role, given *:*": lambda: iam.put_role_policy(
            RoleName="lp-untagged-ingest-datasync", PolicyName="all", PolicyDocument=everything
        ),
        "a bucket of no ingest, its policy replaced": lambda: s3.put_bucket_policy(
            Bucket="finance-data", Policy=json.dumps({"Version": "2012-10-17", "Statement": []})
        ),
        "a bucket of no ingest, deleted": lambda: s3.delete_bucket(Bucket="finance-data"),
        "an ingest bucket named for another account, deleted": lambda: s3.delete_bucket(
            Bucket=ingest_bucket("lp-other", "999988887777")
        ),
        "a state store item that is not a lock, read": lambda: dynamodb.get_item(
            TableName="tenant-toolkit-state", Key={"pk": {"S": "config#toolkit"}}
        ),
        "a state store item that is not a lock, overwritten": lambda: dynamodb.put_item(
            TableName="tenant-toolkit-state", Item={"pk": {"S": "config#toolkit"}, "v": {"S": "2"}}
        ),
        "another role handed to DataSync": lambda: datasync.create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{decoy['bucket']}",
            S3Config={"BucketAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{OTHER}-appstream-saml"},
            Tags=tags,
        ),
        "an untagged log group, deleted": lambda: deployer.client("logs").delete_log_group(
            logGroupName="/tenant-toolkit/datasync/lp-untagged"
        ),
        "an untagged secret of the ingest, read": lambda: deployer.client("secretsmanager").get_secret_value(
            SecretId=f"lp-untagged/ingest/{INSTRUMENT}"
        ),
        "an instrument user without the ingest boundary, created": lambda: iam.create_user(
            UserName="lp-free-ingest-X", Path=INGEST_PATH, Tags=tags
        ),
        "an instrument user under another boundary, created": lambda: iam.create_user(
            UserName="lp-free-ingest-X", Path=INGEST_PATH, Tags=tags, PermissionsBoundary=wide
        ),
        "a DataSync role without the ingest boundary, created": lambda: iam.create_role(
            RoleName="lp-free-ingest-datasync", Path=INGEST_PATH, Tags=tags, AssumeRolePolicyDocument=everything
        ),
        "a toolkit user without the boundary, given *:*": lambda: iam.put_user_policy(
            UserName="lp-legacy-ingest-ECHO-01", PolicyName="all", PolicyDocument=everything
        ),
        "a toolkit user's boundary replaced": lambda: iam.put_user_permissions_boundary(
            UserName="lp-bounded-ingest-ECHO-01", PermissionsBoundary=wide
        ),
        "a toolkit user's boundary removed": lambda: iam.delete_user_permissions_boundary(
            UserName="lp-bounded-ingest-ECHO-01"
        ),
    }
    reached = [what for what, attempt in attempts.items() if _error_code(attempt) not in DENIAL_CODES]
    assert reached == []
    assert iam_root.list_access_keys(UserName="lp-outside-ingest-ECHO-01")["AccessKeyMetadata"] == []
    assert iam_root.list_user_policies(UserName="lp-outside-ingest-ECHO-01")["PolicyNames"] == []
    assert iam_root.list_user_policies(UserName="lp-legacy-ingest-ECHO-01")["PolicyNames"] == []
    bounded = iam_root.get_user(UserName="lp-bounded-ingest-ECHO-01")["User"]["PermissionsBoundary"]
    assert bounded["PermissionsBoundaryArn"] == policy.INGEST_BOUNDARY_ARN
    assert "lp-free-ingest-X" not in {user["UserName"] for user in iam_root.list_users()["Users"]}
    assert "finance-data" in {bucket["Name"] for bucket in s3_root.list_buckets()["Buckets"]}
    item = dynamodb_root.get_item(TableName="tenant-toolkit-state", Key={"pk": {"S": "config#toolkit"}})["Item"]
    assert item["v"] == {"S": "1"}


def test_a_tenant_session_cannot_touch_another_tenant_s_ingest_lock_or_history(enforcing: SandboxClient) -> None:
    base = make_base_identity(enforcing, "ci-runner-ingest")
    role_arn = make_session_role(enforcing, "toolkit-deployer-ingest", base, policy.per_tenant(policy.load()))
    theirs = {"tenant": TENANT_B, "managed-by": TOOLKIT}
    decoy = _ingest_decoys(enforcing, TENANT_B, theirs)
    session = base.assume(role_arn, f"toolkit-{SESSION_TENANT}", {"tenant": SESSION_TENANT})
    iam, s3, dynamodb = session.client("iam"), session.client("s3"), session.client("dynamodb")
    own_history = f"history/{SESSION_TENANT}/"
    state_bucket = f"tenant-toolkit-state-{ACCOUNT}-{REGION}"
    attempts = {
        "read B's instrument key": lambda: session.client("secretsmanager").get_secret_value(
            SecretId=f"{TENANT_B}/ingest/{INSTRUMENT}"
        ),
        "give B's instrument user a key": lambda: iam.create_access_key(UserName=f"{TENANT_B}-ingest-{INSTRUMENT}"),
        "delete B's DataSync role": lambda: iam.delete_role(RoleName=f"{TENANT_B}-ingest-datasync"),
        "pass B's DataSync role": lambda: session.client("datasync").create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{decoy['bucket']}",
            S3Config={"BucketAccessRoleArn": decoy["role"]},
            Tags=_tag_list({"tenant": SESSION_TENANT, "managed-by": TOOLKIT}),
        ),
        "read B's acquisitions": lambda: s3.get_object(
            Bucket=decoy["bucket"], Key=f"incoming/{INSTRUMENT}/a/_acquisition-manifest.json"
        ),
        "delete B's landing bucket": lambda: s3.delete_bucket(Bucket=decoy["bucket"]),
        "delete B's log group": lambda: session.client("logs").delete_log_group(
            logGroupName=f"/tenant-toolkit/datasync/{TENANT_B}"
        ),
        "release B's lock": lambda: dynamodb.delete_item(
            TableName="tenant-toolkit-state", Key={"pk": {"S": f"lock#{TENANT_B}"}}
        ),
        "take B's lock": lambda: dynamodb.put_item(
            TableName="tenant-toolkit-state", Item={"pk": {"S": f"lock#{TENANT_B}"}, "run_id": {"S": "r-x"}}
        ),
        "list B's history": lambda: s3.list_objects_v2(Bucket=state_bucket, Prefix=f"history/{TENANT_B}/"),
        "write into B's history": lambda: s3.put_object(
            Bucket=state_bucket, Key=f"history/{TENANT_B}/forged.json", Body=b"{}"
        ),
    }
    reached = [what for what, attempt in attempts.items() if _error_code(attempt) not in DENIAL_CODES]
    assert reached == []
    # Its own tenant's lock and history are its to use.
    dynamodb.put_item(TableName="tenant-toolkit-state", Item={"pk": {"S": f"lock#{SESSION_TENANT}"}})
    dynamodb.delete_item(TableName="tenant-toolkit-state", Key={"pk": {"S": f"lock#{SESSION_TENANT}"}})
    s3.list_objects_v2(Bucket=state_bucket, Prefix=own_history)
    lock = enforcing.boto3("dynamodb", REGION).get_item(
        TableName="tenant-toolkit-state", Key={"pk": {"S": f"lock#{TENANT_B}"}}
    )
    assert lock["Item"]["run_id"] == {"S": "r-0123456789ab"}
