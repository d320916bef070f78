"""The deployer's IAM policy (policies/deployer.json) read as data: which actions it allows, on what.

The policy is checked three ways: its shape (no action or resource left open, tag conditions on
everything that creates, changes or deletes: test_least_privilege.py), its coverage (every call that
site.yml and teardown.yml made on the sandbox maps to an action some statement allows:
test_ownership.py), and its sufficiency, by a converge and a teardown made by an IAM user holding only
this policy on a sandbox that enforces IAM (test_least_privilege_enforced.py). The mapping of API calls
to IAM actions is the sandbox's own (sandbox/iam_enforce.py), so the coverage check and the enforcing
sandbox cannot disagree about it.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from sandbox import iam_enforce
from sandbox.iam_enforce import ACTION_OF_OPERATION, UNAUTHORISED_CALLS, action_of
from tests.helpers import ROOT, load_plugin

POLICY = ROOT / "policies" / "deployer.json"
# How the policy is cut into managed policies: the script operators run (one implementation).
_parts = load_plugin("scripts/deployer_policy_parts.py")
MANAGED_POLICY_SIZE = _parts.MANAGED_POLICY_SIZE
policy_size = _parts.policy_size
managed_policy_parts = _parts.managed_policy_parts
per_tenant = _parts.per_tenant
render = _parts.render
TOOLKIT = _parts.TOOLKIT

__all__ = [
    "ACTION_OF_OPERATION",
    "MANAGED_POLICY_SIZE",
    "UNAUTHORISED_CALLS",
    "action_of",
    "managed_policy_parts",
    "per_tenant",
    "policy_size",
    "render",
]


def load(path: Path = POLICY) -> dict[str, Any]:
    return json.loads(path.read_text())


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowing_statements(policy: dict[str, Any], action: str) -> list[str]:
    """Sids of the Allow statements whose Action matches `action` (IAM matches case-insensitively)."""
    return [
        statement["Sid"]
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(statement["Action"]))
    ]


def is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[1]
    return verb.startswith(("Describe", "List", "Get", "View"))


# The permissions boundary of every SAML streaming role (policies/saml-role-boundary.json): a managed
# policy the operator creates once per account, before the first converge (docs/operator-guide.md).
BOUNDARY = ROOT / "policies" / "saml-role-boundary.json"
BOUNDARY_PATH = _parts.BOUNDARY_PATH
BOUNDARY_NAME = _parts.BOUNDARY_NAME
BOUNDARY_ARN = f"arn:aws:iam::123456789012:policy{BOUNDARY_PATH}{BOUNDARY_NAME}"
INGEST_BOUNDARY = ROOT / "policies" / "ingest-boundary.json"
INGEST_BOUNDARY_NAME = _parts.INGEST_BOUNDARY_NAME
INGEST_BOUNDARY_ARN = f"arn:aws:iam::123456789012:policy{BOUNDARY_PATH}{INGEST_BOUNDARY_NAME}"
# What the account's bootstrap (playbooks/bootstrap.yml, the builder bootstrap) needs besides the deployer's policy.
BOOTSTRAP_POLICY = ROOT / "policies" / "bootstrap.json"


def bootstrap_account(iam: Any) -> str:
    """As the account's administrator (root on the sandbox): create the SAML roles' and the ingest's boundaries."""
    created = iam.create_policy(PolicyName=BOUNDARY_NAME, Path=BOUNDARY_PATH, PolicyDocument=BOUNDARY.read_text())[
        "Policy"
    ]["Arn"]
    assert created == BOUNDARY_ARN, created
    ingest = INGEST_BOUNDARY.read_text()
    made = iam.create_policy(PolicyName=INGEST_BOUNDARY_NAME, Path=BOUNDARY_PATH, PolicyDocument=ingest)["Policy"]
    assert made["Arn"] == INGEST_BOUNDARY_ARN, made["Arn"]
    return created


# Writes the policy allows whatever the resource's owner, because AWS gives nothing to scope them by: the
# AppStream user pool and directory configs have no resource-level permissions, and the scaling of any
# AppStream fleet is one scalable target among others (service-namespace and dimension are its only keys).
# The region's AppStream usage report subscription is the account's: shared by every tenant, owned by none.
WITHOUT_OWNER = {
    "appstream:CreateUsageReportSubscription",
    "appstream:CreateDirectoryConfig",
    "appstream:CreateUser",
    "appstream:DeleteDirectoryConfig",
    "appstream:DeleteUser",
    "appstream:DisableUser",
    "appstream:EnableUser",
    "appstream:UpdateDirectoryConfig",
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:DeleteScheduledAction",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:PutScheduledAction",
    "application-autoscaling:RegisterScalableTarget",
    # The account's CloudWatch Logs resource policy that lets DataSync write to the toolkit's log groups.
    "logs:PutResourcePolicy",
}
# Writes held by the resource's name only, which any resource of that name passes: S3 gives no ownership tag
# to judge a bucket's or an object's calls by (the landing bucket `<tenant>-ingest-<account>-<region>`, the
# state store's history records `history/<tenant>/...`). In the per-tenant mode the name is the tenant's own.
OWNED_BY_NAME = {
    "s3:AbortMultipartUpload",
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
}
# The request context of the calls the scaling statement is for (their only condition keys).
_SCALING = {
    "application-autoscaling:service-namespace": ["appstream"],
    "application-autoscaling:scalable-dimension": ["appstream:fleet:DesiredCapacity"],
}


def _example_arn(pattern: str, tenant: str) -> str:
    """A concrete ARN a Resource pattern covers, named after `tenant` where the pattern names one."""
    named = pattern.replace("${aws:PrincipalTag/tenant}", tenant).replace("${aws:PrincipalAccount}", "123456789012")
    return named.replace("*", "x").replace("?", "x").replace("arn:aws:iam::x:", "arn:aws:iam::123456789012:")


