#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_user
version_added: 0.1.0
short_description: Manage Amazon AppStream 2.0 user-pool users and their stack associations in bulk
description:
  - Creates, enables, disables and deletes AppStream 2.0 user-pool users (sign-in with an e-mail
    address) and associates them with the tenant's stacks, for a whole list of users in one task.
  - "Reads are fixed: one paginated C(DescribeUsers), then per stack C(DescribeStacks),
    C(ListTagsForResource) (none for a stack listed in O(known_tags)) and one paginated
    C(DescribeUserStackAssociations). Then only the
    needed mutating calls follow: C(CreateUser), C(EnableUser)/C(DisableUser),
    C(BatchAssociateUserStack) and C(BatchDisassociateUserStack) in batches of 25, C(DeleteUser)."
  - B(Ownership.) The user pool is shared by the whole account and region and AppStream users carry
    no tags. The module therefore only adds or removes associations with the stacks it manages
    (O(stacks) and the stacks named by the users), and each of them must carry the C(tenant) tag
    O(tenant). A user is a candidate for deletion (O(state=absent) or O(purge_users)) only when it is
    associated with one of those stacks or listed explicitly, and it is deleted only when it has no
    association with any other stack; otherwise it is only disassociated from the tenant's stacks, so
    a user shared with another tenant keeps its access there. Likewise a listed user that is also on a
    stack outside the managed set is never enabled or disabled, which that tenant's runs decide. The module
    warns, naming the user and the other stacks, each time it leaves such a user as it is.
  - Per-user errors of the batch calls (for example a user-pool user on a stack whose fleet is joined to
    a domain, which AWS refuses) fail the task with one line per user and stack, after every other
    change of the run has been made.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description:
      - Tenant that owns the managed stacks; each stack must carry the C(tenant) tag with this value.
    type: str
    required: true
  users:
    description:
      - The users. With O(state=present) they are created when missing; with O(state=absent) they
        are disassociated from the managed stacks and deleted (see the ownership rule above).
    type: list
    elements: dict
    default: []
    suboptions:
      email:
        description:
          - E-mail address, the user name in the user pool. AppStream user names are case-sensitive.
        type: str
        required: true
        aliases: [user_name]
      first_name:
        description:
          - Given name, set when the user is created (AWS cannot change it afterwards; a difference
            is reported as a warning).
        type: str
      last_name:
        description: Surname, set when the user is created (see O(users[].first_name)).
        type: str
      enabled:
        description: Whether the user can sign in.
        type: bool
        default: true
      stacks:
        description:
          - Stacks the user is associated with. Defaults to O(stacks).
        type: list
        elements: str
  stacks:
    description:
      - The tenant's stacks whose user associations this task manages; also the default stacks of a
        user that lists none, and the scope of O(purge_users) and O(purge_stacks).
    type: list
    elements: str
    default: []
  state:
    description:
      - Whether the listed users must be present or absent.
    type: str
    default: present
    choices: [present, absent]
  purge_users:
    description:
      - Also remove users that are associated with a managed stack but not listed. They are
        disassociated from the managed stacks and deleted when they have no other stack.
      - With O(state=absent) and no O(users), this removes every user of the managed stacks (teardown).
    type: bool
    default: false
  purge_stacks:
    description:
      - With O(state=present), disassociate a listed user from the managed stacks it should not have.
        Associations with stacks outside the managed set are never touched.
    type: bool
    default: true
  send_welcome_email:
    description:
      - Whether AWS e-mails new users their invitation (temporary password, valid 7 days) and notifies
        users of new stack associations. V(false) sends C(MessageAction=SUPPRESS).
    type: bool
    default: true
attributes:
  check_mode:
    details: Read calls only; the result lists the planned actions and carries a diff.
  diff_mode:
    details: Users whose state or associations change, before and after.
notes:
  - A user on several tenants' stacks is shared; its enabled state and its existence are left to the
    tenants' operators (the runs say so), only each tenant's association with it is managed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.known_tags
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the lab's users can open the tenant stack
  iconeus.tenant_toolkit.appstream_user:
    tenant: trial-lab
    stacks: [trial-lab-stack]
    users:
      - {email: ada@lab.example, first_name: Ada, last_name: Lovelace}
      - {email: alan@lab.example, first_name: Alan, last_name: Turing, enabled: false}
    purge_users: true

