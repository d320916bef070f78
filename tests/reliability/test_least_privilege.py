"""The deployer's IAM policy: nothing left open, every change conditioned on the toolkit's tags.

policies/deployer.json is what the identity running site.yml and teardown.yml needs. These checks read
the policy itself, and judge it with the enforcing sandbox's evaluator (sandbox/iam_enforce.py) against
resources that are not the toolkit's: every change of one is refused. test_ownership.py checks its
coverage against every call a converge and a teardown really made, and test_least_privilege_enforced.py
proves it sufficient, and the refusals real, on a sandbox that enforces IAM.
"""

from __future__ import annotations

import re

import pytest

from sandbox import iam_enforce
from tests.helpers import ROOT
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
    "Ec2PartsDirectoryServiceMakesWithTheCallersRights",
    "AppStreamDirectoryConfigsAndUsersHaveNoResourceLevelPermissions",
    "FleetScaling",
    "PassOnlyBuilderRolesToAppStream",
    "ServiceLinkedRolesOfTheServicesUsed",
    "FileSystemEncryptionKeyThroughFsxOnly",
    "FileSystemEncryptionKeyGrantsThroughFsxOnly",
    # The region's AppStream usage report subscription: an account setting, no resource, no tags.
    "OperationsUsageReportSubscriptionOfTheRegion",
    # The toolkit's own state store (tenant locks, change history): scoped by its names and its lock keys
    # (dynamodb:LeadingKeys), not by tenant tags: its table and bucket are the account's, not a tenant's.
    "ToolkitStateStoreTenantLocks",
    "ToolkitStateStoreHistoryRecords",
    # S3 buckets and objects have no aws:ResourceTag here: the landing bucket is held by its name, which carries
    # the account (`<tenant>-ingest-<account>-<region>`), and its objects by their prefixes.
    "IngestLandingBucketsByName",
    "IngestLandingAcquisitionsReadAndMarkTransferred",
    "IngestLandingTransferManifests",
    "IngestLandingDataPurgedOnlyWithTheBucket",
    "IngestPassOnlyTheDataSyncRoleToDataSync",
    # The account's CloudWatch Logs resource policy letting DataSync write to the toolkit's log groups.
    "IngestLogsResourcePolicyOfTheAccount",
}
TAG_CONDITION = re.compile(r"^(aws|secretsmanager):(Request|Resource)Tag/")


DENY_STATEMENTS = {
    "NeverAStreamingRoleOutsideTheBoundary",
    "NeverAnIngestPrincipalOutsideTheBoundary",
    "NeverRemoveAPermissionsBoundary",
}


def test_the_policy_is_a_version_2012_document_of_named_statements_that_allow_but_two() -> None:
    assert DOCUMENT["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in STATEMENTS]
    assert len(sids) == len(set(sids))
    for statement in STATEMENTS:
        assert statement["Effect"] == ("Deny" if statement["Sid"] in DENY_STATEMENTS else "Allow"), statement["Sid"]
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement["Sid"]


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_no_statement_grants_every_action_of_a_service(statement: dict) -> None:
    for action in policy.as_list(statement["Action"]):
        assert action != "*" and not action.endswith(":*"), action
        assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z][A-Za-z0-9]*", action), f"{action} is not one named action"


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_a_statement_on_every_resource_only_reads(statement: dict) -> None:
    if policy.as_list(statement["Resource"]) != ["*"]:
        return
    writes = [a for a in policy.as_list(statement["Action"]) if not policy.is_read_only(a)]
    if writes and set(writes) <= iam_enforce.CREATES_WITHOUT_RESOURCE_TYPE:
        # A create AWS authorises on "*" (no resource type) is held by its request tags instead.
        assert "aws:RequestTag/managed-by" in statement["Condition"]["StringEquals"], statement["Sid"]
        return
    assert set(writes) <= WITHOUT_RESOURCE_LEVEL, writes


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement["Sid"])
def test_creations_and_changes_are_conditioned_on_the_toolkit_tags(statement: dict) -> None:
    writes = [a for a in policy.as_list(statement["Action"]) if not policy.is_read_only(a)]
    if not writes or statement["Sid"] in UNTAGGED_MUTATIONS or statement["Sid"] == "Ec2TagOnlyWhileCreating":
        return
    if statement["Effect"] == "Deny":
        return
    keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
    assert any(TAG_CONDITION.match(key) for key in keys), f"{statement['Sid']} changes {writes} without a tag condition"