def _judge(document: dict[str, Any], action: str, arn: str, context: dict[str, list[str]]) -> bool:
    checks = [iam_enforce.Authorisation(action, arn, dict(context))]
    return iam_enforce.evaluate(iam_enforce.statements_of([document]), checks).allowed


def _principal_context(principal_tags: dict[str, str]) -> dict[str, list[str]]:
    context = {"aws:principalaccount": ["123456789012"], "aws:viaawsservice": ["false"], **_SCALING}
    return context | {f"aws:principaltag/{k}": [v] for k, v in principal_tags.items()}


def writes_allowed_on(
    document: dict[str, Any], resource_tags: dict[str, str], principal_tags: dict[str, str]
) -> set[str]:
    """The writes the policy allows on an existing resource with `resource_tags` (its name, where it has one
    of a tenant, being that tenant's), judged by the enforcing sandbox's evaluator: every write action of
    every Allow statement, on an example of each resource the statement names."""
    context = _principal_context(principal_tags) | {
        f"aws:resourcetag/{k}".lower(): [v] for k, v in resource_tags.items()
    }
    owner = resource_tags.get("tenant", "someone")
    allowed = set()
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if is_read_only(action):
                continue
            for pattern in as_list(statement["Resource"]):
                arns = [_example_arn(pattern, owner)]
                # A rule is never authorised alone: its security group is the call's required resource.
                arns += [
                    arn.replace(":security-group-rule/", ":security-group/")
                    for arn in arns
                    if ":security-group-rule/" in arn
                ]
                if all(_judge(document, action, arn, context) for arn in arns):
                    allowed.add(action)
    return allowed


def creations_allowed_with(
    document: dict[str, Any], request_tags: dict[str, str], principal_tags: dict[str, str]
) -> set[str]:
    """The create calls the policy allows with the request tags `request_tags` (a new resource carries them:
    aws:ResourceTag as aws:RequestTag), among the actions of the statements conditioned on request tags."""
    tags = {f"aws:requesttag/{k}".lower(): [v] for k, v in request_tags.items()}
    tags |= {f"aws:resourcetag/{k}".lower(): [v] for k, v in request_tags.items()}
    context = _principal_context(principal_tags) | tags | {"aws:tagkeys": list(request_tags)}
    owner = request_tags.get("tenant", "someone")
    allowed = set()
    for statement in document["Statement"]:
        keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
        if statement["Effect"] != "Allow" or "aws:RequestTag/managed-by" not in keys:
            continue
        for action in as_list(statement["Action"]):
            for pattern in as_list(statement["Resource"]):
                if _judge(document, action, _example_arn(pattern, owner), context):
                    allowed.add(action)
    return allowed


# --- the actions a plugin's code calls -------------------------------------------------------------------------
# A client a plugin or the module_utils it imports by FQCN make (`module.client("datasync")`,
# `session.client("s3")`; `...module_utils.state import lock` included), and the botocore operations of those
# clients whose method names appear in that code (`.start_task_execution(`, `paginate(client.list_tasks`,
# `get_paginator("...")`).
_CLIENT = re.compile(r"""\bclient\(\s*["']([a-z0-9-]+)["']""")
_IMPORT = re.compile(
    r"^from ansible_collections\.iconeus\.tenant_toolkit\.plugins\.module_utils\.([\w.]+) import \(?([^(\n]*)", re.M
)
_WAITERS = {("s3", "bucket_exists"): "HeadBucket", ("dynamodb", "table_exists"): "DescribeTable"}
# S3 operations authorised as an action of another name (Service Authorization Reference for Amazon S3, and
# sandbox/iam_enforce.py's s3_action, which the enforced proof uses).
S3_ACTION_OF_OPERATION = {
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "HeadObject": "s3:GetObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}


def _plugin_sources(plugin: Path) -> list[Path]:
    """The plugin's file and every module_utils file it imports, transitively."""
    utils = ROOT / "plugins" / "module_utils"
    seen: list[Path] = []
    pending = [plugin]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        for package, names in _IMPORT.findall(path.read_text()):
            base = utils / package.replace(".", "/")
            candidates = [base.with_suffix(".py")]
            candidates += [base / f"{name.strip()}.py" for name in names.split(",")]
            pending += [candidate for candidate in candidates if candidate.is_file()]
    return seen


def actions_called_by(plugin: Path) -> set[str]:
    """The IAM actions of the API calls `plugin` makes, found in its code (see above)."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    sources = [path.read_text() for path in _plugin_sources(plugin)]
    found = set()
    # The clients made by the plugin or by the module_utils it imports (a base class of the module's resource
    # kind may make it, as module_utils/datasync.py's DataSyncKind does).
    for service in {service for text in sources for service in _CLIENT.findall(text)}:
        for operation in session.get_service_model(service).operation_names:
            method = xform_name(operation)
            called = rf"\.{method}\b(?!_)|get_paginator\(\s*[\"']{method}[\"']"
            if any(re.search(called, text) for text in sources):
                found.add((service, operation))
        for (waiter_service, waiter), operation in _WAITERS.items():
            if waiter_service == service and any(f'get_waiter("{waiter}")' in text for text in sources):
                found.add((service, operation))
    actions = set()
    for service, operation in found:
        action = S3_ACTION_OF_OPERATION.get(operation) if service == "s3" else None
        # action_of takes the name a request is signed with (the sandbox's view): `tagging` for botocore's
        # `resourcegroupstaggingapi`, `monitoring` for `cloudwatch`.
        action = action or action_of(session.get_service_model(service).signing_name, operation)
        if action is not None:
            actions.add(action)
    return actions
