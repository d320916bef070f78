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
from tests.helpers import PlaybookRun, run_playbook
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
    """An IAM user of the sandbox holding only the given policy, and its access key."""

    arn: str
    access_key_id: str
    secret_access_key: str
    endpoint: str

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
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )


def make_deployer(sandbox: SandboxClient, name: str, document: dict[str, Any]) -> Deployer:
    """As root: a user whose only permissions are `document`, attached as managed policies IAM accepts."""
    iam = sandbox.boto3("iam")
    iam.create_user(UserName=name)
    for number, part in enumerate(policy.managed_policy_parts(document), start=1):
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
        yield sandbox


@dataclass
class Proof:
    sandbox: SandboxClient
    deployer: Deployer
    converge: PlaybookRun
    converge_calls: list[dict[str, Any]]
    after_converge: list[footprint.Resource]
    federation_tags: dict[str, dict[str, str]]  # tags of the SAML provider and the role, after the converge
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
        # Tagging while creating is authorised on its own: without it the very first creation stops.
        ("Ec2TagOnlyWhileCreating", "ec2:CreateTags"),
        ("TenantSecretsCreateTaggedForATenant", "secretsmanager:CreateSecret"),
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
