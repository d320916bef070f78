#!/usr/bin/env python3
"""Cut policies/deployer.json into customer-managed policies IAM accepts, and say how to attach them.

The deployer's policy (every statement scoped by resource and ownership tags) is longer than the
6,144 characters IAM allows in one managed policy, so it is attached to the deployer as a few
managed policies of whole statements (a user or role may have 10 attached):

    python3 scripts/deployer_policy_parts.py --out build/policies        # writes deployer-1.json ...
    # then, for each part:  aws iam create-policy --policy-name tenant-deployer-1 \
    #                           --policy-document file://build/policies/deployer-1.json
    #                        aws iam attach-role-policy --role-name <deployer role> --policy-arn <arn>

Two variants are rendered from the same document:

- `--per-tenant`: the policy of a deployer role whose sessions carry the session tag `tenant=<name>`
  (aws_assume_role_arn in a tenant's aws.yml): every ownership condition also demands that the
  resource's, and the request's, `tenant` tag be the session's (`${aws:PrincipalTag/tenant}`), and the
  resources named after a tenant (roles, SAML provider, secrets, budget, alert topic, the ingest's users,
  role, bucket and log group, its lock and history in the state store) are the session's tenant's only;
- `--image-share-account <id>` (repeatable): adds the sharing and copying of toolkit images, which the
  toolkit's own playbooks never do. AppStream's UpdateImagePermissions has no condition key for the
  account it shares with (Service Authorization Reference: aws:ResourceTag only), so IAM cannot hold
  the sharing to these accounts: without the option the deployer cannot share images at all.

The sandbox's IAM proof (tests/reliability/test_least_privilege_enforced.py) attaches exactly these parts.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

# IAM quotas: characters of one customer-managed policy (whitespace not counted), policies per identity.
MANAGED_POLICY_SIZE = 6144
MANAGED_POLICIES_PER_IDENTITY = 10
DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policies" / "deployer.json"
# The permissions boundary every SAML streaming role is created with (policies/saml-role-boundary.json),
# a customer-managed policy the operator creates once per account under this path and name.
BOUNDARY_PATH = "/appstream-tenant-toolkit/"
BOUNDARY_NAME = "saml-role-boundary"
# The boundary of the ingest's IAM users and DataSync role (policies/ingest-boundary.json), likewise.
INGEST_BOUNDARY_NAME = "ingest-boundary"


TOOLKIT = "appstream-tenant-toolkit"  # the value of the managed-by ownership tag
SESSION_TENANT = "${aws:PrincipalTag/tenant}"  # the session's tenant, in the per-tenant variant
# Resource patterns named after a tenant, and the session's own in the per-tenant variant.
_TENANT_NAMED = (
    ("role/*-appstream-saml", "role/" + SESSION_TENANT + "-appstream-saml"),
    ("role/*-appstream-builder", "role/" + SESSION_TENANT + "-appstream-builder"),
    ("saml-provider/*-idp", "saml-provider/" + SESSION_TENANT + "-idp"),
    ("secret:*/directory/*", "secret:" + SESSION_TENANT + "/directory/*"),
    ("secret:*/users/*", "secret:" + SESSION_TENANT + "/users/*"),
    ("budget/*-monthly", "budget/" + SESSION_TENANT + "-monthly"),
    ("secret:*/ingest/*", "secret:" + SESSION_TENANT + "/ingest/*"),
    # `<tenant>/image-build`, and the six characters Secrets Manager adds to the name in its ARN.
    ("secret:*/image-build-??????", "secret:" + SESSION_TENANT + "/image-build-??????"),
    (":*-alerts", ":" + SESSION_TENANT + "-alerts"),
    (":*-alerts:*", ":" + SESSION_TENANT + "-alerts:*"),
    # The ingest's principals, under their path once they exist, and by their bare name before.
    ("user/tenant-toolkit/ingest/*-ingest-*", "user/tenant-toolkit/ingest/" + SESSION_TENANT + "-ingest-*"),
    ("user/*-ingest-*", "user/" + SESSION_TENANT + "-ingest-*"),
    (
        "role/tenant-toolkit/ingest/*-ingest-datasync",
        "role/tenant-toolkit/ingest/" + SESSION_TENANT + "-ingest-datasync",
    ),
    ("role/*-ingest-datasync", "role/" + SESSION_TENANT + "-ingest-datasync"),
    ("log-group:/tenant-toolkit/datasync/*", "log-group:/tenant-toolkit/datasync/" + SESSION_TENANT),
    ("log-group:/tenant-toolkit/datasync/*:*", "log-group:/tenant-toolkit/datasync/" + SESSION_TENANT + ":*"),
    # The tenant's history records in the state store's bucket.
    ("/history/*", "/history/" + SESSION_TENANT + "/*"),
)
# S3 buckets named after a tenant (the landing bucket `<tenant>-ingest-<account>-<region>`), whatever follows.
_TENANT_NAMED_BUCKETS = (("arn:aws:s3:::*-ingest-", "arn:aws:s3:::" + SESSION_TENANT + "-ingest-"),)
# Condition values naming a tenant: its lock's key in the state store's table, its history's prefix.
_TENANT_NAMED_VALUES = {
    "dynamodb:LeadingKeys": {"lock#*": "lock#" + SESSION_TENANT},
    "s3:prefix": {"history/*": "history/" + SESSION_TENANT + "/*"},
}
IMAGE_SHARING = {
    "Sid": "ShareToolkitImagesWithListedAccounts",
    "Effect": "Allow",
    "Action": ["appstream:CopyImage", "appstream:UpdateImagePermissions"],
    "Resource": "arn:aws:appstream:*:*:image/*",
    "Condition": {"StringEquals": {"aws:ResourceTag/managed-by": TOOLKIT}, "Null": {"aws:ResourceTag/tenant": "false"}},
}


def per_tenant(document: dict[str, Any]) -> dict[str, Any]:
    """The policy of a per-tenant deployer session: each ownership condition tied to the session's tenant."""
    statements = [_per_tenant_statement(statement) for statement in copy.deepcopy(document["Statement"])]
    return {"Version": document["Version"], "Statement": statements}


