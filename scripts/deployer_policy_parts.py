#!/usr/bin/env python3
"""Cut policies/deployer.json into customer-managed policies IAM accepts, and say how to attach them.

The deployer's policy (every statement scoped by resource and ownership tags) is longer than the
6,144 characters IAM allows in one managed policy, so it is attached to the deployer as a few
managed policies of whole statements (a user or role may have 10 attached):

    python3 scripts/deployer_policy_parts.py --out build/policies        # writes deployer-1.json ...
    # then, for each part:  aws iam create-policy --policy-name tenant-deployer-1 \
    #                           --policy-document file://build/policies/deployer-1.json
    #                        aws iam attach-role-policy --role-name <deployer role> --policy-arn <arn>

The sandbox's IAM proof (tests/reliability/test_least_privilege_enforced.py) attaches exactly these parts.
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
    parts = managed_policy_parts(json.loads(args.policy.read_text()))
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
