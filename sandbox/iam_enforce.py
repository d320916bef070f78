"""Opt-in IAM enforcement: every request is authorised against the caller's IAM policies, as AWS would.

Off unless asked for (`python -m sandbox start --enforce-iam`, `SANDBOX_ENFORCE_IAM=1`, or
`PUT /_sandbox/iam-enforcement {"enabled": true}`). When on, `SandboxApp` asks `IamEnforcer.check`
about each request before it reaches moto or the project's own backends (AppStream, DS, FSx, Budgets).

moto's own enforcement (INITIAL_NO_AUTH_ACTION_COUNT) cannot judge a least-privilege policy: it
authorises almost every call on resource "*" (so statements scoped to ARNs never match) and ignores
conditions. This module builds what AWS's evaluation works on, per request:

- the principal: the access key id of the SigV4 credential. A key of an IAM user of the sandbox's
  moto IAM backend is evaluated against that user's policies (inline, attached managed, and those of
  its groups) and its permissions boundary; a key STS issued for a role session against the role's
  policies and boundary, with the session's tags (over the role's) as aws:PrincipalTag. Any other key
  (the sandbox's usual `testing`) and unsigned requests stand for the account root, which IAM policies
  do not restrict: they are allowed. The signature is not verified: the key id alone names the principal.
- the action: `<service prefix>:<Operation>`, or the IAM action named differently from the API
  operation (ACTION_OF_OPERATION: AWS Budgets' permissions are coarser than its API).
- the resources: the ARN of each resource the call names or creates (a resource not created yet has
  a wildcard id, as the Service Authorization Reference writes it: `...:vpc/*`), read from the
  request and, for existing resources, from moto's or the sandbox's own backends.
- the context: aws:RequestTag/<key> and aws:TagKeys (tags the request sets: context of the resources
  it creates, and of the resources a tagging call tags), aws:ResourceTag/<key> (tags of an existing
  resource; of a resource being created, the tags it is created with), ec2:CreateAction (tagging while
  creating), iam:PassedToService, iam:AWSServiceName, iam:PermissionsBoundary, kms:ViaService,
  kms:GrantIsForAWSResource, aws:ViaAWSService, Application Auto Scaling's service-namespace and
  scalable-dimension, aws:PrincipalArn, aws:PrincipalTag/<key>, aws:RequestedRegion, dynamodb:LeadingKeys
  and s3:prefix (MODELLED_KEYS).
- the dependent authorisations AWS adds to a call: ec2:CreateTags when an EC2 create call carries
  TagSpecifications, the Tag action of IAM, Secrets Manager, FSx, Directory Service, AppStream and
  Budgets when a create call carries tags, sts:TagSession for session tags, iam:PassRole for a role
  handed to AppStream, iam:CreateServiceLinkedRole when a service needs its service-linked role, the
  Directory Service application authorisation an FSx file system joined to a Managed AD needs,
  datasync:TagResource and iam:PassRole (to datasync.amazonaws.com) of DataSync's locations and tasks,
  kms:CreateGrant through FSx for a customer key, fsx:CreateBackup for a final backup, the EC2 group
  and interfaces Directory Service makes with the caller's rights (DEPENDENT_AUTHORISATIONS lists them).

Evaluation follows AWS's policy evaluation logic: an explicit Deny wins; otherwise every resource of every
authorisation must be matched by an Allow statement whose action, resource and conditions all match, and
by the principal's permissions boundary when it has one; sts:AssumeRole also needs the role's trust
policy (which, naming the caller, needs no identity policy). Policy variables (`${aws:PrincipalTag/x}`)
take their values from the request context in string and ARN conditions and in Resource.
Condition operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like,
Bool, Null, each with IfExists and the ForAllValues:/ForAnyValue: qualifiers. Any other operator fails
closed (an Allow holding it never applies, a Deny holding it always does) and is named in the
sandbox's log. Actions offered on "*" only (WITHOUT_RESOURCE_LEVEL) are evaluated on "*"; a call this
module has no resource model for is evaluated on "*" too, and says so in the log: a policy scoped to
ARNs then denies it rather than the sandbox allowing it silently.

A denial answers as the service does (UnauthorizedOperation for EC2, AccessDenied for IAM, STS and
S3, AccessDeniedException for JSON services) and is written to the request log with its error code
and the denied action; request bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from sandbox.jsonproto import ACCOUNT_ID
from sandbox.moto_gaps import SESSION_TAGS
from sandbox.protocol import denial_reply, request_protocol

log = logging.getLogger("sandbox.iam")

ENV_VAR = "SANDBOX_ENFORCE_IAM"
ROOT = "root"  # the principal of any key that is not an IAM user's
TRUE_WORDS = ("1", "true", "yes", "on")

# API operations whose IAM action has another name (AWS Budgets' permissions are coarser than its API).
ACTION_OF_OPERATION = {
    "budgets:CreateBudget": "budgets:ModifyBudget",
    "budgets:UpdateBudget": "budgets:ModifyBudget",
    "budgets:DeleteBudget": "budgets:ModifyBudget",
    "budgets:CreateNotification": "budgets:ModifyBudget",
    "budgets:UpdateNotification": "budgets:ModifyBudget",
    "budgets:DeleteNotification": "budgets:ModifyBudget",
    "budgets:CreateSubscriber": "budgets:ModifyBudget",
    "budgets:UpdateSubscriber": "budgets:ModifyBudget",
    "budgets:DeleteSubscriber": "budgets:ModifyBudget",
    "budgets:DescribeBudget": "budgets:ViewBudget",
    "budgets:DescribeBudgets": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    "budgets:DescribeSubscribersForNotification": "budgets:ViewBudget",
}
# Calls that need no permission at all (AWS answers them even under an explicit Deny).
UNAUTHORISED_CALLS = {"sts:GetCallerIdentity"}
# SigV4 service names whose IAM prefix differs.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "tagging": "tag"}

# Actions AWS offers no resource-level permission for: evaluated on "*" (a statement scoped to ARNs
# never grants them). Besides these, every EC2 Describe* call, and the collection reads of the other
# services listed in COLLECTION_READS, are evaluated on "*".
WITHOUT_RESOURCE_LEVEL = {
    "appstream:CreateDirectoryConfig",
    "appstream:UpdateDirectoryConfig",
    "appstream:DeleteDirectoryConfig",
    "appstream:CreateUser",
    "appstream:DeleteUser",
    "appstream:DisableUser",
    "appstream:EnableUser",
    # The region's usage report subscription is the account's, not a resource (Service Authorization Reference).
    "appstream:CreateUsageReportSubscription",
    "appstream:DeleteUsageReportSubscription",
    # CloudWatch Logs' account-level resource policies (no resourceArn) name no resource.
    "logs:PutResourcePolicy",
    "logs:DeleteResourcePolicy",
    # Resource Groups Tagging API: GetResources takes no resource (its Resource types column is empty in
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html).
    "tag:GetResources",
}
# Creates the Service Authorization Reference gives no resource type: authorised on "*", with the context
# (request tags) of the call.
CREATES_WITHOUT_RESOURCE_TYPE = {
    "ds:CreateMicrosoftAD",
    "ds:CreateDirectory",
    # Service Authorization Reference for AWS DataSync: CreateLocation* have no resource type, only
    # aws:RequestTag and aws:TagKeys (and the dependent datasync:TagResource, iam:PassRole).
    "datasync:CreateLocationS3",
    "datasync:CreateLocationFsxWindows",
}
# Reads of a collection, naming no single resource (or only as a filter): evaluated on "*".
COLLECTION_READS = {
    "appstream:DescribeDirectoryConfigs",
    "appstream:DescribeFleets",
    "appstream:DescribeImageBuilders",
    "appstream:DescribeImages",
    "appstream:DescribeStacks",
    "appstream:DescribeUsers",
    "ds:DescribeDirectories",
    "fsx:DescribeBackups",
    "fsx:DescribeFileSystemAliases",
    "fsx:DescribeFileSystems",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingActivities",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScheduledActions",
    "budgets:DescribeBudgets",
    "appstream:DescribeUsageReportSubscriptions",
    "cloudwatch:DescribeAlarms",
    "ds:DescribeEventTopics",
    "secretsmanager:ListSecrets",
    "secretsmanager:GetRandomPassword",
    "iam:ListAccountAliases",
    "iam:ListSAMLProviders",
    "iam:ListRoles",
    "iam:ListPolicies",
    "iam:ListUsers",
    "iam:GetAccountSummary",
    "kms:ListKeys",
    "kms:ListAliases",
    "s3:ListAllMyBuckets",
    "datasync:ListLocations",
    "datasync:ListTasks",
    "datasync:ListTaskExecutions",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "dynamodb:ListTables",
}

# The authorisations AWS adds to a call, each evaluated like the call itself (see _dependent).
DEPENDENT_AUTHORISATIONS = {
    "ec2:<any create call with TagSpecifications>": "ec2:CreateTags on the new resources, with ec2:CreateAction",
    "iam:CreateRole (with Tags)": "iam:TagRole",
    "iam:CreateSAMLProvider (with Tags)": "iam:TagSAMLProvider",
    "iam:CreateUser (with Tags)": "iam:TagUser",
    "secretsmanager:CreateSecret (with Tags)": "secretsmanager:TagResource",
    "fsx:CreateFileSystem (with Tags)": "fsx:TagResource",
    "fsx:CreateFileSystem (ActiveDirectoryId)": "ds:AuthorizeApplication, ds:GetAuthorizedApplicationDetails",
    "fsx:CreateFileSystem (KmsKeyId)": "kms:CreateGrant, kms:DescribeKey with kms:ViaService fsx.<region>",
    "fsx:CreateFileSystem (no FSx service-linked role yet)": "iam:CreateServiceLinkedRole (fsx.amazonaws.com)",
    "fsx:DeleteFileSystem (final backup)": "fsx:CreateBackup; fsx:TagResource with FinalBackupTags",
    "fsx:DeleteFileSystem (joined to a Managed AD)": "ds:UnauthorizeApplication",
    "fsx:CreateBackup (with Tags)": "fsx:TagResource",
    "appstream:CreateFleet/CreateImageBuilder/UpdateFleet/UpdateImageBuilder (IamRoleArn)": (
        "iam:PassRole with iam:PassedToService appstream.amazonaws.com"
    ),
    "application-autoscaling:RegisterScalableTarget (no service-linked role yet)": (
        "iam:CreateServiceLinkedRole (<namespace>.application-autoscaling.amazonaws.com)"
    ),
    "ds:CreateMicrosoftAD (with Tags)": "ds:AddTagsToResource on the new directory",
    "appstream:CreateFleet/CreateStack/CreateImageBuilder (with Tags)": "appstream:TagResource",
    "datasync:CreateLocation*/CreateTask (with Tags)": "datasync:TagResource on the new location or task",
    "datasync:CreateLocationS3/UpdateLocationS3/StartTaskExecution (a bucket access role)": (
        "iam:PassRole with iam:PassedToService datasync.amazonaws.com"
    ),
    "logs:CreateLogGroup (with tags)": "logs:TagResource on the new log group",
    "budgets:CreateBudget (with ResourceTags)": "budgets:TagResource",
    "sts:AssumeRole (with Tags)": "sts:TagSession, in the role's trust policy too",
    "ds:CreateMicrosoftAD": (
        "ec2:CreateSecurityGroup (VPC), ec2:AuthorizeSecurityGroupIngress/Egress, ec2:CreateNetworkInterface "
        "(subnets), ec2:CreateTags, with aws:ViaAWSService true"
    ),
    "ds:DeleteDirectory": (
        "ec2:RevokeSecurityGroupIngress/Egress, ec2:DeleteSecurityGroup, ec2:DeleteNetworkInterface, "
        "with aws:ViaAWSService true"
    ),
}
# FSx makes its network interfaces with its service-linked role, not the caller's rights (FSx for Windows
# User Guide, "Using service-linked roles for Amazon FSx"): nothing of EC2 is authorised for FSx here.

_ERROR_CODES = {"ec2": "UnauthorizedOperation", "query": "AccessDenied", "rest-xml": "AccessDenied"}
DENIAL_CODES = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"}


def enabled_by_environment() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() in TRUE_WORDS


def action_of(service: str, operation: str) -> str | None:
    """The IAM action an API call needs (None when it needs none)."""
    call = f"{IAM_PREFIX.get(service, service)}:{operation}"
    if call in UNAUTHORISED_CALLS:
        return None
    return ACTION_OF_OPERATION.get(call, call)


# ---------------------------------------------------------------------------------------------------
# Matching and conditions
# ---------------------------------------------------------------------------------------------------
def wildcard_match(pattern: str, value: str, ignore_case: bool = False, variables: Variables | None = None) -> bool:
    """IAM's `*` (any run of characters) and `?` (one character); everything else literal.

    With `variables` (the request context of a 2012-10-17 policy), `${...}` policy variables are replaced
    first (substitute_pattern); a variable without a value makes the pattern match nothing.
    """
    regex = substitute_pattern(pattern, variables)
    if regex is None:
        return False
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def arn_matches(pattern: str, arn: str, variables: Variables | None = None) -> bool:
    """Match an ARN against a Resource or ArnLike pattern: each of the six colon-separated parts apart."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(wildcard_match(w, a, variables=variables) for w, a in zip(wanted, actual, strict=True))