def _per_tenant_statement(statement: dict[str, Any]) -> dict[str, Any]:
    condition = statement.get("Condition", {})
    for prefix in ("aws:ResourceTag", "aws:RequestTag"):
        for operator in ("StringEquals", "StringEqualsIfExists"):
            if f"{prefix}/managed-by" in condition.get(operator, {}):
                condition[operator][f"{prefix}/tenant"] = SESSION_TENANT
                condition.get("Null", {}).pop(f"{prefix}/tenant", None)
        if not condition.get("Null", True):
            del condition["Null"]
    if "aws:ResourceTag/managed-by" in condition.get("StringEquals", {}):
        # A tag call on its own resource cannot hand it to another tenant either.
        condition.setdefault("StringEqualsIfExists", {})["aws:RequestTag/tenant"] = SESSION_TENANT
    for keys in condition.values():
        for key, values in keys.items():
            if key in _TENANT_NAMED_VALUES:
                own = _TENANT_NAMED_VALUES[key]
                keys[key] = own.get(values, values) if isinstance(values, str) else [own.get(v, v) for v in values]
    if statement["Effect"] == "Allow":
        statement["Resource"] = _session_named(statement["Resource"])
    return statement


def _session_named(resources: str | list[str]) -> str | list[str]:
    def one(arn: str) -> str:
        for prefix, own in _TENANT_NAMED_BUCKETS:
            if arn.startswith(prefix):
                arn = own + arn[len(prefix) :]
        for pattern, own in _TENANT_NAMED:
            if arn.endswith(pattern):
                return arn[: -len(pattern)] + own
        return arn

    return one(resources) if isinstance(resources, str) else [one(arn) for arn in resources]


def render(
    document: dict[str, Any], image_share_accounts: list[str] | None = None, tenant_sessions: bool = False
) -> dict[str, Any]:
    """The deployer policy an operator attaches: with image sharing when accounts are listed, per tenant
    when its sessions carry a tenant tag."""
    rendered = copy.deepcopy(document)
    if image_share_accounts:
        rendered["Statement"].append(copy.deepcopy(IMAGE_SHARING))
    return per_tenant(rendered) if tenant_sessions else rendered


def policy_size(document: dict[str, Any]) -> int:
    """The size IAM counts against its quotas: the JSON text without whitespace."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def managed_policy_parts(document: dict[str, Any], limit: int = MANAGED_POLICY_SIZE) -> list[dict[str, Any]]:
    """The policy cut into managed policies IAM accepts (whole statements, each part within `limit`)."""
    parts: list[list[dict[str, Any]]] = [[]]
    for statement in document["Statement"]:
        candidate = {"Version": document["Version"], "Statement": [*parts[-1], statement]}
        if parts[-1] and policy_size(candidate) > limit:
            parts.append([statement])
        else:
            parts[-1].append(statement)
    return [{"Version": document["Version"], "Statement": statements} for statements in parts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policy", nargs="?", type=Path, default=DEFAULT_POLICY, help="the whole policy document")
    parser.add_argument("--out", type=Path, required=True, help="folder for deployer-<n>.json")
    parser.add_argument(
        "--per-tenant", action="store_true", help="the policy of a deployer role assumed with a tenant session tag"
    )
    parser.add_argument(
        "--image-share-account",
        action="append",
        default=[],
        metavar="ACCOUNT_ID",
        help="allow sharing and copying toolkit images (IAM cannot hold sharing to these accounts: see above)",
    )
    args = parser.parse_args(argv)
    bad = [account for account in args.image_share_account if not re.fullmatch(r"\d{12}", account)]
    if bad:
        parser.error(f"--image-share-account: {', '.join(bad)} is not a 12-digit AWS account id")
    document = render(json.loads(args.policy.read_text()), args.image_share_account, args.per_tenant)
    parts = managed_policy_parts(document)
    too_big = [n for n, part in enumerate(parts, 1) if policy_size(part) > MANAGED_POLICY_SIZE]
    if too_big or len(parts) > MANAGED_POLICIES_PER_IDENTITY:
        print(f"cannot cut {args.policy} within IAM's quotas (parts {too_big}, {len(parts)} in all)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for number, part in enumerate(parts, 1):
        path = args.out / f"deployer-{number}.json"
        path.write_text(json.dumps(part, indent=2) + "\n")
        print(f"{path}: {len(part['Statement'])} statements, {policy_size(part)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