def test_ownership_tags_can_never_be_removed() -> None:
    untagging = {
        "datasync:UntagResource",
        "iam:UntagUser",
        "logs:UntagLogGroup",
        "logs:UntagResource",
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


def test_only_the_toolkit_s_own_resources_can_be_tagged() -> None:
    """Tagging is adoption: a tag call is allowed only on a resource that already carries both ownership tags
    (at creation, the tags of the create call: aws:ResourceTag), or, for EC2, while creating (ec2:CreateAction)."""
    tagging = [
        "ec2:CreateTags",
        "ds:AddTagsToResource",
        "fsx:TagResource",
        "appstream:TagResource",
        "secretsmanager:TagResource",
        "iam:TagRole",
        "iam:TagSAMLProvider",
        "budgets:TagResource",
        # The ingest's and the alerts' (a topic or an alarm named like the toolkit's is not the toolkit's).
        "iam:TagUser",
        "datasync:TagResource",
        "logs:TagLogGroup",
        "logs:TagResource",
        "sns:TagResource",
        "cloudwatch:TagResource",
    ]
    for action in tagging:
        for sid in policy.allowing_statements(DOCUMENT, action):
            (statement,) = [s for s in STATEMENTS if s["Sid"] == sid]
            condition = statement["Condition"]
            if sid == "Ec2TagOnlyWhileCreating":
                assert set(condition) == {"StringEquals"} and set(condition["StringEquals"]) == {"ec2:CreateAction"}
                continue
            if sid == "Ec2PartsDirectoryServiceMakesWithTheCallersRights":  # its own group and interfaces
                assert condition == {"Bool": {"aws:ViaAWSService": "true"}}
                continue
            assert condition["StringEquals"]["aws:ResourceTag/managed-by"] == policy.TOOLKIT, (action, sid)
            assert condition["Null"]["aws:ResourceTag/tenant"] == "false", (action, sid)


@pytest.mark.parametrize("mode", ["shared", "per-tenant"])
def test_no_change_is_allowed_on_a_resource_that_is_not_the_toolkit_s(mode: str) -> None:
    """Judged by the enforcing sandbox's evaluator: every write of the policy, on every resource its statements
    name, made on an existing untagged resource, is refused (but for the calls that have no resource to own)."""
    document = DOCUMENT if mode == "shared" else policy.per_tenant(DOCUMENT)
    allowed = policy.writes_allowed_on(document, resource_tags={}, principal_tags={"tenant": "alpha"})
    # Held by their names only (no tags on S3 objects and buckets here): in the per-tenant mode, the tenant's
    # own names (`alpha-ingest-...`, `history/alpha/`), which the example resources of another owner are not.
    by_name = policy.OWNED_BY_NAME if mode == "shared" else set()
    assert allowed == policy.WITHOUT_OWNER | by_name, sorted(allowed - policy.WITHOUT_OWNER - by_name)


def test_a_tenant_session_can_change_nothing_of_another_tenant() -> None:
    document = policy.per_tenant(DOCUMENT)
    beta = {"managed-by": policy.TOOLKIT, "tenant": "beta"}
    allowed = policy.writes_allowed_on(document, resource_tags=beta, principal_tags={"tenant": "alpha"})
    assert allowed == policy.WITHOUT_OWNER, sorted(allowed - policy.WITHOUT_OWNER)
    # ... while its own tenant's resources are its to change: the per-tenant policy is not merely empty.
    alpha = {"managed-by": policy.TOOLKIT, "tenant": "alpha"}
    own = policy.writes_allowed_on(document, resource_tags=alpha, principal_tags={"tenant": "alpha"})
    assert {"ec2:DeleteVpc", "ds:DeleteDirectory", "fsx:DeleteFileSystem", "appstream:DeleteFleet",
            "secretsmanager:PutSecretValue", "iam:DeleteRole", "budgets:ModifyBudget", "iam:DeleteUser",
            "iam:CreateAccessKey", "datasync:DeleteTask", "logs:DeleteLogGroup", "s3:DeleteBucket",
            "s3:PutObject", "sns:DeleteTopic"} <= own  # fmt: skip


def test_a_tenant_session_cannot_create_for_another_tenant_nor_without_its_tag() -> None:
    document = policy.per_tenant(DOCUMENT)
    beta = {"managed-by": policy.TOOLKIT, "tenant": "beta"}
    assert policy.creations_allowed_with(document, request_tags=beta, principal_tags={"tenant": "alpha"}) == set()
    alpha = {"managed-by": policy.TOOLKIT, "tenant": "alpha"}
    assert policy.creations_allowed_with(document, request_tags=alpha, principal_tags={}) == set()
    assert "ec2:CreateVpc" in policy.creations_allowed_with(
        document, request_tags=alpha, principal_tags={"tenant": "alpha"}
    )


def test_streaming_roles_are_made_and_changed_only_within_the_boundary() -> None:
    boundary = "arn:aws:iam::${aws:PrincipalAccount}:policy" + policy.BOUNDARY_PATH + policy.BOUNDARY_NAME
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
                   "iam:DetachRolePolicy"):  # fmt: skip
        sids = policy.allowing_statements(DOCUMENT, action)
        assert sids, action
        for sid in sids:
            if not any(arn.endswith("-appstream-saml") for arn in policy.as_list(_statement(sid)["Resource"])):
                continue  # the ingest's principals: test_ingest_principals_are_made_and_changed_only_within_theirs
            (statement,) = [s for s in STATEMENTS if s["Sid"] == sid]
            assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary, (action, sid)
    assert policy.allowing_statements(DOCUMENT, "iam:AttachRolePolicy") == []
    assert policy.allowing_statements(DOCUMENT, "iam:DeleteRolePermissionsBoundary") == []
    (never_remove,) = [s for s in STATEMENTS if s["Sid"] == "NeverRemoveAPermissionsBoundary"]
    assert "iam:DeleteRolePermissionsBoundary" in policy.as_list(never_remove["Action"])
    assert "Condition" not in never_remove
    boundary_document = policy.load(policy.BOUNDARY)
    assert [s["Action"] for s in boundary_document["Statement"]] == ["appstream:Stream"]


