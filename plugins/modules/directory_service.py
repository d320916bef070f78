#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: directory_service
version_added: 0.1.0
short_description: Manage an AWS Managed Microsoft AD directory owned by a tenant
description:
  - Creates, updates in place and deletes an AWS Directory Service B(Managed Microsoft AD) directory.
  - The directory is found by its O(name) (the fully qualified domain name) B(and) its ownership tag
    C(tenant=<tenant>), read with C(ListTagsForResource) (or taken from O(known_tags)). A directory with the
    same name that carries another tenant's tag, or no tag, is never adopted, changed or deleted.
  - "Changes AWS makes in place: the number of domain controllers (C(UpdateNumberOfDomainControllers)),
    the C(Admin) password (C(ResetUserPassword), only with O(update_password=always)) and tags.
    Changes AWS cannot make (edition, name, short name, VPC and subnets) fail with a message naming each
    field; the module never replaces a directory."
  - Creation takes 20 to 40 minutes. O(wait_for=created) starts it and returns at once, so that other
    work can overlap; a later task with O(wait_for=active) waits for the stage C(Active), failing as soon
    as the directory reaches C(Failed) with the service's C(StageReason).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description:
      - Fully qualified domain name of the directory, for example C(corp.acme-neuro.example).
      - Together with the C(tenant) tag, identifies the directory.
    type: str
    required: true
  short_name:
    description:
      - NetBIOS name of the domain (at most 15 characters), for example C(ACMENEURO).
      - When omitted at creation AWS derives it from O(name). Cannot change after creation.
    type: str
  description:
    description:
      - Description of the directory, set at creation.
      - AWS has no API to change it later; a different value on an existing directory is reported as a
        warning and left as it is.
    type: str
  edition:
    description:
      - Edition of the directory. Required with O(state=present) because the API silently defaults to
        C(Enterprise), which costs several times more than C(Standard).
      - Cannot change after creation.
    type: str
    choices: [Standard, Enterprise]
  vpc_id:
    description:
      - VPC of the directory. Required with O(state=present). Cannot change after creation.
    type: str
  subnet_ids:
    description:
      - Exactly two subnets of O(vpc_id) in different Availability Zones (normally private subnets), where
        AWS places the domain controllers. Required with O(state=present). Cannot change after creation.
    type: list
    elements: str
  password:
    description:
      - Password of the directory's C(Admin) account. Required to create the directory; on an existing one
        it is used only with O(update_password=always).
      - 8 to 64 characters with three of the four classes upper case, lower case, digit and symbol, not
        containing C(Admin). Checked before any AWS call.
      - Never logged, never returned.
    type: str
  update_password:
    description:
      - V(on_create) sets the password only when the directory is created.
      - V(always) resets the C(Admin) password on every run (C(ResetUserPassword)); AWS cannot tell whether
        the password differs, so such a run always reports C(changed).
    type: str
    choices: [always, on_create]
    default: on_create
  domain_controllers:
    description:
      - Number of domain controllers, at least 2. Changed in place with C(UpdateNumberOfDomainControllers).
    type: int
    default: 2
  state:
    description:
      - V(present) creates or updates the directory; V(absent) deletes it (see O(confirm_name)).
    type: str
    choices: [present, absent]
    default: present
  confirm_name:
    description:
      - With O(state=absent), the deletion proceeds only when this equals the name of the directory found
        (case-insensitive). Deleting a directory destroys every user, group and policy in it.
    type: str
  wait_for:
    description:
      - What O(wait=true) waits for after a creation or a change.
      - V(created) returns as soon as the directory exists (creation started, stage C(Requested) or
        C(Creating)), so that the caller can overlap other work; a later task with V(active) waits.
      - V(active) waits for the stage C(Active) and, after a change of O(domain_controllers), for every
        domain controller to be C(Active). On a run that changes nothing it still waits for a directory that
        an earlier run only started.
      - Changes to an existing directory need it C(Active), so the module waits for that before a change
        whatever this option says (unless O(wait=false), where it fails instead).
    type: str
    choices: [created, active]
    default: active
  wait:
    description:
      - Whether to wait at all. With V(false) the module returns right after each API call.
  wait_timeout:
    default: 3600
