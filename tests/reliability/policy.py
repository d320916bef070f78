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

from sandbox.iam_enforce import ACTION_OF_OPERATION, UNAUTHORISED_CALLS, action_of
from tests.helpers import ROOT

POLICY = ROOT / "policies" / "deployer.json"
# IAM's quota on one customer managed policy: 6,144 characters, whitespace not counted.
MANAGED_POLICY_SIZE = 6144

__all__ = ["ACTION_OF_OPERATION", "UNAUTHORISED_CALLS", "action_of"]


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


def policy_size(document: dict[str, Any]) -> int:
    """The size IAM counts against its quotas: the JSON text without whitespace."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def managed_policy_parts(document: dict[str, Any], limit: int = MANAGED_POLICY_SIZE) -> list[dict[str, Any]]:
    """The policy cut into managed policies IAM accepts (whole statements, each part within `limit`).

    One document of the deployer's size exceeds IAM's quota on a managed policy (and far exceeds the
    2,048 characters of a user's inline policies), so it is attached to the deployer as these parts.
    """
    parts: list[list[dict[str, Any]]] = [[]]
    for statement in document["Statement"]:
        candidate = {"Version": document["Version"], "Statement": [*parts[-1], statement]}
        if parts[-1] and policy_size(candidate) > limit:
            parts.append([statement])
        else:
            parts[-1].append(statement)
    return [{"Version": document["Version"], "Statement": statements} for statements in parts]