def test_smaller_grants_are_held_by_their_conditions() -> None:
    (grant,) = [s for s in STATEMENTS if "kms:CreateGrant" in policy.as_list(s["Action"])]
    assert grant["Condition"]["StringLike"]["kms:ViaService"] == "fsx.*.amazonaws.com"
    assert grant["Condition"]["Bool"]["kms:GrantIsForAWSResource"] == "true"
    passing = {s["Sid"]: s for s in STATEMENTS if "iam:PassRole" in policy.as_list(s["Action"])}
    per_tenant = policy.per_tenant(DOCUMENT)
    tenant_passing = {s["Sid"]: s for s in per_tenant["Statement"] if "iam:PassRole" in policy.as_list(s["Action"])}
    session = "${aws:PrincipalTag/tenant}"
    expected = {
        "PassOnlyBuilderRolesToAppStream": (
            "appstream.amazonaws.com",
            "arn:aws:iam::*:role/*-appstream-builder",
            f"arn:aws:iam::*:role/{session}-appstream-builder",
        ),
        "IngestPassOnlyTheDataSyncRoleToDataSync": (
            "datasync.amazonaws.com",
            "arn:aws:iam::*:role/tenant-toolkit/ingest/*-ingest-datasync",
            f"arn:aws:iam::*:role/tenant-toolkit/ingest/{session}-ingest-datasync",
        ),
    }
    assert set(passing) == set(tenant_passing) == set(expected)
    for sid, (service, resource, own) in expected.items():
        assert passing[sid]["Condition"] == {"StringEquals": {"iam:PassedToService": service}}, sid
        assert (passing[sid]["Resource"], tenant_passing[sid]["Resource"]) == (resource, own), sid
    for action in ("appstream:UpdateImagePermissions", "appstream:CopyImage"):
        assert policy.allowing_statements(DOCUMENT, action) == [], action
    shared = policy.render(DOCUMENT, image_share_accounts=["111122223333"])
    assert policy.allowing_statements(shared, "appstream:UpdateImagePermissions") == [
        "ShareToolkitImagesWithListedAccounts"
    ]


