"""The deployer's IAM policy: nothing left open, every change conditioned on the toolkit's tags.

policies/deployer.json is what the identity running site.yml and teardown.yml needs. These checks are
structural; test_ownership.py checks its coverage against every call a converge and a teardown really
made, and test_least_privilege_enforced.py proves it sufficient on a sandbox that enforces IAM.
"""

from __future__ import annotations

import re

import pytest

from sandbox import iam_enforce
from tests.reliability import policy

DOCUMENT = policy.load()
STATEMENTS = DOCUMENT["Statement"]
# Actions AWS offers no resource-level permission for: they can only be granted on "*" (the sandbox's
# IAM enforcement evaluates them on "*" too).
WITHOUT_RESOURCE_LEVEL = iam_enforce.WITHOUT_RESOURCE_LEVEL
# IAM's default quota of managed policies attached to one user.
MANAGED_POLICIES_PER_USER = 10
# Only these statements create or change resources that carry no toolkit tag yet: the network
# interfaces and security groups Directory Service and FSx create with the caller's rights, the rules
# of toolkit security groups, and the service's own objects (budgets, SAML providers, scaling, keys).
UNTAGGED_MUTATIONS = {
    "Ec2SecurityGroupRulesOfToolkitGroups",
    "Ec2PartsThatDirectoryServiceAndFsxCreateWithTheCallersRights",
    "AppStreamDirectoryConfigsAndUsersHaveNoResourceLevelPermissions",
    "FleetScaling",
    "TenantBudgets",
    "PassOnlyBuilderRolesToAppStream",
    "ServiceLinkedRolesOfTheServicesUsed",
    "FileSystemEncryptionKeyThroughFsxOnly",
}
TAG_CONDITION = re.compile(r"^(aws|secretsmanager):(Request|Resource)Tag/")


def test_the_policy_is_a_version_2012_document_of_named_allow_statements() -> None:
    assert DOCUMENT["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in STATEMENTS]
    assert len(sids) == len(set(sids))
    for statement in STATEMENTS:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement["Sid"]


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_no_statement_grants_every_action_of_a_service(statement: dict) -> None:
    for action in policy.as_list(statement["Action"]):
        assert action != "*" and not action.endswith(":*"), action
        assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", action), f"{action} is not one named action"


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_a_statement_on_every_resource_only_reads(statement: dict) -> None:
    if policy.as_list(statement["Resource"]) != ["*"]:
        return
    writes = [a for a in policy.as_list(statement["Action"]) if not policy.is_read_only(a)]
    assert set(writes) <= WITHOUT_RESOURCE_LEVEL, writes


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_creations_and_changes_are_conditioned_on_the_toolkit_tags(statement: dict) -> None:
    writes = [a for a in policy.as_list(statement["Action"]) if not policy.is_read_only(a)]
    if not writes or statement["Sid"] in UNTAGGED_MUTATIONS or statement["Sid"] == "Ec2TagOnlyWhileCreating":
        return
    keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
    assert any(TAG_CONDITION.match(key) for key in keys), f"{statement['Sid']} changes {writes} without a tag condition"


def test_ownership_tags_can_never_be_removed() -> None:
    untagging = {
        "ec2:DeleteTags",
        "ds:RemoveTagsFromResource",
        "fsx:UntagResource",
        "appstream:UntagResource",
        "secretsmanager:UntagResource",
        "iam:UntagRole",
        "iam:UntagSAMLProvider",
        "budgets:UntagResource",
    }
    granting = {action: policy.allowing_statements(DOCUMENT, action) for action in untagging}
    assert granting == {action: ["NeverRemoveOwnershipTags"] for action in untagging}
    (statement,) = [s for s in STATEMENTS if s["Sid"] == "NeverRemoveOwnershipTags"]
    protected = statement["Condition"]["ForAllValues:StringNotEquals"]["aws:TagKeys"]
    assert {"tenant", "environment", "managed-by"} <= set(protected)


def test_the_mapping_of_calls_to_actions() -> None:
    assert policy.action_of("budgets", "CreateBudget") == "budgets:ModifyBudget"
    assert policy.action_of("ec2", "CreateVpc") == "ec2:CreateVpc"
    assert policy.action_of("sts", "GetCallerIdentity") is None
    assert policy.allowing_statements(DOCUMENT, "ec2:CreateVpc") == ["Ec2CreateOnlyResourcesTaggedForATenant"]
    assert policy.allowing_statements(DOCUMENT, "ec2:RunInstances") == []


def test_the_policy_fits_in_managed_policies_iam_accepts() -> None:
    # One document of this size exceeds IAM's 6,144-character quota on a managed policy: it is attached as
    # parts of whole statements (how test_least_privilege_enforced.py gives it to the deployer).
    parts = policy.managed_policy_parts(DOCUMENT)
    assert len(parts) <= MANAGED_POLICIES_PER_USER
    assert all(policy.policy_size(part) <= policy.MANAGED_POLICY_SIZE for part in parts)
    assert [s for part in parts for s in part["Statement"]] == STATEMENTS


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_every_condition_is_one_the_enforcing_sandbox_evaluates(statement: dict) -> None:
    # An operator the sandbox does not implement would fail closed there, and the enforced proof would
    # no longer say anything about this statement.
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            iam_enforce.condition_holds(operator, key, values, {})