notes:
  - Directory Service has no client token for C(CreateMicrosoftAD); an interrupted run does not create a
    second directory because the next run finds the first one by name and tag.
  - AWS creates the directory's security group (C(<id>_controllers)) itself; it is returned as
    RV(directory.security_group_id).
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: Before and after values of the options that would change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.known_tags
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Start creating the tenant's directory and return at once
  iconeus.tenant_toolkit.directory_service:
    name: corp.acme-neuro.example
    short_name: ACMENEURO
    edition: Standard
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]
    password: "{{ directory_admin_password }}"
    tenant: acme-neuro
    environment: prod
    wait_for: created
  no_log: true

- name: Wait until the directory is Active (fails fast on Failed)
  iconeus.tenant_toolkit.directory_service:
    name: corp.acme-neuro.example
    short_name: ACMENEURO
    edition: Standard
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]
    tenant: acme-neuro
    environment: prod
    wait_for: active
  register: directory

- name: Add a third domain controller
  iconeus.tenant_toolkit.directory_service:
    name: corp.acme-neuro.example
    edition: Standard
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]
    domain_controllers: 3
    tenant: acme-neuro

- name: Delete the directory (only with the name repeated)
  iconeus.tenant_toolkit.directory_service:
    name: corp.acme-neuro.example
    tenant: acme-neuro
    state: absent
    confirm_name: corp.acme-neuro.example
"""

RETURN = r"""
directory:
  description: The directory after the run; empty when it does not exist (or in check mode before creation).
  returned: always
  type: dict
  contains:
    directory_id:
      description: Identifier of the directory.
      type: str
      sample: d-9067a1b2c3
    name:
      description: Fully qualified domain name.
      type: str
      sample: corp.acme-neuro.example
    short_name:
      description: NetBIOS name.
      type: str
      sample: ACMENEURO
    edition:
      description: Edition.
      type: str
      sample: Standard
    description:
      description: Description given at creation.
      type: str
      sample: Managed Microsoft AD of tenant acme-neuro
    stage:
      description: Stage (C(Requested), C(Creating), C(Active), C(Failed), ...).
      type: str
      sample: Active
    stage_reason:
      description: Why the directory is in its stage, when AWS says (set on C(Failed)).
      type: str
      sample: null
    dns_ip_addrs:
      description: Addresses of the domain controllers, which are also the domain's DNS servers.
      type: list
      elements: str
      sample: ["10.40.128.10", "10.40.144.12"]
    access_url:
      description: Access URL of the directory.
      type: str
      sample: d-9067a1b2c3.awsapps.com
    vpc_id:
      description: VPC of the directory.
      type: str
      sample: vpc-0123456789abcdef0
    subnet_ids:
      description: Subnets of the domain controllers.
      type: list
      elements: str
      sample: [subnet-0aaa1111bbbb2222c, subnet-0ddd3333eeee4444f]
    availability_zones:
      description: Availability Zones of those subnets.
      type: list
      elements: str
      sample: [eu-west-3a, eu-west-3b]
    security_group_id:
      description: Security group AWS created for the domain controllers.
      type: str
      sample: sg-0123456789abcdef0
    domain_controllers:
      description: Desired number of domain controllers.
      type: int
      sample: 2
    tags:
      description: Tags of the directory.
      type: dict
      sample: {tenant: acme-neuro, environment: prod, managed-by: appstream-tenant-toolkit}
diff:
  description: Before and after values of what changed (or would change in check mode).
  returned: always
  type: dict
  sample:
    before: {domain_controllers: 2}
    after: {domain_controllers: 3}
plan:
  description: The planned action and the fields it touches.
  returned: always
  type: dict
  sample:
    action: update
    fields: [domain_controllers]
    live: [domain_controllers]
    requires_stop: []
    requires_recreate: []
    removals: []
not_owned:
  description: Set with O(state=absent) when a directory with that name exists but belongs to another tenant
    (or to none); it is left untouched.
  returned: when a directory of another owner was found
  type: bool
  sample: true