def test_ingest_principals_are_made_and_changed_only_within_theirs() -> None:
    """The instruments' users (which the deployer gives access keys) and the DataSync role: created, their inline
    policies put, only within the ingest's boundary, which is never replaced nor removed (judged by the evaluator)."""
    boundary = "arn:aws:iam::${aws:PrincipalAccount}:policy" + policy.BOUNDARY_PATH + policy.INGEST_BOUNDARY_NAME
    for action in ("iam:CreateUser", "iam:CreateRole", "iam:PutUserPolicy", "iam:PutRolePolicy",
                   "iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary"):  # fmt: skip
        sids = [sid for sid in policy.allowing_statements(DOCUMENT, action) if sid.startswith("Ingest")]
        assert sids, action
        for sid in sids:
            assert _statement(sid)["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary, (action, sid)
    for action in ("iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:DeleteUserPermissionsBoundary",
                   "iam:AddUserToGroup", "iam:CreateLoginProfile"):  # fmt: skip
        assert policy.allowing_statements(DOCUMENT, action) == [], action
    user = "arn:aws:iam::123456789012:user/tenant-toolkit/ingest/alpha-ingest-ECHO-01"
    toolkit = {"aws:resourcetag/managed-by": ["appstream-tenant-toolkit"], "aws:resourcetag/tenant": ["alpha"],
               "aws:requesttag/managed-by": ["appstream-tenant-toolkit"], "aws:requesttag/tenant": ["alpha"],
               "aws:principalaccount": ["123456789012"]}  # fmt: skip
    own = "arn:aws:iam::123456789012:policy" + policy.BOUNDARY_PATH + policy.INGEST_BOUNDARY_NAME
    for document in (DOCUMENT, policy.per_tenant(DOCUMENT)):
        for action in ("iam:CreateUser", "iam:PutUserPolicy", "iam:PutUserPermissionsBoundary"):
            context = {**toolkit, "aws:principaltag/tenant": ["alpha"]}
            assert policy._judge(document, action, user, {**context, "iam:permissionsboundary": [own]}), action
            for other in ("arn:aws:iam::123456789012:policy/wide", None):
                extra = {"iam:permissionsboundary": [other]} if other else {}
                assert not policy._judge(document, action, user, {**context, **extra}), (action, other)
        assert not policy._judge(document, "iam:DeleteUserPermissionsBoundary", user, toolkit)
    boundary_document = policy.load(policy.INGEST_BOUNDARY)
    granted = {action for s in boundary_document["Statement"] for action in policy.as_list(s["Action"])}
    assert {action.split(":")[0] for action in granted} == {"s3", "kms"}
    assert not any(action.startswith(("s3:Delete", "s3:PutBucket")) for action in granted)


def _statement(sid: str) -> dict:
    (found,) = [s for s in STATEMENTS if s["Sid"] == sid]
    return found


def test_security_group_and_interface_changes_are_scoped_to_toolkit_vpcs_or_to_directory_service() -> None:
    scoped = {"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
              "ec2:RevokeSecurityGroupEgress", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
              "ec2:CreateNetworkInterfacePermission", "ec2:DeleteSecurityGroup"}  # fmt: skip
    for statement in STATEMENTS:
        if scoped & set(policy.as_list(statement["Action"])):
            keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
            assert keys & {"aws:ResourceTag/managed-by", "aws:ViaAWSService"}, statement["Sid"]


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
    # no longer say anything about this statement; a key it never puts in a request context would make
    # the statement never (or, negated, always) apply there, whatever it means on AWS.
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            assert isinstance(iam_enforce.condition_holds(operator, key, values, {}), bool)
            assert iam_enforce.is_modelled_key(key), f"{statement['Sid']}: the sandbox never sets {key}"


# --- every action the features' code calls is in the policy that runs it ---------------------------------------
BOOTSTRAP = policy.load(policy.BOOTSTRAP_POLICY)
# The plugins of the instrument data ingest, the image build's secrets, the state store and the alerts, and the
# policy whose holder runs each: the deployer (site.yml, teardown.yml, the runbooks), or the account's bootstrap
# (playbooks/bootstrap.yml), which holds both.
CALLERS = {
    "plugins/modules/ingest_landing_bucket.py": "deployer",
    "plugins/modules/tenant_iam_principal.py": "deployer",
    "plugins/modules/ingest_instrument_credentials.py": "deployer",
    "plugins/modules/datasync_location_s3.py": "deployer",
    "plugins/modules/datasync_location_fsx_windows.py": "deployer",
    "plugins/modules/datasync_task.py": "deployer",
    "plugins/modules/tenant_log_group.py": "deployer",
    "plugins/modules/ingest_sync.py": "deployer",
    "plugins/modules/ingest_transfers_info.py": "deployer",
    "plugins/modules/tenant_lock.py": "deployer",
    "plugins/modules/tenant_history_info.py": "deployer",
    "plugins/callback/tenant_state.py": "deployer",
    "plugins/lookup/tenant_secret.py": "deployer",
    "plugins/modules/tenant_alert_topic.py": "deployer",
    "plugins/modules/tenant_alarms.py": "deployer",
    "plugins/modules/directory_event_topic.py": "deployer",
    "plugins/modules/appstream_usage_report_subscription.py": "deployer",
    "plugins/modules/tenant_tags_info.py": "deployer",
    "plugins/modules/toolkit_state_store.py": "bootstrap",
    "plugins/modules/cost_allocation_tag.py": "bootstrap",
}
# Calls the code can make that neither policy grants, and why the toolkit's own runs never need them.
NOT_GRANTED = {
    # Only for a principal that is in a group: the group's permission is needed too, and the toolkit's never is.
    "iam:RemoveUserFromGroup",
    # Only for a principal with a managed policy attached: the toolkit's inline policies only.
    "iam:DetachUserPolicy",
    "iam:DetachRolePolicy",
    # Only when a user's path differs from the module's (the ingest's path is fixed).
    "iam:UpdateUser",
    # appstream_usage_report_subscription state=absent: no playbook unsubscribes a region.
    "appstream:DeleteUsageReportSubscription",
}


@pytest.mark.parametrize("plugin", sorted(CALLERS))
def test_every_action_the_code_calls_is_allowed_by_the_policy_that_runs_it(plugin: str) -> None:
    called = policy.actions_called_by(ROOT / plugin)
    assert called, f"{plugin}: no API call found (the scan would prove nothing)"
    documents = [DOCUMENT] if CALLERS[plugin] == "deployer" else [DOCUMENT, BOOTSTRAP]
    merged = {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}
    missing = {action for action in called if not policy.allowing_statements(merged, action)}
    assert missing <= NOT_GRANTED, sorted(missing - NOT_GRANTED)


def test_the_scan_of_the_code_finds_its_calls() -> None:
    """The scan is not empty-handed: it sees a paginated call, a call in an imported module_utils, a waiter, and the
    action of an S3 operation named otherwise."""
    assert {"datasync:ListLocations", "datasync:CreateLocationS3"} <= policy.actions_called_by(
        ROOT / "plugins/modules/datasync_location_s3.py"
    )
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem"} <= (
        policy.actions_called_by(ROOT / "plugins/modules/tenant_lock.py")
    )
    assert {"dynamodb:DescribeTable", "s3:ListBucket", "s3:PutEncryptionConfiguration"} <= policy.actions_called_by(
        ROOT / "plugins/modules/toolkit_state_store.py"
    )


