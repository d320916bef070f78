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
from pathlib import Path
from typing import Any

from sandbox.iam_enforce import ACTION_OF_OPERATION, UNAUTHORISED_CALLS, action_of
from tests.helpers import ROOT, load_plugin

POLICY = ROOT / "policies" / "deployer.json"
# How the policy is cut into managed policies: the script operators run (one implementation).
_parts = load_plugin("scripts/deployer_policy_parts.py")
MANAGED_POLICY_SIZE = _parts.MANAGED_POLICY_SIZE
policy_size = _parts.policy_size
managed_policy_parts = _parts.managed_policy_parts

__all__ = [
    "ACTION_OF_OPERATION",
    "MANAGED_POLICY_SIZE",
    "UNAUTHORISED_CALLS",
    "action_of",
    "managed_policy_parts",
    "policy_size",
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


def bootstrap_account(iam: Any) -> str:
    """As the account's administrator (root on the sandbox): create the SAML roles' boundary policy."""
    created = iam.create_policy(
        PolicyName=BOUNDARY_NAME, Path=BOUNDARY_PATH, PolicyDocument=BOUNDARY.read_text()
    )["Policy"]["Arn"]
    assert created == BOUNDARY_ARN, created
    return created