def action_matches(pattern: str, action: str) -> bool:
    """Actions match case-insensitively, with wildcards."""
    return wildcard_match(pattern, action, ignore_case=True)


class UnknownOperator(Exception):
    """A condition operator this evaluator does not implement (the statement fails closed)."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# (actual value, policy value, variables) -> match. Variables are None where AWS takes the policy value
# literally: in Bool (and Null) conditions, and in policies of a Version before 2012-10-17.
_MATCHERS: dict[str, Callable[[str, str, Variables | None], bool]] = {
    "StringEquals": lambda actual, wanted, variables: actual == substitute_text(wanted, variables),
    "StringEqualsIgnoreCase": lambda actual, wanted, variables: (
        (resolved := substitute_text(wanted, variables)) is not None and actual.lower() == resolved.lower()
    ),
    "StringLike": lambda actual, wanted, variables: wildcard_match(wanted, actual, variables=variables),
    "ArnEquals": lambda actual, wanted, variables: arn_matches(wanted, actual, variables),
    "ArnLike": lambda actual, wanted, variables: arn_matches(wanted, actual, variables),
    "Bool": lambda actual, wanted, _variables: actual.lower() == wanted.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(
    operator: str, key: str, policy_values: Any, context: dict[str, list[str]], variables: bool = True
) -> bool:
    """One (operator, key, values) of a Condition block against the request context.

    `context` maps lower-cased keys to their values (one for a single-valued key). A key absent from
    the context fails a positive operator and passes a negated one, IfExists and ForAllValues; Null
    tests presence itself. Several policy values are ORed (NORed for a negated operator). Policy
    variables in the values of string and ARN operators take their values from `context` (unless
    `variables` is false: a policy older than 2012-10-17); a value whose variable has none matches
    nothing, so it fails a positive operator and passes a negated one (IAM User Guide, "Policy
    variables with no value").
    """
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise UnknownOperator(operator)
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    wanted = [_text(v) for v in (policy_values if isinstance(policy_values, list) else [policy_values])]
    actual = context.get(key.lower())
    if base == "Null":
        if qualifier or if_exists:
            raise UnknownOperator(operator)
        return any((actual is None) == (w.lower() == "true") for w in wanted)
    negated = base in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(base, base))
    if matcher is None:
        raise UnknownOperator(operator)
    if actual is None:
        return if_exists or negated or qualifier == "ForAllValues"

    substituted = context if variables and base.startswith(("String", "Arn")) else None

    def one(value: str) -> bool:
        found = any(matcher(value, w, substituted) for w in wanted)
        return not found if negated else found

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in actual)
    # A single-valued operator on a multi-valued key: each value must pass a negated test, any a positive one.
    return all(one(v) for v in actual) if negated else any(one(v) for v in actual)


def conditions_hold(block: dict[str, dict[str, Any]], context: dict[str, list[str]], variables: bool = True) -> bool:
    """A whole Condition block: every operator and every key under it must hold (AND)."""
    return all(
        condition_holds(operator, key, values, context, variables)
        for operator, keys in block.items()
        for key, values in keys.items()
    )


# ---------------------------------------------------------------------------------------------------
# Policy variables (IAM User Guide, "IAM policy elements: Variables and tags")
# ---------------------------------------------------------------------------------------------------
Variables = dict[str, list[str]]  # the request context the variables of a policy take their values from
POLICY_VARIABLES_VERSION = "2012-10-17"
LITERAL = "__literal__"  # marks a statement of a policy older than 2012-10-17: no variables
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# ${*}, ${?} and ${$} stand for the character itself, where it would otherwise be a wildcard.
_SPECIAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}


def variable_value(expression: str, variables: Variables) -> str | None:
    """The value of `${key}` or `${key, 'default'}`: the key's single value in the request context, else
    the default; None when there is neither (a multivalued key cannot be a variable)."""
    name, comma, default = expression.partition(",")
    name = name.strip()
    if name in _SPECIAL_VARIABLES:
        return _SPECIAL_VARIABLES[name]
    values = variables.get(name.lower())
    if values is not None and len(values) == 1:
        return values[0]
    default = default.strip()
    if comma and len(default) >= 2 and default[0] == default[-1] == "'":
        return default[1:-1]
    return None


def substitute_text(value: str, variables: Variables | None) -> str | None:
    """A policy value with its variables replaced (literal text: StringEquals); None when one has no value."""
    if variables is None:
        return value
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(value):
        resolved = variable_value(match.group(1), variables)
        if resolved is None:
            return None
        parts += [value[position : match.start()], resolved]
        position = match.end()
    return "".join([*parts, value[position:]])


def substitute_pattern(pattern: str, variables: Variables | None) -> str | None:
    """A regular expression for a wildcard pattern (StringLike, ARNs): `*` and `?` of the policy text are
    wildcards, what a variable brings in is literal; None when a variable has no value."""

    def wildcards(text: str) -> str:
        return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)

    if variables is None:
        return wildcards(pattern)
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        resolved = variable_value(match.group(1), variables)
        if resolved is None:
            return None
        parts += [wildcards(pattern[position : match.start()]), re.escape(resolved)]
        position = match.end()
    return "".join([*parts, wildcards(pattern[position:])])


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------
@dataclass
class Authorisation:
    """One action on one resource, with the context AWS evaluates it in."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Decision:
    allowed: bool
    denied: Authorisation | None = None
    explicit: bool = False  # denied by a Deny statement (not merely by no Allow)
    reason: str = ""
    policy_type: str = "identity-based policy"  # which kind of policy refused it (the denial message names it)


def statements_of(documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for document in documents:
        statement = document.get("Statement", [])
        statements = [statement] if isinstance(statement, dict) else statement
        if document.get("Version") != POLICY_VARIABLES_VERSION:
            # Before 2012-10-17 `${...}` is literal text (IAM User Guide, "Variables and tags").
            statements = [{**s, LITERAL: True} for s in statements]
        found.extend(statements)
    return found


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _applies(statement: dict[str, Any], check: Authorisation) -> bool:
    """Whether the statement's Action/NotAction and Resource/NotResource cover the authorisation.

    A Resource holding a policy variable without a value matches no resource (IAM User Guide).
    """
    if not _applies_to_action(statement, check.action):
        return False
    variables = None if statement.get(LITERAL) else check.context
    if "NotResource" in statement:
        return not any(arn_matches(p, check.resource, variables) for p in _as_list(statement["NotResource"]))
    return any(arn_matches(p, check.resource, variables) for p in _as_list(statement.get("Resource")))


def _applies_to_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(action_matches(p, action) for p in _as_list(statement["NotAction"]))
    return any(action_matches(p, action) for p in _as_list(statement.get("Action")))


def evaluate(statements: list[dict[str, Any]], checks: list[Authorisation]) -> Decision:
    """AWS's identity-policy evaluation: explicit Deny wins, then every check needs a matching Allow."""
    unknown: list[str] = []

    def holds(statement: dict[str, Any], check: Authorisation) -> bool | None:
        try:
            return conditions_hold(statement.get("Condition", {}), check.context, not statement.get(LITERAL))
        except UnknownOperator as exc:
            unknown.append(str(exc))
            log.warning(
                "IAM: condition operator %s is not implemented: statement %s fails closed",
                exc,
                statement.get("Sid", "(no Sid)"),
            )
            return None

    for check in checks:
        for statement in statements:
            if (
                statement.get("Effect") == "Deny"
                and _applies(statement, check)
                and holds(statement, check) is not False
            ):
                return Decision(False, check, True, f"explicit deny in statement {statement.get('Sid', '(no Sid)')}")
    for check in checks:
        allowed = any(
            statement.get("Effect") == "Allow" and _applies(statement, check) and holds(statement, check) is True
            for statement in statements
        )
        if not allowed:
            reason = "no statement allows it"
            if unknown:
                reason += f" (not implemented, failing closed: {', '.join(sorted(set(unknown)))})"
            return Decision(False, check, False, reason)
    return Decision(True)


# ---------------------------------------------------------------------------------------------------
# The request: its parameters, whatever the protocol
# ---------------------------------------------------------------------------------------------------
@dataclass
class Request:
    service: str
    operation: str
    region: str
    params: dict[str, Any]  # JSON body, or the flattened query/form fields
    method: str = "POST"
    path: str = "/"
    account: str = ACCOUNT_ID
    body: bytes = b""  # the raw body, for the one call judged by its XML (S3 DeleteObjects)

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:aws:{service}:{region}:{account}:{resource}"


def parse_params(body: bytes, query: str, content_type: str) -> dict[str, Any]:
    """A request's parameters: the JSON body, or the form body and query string as flat fields."""
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}
    fields: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if "x-www-form-urlencoded" in content_type or (text and "=" in text and "<" not in text):
        fields.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()})
    return fields