def test_the_bootstrap_policy_holds_what_only_the_account_s_bootstrap_needs() -> None:
    """policies/bootstrap.json: the state store's creation, the account's cost allocation tag, the builder
    bootstrap's secret and role; none of it is in the everyday deployer's policy."""
    only_bootstrap = {
        "dynamodb:CreateTable",
        "dynamodb:TagResource",
        "s3:PutBucketVersioning",
        "ce:UpdateCostAllocationTagsStatus",
    }
    for action in only_bootstrap:
        assert policy.allowing_statements(BOOTSTRAP, action), action
        assert not [sid for sid in policy.allowing_statements(DOCUMENT, action) if "State" in sid], action
    assert policy.allowing_statements(DOCUMENT, "dynamodb:CreateTable") == []
    for statement in BOOTSTRAP["Statement"]:
        actions = policy.as_list(statement["Action"])
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z][A-Za-z0-9]*", action) for action in actions), statement["Sid"]
        if policy.as_list(statement["Resource"]) == ["*"]:
            assert set(actions) == {"ce:ListCostAllocationTags", "ce:UpdateCostAllocationTagsStatus"}
    (pass_role,) = [s for s in BOOTSTRAP["Statement"] if "iam:PassRole" in policy.as_list(s["Action"])]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "appstream.amazonaws.com"}}
    assert pass_role["Resource"] == "arn:aws:iam::*:role/tenant-toolkit/builder-bootstrap/*"
