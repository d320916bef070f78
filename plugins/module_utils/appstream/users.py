# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream user-pool users and their stack associations: the plan (create, enable, disable, associate),
the batch requests (1-25 associations each) and the batch errors explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

BATCH_SIZE = 25  # BatchAssociateUserStack / BatchDisassociateUserStack accept 1-25 associations


def batches(items: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class UserPlan:
    create: list[dict[str, Any]] = field(default_factory=list)  # {email, first_name, last_name}
    enable: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    associate: list[tuple[str, str]] = field(default_factory=list)  # (user, stack)
    disassociate: list[tuple[str, str]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    # users to delete only if they turn out to have no association outside the managed stacks
    delete_candidates: list[str] = field(default_factory=list)
    name_mismatches: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.create or self.enable or self.disable or self.associate or self.disassociate or self.delete)


def plan_users(
    requested: list[Mapping[str, Any]],
    existing: Mapping[str, Mapping[str, Any]],
    associations: Mapping[str, set[str]],
    managed_stacks: Iterable[str],
    state: str,
    purge_users: bool,
    purge_stacks: bool,
    default_stacks: Iterable[str] = (),
) -> UserPlan:
    """What a bulk user run must do.

    requested: the module's users (email, first_name, last_name, enabled, stacks);
    existing: DescribeUsers(USERPOOL) by user name; associations: managed stack -> its user-pool
    users (DescribeUserStackAssociations). Only associations with managed stacks are ever
    added or removed, and only users associated with a managed stack are purge candidates:
    AppStream users carry no tags, so that association is the tenant's proof of ownership.
    Deletions are candidates until the caller has checked that the user has no other stack.
    """
    managed = set(managed_stacks)
    default_stacks = sorted(set(default_stacks))
    plan = UserPlan()
    by_user: dict[str, set[str]] = {}
    for stack, users in associations.items():
        if stack in managed:
            for user in users:
                by_user.setdefault(user, set()).add(stack)
    listed = set()
    for user in requested:
        email = user["email"]
        listed.add(email)
        current_stacks = by_user.get(email, set())
        if state == "absent":
            plan.disassociate.extend((email, s) for s in sorted(current_stacks))
            if email in existing:
                plan.delete_candidates.append(email)
            continue
        wanted_stacks = set(user.get("stacks") if user.get("stacks") is not None else default_stacks)
        enabled = True if user.get("enabled") is None else bool(user["enabled"])
        have = existing.get(email)
        if have is None:
            plan.create.append(
                {"email": email, "first_name": user.get("first_name"), "last_name": user.get("last_name")}
            )
            if not enabled:
                plan.disable.append(email)
        else:
            if bool(have.get("Enabled", True)) != enabled:
                (plan.enable if enabled else plan.disable).append(email)
            for option, member in (("first_name", "FirstName"), ("last_name", "LastName")):
                if user.get(option) is not None and have.get(member) is not None and user[option] != have[member]:
                    plan.name_mismatches.append(email)
                    break
        plan.associate.extend((email, s) for s in sorted(wanted_stacks - current_stacks))
        if purge_stacks:
            plan.disassociate.extend((email, s) for s in sorted((current_stacks & managed) - wanted_stacks))
    if purge_users:
        for email in sorted(set(by_user) - listed):
            plan.disassociate.extend((email, s) for s in sorted(by_user[email]))
            if email in existing:
                plan.delete_candidates.append(email)
    return plan


def association_request(pairs: Iterable[tuple[str, str]], notify: bool | None = None) -> list[dict[str, Any]]:
    request = []
    for user, stack in pairs:
        item: dict[str, Any] = {"StackName": stack, "UserName": user, "AuthenticationType": "USERPOOL"}
        if notify is not None:
            item["SendEmailNotification"] = notify
        request.append(item)
    return request


_ERROR_HINTS = {
    "DIRECTORY_NOT_FOUND": (
        "user-pool users cannot be assigned to a stack whose fleet is joined to an Active Directory domain; "
        "such stacks are reached through SAML federation only"
    ),
    "STACK_NOT_FOUND": "the stack does not exist",
    "USER_NAME_NOT_FOUND": "the user does not exist in the user pool",
}


def describe_batch_errors(errors: Iterable[Mapping[str, Any]], verb: str) -> list[str]:
    """One line per failed association, naming the user and the stack."""
    lines = []
    for error in errors:
        association = error.get("UserStackAssociation") or {}
        code = error.get("ErrorCode", "ERROR")
        message = error.get("ErrorMessage") or ""
        hint = _ERROR_HINTS.get(code, "")
        text = (
            f"user {association.get('UserName')!r} could not be {verb} stack {association.get('StackName')!r}: {code}"
        )
        if message:
            text += f" ({message})"
        if hint and not message:
            text += f" ({hint})"
        lines.append(text)
    return lines