- name: Ensure a departed user no longer exists
  iconeus.tenant_toolkit.appstream_user:
    tenant: trial-lab
    stacks: [trial-lab-stack]
    users:
      - email: alan@lab.example
    state: absent
"""

RETURN = r"""
users:
  description:
    - Every listed or purged user with its state after the run (planned state in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    user_name:
      description: E-mail address of the user.
      type: str
      returned: always
      sample: ada@lab.example
    state:
      description: V(present) or V(absent).
      type: str
      returned: always
      sample: present
    enabled:
      description: Whether the user can sign in.
      type: bool
      returned: when present
      sample: true
    status:
      description: User-pool status reported by AWS (C(FORCE_CHANGE_PASSWORD) until the first sign-in).
      type: str
      returned: when known
      sample: FORCE_CHANGE_PASSWORD
    first_name:
      description: Given name.
      type: str
      returned: when known
      sample: Ada
    last_name:
      description: Surname.
      type: str
      returned: when known
      sample: Lovelace
    stacks:
      description: Managed stacks the user is associated with.
      type: list
      elements: str
      returned: always
      sample: [trial-lab-stack]
    actions:
      description: What the run did (or would do) for this user.
      type: list
      elements: str
      returned: always
      sample: [create, associate trial-lab-stack]
plan:
  description: The planned calls, by kind.
  returned: always
  type: dict
  contains:
    create:
      description: Users created.
      type: list
      elements: str
      returned: always
      sample: [ada@lab.example]
    enable:
      description: Users enabled.
      type: list
      elements: str
      returned: always
      sample: []
    disable:
      description: Users disabled.
      type: list
      elements: str
      returned: always
      sample: []
    associate:
      description: Associations added, as C(user@stack).
      type: list
      elements: str
      returned: always
      sample: [ada@lab.example@trial-lab-stack]
    disassociate:
      description: Associations removed, as C(user@stack).
      type: list
      elements: str
      returned: always
      sample: []
    delete:
      description: Users deleted.
      type: list
      elements: str
      returned: always
      sample: []
    kept_shared:
      description: Users only disassociated because they are associated with stacks outside the managed set.
      type: list
      elements: str
      returned: always
      sample: []
    skipped_shared:
      description:
        - Listed users whose enabled state was not changed because they are also on stacks outside the managed
          set (another tenant's); the run warns about each.
      type: list
      elements: str
      returned: always
      sample: []
errors:
  description: One line per failed association, naming the user and the stack.
  returned: on failure of a batch call
  type: list
  elements: str
  sample:
    - "user 'ada@lab.example' could not be associated with stack 'acme-stack': DIRECTORY_NOT_FOUND (...)"
"""

import contextlib
import re
import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import get_tags
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.users import (
    association_request,
    batches,
    describe_batch_errors,
    plan_users,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    is_owned,
    known_or_read,
    owner_of,
)

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

USERPOOL = "USERPOOL"
# CreateUser FirstName / LastName (botocore model UserAttributeValue)
USER_ATTRIBUTE = re.compile(r"^[A-Za-z0-9_\-\s]{1,2048}$")


class UserPool:
    """The reads and writes of one bulk run."""

    def __init__(self, module: Any, client: Any) -> None:
        self.module = module
        self.client = client
        self.errors: list[str] = []

    # -- reads --------------------------------------------------------------------------------
    def stacks(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The managed stacks that exist, after checking that each belongs to the tenant."""
        found: dict[str, dict[str, Any]] = {}
        try:
            for stack in self.client.describe_stacks(Names=names, aws_retry=True)["Stacks"]:
                found[stack["Name"]] = stack
        except is_boto3_error_code("ResourceNotFoundException"):
            for name in names:  # find out which ones are missing
                try:
                    found[name] = self.client.describe_stacks(Names=[name], aws_retry=True)["Stacks"][0]
                except is_boto3_error_code("ResourceNotFoundException"):
                    continue
        tenant = self.module.params["tenant"]
        known = self.module.params.get("known_tags")
        for name, stack in found.items():
            tags = known_or_read(known, stack["Arn"], lambda arn=stack["Arn"]: get_tags(self.client, arn))
            if not is_owned(tags, tenant):
                self.module.fail_json(
                    msg=f"stack {name!r} is not owned by tenant {tenant!r} (its tenant tag is {owner_of(tags)!r}); "
                    "the module never changes its user associations"
                )
        return found

    def users(self) -> dict[str, dict[str, Any]]:
        users = paginate(self.client.describe_users, "Users", aws_retry=True, AuthenticationType=USERPOOL)
        return {u["UserName"]: u for u in users}

    def associations(self, stack: str) -> set[str]:
        # AuthenticationType is a filter only together with UserName; SAML users are filtered out here.
        items = paginate(
            self.client.describe_user_stack_associations,
            "UserStackAssociations",
            aws_retry=True,
            StackName=stack,
        )
        return {a["UserName"] for a in items if a.get("AuthenticationType", USERPOOL) == USERPOOL}

    def other_stacks(self, user: str, managed: set[str]) -> list[str]:
        items = paginate(
            self.client.describe_user_stack_associations,
            "UserStackAssociations",
            aws_retry=True,
            UserName=user,
            AuthenticationType=USERPOOL,
        )
        return sorted({a["StackName"] for a in items} - managed)

    # -- writes -------------------------------------------------------------------------------
    def create(self, user: dict[str, Any], welcome: bool) -> None:
        request: dict[str, Any] = {"UserName": user["email"], "AuthenticationType": USERPOOL}
        if user.get("first_name"):
            request["FirstName"] = user["first_name"]
        if user.get("last_name"):
            request["LastName"] = user["last_name"]
        if not welcome:
            request["MessageAction"] = "SUPPRESS"
        self.client.create_user(aws_retry=True, **request)

    def set_enabled(self, user: str, enabled: bool) -> None:
        call = self.client.enable_user if enabled else self.client.disable_user
        call(UserName=user, AuthenticationType=USERPOOL, aws_retry=True)

    def associate(self, pairs: list[tuple[str, str]], notify: bool, created: set[str]) -> list[tuple[str, str]]:
        """Associate in batches of 25; returns the pairs that failed after retries."""
        failed: list[tuple[str, str]] = []
        for batch in batches(pairs):
            errors = self.client.batch_associate_user_stack(
                UserStackAssociations=association_request(batch, notify), aws_retry=True
            ).get("errors", [])
            # A user created a moment ago may not be visible to the association yet.
            for attempt in range(3):
                retry = [e for e in errors if self._is_fresh_user_error(e, created)]
                if not retry:
                    break
                time.sleep(1 + attempt)
                again = [(e["UserStackAssociation"]["UserName"], e["UserStackAssociation"]["StackName"]) for e in retry]
                errors = [e for e in errors if e not in retry] + self.client.batch_associate_user_stack(
                    UserStackAssociations=association_request(again, notify), aws_retry=True
                ).get("errors", [])
            self.errors.extend(describe_batch_errors(errors, "associated with"))
            failed.extend(_pairs(errors))
        return failed

    @staticmethod
    def _is_fresh_user_error(error: dict[str, Any], created: set[str]) -> bool:
        return (
            error.get("ErrorCode") == "USER_NAME_NOT_FOUND"
            and (error.get("UserStackAssociation") or {}).get("UserName") in created
        )

    def disassociate(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        failed: list[tuple[str, str]] = []
        for batch in batches(pairs):
            errors = self.client.batch_disassociate_user_stack(
                UserStackAssociations=association_request(batch), aws_retry=True
            ).get("errors", [])
            self.errors.extend(describe_batch_errors(errors, "disassociated from"))
            failed.extend(_pairs(errors))
        return failed

    def delete(self, user: str) -> None:
        try:
            self.client.delete_user(UserName=user, AuthenticationType=USERPOOL, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # already gone: the goal is reached


class SharedUsers:
    """The stacks outside the managed set each user is on, read once per user when asked."""

    def __init__(self, pool: UserPool, managed: set[str]) -> None:
        self.pool = pool
        self.managed = managed
        self.tenant = pool.module.params["tenant"]
        self._found: dict[str, list[str]] = {}

    def of(self, email: str) -> list[str]:
        if email not in self._found:
            self._found[email] = self.pool.other_stacks(email, self.managed)
        return self._found[email]

    def describe(self, email: str) -> str:
        return (
            f"user {email} is also on stack(s) {', '.join(self.of(email))}, which tenant {self.tenant} does not manage"
        )


def _pairs(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (e["UserStackAssociation"]["UserName"], e["UserStackAssociation"]["StackName"])
        for e in errors
        if e.get("UserStackAssociation")
    ]


def user_view(
    email: str,
    state: str,
    described: dict[str, Any] | None,
    requested: dict[str, Any] | None,
    stacks: set[str],
    actions: list[str],
    enabled: bool | None,
) -> dict[str, Any]:
    view: dict[str, Any] = {"user_name": email, "state": state, "stacks": sorted(stacks), "actions": actions}
    if state == "present":
        view["enabled"] = enabled
        source = described or {}
        first = source.get("FirstName") or (requested or {}).get("first_name")
        last = source.get("LastName") or (requested or {}).get("last_name")
        if first:
            view["first_name"] = first
        if last:
            view["last_name"] = last
        if source.get("Status"):
            view["status"] = source["Status"]
    return view


def user_errors(users: list[dict[str, Any]]) -> list[str]:
    """What CreateUser would refuse, found before any call (botocore model: Username, UserAttributeValue)."""
    errors = []
    emails = [u["email"] for u in users]
    for duplicate in sorted({e for e in emails if emails.count(e) > 1}):
        errors.append(f"users: {duplicate} is listed more than once")
    for user in users:
        if not 1 <= len(user["email"]) <= 128 or any(c.isspace() for c in user["email"]):
            errors.append(
                f"users: {user['email']!r} is not a user-pool user name (an e-mail address, at most 128 characters)"
            )
        for option in ("first_name", "last_name"):
            value = user.get(option)
            if value is not None and not USER_ATTRIBUTE.match(value):
                errors.append(
                    f"users[{user['email']}].{option}: {value!r} may only contain letters A-Z, digits, "
                    "spaces, '_' and '-'"
                )
    return errors


def main() -> None:
    argument_spec = dict(
        tenant=dict(type="str", required=True),
        users=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                email=dict(type="str", required=True, aliases=["user_name"]),
                first_name=dict(type="str"),
                last_name=dict(type="str"),
                enabled=dict(type="bool", default=True),
                stacks=dict(type="list", elements="str"),
            ),
        ),
        stacks=dict(type="list", elements="str", default=[]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        purge_users=dict(type="bool", default=False),
        purge_stacks=dict(type="bool", default=True),
        send_welcome_email=dict(type="bool", default=True),
        known_tags=dict(type="dict"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    errors = user_errors(params["users"])
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    managed = set(params["stacks"])
    for user in params["users"]:
        managed.update(user.get("stacks") or [])
    pool = UserPool(module, module.client("appstream", retry_decorator=retry_decorator()))
    try:
        run(module, pool, sorted(managed))
    except botocore.exceptions.ClientError as err:
        module.fail_json_aws(err, msg="AppStream refused a user-pool request")
    except botocore.exceptions.BotoCoreError as err:
        module.fail_json_aws(err, msg="AppStream could not be reached")


def run(module: Any, pool: UserPool, managed: list[str]) -> None:
    params = module.params
    state = params["state"]
    stacks = pool.stacks(managed) if managed else {}
    missing = sorted(set(managed) - set(stacks))
    if missing and state == "present":
        message = f"stack(s) {', '.join(missing)} do not exist"
        if not module.check_mode:
            module.fail_json(msg=message + "; create them first (appstream_stack)")
        module.warn(message + " yet: in check mode they are assumed to be created earlier in the run")
    existing = pool.users()
    associations = {name: pool.associations(name) for name in sorted(stacks)}
    plan = plan_users(
        params["users"],
        existing,
        associations,
        managed,
        state,
        params["purge_users"],
        params["purge_stacks"],
        default_stacks=params["stacks"],
    )
    # The user pool is the account's: a user also on a stack outside the managed set belongs to another
    # tenant as well, whose run decides whether it exists and may sign in. Such a user is never enabled,
    # disabled or deleted here; only its association with the managed stacks is ours (one read per user).
    managed_set = set(managed)
    others = SharedUsers(pool, managed_set)
    kept_shared = [email for email in plan.delete_candidates if others.of(email)]
    plan.delete.extend(email for email in plan.delete_candidates if not others.of(email))
    skipped_shared = sorted(email for email in {*plan.enable, *plan.disable} if others.of(email))
    plan.enable = [email for email in plan.enable if email not in skipped_shared]
    plan.disable = [email for email in plan.disable if email not in skipped_shared]
    for email in skipped_shared:
        module.warn(f"{others.describe(email)}: it is neither enabled nor disabled here")
    for email in kept_shared:
        module.warn(f"{others.describe(email)}: it is only disassociated from the tenant's stacks, not deleted")
    for email in plan.name_mismatches:
        module.warn(f"user {email}: first or last name differs from the user pool; AWS cannot rename a user")

    requested = {u["email"]: u for u in params["users"]}
    purged = sorted({u for u, _stack in plan.disassociate} - set(requested))
    created = {u["email"] for u in plan.create}
    failed_assoc: list[tuple[str, str]] = []
    failed_disassoc: list[tuple[str, str]] = []
    if not module.check_mode and plan.changed:
        for user in plan.create:
            pool.create(user, params["send_welcome_email"])
        for email in plan.enable:
            pool.set_enabled(email, True)
        for email in plan.disable:
            pool.set_enabled(email, False)
        failed_assoc = pool.associate(plan.associate, params["send_welcome_email"], created)
        failed_disassoc = pool.disassociate(plan.disassociate)
        for email in plan.delete:
            if not any(u == email for u, _stack in failed_disassoc):
                pool.delete(email)

    # The state after the run (or the planned one in check mode).
    current_by_user: dict[str, set[str]] = {}
    for stack, users in associations.items():
        for user in users:
            current_by_user.setdefault(user, set()).add(stack)
    results = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for email in [*requested, *purged]:
        actions: list[str] = []
        had = set(current_by_user.get(email, set()))
        now = set(had)
        for user, stack in plan.associate:
            if user == email and (user, stack) not in failed_assoc:
                now.add(stack)
                actions.append(f"associate {stack}")
        for user, stack in plan.disassociate:
            if user == email and (user, stack) not in failed_disassoc:
                now.discard(stack)
                actions.append(f"disassociate {stack}")
        described = existing.get(email)
        enabled = bool(described.get("Enabled", True)) if described else None
        if email in created:
            actions.insert(0, "create")
            enabled = True
        if email in plan.enable:
            actions.append("enable")
            enabled = True
        if email in plan.disable:
            actions.append("disable")
            enabled = False
        gone = email in plan.delete or (described is None and email not in created)
        if email in plan.delete:
            actions.append("delete")
        results.append(
            user_view(email, "absent" if gone else "present", described, requested.get(email), now, actions, enabled)
        )
        if actions:
            was_present = described is not None
            before[email] = (
                {"state": "present", "enabled": bool(described.get("Enabled", True)), "stacks": sorted(had)}
                if was_present
                else {"state": "absent"}
            )
            after[email] = (
                {"state": "absent"} if gone else {"state": "present", "enabled": enabled, "stacks": sorted(now)}
            )

    result = {
        "changed": plan.changed,
        "users": results,
        "diff": {"before": {"users": before}, "after": {"users": after}},
        "plan": {
            "create": sorted(created),
            "enable": sorted(plan.enable),
            "disable": sorted(plan.disable),
            "associate": [f"{u}@{s}" for u, s in plan.associate],
            "disassociate": [f"{u}@{s}" for u, s in plan.disassociate],
            "delete": sorted(plan.delete),
            "kept_shared": sorted(kept_shared),
            "skipped_shared": skipped_shared,
        },
    }
    if pool.errors:
        module.fail_json(msg="; ".join(pool.errors), errors=pool.errors, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
