# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access keys of an instrument's IAM user: which to create, deactivate and delete, without ever
stopping an upload in progress.

The acquisition PC is outside AWS, so the instrument signs with an IAM user's access key (an IAM role
would need a credential to assume it from, or IAM Roles Anywhere and a certificate authority). The key the
PC should use is the one in the secret `<tenant>/ingest/<instrument>`; IAM allows two keys per user, which
is what a rotation without interruption needs:

- converge: a valid stored key (in the secret, Active) is left alone, and so is the other key, if any
  (the previous one, in its grace period). Without a valid stored key, a new one is created and stored.
- rotate: the previous key (the one that is not stored) is deactivated then deleted, a new key is created
  and stored, and the key stored until now stays Active: uploads running with it go on, and the PC keeps
  working until its profile holds the new key. It is deactivated and deleted at the next rotation, or by
  retire.
- retire: the previous key is deactivated then deleted; nothing is created.

Pure functions (no AWS call); the module `ingest_instrument_credentials` applies the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_KEYS_PER_USER = 2  # IAM quota: access keys per user


@dataclass(frozen=True)
class AccessKey:
    key_id: str
    status: str  # Active | Inactive
    created: float  # epoch seconds


@dataclass
class KeyPlan:
    retire: list[str] = field(default_factory=list)  # deactivated, then deleted
    create: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.retire or self.create)

    def as_dict(self) -> dict[str, Any]:
        return {"retire": list(self.retire), "create": self.create, "reasons": list(self.reasons)}


def plan_keys(keys: list[AccessKey], stored_key_id: str | None, mode: str) -> KeyPlan:
    """What to do with the user's keys; `mode` is converge, rotate or retire."""
    if mode not in ("converge", "rotate", "retire"):
        raise ValueError(f"unknown mode {mode!r}")
    plan = KeyPlan()
    by_id = {key.key_id: key for key in keys}
    stored = by_id.get(stored_key_id or "")
    stored_valid = stored is not None and stored.status == "Active"
    others = sorted((key for key in keys if key is not stored), key=lambda key: key.created)
    if mode == "retire":
        if not stored_valid:
            plan.reasons.append("no valid stored key: nothing is retired (the PC may be using the other key)")
            return plan
        plan.retire = [key.key_id for key in others]
        if plan.retire:
            plan.reasons.append("the previous key's grace period ends")
        return plan
    if mode == "rotate":
        # A stored key that is no longer valid is retired too: nothing can be using it.
        plan.retire = [key.key_id for key in others] + ([] if stored_valid or stored is None else [stored.key_id])
        plan.create = True
        plan.reasons.append("rotation: a new key is stored; the current one stays Active until the next rotation")
        return plan
    if stored_valid:
        return plan
    plan.create = True
    if stored is None:
        plan.reasons.append(
            "the secret holds no key of this user" if stored_key_id else "no key is stored for the instrument yet"
        )
    else:
        plan.reasons.append(f"the stored key {stored.key_id} is {stored.status}")
        plan.retire.append(stored.key_id)
    # Room for the new key: the oldest keys that are not stored go first, inactive ones before active ones.
    remaining = list(others)
    remaining.sort(key=lambda key: (key.status == "Active", key.created))
    while len(keys) - len(plan.retire) >= MAX_KEYS_PER_USER and remaining:
        plan.retire.append(remaining.pop(0).key_id)
        plan.reasons.append("IAM allows two keys per user: the oldest unstored key makes room")
    return plan