def indexed(params: dict[str, Any], name: str) -> list[str]:
    """Values of a query parameter and of its numbered forms (`Name`, `Name.1`, `Name.2`...)."""
    pattern = re.compile(rf"{re.escape(name)}(\.\d+)?")
    return [str(v) for k, v in sorted(params.items()) if pattern.fullmatch(k)]


def query_tags(params: dict[str, Any], prefix: str) -> dict[str, str]:
    """Tags of query fields `<prefix>.N.Key` / `<prefix>.N.Value`."""
    pattern = re.compile(rf"{re.escape(prefix)}\.(\d+)\.Key")
    return {
        str(v): str(params.get(f"{prefix}.{m.group(1)}.Value", ""))
        for k, v in params.items()
        if (m := pattern.fullmatch(k))
    }


def query_list(params: dict[str, Any], prefix: str) -> list[str]:
    pattern = re.compile(rf"{re.escape(prefix)}\.\d+")
    return [str(v) for k, v in params.items() if pattern.fullmatch(k)]


def json_tags(value: Any) -> dict[str, str]:
    """Tags given as a map (AppStream) or as a list of {Key, Value} (most services)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(t.get("Key")): str(t.get("Value", "")) for t in value if isinstance(t, dict) and "Key" in t}
    return {}


def tag_context(tags: dict[str, str] | None = None, keys: Iterable[str] | None = None) -> dict[str, list[str]]:
    """aws:RequestTag/<key> and aws:TagKeys for the tags a request sets (or the keys it removes)."""
    context = {f"aws:requesttag/{k}".lower(): [v] for k, v in (tags or {}).items()}
    names = list(keys) if keys is not None else list(tags or {})
    if names or tags is not None:
        context["aws:tagkeys"] = names
    return context


def resource_tag_context(tags: dict[str, str] | None, *aliases: str) -> dict[str, list[str]]:
    """aws:ResourceTag/<key> (and a service's own alias of it) for an existing resource's tags."""
    context: dict[str, list[str]] = {}
    for key, value in (tags or {}).items():
        for prefix in ("aws", *aliases):
            context[f"{prefix}:resourcetag/{key}".lower()] = [value]
    return context


@dataclass
class Target:
    """A resource of a request: its ARN, and its tags when it exists (None while it is being created)."""

    arn: str
    tags: dict[str, str] | None = None


# Actions that set or remove tags of existing resources (their request tags are context of those resources).
TAGGING_ACTION = re.compile(r":((Create|Delete)Tags|Tag\w*|Untag\w*|AddTagsToResource|RemoveTagsFromResource)$")


# ---------------------------------------------------------------------------------------------------
# Resources per service
# ---------------------------------------------------------------------------------------------------
class Resolver:
    """Finds the resources and context of a request in moto's state and in the sandbox's own backends."""

    def __init__(self, services: dict[str, Any]) -> None:
        self.services = services
        self.handlers: dict[str, Callable[[Request], tuple[list[Target], dict[str, list[str]]] | None]] = {
            "ec2": self._ec2,
            "iam": self._iam,
            "sts": self._sts,
            "secretsmanager": self._secretsmanager,
            "kms": self._kms,
            "s3": self._s3,
            "dynamodb": self._dynamodb,
            "application-autoscaling": self._application_autoscaling,
            "appstream": self._appstream,
            "ds": self._ds,
            "fsx": self._fsx,
            "budgets": self._budgets,
            "sns": self._sns,
            "monitoring": self._cloudwatch,
            "datasync": self._datasync,
            "logs": self._logs,
        }

    # -- entry point --------------------------------------------------------------------------------
    def authorisations(self, request: Request, action: str) -> list[Authorisation]:
        """Every authorisation the request needs (its own, then its dependent ones)."""
        handler = self.handlers.get(request.service)
        targets: list[Target] | None = None
        context: dict[str, list[str]] = {}
        call = f"{IAM_PREFIX.get(request.service, request.service)}:{request.operation}"
        if action in WITHOUT_RESOURCE_LEVEL or call in COLLECTION_READS:
            targets = [Target("*")]
        elif handler is not None:
            try:
                found = handler(request)
            except Exception:  # a state the resolver did not expect: judged on "*" (fails closed)
                log.exception("IAM: could not resolve the resources of %s", action)
                found = None
            if found is not None:
                targets, context = found
        if not targets:
            # Unknown call, or a known one naming no resource (DescribeUserStackAssociations by user name).
            if targets is None:
                log.warning("IAM: no resource model for %s: evaluated on resource '*'", action)
            return [self._check(action, request, Target("*"), context)]
        checks = [self._check(action, request, target, context) for target in targets]
        return checks + self._dependent(request, action, targets, context)

    def _check(
        self,
        action: str,
        request: Request,
        target: Target,
        context: dict[str, list[str]],
        via_service: bool = False,
    ) -> Authorisation:
        aliases = [request.service] if request.service in ("ec2", "secretsmanager") else []
        if target.tags is not None and not TAGGING_ACTION.search(action) and request.service not in REQUEST_WIDE_TAGS:
            # The tags a call sets are context of the resources it creates (and of tagging calls) only:
            # an existing VPC named by CreateSubnet is judged by its own tags, not the new subnet's.
            context = {k: v for k, v in context.items() if not k.startswith("aws:requesttag/") and k != "aws:tagkeys"}
        resource_tags = target.tags if target.tags is not None else tags_while_creating(context)
        merged = {
            "aws:requestedregion": [request.region],
            "aws:viaawsservice": ["true" if via_service else "false"],
            **context,
            **resource_tag_context(resource_tags, *aliases),
        }
        return Authorisation(action, target.arn, merged)

    # -- EC2 ------------------------------------------------------------------------------------------
    def _ec2_backend(self, region: str) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[ACCOUNT_ID][region]

    def _ec2_target(self, request: Request, kind: str, resource_id: str) -> Target:
        tags = dict(self._ec2_backend(request.region).tags.get(resource_id, {}))
        return Target(request.arn("ec2", f"{kind}/{resource_id}"), tags)

    def _ec2(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        operation, params = request.operation, request.params
        if operation.startswith("Describe"):
            return [Target("*")], {}
        spec = EC2_OPERATIONS.get(operation)
        if spec is None:
            return None
        creates, uses = spec
        targets: list[Target] = []
        tags = ec2_request_tags(params)
        context = tag_context(tags) if tags else {}
        if creates:
            targets.append(Target(request.arn("ec2", f"{creates}/*")))
        if operation.endswith(("SecurityGroupIngress", "SecurityGroupEgress")) and tags:
            targets.append(Target(request.arn("ec2", "security-group-rule/*")))
        for parameter, kind in uses:
            for value in indexed(params, parameter):
                if kind == "by-prefix":
                    targets.append(self._ec2_target(request, ec2_kind_of(value), value))
                elif kind == "route-table-association":
                    targets += self._route_table_of_association(request, value)
                elif kind == "address-association":
                    targets += self._address_of_association(request, value)
                elif value != "default":
                    targets.append(self._ec2_target(request, kind, value))
        if operation == "CreateTags":
            context = tag_context(query_tags(params, "Tag"))
        elif operation == "DeleteTags":
            # Without keys, DeleteTags removes every tag: the keys it removes are those the resources have.
            keys = list(query_tags(params, "Tag")) or sorted({k for target in targets for k in target.tags or {}})
            context = tag_context(keys=keys)
        return targets, context

    def _route_table_of_association(self, request: Request, association_id: str) -> list[Target]:
        for table in self._ec2_backend(request.region).route_tables.values():
            associations = getattr(table, "_associations", {})
            if association_id in associations or association_id == getattr(table, "main_association_id", None):
                found = [self._ec2_target(request, "route-table", table.id)]
                subnet = associations.get(association_id)
                if subnet and subnet.startswith("subnet-"):
                    found.append(self._ec2_target(request, "subnet", subnet))
                return found
        return [Target(request.arn("ec2", "route-table/*"), {})]

    def _address_of_association(self, request: Request, association_id: str) -> list[Target]:
        for address in self._ec2_backend(request.region).addresses:
            if address.association_id == association_id and address.allocation_id:
                return [self._ec2_target(request, "elastic-ip", address.allocation_id)]
        return [Target(request.arn("ec2", "elastic-ip/*"), {})]

    # -- IAM and STS ------------------------------------------------------------------------------------
    def _iam_backend(self) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[ACCOUNT_ID]["aws"]

    def _iam(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        operation, params = request.operation, request.params
        backend = self._iam_backend()
        context: dict[str, list[str]] = {}
        if operation.startswith("Tag"):
            context = tag_context(query_tags(params, "Tags.member"))
        elif operation.startswith("Untag"):
            context = tag_context(keys=query_list(params, "TagKeys.member"))
        elif operation.startswith("Create") and query_tags(params, "Tags.member"):
            context = tag_context(query_tags(params, "Tags.member"))
        if "PolicyArn" in params:
            context["iam:policyarn"] = [str(params["PolicyArn"])]
        if operation == "CreateServiceLinkedRole":
            service = str(params.get("AWSServiceName", ""))
            context["iam:awsservicename"] = [service]
            return [Target(f"arn:aws:iam::{request.account}:role/aws-service-role/{service}/*")], context
        if operation == "CreateSAMLProvider":
            return [Target(f"arn:aws:iam::{request.account}:saml-provider/{params.get('Name', '')}")], context
        if "SAMLProviderArn" in params:
            arn = str(params["SAMLProviderArn"])
            provider = next((p for p in backend.saml_providers.values() if p.arn == arn), None)
            tags = json_tags(getattr(provider, "tags", [])) if provider is not None else {}
            return [Target(arn, tags)], context
        if "RoleName" in params:
            name = str(params["RoleName"])
            role = next((r for r in backend.roles.values() if r.name == name), None)
            context |= permissions_boundary_context(operation, params, role)
            if operation == "CreateRole":
                path = str(params.get("Path") or "/")
                return [Target(f"arn:aws:iam::{request.account}:role{path}{name}")], context
            if role is None:
                return [Target(f"arn:aws:iam::{request.account}:role/{name}", {})], context
            return [Target(role.arn, json_tags(role.tags))], context
        if "UserName" in params:
            name = str(params["UserName"])
            user = backend.users.get(name)
            context |= permissions_boundary_context(operation, params, user)
            if user is None or operation == "CreateUser":
                path = str(params.get("Path") or "/")
                return [
                    Target(f"arn:aws:iam::{request.account}:user{path}{name}", None if user is None else {})
                ], context
            return [Target(user.arn, json_tags(backend.tagger.list_tags_for_resource(user.arn)["Tags"]))], context
        if "GroupName" in params:
            return [Target(f"arn:aws:iam::{request.account}:group/{params['GroupName']}", {})], context
        if "PolicyArn" in params:
            return [Target(str(params["PolicyArn"]), {})], context
        if operation == "CreatePolicy":
            path = str(params.get("Path") or "/")
            return [Target(f"arn:aws:iam::{request.account}:policy{path}{params.get('PolicyName', '')}")], context
        return None

    def _sts(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        if "RoleArn" in request.params:
            arn = str(request.params["RoleArn"])
            role = next((r for r in self._iam_backend().roles.values() if r.arn == arn), None)
            tags = json_tags(role.tags) if role is not None else {}
            session_tags = query_tags(request.params, "Tags.member")
            return [Target(arn, tags)], (tag_context(session_tags) if session_tags else {})
        return None

    # -- Secrets Manager and KMS --------------------------------------------------------------------
    def _secretsmanager(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        from moto.secretsmanager.models import secretsmanager_backends

        params = request.params
        context: dict[str, list[str]] = {}
        if request.operation == "CreateSecret":
            tags = json_tags(params.get("Tags"))
            context = tag_context(tags) if "Tags" in params else {}
            return [Target(request.arn("secretsmanager", f"secret:{params.get('Name', '')}-??????"))], context
        if request.operation == "TagResource":
            context = tag_context(json_tags(params.get("Tags")))
        elif request.operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("TagKeys", [])])
        secret_id = params.get("SecretId")
        if not isinstance(secret_id, str):
            return None
        secret = secretsmanager_backends[ACCOUNT_ID][request.region].secrets.get(secret_id)
        if secret is None:
            arn = secret_id if secret_id.startswith("arn:") else request.arn("secretsmanager", f"secret:{secret_id}")
            return [Target(arn, {})], context
        return [Target(secret.arn, json_tags(secret.tags or []))], context

    def _kms(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        key = request.params.get("KeyId")
        if not isinstance(key, str) or key.startswith("alias/"):
            return None
        return [Target(key if key.startswith("arn:") else request.arn("kms", f"key/{key}"), {})], {}

    # -- S3 -------------------------------------------------------------------------------------------
    def _s3(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        bucket, _, key = unquote(request.path).lstrip("/").partition("/")
        if not bucket:
            return None
        if not key and request.method == "POST" and "delete" in request.params:
            # DeleteObjects is authorised as s3:DeleteObject on each object it names (and, for a version,
            # s3:DeleteObjectVersion: _dependent), not on the bucket.
            objects = [f"arn:aws:s3:::{bucket}/{name}" for name, _version in s3_objects_to_delete(request.body)]
            return [Target(arn, {}) for arn in objects] or [Target(f"arn:aws:s3:::{bucket}/*", {})], {}
        # s3:prefix: the prefix a listing asks for (Service Authorization Reference for Amazon S3, ListBucket).
        prefix = request.params.get("prefix")
        context = {"s3:prefix": [str(prefix)]} if not key and isinstance(prefix, str) else {}
        return [Target(f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}", {})], context

    # -- DynamoDB -------------------------------------------------------------------------------------
    def _dynamodb(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        """Table operations and item reads and writes act on the table named by TableName (or ResourceArn)."""
        params = request.params
        if isinstance(params.get("ResourceArn"), str):
            return [Target(str(params["ResourceArn"]), {})], {}
        table = params.get("TableName")
        if not isinstance(table, str):
            return None
        return [Target(request.arn("dynamodb", f"table/{table}"), {})], leading_keys_context(request, table)

    # -- Application Auto Scaling ---------------------------------------------------------------------
    def _application_autoscaling(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        params = request.params
        dimension, resource_id = params.get("ScalableDimension"), params.get("ResourceId")
        if not isinstance(dimension, str) or not isinstance(resource_id, str):
            return None
        backend = applicationautoscaling_backends[ACCOUNT_ID][request.region]
        target = backend.targets.get(dimension, {}).get(resource_id)
        context = scaling_context(params)
        if target is None:
            return [Target(request.arn("application-autoscaling", "scalable-target/*"))], context
        return [Target(target.arn, {})], context

    # -- the sandbox's own backends ---------------------------------------------------------------------
    def _appstream(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        params, operation = request.params, request.operation
        service = self.services.get("appstream")
        context: dict[str, list[str]] = {}
        if operation.startswith("Create") and "Tags" in params:
            context = tag_context(json_tags(params["Tags"]))
        elif operation == "TagResource":
            context = tag_context(json_tags(params.get("Tags")))
        elif operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("TagKeys", [])])
        if "ResourceArn" in params:
            arn = str(params["ResourceArn"])
            kind, _, name = arn.split(":", 5)[-1].partition("/")
            return [self._appstream_target(request, service, kind, name, arn)], context
        named = APPSTREAM_OPERATIONS.get(operation)
        if named is None:
            return None
        targets = []
        for parameter, kind in named:
            if parameter == "UserStackAssociations":
                names = sorted({str(a.get("StackName")) for a in params.get(parameter, []) if isinstance(a, dict)})
            else:
                names = [str(params[parameter])] if parameter in params else []
            for name in names:
                if operation.startswith("Create") and parameter == "Name":
                    targets.append(Target(request.arn("appstream", f"{kind}/{name}")))
                else:
                    targets.append(self._appstream_target(request, service, kind, name))
        return targets, context

    def _appstream_target(self, request: Request, service: Any, kind: str, name: str, arn: str = "") -> Target:
        arn = arn or request.arn("appstream", f"{kind}/{name}")
        if service is None:
            return Target(arn, {})
        state = service.region_state(request.region)
        collection = {
            "fleet": state.fleets,
            "stack": state.stacks,
            "image-builder": state.builders,
            "image": state.images,
        }.get(kind, {})
        found = collection.get(name)
        if found is None:
            return Target(arn, {})
        return Target(found.arn, dict(found.tags))

    def _ds(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        params, operation = request.params, request.operation
        context: dict[str, list[str]] = {}
        if operation == "CreateMicrosoftAD" or operation == "CreateDirectory":
            # No resource type in the Service Authorization Reference: granted on "*" only.
            tags = json_tags(params.get("Tags"))
            return [Target("*")], (tag_context(tags) if "Tags" in params else {})
        if operation == "AddTagsToResource":
            context = tag_context(json_tags(params.get("Tags")))
        elif operation == "RemoveTagsFromResource":
            context = tag_context(keys=[str(k) for k in params.get("TagKeys", [])])
        directory_id = params.get("DirectoryId", params.get("ResourceId"))
        if not isinstance(directory_id, str):
            return None
        return [self._directory(request, directory_id)], context

    def _directory(self, request: Request, directory_id: str) -> Target:
        arn = request.arn("ds", f"directory/{directory_id}")
        service = self.services.get("ds")
        if service is None:
            return Target(arn, {})
        directory = service.region_state(request.region).directories.get(directory_id)
        return Target(arn, dict(directory.tags) if directory is not None else {})

    def _fsx(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        params, operation = request.params, request.operation
        context: dict[str, list[str]] = {}
        if operation == "CreateFileSystem":
            tags = json_tags(params.get("Tags"))
            return [Target(request.arn("fsx", "file-system/*"))], (tag_context(tags) if "Tags" in params else {})
        if operation == "TagResource":
            context = tag_context(json_tags(params.get("Tags")))
        elif operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("TagKeys", [])])
        elif operation == "CreateBackup" and "Tags" in params:
            context = tag_context(json_tags(params.get("Tags")))
        if "ResourceARN" in params:
            arn = str(params["ResourceARN"])
            kind, _, ident = arn.split(":", 5)[-1].partition("/")
            return [self._fsx_target(request, kind, ident)], context
        targets = []
        if isinstance(params.get("FileSystemId"), str):
            targets.append(self._fsx_target(request, "file-system", params["FileSystemId"]))
        if isinstance(params.get("BackupId"), str):
            targets.append(self._fsx_target(request, "backup", params["BackupId"]))
        if operation == "CreateBackup":
            targets.append(Target(request.arn("fsx", "backup/*")))
        return (targets, context) if targets else None

    def _fsx_target(self, request: Request, kind: str, ident: str) -> Target:
        arn = request.arn("fsx", f"{kind}/{ident}")
        service = self.services.get("fsx")
        if service is None:
            return Target(arn, {})
        state = service.region_state(request.region)
        found = (state.file_systems if kind == "file-system" else state.backups).get(ident)
        return Target(arn, dict(found.tags) if found is not None else {})

    def _budgets(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        params, operation = request.params, request.operation
        context: dict[str, list[str]] = {}
        if operation == "TagResource":
            context = tag_context(json_tags(params.get("ResourceTags")))
        elif operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("ResourceTagKeys", [])])
        elif operation == "CreateBudget" and "ResourceTags" in params:
            context = tag_context(json_tags(params.get("ResourceTags")))
        if "ResourceARN" in params:
            arn = str(params["ResourceARN"])
            parts = arn.split(":", 5)
            account = parts[4] if len(parts) == 6 else request.account
            name = arn.partition(":budget/")[2]
            return [Target(arn, self._budget_tags(account, name))], context
        account = str(params.get("AccountId", request.account))
        budget = params.get("Budget")
        name = params.get("BudgetName") or (budget.get("BudgetName") if isinstance(budget, dict) else None)
        if not isinstance(name, str):
            return None
        arn = f"arn:aws:budgets::{account}:budget/{name}"
        if operation == "CreateBudget":
            return [Target(arn)], context
        return [Target(arn, self._budget_tags(account, name))], context

    # -- SNS topics and CloudWatch alarms (the tenant's alerts) ---------------------------------------
    def _request_tags(self, params: dict[str, Any]) -> dict[str, str] | None:
        """Tags a JSON or query request sets (None when it sets none)."""
        if isinstance(params.get("Tags"), list):
            return json_tags(params["Tags"])
        found = query_tags(params, "Tags.member")
        return found or None

    def _sns(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        from moto.sns.models import sns_backends

        params, operation = request.params, request.operation
        tags = self._request_tags(params)
        context = tag_context(tags) if tags else {}
        if operation == "UntagResource":
            keys = query_list(params, "TagKeys.member") or [str(k) for k in params.get("TagKeys", [])]
            context = tag_context(keys=keys)
        if operation == "CreateTopic":
            arn = request.arn("sns", str(params.get("Name", "")))
            topic = sns_backends[ACCOUNT_ID][request.region].topics.get(arn)
            return [Target(arn, dict(topic._tags) if topic is not None else None)], context
        arn = params.get("TopicArn") or params.get("ResourceArn")
        if not arn and params.get("SubscriptionArn"):
            arn = str(params["SubscriptionArn"]).rsplit(":", 1)[0]  # a subscription is judged by its topic
        if not isinstance(arn, str) or not arn:
            return None
        topic = sns_backends[ACCOUNT_ID][request.region].topics.get(arn)
        return [Target(arn, dict(topic._tags) if topic is not None else {})], context

    def _cloudwatch(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[ACCOUNT_ID][request.region]
        params, operation = request.params, request.operation
        tags = self._request_tags(params)
        context = tag_context(tags) if tags else {}
        if operation == "UntagResource":
            keys = query_list(params, "TagKeys.member") or [str(k) for k in params.get("TagKeys", [])]
            context = tag_context(keys=keys)

        def alarm(name: str) -> Target:
            arn = request.arn("cloudwatch", f"alarm:{name}")
            return Target(arn, backend.list_tags_for_resource(arn) if name in backend.alarms else None)

        if operation == "PutMetricAlarm":
            return [alarm(str(params.get("AlarmName", "")))], context
        if operation == "DeleteAlarms":
            names = params.get("AlarmNames") if isinstance(params.get("AlarmNames"), list) else None
            names = names or query_list(params, "AlarmNames.member")
            return [alarm(str(name)) for name in names], context
        arn = params.get("ResourceARN")
        if isinstance(arn, str) and ":alarm:" in arn:
            return [alarm(arn.split(":alarm:", 1)[1])], context
        return None

    # -- DataSync locations and tasks, CloudWatch Logs groups (the tenant's ingest) -------------------
    def _datasync(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        """Locations and tasks with their tags (the sandbox's DataSync backend); an execution is judged by its
        ARN (`task/<id>/execution/<id>`), which carries no tags of its own here."""
        params, operation = request.params, request.operation
        context: dict[str, list[str]] = {}
        if operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("Keys", [])])
        elif operation == "TagResource" or (operation.startswith("Create") and "Tags" in params):
            context = tag_context(json_tags(params.get("Tags")))
        if operation.startswith("CreateLocation"):
            return [Target("*")], context
        if operation == "CreateTask":
            sources = [params.get("SourceLocationArn"), params.get("DestinationLocationArn")]
            existing = [self._datasync_target(request, arn) for arn in sources if isinstance(arn, str)]
            return [*existing, Target(request.arn("datasync", "task/*"))], context
        for parameter in ("ResourceArn", "LocationArn", "TaskArn", "TaskExecutionArn"):
            if isinstance(params.get(parameter), str):
                return [self._datasync_target(request, str(params[parameter]))], context
        return None

    def _datasync_target(self, request: Request, arn: str) -> Target:
        service = self.services.get("datasync")
        if service is None or "/execution/" in arn:
            return Target(arn, {})
        state = service.region_state(request.region)
        kind, _, ident = arn.split(":", 5)[-1].partition("/")
        found = (state.locations if kind == "location" else state.tasks if kind == "task" else {}).get(ident)
        return Target(arn, dict(found.tags) if found is not None else {})

    def _logs(self, request: Request) -> tuple[list[Target], dict[str, list[str]]] | None:
        """A log group named by logGroupName (or resourceArn), with its tags in moto's Logs backend."""
        from moto.logs.models import logs_backends

        params, operation = request.params, request.operation
        context: dict[str, list[str]] = {}
        if operation in ("CreateLogGroup", "TagLogGroup") and isinstance(params.get("tags"), dict):
            context = tag_context(json_tags(params["tags"]))
        elif operation == "TagResource":
            context = tag_context(json_tags(params.get("tags")))
        elif operation == "UntagLogGroup":
            context = tag_context(keys=[str(k) for k in params.get("tags", [])])
        elif operation == "UntagResource":
            context = tag_context(keys=[str(k) for k in params.get("tagKeys", [])])
        name = params.get("logGroupName")
        if not isinstance(name, str) and isinstance(params.get("resourceArn"), str):
            name = str(params["resourceArn"]).partition(":log-group:")[2].removesuffix(":*") or None
        if not isinstance(name, str):
            return None
        arn = request.arn("logs", f"log-group:{name}")
        if operation == "CreateLogGroup":
            return [Target(arn)], context
        group = logs_backends[ACCOUNT_ID][request.region].groups.get(name)
        tags = dict(logs_backends[ACCOUNT_ID][request.region].list_tags_log_group(name)) if group else {}
        return [Target(arn, tags)], context

    def _budget_tags(self, account: str, name: str) -> dict[str, str]:
        service = self.services.get("budgets")
        if service is None:
            return {}
        record = service._budgets().get(f"{account}/{name}")
        return dict(record["tags"]) if record is not None else {}

    # -- dependent authorisations ---------------------------------------------------------------------
    def _dependent(
        self, request: Request, action: str, targets: list[Target], context: dict[str, list[str]]
    ) -> list[Authorisation]:
        params = request.params
        found: list[Authorisation] = []
        tag_keys = {k: v for k, v in context.items() if k.startswith("aws:requesttag/") or k == "aws:tagkeys"}
        if request.service == "ec2" and request.operation != "CreateTags" and ec2_request_tags(params):
            # Tagging while creating is authorised as ec2:CreateTags on each new resource.
            kinds = {str(v) for k, v in params.items() if re.fullmatch(r"TagSpecification\.\d+\.ResourceType", k)}
            for kind in sorted(kinds):
                target = Target(request.arn("ec2", f"{kind}/*"))
                extra = {**tag_keys, "ec2:createaction": [request.operation]}
                found.append(self._check("ec2:CreateTags", request, target, extra))
        tag_action = TAG_ON_CREATE.get(action)
        if tag_action and any(k.startswith("aws:requesttag/") for k in context):
            created = [t for t in targets if t.tags is None] or targets
            found += [self._check(tag_action, request, tagged_resource(request, t), tag_keys) for t in created]
        if request.service == "ds":
            found += self._ds_dependent(request)
        if request.service == "appstream" and isinstance(params.get("IamRoleArn"), str):
            role = Target(params["IamRoleArn"], {})
            extra = {"iam:passedtoservice": ["appstream.amazonaws.com"]}
            found.append(self._check("iam:PassRole", request, role, extra))
        if request.service == "fsx":
            found += self._fsx_dependent(request, targets, tag_keys)
        if request.service == "s3" and action == "s3:DeleteObject" and request.body:
            bucket = unquote(request.path).lstrip("/").partition("/")[0]
            for name, version in s3_objects_to_delete(request.body):
                if version:
                    target = Target(f"arn:aws:s3:::{bucket}/{name}", {})
                    found.append(self._check("s3:DeleteObjectVersion", request, target, {}))
        if request.service == "datasync":
            for role_arn in datasync_bucket_access_roles(params):
                extra = {"iam:passedtoservice": ["datasync.amazonaws.com"]}
                found.append(self._check("iam:PassRole", request, Target(role_arn, {}), extra))
        if action == "application-autoscaling:RegisterScalableTarget":
            namespace = str(params.get("ServiceNamespace", ""))
            found += self._service_linked_role(request, f"{namespace}.application-autoscaling.amazonaws.com")
        return found

    def _fsx_dependent(
        self, request: Request, targets: list[Target], tag_keys: dict[str, list[str]]
    ) -> list[Authorisation]:
        params, operation = request.params, request.operation
        found: list[Authorisation] = []
        windows = params.get("WindowsConfiguration") if isinstance(params.get("WindowsConfiguration"), dict) else {}
        if operation == "CreateFileSystem":
            directory_id = windows.get("ActiveDirectoryId")
            if isinstance(directory_id, str):
                directory = self._directory(request, directory_id)
                for ds_action in ("ds:AuthorizeApplication", "ds:GetAuthorizedApplicationDetails"):
                    found.append(self._check(ds_action, request, directory, {}, via_service=True))
            key = params.get("KmsKeyId")
            if isinstance(key, str):
                arn = key if key.startswith("arn:") else request.arn("kms", f"key/{key}")
                via = {"kms:viaservice": [f"fsx.{request.region}.amazonaws.com"]}
                # The grant is created by FSx for its file system (kms:GrantIsForAWSResource, AWS KMS
                # condition keys: "an AWS service that is integrated with AWS KMS sends the request").
                grant = {**via, "kms:grantisforawsresource": ["true"]}
                found.append(self._check("kms:CreateGrant", request, Target(arn, {}), grant, via_service=True))
                found.append(self._check("kms:DescribeKey", request, Target(arn, {}), via, via_service=True))
            found += self._service_linked_role(request, "fsx.amazonaws.com")
        if operation == "DeleteFileSystem":
            final = {} if windows.get("SkipFinalBackup") else {"final": True}
            backup_tags = json_tags(windows.get("FinalBackupTags"))
            backup = Target(request.arn("fsx", "backup/*"))
            if final:
                backup_context = tag_context(backup_tags) if backup_tags else {}
                found += [
                    self._check("fsx:CreateBackup", request, target, backup_context, via_service=True)
                    for target in [*targets, backup]
                ]
                if backup_tags:
                    found.append(self._check("fsx:TagResource", request, backup, tag_context(backup_tags), True))
            directory_id = self._directory_of_file_system(request, str(params.get("FileSystemId", "")))
            if directory_id:
                directory = self._directory(request, directory_id)
                found.append(self._check("ds:UnauthorizeApplication", request, directory, {}, via_service=True))
        return found

    def _ds_dependent(self, request: Request) -> list[Authorisation]:
        """The EC2 calls Directory Service makes with the caller's rights (forward access sessions): its
        security group and network interfaces in the given VPC and subnets (ds_ec2_authorisations)."""
        params = request.params
        settings = params.get("VpcSettings") if isinstance(params.get("VpcSettings"), dict) else {}
        vpc = settings.get("VpcId")
        subnets = [str(s) for s in settings.get("SubnetIds", [])] if isinstance(settings.get("SubnetIds"), list) else []
        existing = {
            "vpc": [self._ec2_target(request, "vpc", str(vpc))] if isinstance(vpc, str) else [],
            "subnet": [self._ec2_target(request, "subnet", subnet) for subnet in subnets],
        }
        return [
            self._check(ec2_action, request, target, {}, via_service=True)
            for ec2_action, target in ds_ec2_authorisations(request, existing)
        ]

    def _directory_of_file_system(self, request: Request, file_system_id: str) -> str | None:
        service = self.services.get("fsx")
        if service is None:
            return None
        found = service.region_state(request.region).file_systems.get(file_system_id)
        return getattr(found, "directory_id", None)

    def _service_linked_role(self, request: Request, service_name: str) -> list[Authorisation]:
        """iam:CreateServiceLinkedRole, when the service's role does not exist yet and the service makes it."""
        path = f"/aws-service-role/{service_name}/"
        if any(role.path == path for role in self._iam_backend().roles.values()):
            return []
        target = Target(f"arn:aws:iam::{request.account}:role{path}*")
        extra = {"iam:awsservicename": [service_name]}
        return [self._check("iam:CreateServiceLinkedRole", request, target, extra, via_service=True)]


def ec2_request_tags(params: dict[str, Any]) -> dict[str, str]:
    """The tags of every TagSpecification of an EC2 request (aws:RequestTag is request-wide)."""
    tags: dict[str, str] = {}
    for number in sorted({m.group(1) for k in params if (m := re.fullmatch(r"TagSpecification\.(\d+)\..*", k))}):
        tags.update(query_tags(params, f"TagSpecification.{number}.Tag"))
    return tags


_EC2_ID_PREFIXES = {
    "vpc": "vpc",
    "subnet": "subnet",
    "igw": "internet-gateway",
    "rtb": "route-table",
    "sg": "security-group",
    "sgr": "security-group-rule",
    "eipalloc": "elastic-ip",
    "nat": "natgateway",
    "vpce": "vpc-endpoint",
    "dopt": "dhcp-options",
    "eni": "network-interface",
    "i": "instance",
    "ami": "image",
    "vol": "volume",
    "snap": "snapshot",
    "acl": "network-acl",
    "pl": "prefix-list",
}


def ec2_kind_of(resource_id: str) -> str:
    """The ARN resource type of an EC2 id (`rtb-...` is a route-table)."""
    return _EC2_ID_PREFIXES.get(resource_id.rsplit("-", 1)[0], resource_id.rsplit("-", 1)[0])


# operation -> (resource type it creates, ((request parameter, resource type of the existing resource)...))
EC2_OPERATIONS: dict[str, tuple[str | None, tuple[tuple[str, str], ...]]] = {
    "CreateVpc": ("vpc", ()),
    "ModifyVpcAttribute": (None, (("VpcId", "vpc"),)),
    "DeleteVpc": (None, (("VpcId", "vpc"),)),
    "CreateSubnet": ("subnet", (("VpcId", "vpc"),)),
    "ModifySubnetAttribute": (None, (("SubnetId", "subnet"),)),
    "DeleteSubnet": (None, (("SubnetId", "subnet"),)),
    "CreateInternetGateway": ("internet-gateway", ()),
    "AttachInternetGateway": (None, (("InternetGatewayId", "internet-gateway"), ("VpcId", "vpc"))),
    "DetachInternetGateway": (None, (("InternetGatewayId", "internet-gateway"), ("VpcId", "vpc"))),
    "DeleteInternetGateway": (None, (("InternetGatewayId", "internet-gateway"),)),
    "AllocateAddress": ("elastic-ip", ()),
    "AssociateAddress": (None, (("AllocationId", "elastic-ip"), ("NetworkInterfaceId", "network-interface"))),
    "DisassociateAddress": (None, (("AssociationId", "address-association"),)),
    "ReleaseAddress": (None, (("AllocationId", "elastic-ip"),)),
    "CreateNatGateway": ("natgateway", (("SubnetId", "subnet"), ("AllocationId", "elastic-ip"))),
    "DeleteNatGateway": (None, (("NatGatewayId", "natgateway"),)),
    "CreateRouteTable": ("route-table", (("VpcId", "vpc"),)),
    "DeleteRouteTable": (None, (("RouteTableId", "route-table"),)),
    "CreateRoute": (None, (("RouteTableId", "route-table"),)),
    "ReplaceRoute": (None, (("RouteTableId", "route-table"),)),
    "DeleteRoute": (None, (("RouteTableId", "route-table"),)),
    "AssociateRouteTable": (
        None,
        (("RouteTableId", "route-table"), ("SubnetId", "subnet"), ("GatewayId", "internet-gateway")),
    ),
    "DisassociateRouteTable": (None, (("AssociationId", "route-table-association"),)),
    "ReplaceRouteTableAssociation": (
        None,
        (("RouteTableId", "route-table"), ("AssociationId", "route-table-association")),
    ),
    "CreateSecurityGroup": ("security-group", (("VpcId", "vpc"),)),
    "DeleteSecurityGroup": (None, (("GroupId", "security-group"),)),
    "AuthorizeSecurityGroupIngress": (
        None,
        (("GroupId", "security-group"), ("SecurityGroupRuleId", "security-group-rule")),
    ),
    "AuthorizeSecurityGroupEgress": (
        None,
        (("GroupId", "security-group"), ("SecurityGroupRuleId", "security-group-rule")),
    ),
    "RevokeSecurityGroupIngress": (
        None,
        (("GroupId", "security-group"), ("SecurityGroupRuleId", "security-group-rule")),
    ),
    "RevokeSecurityGroupEgress": (
        None,
        (("GroupId", "security-group"), ("SecurityGroupRuleId", "security-group-rule")),
    ),
    "CreateVpcEndpoint": (
        "vpc-endpoint",
        (
            ("VpcId", "vpc"),
            ("RouteTableId", "route-table"),
            ("SubnetId", "subnet"),
            ("SecurityGroupId", "security-group"),
        ),
    ),
    "ModifyVpcEndpoint": (
        None,
        (
            ("VpcEndpointId", "vpc-endpoint"),
            ("AddRouteTableId", "route-table"),
            ("RemoveRouteTableId", "route-table"),
            ("AddSubnetId", "subnet"),
            ("RemoveSubnetId", "subnet"),
            ("AddSecurityGroupId", "security-group"),
            ("RemoveSecurityGroupId", "security-group"),
        ),
    ),
    "DeleteVpcEndpoints": (None, (("VpcEndpointId", "vpc-endpoint"),)),
    "CreateDhcpOptions": ("dhcp-options", ()),
    "AssociateDhcpOptions": (None, (("DhcpOptionsId", "dhcp-options"), ("VpcId", "vpc"))),
    "DeleteDhcpOptions": (None, (("DhcpOptionsId", "dhcp-options"),)),
    "CreateNetworkInterface": ("network-interface", (("SubnetId", "subnet"), ("SecurityGroupId", "security-group"))),
    "CreateNetworkInterfacePermission": (None, (("NetworkInterfaceId", "network-interface"),)),
    "DeleteNetworkInterface": (None, (("NetworkInterfaceId", "network-interface"),)),
    "CreateTags": (None, (("ResourceId", "by-prefix"),)),
    "DeleteTags": (None, (("ResourceId", "by-prefix"),)),
}

# operation -> ((request parameter, resource type)...) of the AppStream resources it names.
APPSTREAM_OPERATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "CreateFleet": (("Name", "fleet"),),
    "UpdateFleet": (("Name", "fleet"),),
    "StartFleet": (("Name", "fleet"),),
    "StopFleet": (("Name", "fleet"),),
    "DeleteFleet": (("Name", "fleet"),),
    "CreateStack": (("Name", "stack"),),
    "UpdateStack": (("Name", "stack"),),
    "DeleteStack": (("Name", "stack"),),
    "AssociateFleet": (("FleetName", "fleet"), ("StackName", "stack")),
    "DisassociateFleet": (("FleetName", "fleet"), ("StackName", "stack")),
    "CreateStreamingURL": (("StackName", "stack"), ("FleetName", "fleet")),
    "CreateImageBuilder": (("Name", "image-builder"),),
    "UpdateImageBuilder": (("Name", "image-builder"),),
    "StartImageBuilder": (("Name", "image-builder"),),
    "StopImageBuilder": (("Name", "image-builder"),),
    "DeleteImageBuilder": (("Name", "image-builder"),),
    "CreateImageBuilderStreamingURL": (("Name", "image-builder"),),
    "DeleteImage": (("Name", "image"),),
    "DescribeImagePermissions": (("Name", "image"),),
    "ListAssociatedFleets": (("StackName", "stack"),),
    "ListAssociatedStacks": (("FleetName", "fleet"),),
    "DescribeUserStackAssociations": (("StackName", "stack"),),
    "CopyImage": (("SourceImageName", "image"),),
    "UpdateImagePermissions": (("Name", "image"),),
    "DeleteImagePermissions": (("Name", "image"),),
    "BatchAssociateUserStack": (("UserStackAssociations", "stack"),),
    "BatchDisassociateUserStack": (("UserStackAssociations", "stack"),),
}

# Create calls whose tags are also authorised as the service's Tag action on the new resource (the
# Service Authorization Reference's "API operations" tables: CreateMicrosoftAD -> ds:AddTagsToResource,
# CreateFleet/CreateStack/CreateImageBuilder -> appstream:TagResource, CreateBudget -> budgets:TagResource;
# AssumeRole with Tags -> sts:TagSession, IAM User Guide "Pass session tags in AWS STS").
TAG_ON_CREATE = {
    "iam:CreateRole": "iam:TagRole",
    "iam:CreateSAMLProvider": "iam:TagSAMLProvider",
    "iam:CreateUser": "iam:TagUser",
    "secretsmanager:CreateSecret": "secretsmanager:TagResource",
    "fsx:CreateFileSystem": "fsx:TagResource",
    "fsx:CreateBackup": "fsx:TagResource",
    "ds:CreateMicrosoftAD": "ds:AddTagsToResource",
    "ds:CreateDirectory": "ds:AddTagsToResource",
    "appstream:CreateFleet": "appstream:TagResource",
    "appstream:CreateStack": "appstream:TagResource",
    "appstream:CreateImageBuilder": "appstream:TagResource",
    "budgets:ModifyBudget": "budgets:TagResource",  # only CreateBudget carries ResourceTags
    "datasync:CreateLocationS3": "datasync:TagResource",
    "datasync:CreateLocationFsxWindows": "datasync:TagResource",
    "datasync:CreateTask": "datasync:TagResource",
    "logs:CreateLogGroup": "logs:TagResource",
    # Amazon SNS and CloudWatch: tagging a topic or an alarm while creating it needs sns:TagResource,
    # cloudwatch:TagResource (Amazon SNS developer guide, "Configuring topic tags"; CloudWatch PutMetricAlarm).
    "sns:CreateTopic": "sns:TagResource",
    "cloudwatch:PutMetricAlarm": "cloudwatch:TagResource",
    "sts:AssumeRole": "sts:TagSession",
}


# ---------------------------------------------------------------------------------------------------
# Principals and answers
# ---------------------------------------------------------------------------------------------------
_KEY_IN_HEADER = re.compile(r"Credential=([^/,\s]+)/")


def access_key_of(environ: dict[str, Any]) -> str | None:
    """The access key id of a SigV4-signed request (header or presigned query), or None when unsigned."""
    match = _KEY_IN_HEADER.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    return credential[0].split("/", 1)[0] if credential else None


@dataclass
class Principal:
    arn: str
    documents: list[dict[str, Any]] | None  # None for the root: no policy restricts it
    tags: dict[str, str] = field(default_factory=dict)  # aws:PrincipalTag (a session's tags over its role's)
    boundary: list[dict[str, Any]] | None = None  # the permissions boundary's document, when there is one
    kind: str = "User"  # aws:PrincipalType
    identity_arn: str = ""  # aws:PrincipalArn: the user, or the role of a session (not the session)

    @property
    def is_root(self) -> bool:
        return self.documents is None

    def context(self) -> dict[str, list[str]]:
        """The principal's keys of every request context it makes (IAM global condition context keys)."""
        found = {
            "aws:principalarn": [self.identity_arn or self.arn],
            "aws:principalaccount": [ACCOUNT_ID],
            "aws:principaltype": [self.kind],
        }
        if self.kind == "User":
            found["aws:username"] = [self.arn.rsplit("/", 1)[-1]]
        found |= {f"aws:principaltag/{key}".lower(): [value] for key, value in self.tags.items()}
        return found


def principal_of(access_key_id: str | None) -> Principal:
    """The IAM user owning the key, or the role session it was issued to (role_session_of), with their
    policy documents; the account root for any other key."""
    from moto.iam.access_control import CreateAccessKeyFailure, IAMPolicy, IAMUserAccessKey

    root = Principal(f"arn:aws:iam::{ACCOUNT_ID}:root", None)
    if not access_key_id:
        return root
    try:
        key = IAMUserAccessKey(account_id=ACCOUNT_ID, partition="aws", access_key_id=access_key_id, headers={})
    except CreateAccessKeyFailure:
        return role_session_of(access_key_id) or root
    documents = [IAMPolicy(policy)._policy_json for policy in key.collect_policies()]
    user = _iam_backend().users.get(key._owner_user_name)
    tags = json_tags(_iam_backend().tagger.list_tags_for_resource(key.arn)["Tags"]) if user is not None else {}
    boundary = _boundary_document(getattr(user, "permissions_boundary_arn", None))
    return Principal(key.arn, documents, tags, boundary, "User", key.arn)


def denial_message(principal: str, decision: Decision) -> str:
    assert decision.denied is not None
    action, resource = decision.denied.action, decision.denied.resource
    kind = decision.policy_type
    article = "an" if kind[0] in "aeiou" else "a"
    why = (
        f"with an explicit deny in {article} {kind}"
        if decision.explicit
        else f"because no {kind} allows the {action} action"
    )
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


# ---------------------------------------------------------------------------------------------------
# The enforcer SandboxApp holds
# ---------------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What the enforcer decided about one request (the principal is logged with it)."""

    principal: str
    action: str | None
    allowed: bool
    status: int = 200
    content_type: str = ""
    body: bytes = b""
    code: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


class IamEnforcer:
    def __init__(self, services: dict[str, Any], enabled: bool | None = None) -> None:
        self.enabled = enabled_by_environment() if enabled is None else enabled
        self.resolver = Resolver(services)
        self.denials: deque[dict[str, Any]] = deque(maxlen=200)
        self._lock = threading.Lock()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"enabled": self.enabled, "denials": list(self.denials)}

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            self.enabled = bool(enabled)

    def check(self, environ: dict[str, Any], service: str, region: str, operation: str, body: bytes) -> Verdict | None:
        """None when enforcement is off; otherwise who asked, and the denial answer when refused."""
        if not self.enabled:
            return None
        principal = principal_of(access_key_of(environ))
        action = self._action(service, operation, environ)
        if principal.is_root or action is None:
            return Verdict(ROOT if principal.is_root else principal.arn, action, True)
        request = Request(
            service=service,
            operation=operation,
            region=region,
            params=parse_params(body, environ.get("QUERY_STRING", ""), environ.get("CONTENT_TYPE", "")),
            method=environ.get("REQUEST_METHOD", "POST"),
            path=environ.get("PATH_INFO", "/"),
            body=body if service == "s3" else b"",
        )
        checks = self.resolver.authorisations(request, action)
        for check in checks:
            check.context |= principal.context()
        decision = decide(principal, action, checks)
        if decision.allowed:
            return Verdict(principal.arn, action, True)
        message = denial_message(principal.arn, decision)
        reply = denial_reply(request_protocol(service, environ), message)
        assert decision.denied is not None
        record = {
            "principal": principal.arn,
            "action": decision.denied.action,
            "call": action,
            "resource": decision.denied.resource,
            "reason": decision.reason,
            "code": reply.code,
        }
        with self._lock:
            self.denials.append(record)
        log.warning(
            "IAM: denied %s (for %s) on %s to %s: %s",
            record["action"],
            action,
            record["resource"],
            principal.arn,
            decision.reason,
        )
        return Verdict(
            principal.arn,
            decision.denied.action,
            False,
            reply.status,
            reply.content_type,
            reply.body,
            reply.code,
            reply.headers,
        )

    @staticmethod
    def _action(service: str, operation: str, environ: dict[str, Any]) -> str | None:
        if service == "s3":
            return s3_action(
                environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
            )
        return action_of(service, operation)