"""

import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.password import (
    ADMIN_ACCOUNT,
    password_policy_errors,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    LIVE,
    RECREATE,
    Plan,
    PlanRefused,
    ResourceKind,
    refusal_message,
    unchangeable_changes,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    known_arn,
    known_or_read,
    list_to_dict,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import ABSENT, wait_for
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ds import (
    ACTIVE,
    COSMETIC,
    DELETING_STAGES,
    FAILED_STAGES,
    IN_PLACE_LIMITS,
    MIN_DOMAIN_CONTROLLERS,
    UNCHANGEABLE,
    comparable_directory,
    controllers_state,
    desired_directory,
    directory_summary,
)

# Modelled durations (seconds) shown in progress lines next to the elapsed time.
EXPECTED_CREATION = 25 * 60
EXPECTED_CONTROLLER = 20 * 60
EXPECTED_DELETION = 10 * 60


class DirectoryKind(ResourceKind):
    kind = "directory"
    field_kinds = dict.fromkeys(UNCHANGEABLE, RECREATE)

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.deadline = time.monotonic() + module.params["wait_timeout"]
        self.found: dict[str, Any] | None = None
        self.tags_by_id: dict[str, dict[str, str]] = {}
        self.controllers_changed = False

    # -- reads ---------------------------------------------------------------------------------
    def _all_pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        def read() -> dict[str, Any]:
            return self.client.get_paginator(operation).paginate(**params).build_full_result()

        return self.client.retry(read)().get(key, [])

    def describe(self, directory_id: str) -> dict[str, Any] | None:
        try:
            found = self.client.describe_directories(DirectoryIds=[directory_id], aws_retry=True)
        except is_boto3_error_code("EntityDoesNotExistException"):
            return None
        descriptions = found.get("DirectoryDescriptions") or []
        return descriptions[0] if descriptions else None

    def known_arn(self, directory_id: str) -> str | None:
        """The directory's ARN in the run's tag listing (known_tags), which names directories by ARN."""
        if not self.known_tags:
            return None
        return known_arn(self.known_tags, "ds", self.module.region, f"directory/{directory_id}")

    def tags_of(self, directory_id: str) -> dict[str, str]:
        if directory_id not in self.tags_by_id:

            def read() -> dict[str, str]:
                return list_to_dict(self._all_pages("list_tags_for_resource", "Tags", ResourceId=directory_id))

            arn = self.known_arn(directory_id)
            self.tags_by_id[directory_id] = read() if arn is None else known_or_read(self.known_tags, arn, read)
        return self.tags_by_id[directory_id]

    # -- hooks ---------------------------------------------------------------------------------
    def find(self) -> dict[str, Any] | None:
        """The tenant's directory of that name; else another owner's, so that it is refused, not adopted."""
        self.tags_by_id = {}
        wanted = self.name.lower()
        same_name = [
            item
            for item in self._all_pages("describe_directories", "DirectoryDescriptions")
            if (item.get("Name") or "").lower() == wanted and item.get("Stage") != "Deleted"
        ]
        owned = [item for item in same_name if self.tags_of(item["DirectoryId"]).get("tenant") == self.tenant]
        if len(owned) > 1:
            ids = ", ".join(item["DirectoryId"] for item in owned)
            self.module.fail_json(
                msg=f"directory {self.name!r}: tenant {self.tenant!r} owns several directories of that name "
                f"({ids}); delete the extra ones by hand, the module cannot tell which one is meant"
            )
        self.found = owned[0] if owned else (same_name[0] if same_name else None)
        return self.found

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return self.tags_of(resource["DirectoryId"])

    def desired(self) -> dict[str, Any]:
        wanted = desired_directory(self.params)
        resets = self.params["update_password"] == "always"  # noqa: S105 - an option value, not a password
        if self.found is not None and resets and self.params.get("password"):
            wanted["admin_password_reset"] = True
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {**comparable_directory(resource), "admin_password_reset": False}

    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        if state == "absent" and resource is not None and resource.get("Stage") in DELETING_STAGES:
            return Plan()  # already going away: nothing to do but wait (see finish)
        plan = super().plan(resource, state)
        if plan.action not in ("update", "recreate"):
            return plan
        for name in [name for name in COSMETIC if name in plan.changes]:
            before, after = plan.changes.pop(name)
            plan.by_kind[LIVE].remove(name)
            self.module.warn(
                f"directory {self.name!r}: {name} is {before!r}, requested {after!r}; AWS cannot change a "
                f"directory's {name} after creation, so it is left as it is"
            )
        if plan.action == "update" and not plan.changes and not plan.tags_changed:
            plan.action = "none"
        return plan

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        """Refuse, before any change and in check mode too, what must not or cannot be done."""
        resource = self.found
        if resource is None:
            return
        stage = resource.get("Stage")
        if plan.action == "delete":
            confirm = (self.params.get("confirm_name") or "").lower()
            if confirm != (resource.get("Name") or "").lower():
                raise PlanRefused(
                    f"refusing to delete directory {resource.get('Name')!r} ({resource['DirectoryId']}): "
                    "deleting a directory destroys every user, group and policy in it; set confirm_name to "
                    "its name to confirm",
                    result,
                )
            return
        if self.params["state"] != "present":
            return
        if stage in DELETING_STAGES:
            raise PlanRefused(
                f"directory {self.name!r} ({resource['DirectoryId']}) is being deleted (stage {stage}); "
                "run again once the deletion has finished",
                result,
            )
        if stage in FAILED_STAGES:
            reason = resource.get("StageReason") or "AWS gave no reason"
            raise PlanRefused(
                f"directory {self.name!r} ({resource['DirectoryId']}) is {stage}: {reason}. A failed directory "
                "cannot be repaired; delete it (state=absent with confirm_name) and run again",
                result,
            )
        fixed = unchangeable_changes(plan.changes, UNCHANGEABLE)
        if fixed:
            raise PlanRefused(refusal_message(f"directory {self.name!r}", fixed, IN_PLACE_LIMITS), result)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
        password = self.params.get("password")
        if not password:
            self.module.fail_json(msg=f"directory {self.name!r} does not exist: password is required to create it")
        request: dict[str, Any] = {
            "Name": self.params["name"],
            "Password": password,
            "Edition": self.params["edition"],
            "VpcSettings": {"VpcId": self.params["vpc_id"], "SubnetIds": self.params["subnet_ids"]},
            "Tags": dict_to_list(tags),
        }
        if self.params.get("short_name"):
            request["ShortName"] = self.params["short_name"]
        if self.params.get("description"):
            request["Description"] = self.params["description"]
        directory_id = self.client.create_microsoft_ad(aws_retry=True, **request)["DirectoryId"]
        self.tags_by_id[directory_id] = dict(tags)
        return {"DirectoryId": directory_id, "Name": self.params["name"], "Stage": "Requested"}

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any]:
        directory_id = resource["DirectoryId"]
        needs_active = {"domain_controllers", "admin_password_reset"} & set(plan.changes)
        if needs_active and resource.get("Stage") != ACTIVE:
            if not self.params["wait"]:
                self.module.fail_json(
                    msg=f"directory {self.name!r} is {resource.get('Stage')}; changing it needs the stage "
                    "Active: run again with wait=true, or once it is Active",
                    directory=self.result(resource),
                )
            resource = self.wait_active(directory_id)
        if "domain_controllers" in plan.changes:
            self.client.update_number_of_domain_controllers(
                DirectoryId=directory_id, DesiredNumber=self.params["domain_controllers"], aws_retry=True
            )
            self.controllers_changed = True
        if "admin_password_reset" in plan.changes:
            self.client.reset_user_password(
                DirectoryId=directory_id, UserName=ADMIN_ACCOUNT, NewPassword=self.params["password"], aws_retry=True
            )
        return resource

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        directory_id = resource["DirectoryId"]
        if to_remove:
            self.client.remove_tags_from_resource(ResourceId=directory_id, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.client.add_tags_to_resource(ResourceId=directory_id, Tags=dict_to_list(to_set), aws_retry=True)
        self.known_tags.pop(self.known_arn(directory_id) or "", None)

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_directory(DirectoryId=resource["DirectoryId"], aws_retry=True)

    # -- waiting -------------------------------------------------------------------------------
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def wait_active(self, directory_id: str) -> dict[str, Any] | None:
        return wait_for(
            fetch=lambda: self.describe(directory_id),
            state_of=lambda item: item.get("Stage") if item else ABSENT,
            targets=[ACTIVE],
            failures=[*FAILED_STAGES, *DELETING_STAGES],
            failure_reason=lambda item: item.get("StageReason") or "",
            timeout=self.remaining(),
            kind="directory",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_CREATION,
        )

    def wait_controllers(self, directory_id: str) -> None:
        desired = self.params["domain_controllers"]

        def fetch() -> dict[str, Any]:
            pages = self._all_pages("describe_domain_controllers", "DomainControllers", DirectoryId=directory_id)
            return {"controllers": pages}

        wait_for(
            fetch=fetch,
            state_of=lambda item: controllers_state(item["controllers"], desired)[0],
            targets=["SETTLED"],
            failures=["FAILED"],
            failure_reason=lambda item: controllers_state(item["controllers"], desired)[1],
            timeout=self.remaining(),
            kind="directory domain controllers of",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_CONTROLLER,
        )

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        if resource is None:
            return None
        directory_id = resource["DirectoryId"]
        if not self.params["wait"] or self.params["wait_for"] == "created":
            return self.describe(directory_id) or resource
        described = self.wait_active(directory_id)
        if self.controllers_changed:
            self.wait_controllers(directory_id)
            described = self.describe(directory_id) or described
        return described

    def wait_absent(self) -> None:
        if not self.params["wait"] or self.found is None:
            return
        directory_id = self.found["DirectoryId"]
        wait_for(
            fetch=lambda: self.describe(directory_id),
            state_of=lambda item: item["Stage"] if item and item.get("Stage") != "Deleted" else ABSENT,
            targets=[ABSENT],
            failures=list(FAILED_STAGES),
            failure_reason=lambda item: item.get("StageReason") or "",
            timeout=self.remaining(),
            kind="directory",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_DELETION,
        )

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return directory_summary(resource, self.tags_by_id.get(resource.get("DirectoryId", "")))

    def finish(self, result: dict[str, Any], state: str, check_mode: bool) -> dict[str, Any]:
        if check_mode or not self.params["wait"]:
            return result
        current = result.get(self.kind) or {}
        if state == "present" and self.params["wait_for"] == "active" and current.get("stage") not in (None, ACTIVE):
            # A no-op run on a directory an earlier run only started (wait_for=created): wait for it now.
            result[self.kind] = self.result(self.wait_active(current["directory_id"]))
        elif state == "absent" and self.found is not None and self.found.get("Stage") in DELETING_STAGES:
            self.wait_absent()
            result[self.kind] = {}
        return result


def validate(module: AnsibleAWSModule) -> None:
    """Checks that need no AWS call: fail before touching anything."""
    params = module.params
    if params["state"] != "present":
        return
    if len(params["subnet_ids"]) != 2 or len(set(params["subnet_ids"])) != 2:
        module.fail_json(
            msg=f"subnet_ids must list exactly two different subnets (in two Availability Zones), "
            f"got {params['subnet_ids']}"
        )
    if params["domain_controllers"] < MIN_DOMAIN_CONTROLLERS:
        module.fail_json(
            msg=f"domain_controllers must be at least {MIN_DOMAIN_CONTROLLERS}, got {params['domain_controllers']}"
        )
    if params.get("password"):
        errors = password_policy_errors(params["password"])
        if errors:
            module.fail_json(msg="password does not meet the directory's password policy: " + "; ".join(errors))


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        short_name=dict(type="str"),
        description=dict(type="str"),
        edition=dict(type="str", choices=["Standard", "Enterprise"]),
        vpc_id=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        password=dict(type="str", no_log=True),
        update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
        domain_controllers=dict(type="int", default=MIN_DOMAIN_CONTROLLERS),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        confirm_name=dict(type="str"),
        wait_for=dict(type="str", default="active", choices=["created", "active"]),
        known_tags=dict(type="dict"),
        **tenant_argument_spec(wait_timeout=3600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["edition", "vpc_id", "subnet_ids"])],
        supports_check_mode=True,
    )
    validate(module)
    client = module.client("ds", retry_decorator=retry_decorator())
    run(module, DirectoryKind(module, client), module.params["state"])


if __name__ == "__main__":
    main()