# Object sub-resources named by the query string, per method, and the IAM action each needs (Service
# Authorization Reference for Amazon S3, "Actions defined by Amazon S3": ListParts needs
# s3:ListMultipartUploadParts, AbortMultipartUpload s3:AbortMultipartUpload; CreateMultipartUpload,
# UploadPart and CompleteMultipartUpload need s3:PutObject). GetObjectAttributes also needs s3:GetObject on
# AWS (API_GetObjectAttributes.html, "Permissions"); one action per call is modelled here.
_S3_OBJECT_SUBRESOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "GET": (
        ("uploadId", "s3:ListMultipartUploadParts"),
        ("attributes", "s3:GetObjectAttributes"),
        ("tagging", "s3:GetObjectTagging"),
        ("acl", "s3:GetObjectAcl"),
    ),
    "DELETE": (("uploadId", "s3:AbortMultipartUpload"), ("tagging", "s3:DeleteObjectTagging")),
    "PUT": (("tagging", "s3:PutObjectTagging"), ("acl", "s3:PutObjectAcl")),
}
# Bucket sub-resources (Service Authorization Reference for Amazon S3): a bucket's configuration has an action
# of its own per setting; deleting one is authorised as putting it (DeleteBucketTagging: s3:PutBucketTagging,
# DeleteBucketEncryption: s3:PutEncryptionConfiguration, DeleteBucketLifecycle: s3:PutLifecycleConfiguration,
# DeletePublicAccessBlock: s3:PutBucketPublicAccessBlock, DeleteBucketOwnershipControls:
# s3:PutBucketOwnershipControls); DeleteObjects (POST ?delete) is s3:DeleteObject.
_S3_BUCKET_SUBRESOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "GET": (
        ("uploads", "s3:ListBucketMultipartUploads"),
        ("versions", "s3:ListBucketVersions"),
        ("policy", "s3:GetBucketPolicy"),
        ("tagging", "s3:GetBucketTagging"),
        ("lifecycle", "s3:GetLifecycleConfiguration"),
        ("encryption", "s3:GetEncryptionConfiguration"),
        ("publicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("versioning", "s3:GetBucketVersioning"),
        ("ownershipControls", "s3:GetBucketOwnershipControls"),
        ("location", "s3:GetBucketLocation"),
    ),
    "PUT": (
        ("policy", "s3:PutBucketPolicy"),
        ("tagging", "s3:PutBucketTagging"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("versioning", "s3:PutBucketVersioning"),
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
    ),
    "DELETE": (
        ("policy", "s3:DeleteBucketPolicy"),
        ("tagging", "s3:PutBucketTagging"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
    ),
    "POST": (("delete", "s3:DeleteObject"),),
}


# A call on one version of an object (versionId) has an action of its own (Service Authorization Reference for
# Amazon S3: GetObject with a versionId needs s3:GetObjectVersion, GetObjectTagging s3:GetObjectVersionTagging,
# PutObjectTagging s3:PutObjectVersionTagging, DeleteObject s3:DeleteObjectVersion).
def _s3_version_action(method: str, present: dict[str, list[str]]) -> str:
    if "tagging" in present:
        return {"GET": "s3:GetObjectVersionTagging", "PUT": "s3:PutObjectVersionTagging"}.get(
            method, "s3:DeleteObjectVersionTagging"
        )
    if "acl" in present:
        return "s3:GetObjectVersionAcl" if method == "GET" else "s3:PutObjectVersionAcl"
    return {"DELETE": "s3:DeleteObjectVersion"}.get(method, "s3:GetObjectVersion")


def s3_action(method: str, path: str, query: str = "") -> str:
    """The S3 action of a path-style REST call, from its method, path and sub-resource (query string)."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "s3:ListAllMyBuckets"
    present = parse_qs(query, keep_blank_values=True)
    if key and "versionId" in present and "uploadId" not in present:
        return _s3_version_action(method, present)
    table = _S3_OBJECT_SUBRESOURCES if key else _S3_BUCKET_SUBRESOURCES
    for parameter, action in table.get(method, ()):
        if parameter in present:
            return action
    if key:
        return {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}.get(
            method, "s3:PutObject"
        )
    return {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket", "PUT": "s3:CreateBucket", "DELETE": "s3:DeleteBucket"}.get(
        method, "s3:PutBucketPolicy"
    )


# ---------------------------------------------------------------------------------------------------
# Role sessions, permissions boundaries and trust policies (what a per-tenant deployer role needs judged)
# ---------------------------------------------------------------------------------------------------
# IAM User Guide, "Policy evaluation logic": an explicit deny in any policy refuses; an identity-based
# policy must allow; when the principal has a permissions boundary, the boundary must allow too. Assuming
# a role ("Roles terms and concepts", trust policy) also needs the role's trust policy to allow the caller;
# when it names the caller's own ARN, no identity-based policy of the same account is needed.
_ASSUME = "sts:AssumeRole"


def _iam_backend() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT_ID]["aws"]


def _boundary_document(arn: str | None) -> list[dict[str, Any]] | None:
    """The permissions boundary as a document list; an empty one (allows nothing) when the policy is gone."""
    from moto.iam.access_control import IAMPolicy

    if not arn:
        return None
    policy = next((p for p in _iam_backend().managed_policies.values() if p.arn == arn), None)
    return [IAMPolicy(policy)._policy_json] if policy is not None else []


def _role_documents(role: Any) -> list[dict[str, Any]]:
    from moto.iam.access_control import IAMPolicy

    documents = [json.loads(document) for document in role.policies.values()]
    return documents + [IAMPolicy(policy)._policy_json for policy in role.managed_policies.values()]


def role_session_of(access_key_id: str) -> Principal | None:
    """The session an STS AssumeRole issued this key to: judged by its role's policies and boundary, with
    the role's tags overlaid by the session's tags as aws:PrincipalTag ("Pass session tags in AWS STS":
    a session tag overrides the role tag of the same key), and the role's ARN as aws:PrincipalArn."""
    from moto.sts.models import sts_backends

    session = next((s for s in sts_backends[ACCOUNT_ID]["aws"].assumed_roles if s.access_key_id == access_key_id), None)
    if session is None:
        return None
    role = next((r for r in _iam_backend().roles.values() if r.arn == session.role_arn), None)
    if role is None:  # a role of another account, or deleted since: nothing allows it anything here
        return Principal(session.arn, [], kind="AssumedRole", identity_arn=session.role_arn)
    tags = {k.lower(): (k, v) for k, v in json_tags(role.tags).items()}
    tags |= {k.lower(): (k, v) for k, v in getattr(session, SESSION_TAGS, {}).items()}
    return Principal(
        session.arn,
        _role_documents(role),
        dict(tags.values()),
        _boundary_document(role.permissions_boundary_arn),
        "AssumedRole",
        role.arn,
    )


def evaluate_bounded(
    statements: list[dict[str, Any]], boundary: list[dict[str, Any]] | None, checks: list[Authorisation]
) -> Decision:
    """The identity-based policies' decision, capped by the permissions boundary's statements when there is one."""
    decision = evaluate(statements, checks)
    if not decision.allowed or boundary is None:
        return decision
    capped = evaluate(boundary, checks)
    if capped.allowed:
        return decision
    reason = f"not within the permissions boundary: {capped.reason}"
    return Decision(False, capped.denied, capped.explicit, reason, "permissions boundary")


def principal_matches(principal_element: Any, principal: Principal) -> tuple[bool, bool]:
    """(whether a trust policy's Principal covers the caller, whether it names the caller's own ARN)."""
    if principal_element == "*":
        return True, False
    entries = _as_list(principal_element.get("AWS")) if isinstance(principal_element, dict) else []
    for entry in entries:
        if entry == "*":
            return True, False
        if entry in (ACCOUNT_ID, f"arn:aws:iam::{ACCOUNT_ID}:root"):
            return True, False
        if entry in (principal.arn, principal.identity_arn):
            return True, True
    return False, False


def trust_decision(trust: dict[str, Any], principal: Principal, checks: list[Authorisation]) -> tuple[Decision, bool]:
    """The role's trust policy on every check of an AssumeRole (sts:AssumeRole, sts:TagSession): its
    decision, and whether the statements that allowed name the caller's own ARN."""
    named_everywhere = True
    for check in checks:
        allowed = False
        for statement in statements_of([trust]):
            if not _applies_to_action(statement, check.action):
                continue
            covered, named = principal_matches(statement.get("Principal"), principal)
            if not covered or not conditions_hold(statement.get("Condition", {}), check.context):
                continue
            if statement.get("Effect") == "Deny":
                reason = "explicit deny in the role's trust policy"
                return Decision(False, check, True, reason, "resource-based policy"), False
            if statement.get("Effect") == "Allow":
                allowed = True
                named_everywhere = named_everywhere and named
        if not allowed:
            reason = "the role's trust policy does not allow it"
            return Decision(False, check, False, reason, "resource-based policy"), False
    return Decision(True), named_everywhere


def decide(principal: Principal, action: str, checks: list[Authorisation]) -> Decision:
    """The decision on a request of an IAM principal (user or role session)."""
    boundary = None if principal.boundary is None else statements_of(principal.boundary)
    identity = evaluate_bounded(statements_of(principal.documents or []), boundary, checks)
    if action != _ASSUME:
        return identity
    role = next((r for r in _iam_backend().roles.values() if checks and r.arn == checks[0].resource), None)
    if role is None:  # AWS refuses to assume a role that does not exist (as moto would not)
        return Decision(False, checks[0], False, "no such role", "resource-based policy")
    trust, named = trust_decision(json.loads(role.assume_role_policy_document), principal, checks)
    if not trust.allowed:
        return trust
    if identity.explicit:
        return identity
    # A trust policy naming the caller's ARN needs no identity-based policy within the account.
    return Decision(True) if named or identity.allowed else identity


# ---------------------------------------------------------------------------------------------------
# Context the security review's policy conditions need (kept apart from the resolver above)
# ---------------------------------------------------------------------------------------------------
# Services whose request tags are context of every authorisation of the request: AssumeRole's session
# tags are aws:RequestTag of sts:AssumeRole as of sts:TagSession (trust policies test them there).
REQUEST_WIDE_TAGS = {"sts"}


def tags_while_creating(context: dict[str, list[str]]) -> dict[str, str]:
    """The tags of a resource being created: those of its create call (IAM global condition context keys,
    aws:ResourceTag: "included in the request context when the requested resource already has attached
    tags or in requests that create a resource with an attached tag")."""
    prefix = "aws:requesttag/"
    return {key[len(prefix) :]: values[0] for key, values in context.items() if key.startswith(prefix) and values}


def tagged_resource(request: Request, target: Target) -> Target:
    """The resource the tag call of a create is authorised on: a directory for Directory Service, whose
    create call itself has no resource type (it is authorised on "*")."""
    if target.arn == "*" and request.service == "ds":
        return Target(request.arn("ds", "directory/*"))
    if target.arn == "*" and request.service == "datasync":
        return Target(request.arn("datasync", "location/*"))
    return target


# Role and user calls whose iam:PermissionsBoundary is the boundary the request sets, and those where it is the
# role's current one (Service Authorization Reference for IAM; IAM User Guide, "Permissions boundaries
# for IAM entities": CreateOrChangeOnlyWithBoundary).
_BOUNDARY_IN_REQUEST = {"CreateRole", "PutRolePermissionsBoundary", "CreateUser", "PutUserPermissionsBoundary"}
_BOUNDARY_OF_ROLE = {
    "PutRolePolicy",
    "DeleteRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "DeleteRolePermissionsBoundary",
    # the same calls on a user, judged by the user's current boundary
    "PutUserPolicy",
    "DeleteUserPolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "DeleteUserPermissionsBoundary",
}


def permissions_boundary_context(operation: str, params: dict[str, Any], role: Any) -> dict[str, list[str]]:
    if operation in _BOUNDARY_IN_REQUEST and params.get("PermissionsBoundary"):
        return {"iam:permissionsboundary": [str(params["PermissionsBoundary"])]}
    boundary = getattr(role, "permissions_boundary_arn", None) if operation in _BOUNDARY_OF_ROLE else None
    return {"iam:permissionsboundary": [str(boundary)]} if boundary else {}


def ds_ec2_authorisations(request: Request, existing: dict[str, list[Target]]) -> list[tuple[str, Target]]:
    """What Directory Service asks EC2 for, with the caller's rights, when it creates or deletes a
    directory (dependent actions of ds:CreateMicrosoftAD and ds:DeleteDirectory, Service Authorization
    Reference). The group and interfaces are its own: new ones on create, existing untagged ones on delete."""
    group, interface = request.arn("ec2", "security-group/*"), request.arn("ec2", "network-interface/*")
    if request.operation in ("CreateMicrosoftAD", "CreateDirectory"):
        new_group, new_interface = Target(group), Target(interface)
        found = [("ec2:CreateSecurityGroup", target) for target in [*existing["vpc"], new_group]]
        found += [(a, new_group) for a in ("ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress")]
        found += [("ec2:CreateNetworkInterface", t) for t in [*existing["subnet"], new_interface, new_group]]
        return [*found, ("ec2:CreateTags", new_interface)]
    if request.operation == "DeleteDirectory":
        own_group, own_interface = Target(group, {}), Target(interface, {})
        revokes = ("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup")
        return [(a, own_group) for a in revokes] + [("ec2:DeleteNetworkInterface", own_interface)]
    return []


_S3_DELETE_OBJECT = re.compile(r"<Object>(.*?)</Object>", re.DOTALL)
_S3_DELETE_FIELD = re.compile(r"<(Key|VersionId)>(.*?)</\1>", re.DOTALL)


def s3_objects_to_delete(body: bytes) -> list[tuple[str, str | None]]:
    """(key, version id or None) of each object a DeleteObjects request names (its XML body: Delete/Object/Key and
    VersionId, read with a pattern rather than an XML parser, the body being the caller's)."""
    from xml.sax.saxutils import unescape

    found = []
    for block in _S3_DELETE_OBJECT.findall(body.decode("utf-8", "replace")):
        entities = {"&quot;": '"', "&apos;": "'"}
        fields = {name: unescape(value, entities) for name, value in _S3_DELETE_FIELD.findall(block)}
        if fields.get("Key"):
            found.append((fields["Key"], fields.get("VersionId") or None))
    return found


def datasync_bucket_access_roles(params: dict[str, Any]) -> list[str]:
    """The roles a DataSync call hands to DataSync: an S3 location's bucket access role, and that of a
    transfer manifest (Service Authorization Reference for AWS DataSync: iam:PassRole, iam:PassedToService
    datasync.amazonaws.com)."""
    found = []
    s3_config = params.get("S3Config") if isinstance(params.get("S3Config"), dict) else {}
    manifest = params.get("ManifestConfig") if isinstance(params.get("ManifestConfig"), dict) else {}
    manifest_s3 = ((manifest.get("Source") or {}).get("S3") or {}) if isinstance(manifest.get("Source"), dict) else {}
    for config in (s3_config, manifest_s3 if isinstance(manifest_s3, dict) else {}):
        if isinstance(config.get("BucketAccessRoleArn"), str):
            found.append(str(config["BucketAccessRoleArn"]))
    return found


def leading_keys_context(request: Request, table: str) -> dict[str, list[str]]:
    """dynamodb:LeadingKeys of an item call: the partition key values it names (DynamoDB developer guide, "Using
    IAM policy conditions for fine-grained access control"), from the Key, or the Item it puts."""
    from moto.dynamodb.models import dynamodb_backends

    if request.operation not in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        return {}
    found = dynamodb_backends[ACCOUNT_ID][request.region].tables.get(table)
    hash_key = getattr(found, "hash_key_attr", None)
    item = request.params.get("Item" if request.operation == "PutItem" else "Key")
    if not hash_key or not isinstance(item, dict) or not isinstance(item.get(hash_key), dict):
        return {}
    values = [str(value) for value in item[hash_key].values()]
    return {"dynamodb:leadingkeys": values} if values else {}


def scaling_context(params: dict[str, Any]) -> dict[str, list[str]]:
    """Application Auto Scaling's own condition keys, from the request (Application Auto Scaling User
    Guide, "How Application Auto Scaling works with IAM": service-namespace and scalable-dimension)."""
    found = {}
    for key, parameter in (("service-namespace", "ServiceNamespace"), ("scalable-dimension", "ScalableDimension")):
        if isinstance(params.get(parameter), str):
            found[f"application-autoscaling:{key}"] = [params[parameter]]
    return found


# Condition keys this module puts in request contexts (exactly, or as a prefix before the tag key).
MODELLED_KEYS = {
    "application-autoscaling:service-namespace",
    "application-autoscaling:scalable-dimension",
    "aws:tagkeys",
    "aws:requestedregion",
    "aws:viaawsservice",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:username",
    "dynamodb:leadingkeys",
    "ec2:createaction",
    "iam:passedtoservice",
    "iam:awsservicename",
    "iam:policyarn",
    "iam:permissionsboundary",
    "kms:viaservice",
    "kms:grantisforawsresource",
    "s3:prefix",
}
MODELLED_PREFIXES = (
    "aws:requesttag/",
    "aws:resourcetag/",
    "aws:principaltag/",
    "ec2:resourcetag/",
    "secretsmanager:resourcetag/",
)


def is_modelled_key(key: str) -> bool:
    """Whether requests judged here ever carry the condition key (a policy's key nobody sets never matches)."""
    lowered = key.lower()
    return lowered in MODELLED_KEYS or lowered.startswith(MODELLED_PREFIXES)
