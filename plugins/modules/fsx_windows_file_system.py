#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fsx_windows_file_system
version_added: 0.1.0
short_description: Manage an Amazon FSx for Windows File Server file system owned by a tenant
description:
  - Creates, updates in place and deletes an FSx for Windows File Server file system joined to an AWS
    Managed Microsoft AD directory.
  - B(Identity.) FSx file systems have no name. This module names one with its C(Name) tag (O(name)) and
    finds it by that tag B(and) its ownership tag C(tenant=<tenant>). A file system with the same C(Name)
    tag that carries another tenant's tag, or no C(tenant) tag, is never adopted, changed or deleted.
  - "Changes FSx makes in place: O(throughput_capacity), O(storage_capacity) (growth only, by at least
    10%), O(aliases) (C(AssociateFileSystemAliases) / C(DisassociateFileSystemAliases)), the backup and
    maintenance settings and tags. Changes FSx cannot make (deployment type, storage type, subnets,
    directory, KMS key, O(copy_tags_to_backups)) and storage shrinking fail with a message naming the
    values; the module never replaces a file system."
  - Creation uses a deterministic C(ClientRequestToken), so an interrupted run never creates a second file
    system. Waiting fails as soon as the file system reaches C(FAILED), with FSx's C(FailureDetails).
  - Deletion takes a final backup by default, tagged with the ownership tags, and returns its id.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description:
      - Value of the file system's C(Name) tag, which identifies it together with the C(tenant) tag.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the file system; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  deployment_type:
    description:
      - Deployment type. Required with O(state=present) (the API would otherwise silently pick
        C(SINGLE_AZ_1)). Cannot change after creation.
    type: str
    choices: [SINGLE_AZ_1, SINGLE_AZ_2, MULTI_AZ_1]
  subnet_ids:
    description:
      - One subnet for C(SINGLE_AZ_1) and C(SINGLE_AZ_2), two subnets in different Availability Zones for
        C(MULTI_AZ_1). Required with O(state=present). Cannot change after creation.
    type: list
    elements: str
  preferred_subnet_id:
    description:
      - Subnet of the preferred file server; required for C(MULTI_AZ_1), must be one of O(subnet_ids).
        Cannot change after creation.
    type: str
  security_group_ids:
    description:
      - Security groups of the file system's network interfaces, set at creation.
      - FSx does not report them afterwards, so they are not compared on later runs; change the rules of
        the groups instead.
    type: list
    elements: str
  storage_type:
    description:
      - Storage type; C(HDD) needs C(SINGLE_AZ_2) or C(MULTI_AZ_1). Cannot change after creation.
    type: str
    choices: [SSD, HDD]
    default: SSD
  storage_capacity:
    description:
      - Storage in GiB (SSD 32 to 65536, HDD 2000 to 65536). Required with O(state=present).
      - Grows in place, by at least 10% at a time and with a throughput of at least 16 MB/s. A smaller value
        than the current one fails and changes nothing.
    type: int
  throughput_capacity:
    description:
      - Throughput in MB/s. Required with O(state=present). Changed in place.
    type: int
    choices: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288]
  active_directory_id:
    description:
      - Id of the AWS Managed Microsoft AD directory to join; it must be C(Active). Required with
        O(state=present). Cannot change after creation. Self-managed directories are not supported.
    type: str
  aliases:
    description:
      - DNS aliases (fully qualified names) of the file system, at most 50. Compared case-insensitively.
      - Omit to leave aliases alone; V([]) removes every alias.
    type: list
    elements: str
  automatic_backup_retention_days:
    description:
      - Days automatic daily backups are kept, 0 (no automatic backups) to 90. Changed in place.
    type: int
  daily_automatic_backup_start_time:
    description:
      - UTC time of the daily backup, C(HH:MM). Changed in place.
    type: str
  weekly_maintenance_start_time:
    description:
      - UTC start of the weekly maintenance window, C(d:HH:MM) with C(d) from 1 (Monday) to 7 (Sunday).
        Changed in place.
    type: str
  kms_key_id:
    description:
      - KMS key (ARN or key id) encrypting the file system; the AWS managed key when omitted. Cannot change
        after creation. A key alias is accepted but not compared on later runs.
    type: str
  copy_tags_to_backups:
    description:
      - Whether backups get the file system's tags. Cannot change after creation.
    type: bool
  skip_final_backup:
    description:
      - With O(state=absent), whether to delete without the final backup FSx takes by default.
    type: bool
    default: false
  final_backup_tags:
    description:
      - Tags of the final backup taken with O(state=absent), in addition to the ownership tags and C(Name)
        that it always gets.
    type: dict
  wait:
    description:
      - Wait for the file system to be C(AVAILABLE) after a creation or change (for a throughput or storage
        change, until it is in effect; the storage optimisation that follows is not waited for), and for it
        to be gone after a deletion.
  wait_timeout:
    default: 3600
notes:
  - Like the ownership tags, the C(Name) tag is always set and never removed, even with O(purge_tags=true).
  - Only C(WINDOWS) file systems are managed; audit logs, FSRM and disk IOPS settings are left as they are.
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
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant's file system exists and is joined to its directory
  iconeus.tenant_toolkit.fsx_windows_file_system:
    name: acme-neuro-fsx
    tenant: acme-neuro
    environment: prod
    deployment_type: SINGLE_AZ_2
    subnet_ids: [subnet-0aaa1111bbbb2222c]
    security_group_ids: [sg-0123456789abcdef0]
    storage_type: SSD
    storage_capacity: 64
    throughput_capacity: 32
    active_directory_id: d-9067a1b2c3
    automatic_backup_retention_days: 7
    daily_automatic_backup_start_time: "01:00"
    weekly_maintenance_start_time: "7:02:00"
    aliases: [files.corp.acme-neuro.example]
  register: file_system

- name: Show the share path
  ansible.builtin.debug:
    msg: "{{ file_system.file_system.share_path }}"

- name: Delete it, keeping a final backup
  iconeus.tenant_toolkit.fsx_windows_file_system:
    name: acme-neuro-fsx
    tenant: acme-neuro
    state: absent
  register: deleted

- name: Show the final backup
  ansible.builtin.debug:
    msg: "{{ deleted.final_backup_id }}"
"""

RETURN = r"""
file_system:
  description: The file system after the run; empty when it does not exist (or in check mode before creation).
  returned: always
  type: dict
  contains:
    file_system_id:
      description: Identifier of the file system.
      type: str
      sample: fs-0123456789abcdef0
    name:
      description: Value of its C(Name) tag.
      type: str
      sample: acme-neuro-fsx
    arn:
      description: ARN of the file system.
      type: str
      sample: arn:aws:fsx:eu-west-3:123456789012:file-system/fs-0123456789abcdef0
    dns_name:
      description: DNS name of the file system.
      type: str
      sample: fs-0123456789abcdef0.corp.acme-neuro.example
    share_path:
      description: UNC path of the default share C(share).
      type: str
      sample: \\fs-0123456789abcdef0.corp.acme-neuro.example\share
    lifecycle:
      description: Lifecycle (C(CREATING), C(AVAILABLE), C(UPDATING), C(FAILED), C(DELETING), ...).
      type: str
      sample: AVAILABLE
    failure_details:
      description: FSx's explanation of a C(FAILED) lifecycle.
      type: dict
      sample: {message: "The file system could not join the directory"}
    storage_capacity:
      description: Storage in GiB.
      type: int
      sample: 64
    storage_type:
      description: Storage type.
      type: str
      sample: SSD
    vpc_id:
      description: VPC of the file system.
      type: str
      sample: vpc-0123456789abcdef0
    subnet_ids:
      description: Subnets of the file system.
      type: list
      elements: str
      sample: [subnet-0aaa1111bbbb2222c]
    network_interface_ids:
      description: Network interfaces of the file system.
      type: list
      elements: str
      sample: [eni-0123456789abcdef0]
    kms_key_id:
      description: ARN of the KMS key encrypting the file system.
      type: str
      sample: arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    windows_configuration:
      description: Windows settings, snake_case.
      type: dict
      sample:
        active_directory_id: d-9067a1b2c3
        deployment_type: SINGLE_AZ_2
        throughput_capacity: 32
        automatic_backup_retention_days: 7
        daily_automatic_backup_start_time: "01:00"
        weekly_maintenance_start_time: "7:02:00"
        copy_tags_to_backups: false
        aliases: [{name: files.corp.acme-neuro.example, lifecycle: AVAILABLE}]
    administrative_actions:
      description: Recent administrative actions (updates, storage optimisation, aliases) and their status.
      type: list
      elements: dict
      sample: [{administrative_action_type: FILE_SYSTEM_UPDATE, status: COMPLETED}]
    tags:
      description: Tags of the file system.
      type: dict
      sample: {Name: acme-neuro-fsx, tenant: acme-neuro, environment: prod, managed-by: appstream-tenant-toolkit}
final_backup_id:
  description: Id of the final backup taken when the file system was deleted by this run.
  returned: when O(state=absent) deleted a file system without O(skip_final_backup)
  type: str
  sample: backup-0123456789abcdef0
diff:
  description: Before and after values of what changed (or would change in check mode).
  returned: always
  type: dict
  sample:
    before: {throughput_capacity: 32}
    after: {throughput_capacity: 64}
plan:
  description: The planned action and the fields it touches.
  returned: always
  type: dict
  sample:
    action: update
    fields: [throughput_capacity]
    live: [throughput_capacity]
    requires_stop: []
    requires_recreate: []
    removals: []
not_owned:
  description: Set with O(state=absent) when a file system with that C(Name) tag belongs to another tenant (or
    to none); it is left untouched.
  returned: when a file system of another owner was found
  type: bool
  sample: true
"""

import re
import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    client_token,
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    RECREATE,
    Plan,
    PlanRefused,
    ResourceKind,
    refusal_message,
    unchangeable_changes,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    list_to_dict,
    ownership_tags,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import ABSENT, wait_for
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.fsx import (
    AVAILABLE,
    DELETING,
    FAILED_LIFECYCLES,
    IN_PLACE_LIMITS,
    NAME_TAG,
    UNCHANGEABLE,
    alias_changes,
    comparable_file_system,
    desired_file_system,
    failure_reason,
    file_system_summary,
    kms_key_matches,
    settle_state,
    storage_change_errors,
    update_request,
)

THROUGHPUT_CHOICES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288]
STORAGE_LIMITS = {"SSD": (32, 65536), "HDD": (2000, 65536)}
DAILY_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKLY_TIME = re.compile(r"^[1-7]:([01]\d|2[0-3]):[0-5]\d$")
MAX_ALIASES = 50
CLIENT_TOKEN_MAX = 63  # botocore fsx ClientRequestToken: at most 63 characters
# Modelled durations (seconds) shown in progress lines next to the elapsed time.
EXPECTED_CREATION = 30 * 60
EXPECTED_UPDATE = 20 * 60
EXPECTED_DELETION = 15 * 60
SETTLE_FAILURES = [*FAILED_LIFECYCLES, DELETING, "UPDATE_FAILED", "ALIAS_FAILED"]


class FileSystemKind(ResourceKind):
    kind = "file_system"
    field_kinds = dict.fromkeys(UNCHANGEABLE, RECREATE)

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.deadline = time.monotonic() + module.params["wait_timeout"]
        self.found: dict[str, Any] | None = None
        self.update_started = False
        self.final_backup_id: str | None = None

    # -- reads ---------------------------------------------------------------------------------
    def describe(self, file_system_id: str) -> dict[str, Any] | None:
        try:
            found = self.client.describe_file_systems(FileSystemIds=[file_system_id], aws_retry=True)
        except is_boto3_error_code("FileSystemNotFound"):
            return None
        items = found.get("FileSystems") or []
        return items[0] if items else None

    def find(self) -> dict[str, Any] | None:
        """The tenant's file system with that Name tag; else another owner's, so that it is refused."""

        def read() -> dict[str, Any]:
            return self.client.get_paginator("describe_file_systems").paginate().build_full_result()

        same_name = [
            item
            for item in self.client.retry(read)().get("FileSystems", [])
            if item.get("FileSystemType") == "WINDOWS" and self.current_tags(item).get(NAME_TAG) == self.name
        ]
        owned = [item for item in same_name if self.current_tags(item).get("tenant") == self.tenant]
        if len(owned) > 1:
            ids = ", ".join(item["FileSystemId"] for item in owned)
            self.module.fail_json(
                msg=f"file system {self.name!r}: tenant {self.tenant!r} owns several file systems with that Name "
                f"tag ({ids}); remove the extra ones by hand, the module cannot tell which one is meant"
            )
        self.found = owned[0] if owned else (same_name[0] if same_name else None)
        return self.found

    # -- hooks ---------------------------------------------------------------------------------
    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return list_to_dict(resource.get("Tags"))

    def desired(self) -> dict[str, Any]:
        return desired_file_system(self.params)

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        comparable = comparable_file_system(resource)
        wanted_key = self.params.get("kms_key_id")
        if wanted_key and kms_key_matches(comparable["kms_key_id"], wanted_key):
            comparable["kms_key_id"] = wanted_key  # same key, named as the caller names it
        return comparable

    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        if state == "absent" and resource is not None and resource.get("Lifecycle") == DELETING:
            return Plan()  # already going away: nothing to do but wait (see finish)
        plan = super().plan(resource, state)
        # The Name tag is the file system's identity: never purged, always set.
        plan.tags_to_remove = [key for key in plan.tags_to_remove if key != NAME_TAG]
        name_missing = resource is None or self.current_tags(resource).get(NAME_TAG) != self.name
        if state == "present" and name_missing:
            plan.tags_to_set[NAME_TAG] = self.name
        if plan.action == "update" and not plan.changes and not plan.tags_changed:
            plan.action = "none"
        return plan

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        """Refuse, before any change and in check mode too, what FSx cannot or must not do."""
        resource = self.found
        if resource is None or self.params["state"] != "present":
            return
        lifecycle = resource.get("Lifecycle")
        if lifecycle == DELETING:
            raise PlanRefused(
                f"file system {self.name!r} ({resource['FileSystemId']}) is being deleted; run again once it is gone",
                result,
            )
        if lifecycle == "FAILED":
            raise PlanRefused(
                f"file system {self.name!r} ({resource['FileSystemId']}) is FAILED: "
                f"{failure_reason(resource) or 'FSx gave no failure details'}. A failed file system cannot be "
                "repaired; delete it (state=absent) and run again",
                result,
            )
        fixed = unchangeable_changes(plan.changes, UNCHANGEABLE)
        if fixed:
            raise PlanRefused(refusal_message(f"file system {self.name!r}", fixed, IN_PLACE_LIMITS), result)
        if "storage_capacity" in plan.changes:
            before, after = plan.changes["storage_capacity"]
            throughput = (resource.get("WindowsConfiguration") or {}).get("ThroughputCapacity")
            errors = storage_change_errors(before, after, throughput)
            if errors:
                raise PlanRefused(f"file system {self.name!r}: " + "; ".join(errors), result)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
        params = self.params
        windows: dict[str, Any] = {
            "ActiveDirectoryId": params["active_directory_id"],
            "DeploymentType": params["deployment_type"],
            "ThroughputCapacity": params["throughput_capacity"],
        }
        optional_windows = {
            "PreferredSubnetId": params.get("preferred_subnet_id"),
            "AutomaticBackupRetentionDays": params.get("automatic_backup_retention_days"),
            "DailyAutomaticBackupStartTime": params.get("daily_automatic_backup_start_time"),
            "WeeklyMaintenanceStartTime": params.get("weekly_maintenance_start_time"),
            "CopyTagsToBackups": params.get("copy_tags_to_backups"),
            "Aliases": desired.get("aliases") or None,
        }
        windows.update({key: value for key, value in optional_windows.items() if value is not None})
        request: dict[str, Any] = {
            "FileSystemType": "WINDOWS",
            "StorageCapacity": params["storage_capacity"],
            "StorageType": params["storage_type"],
            "SubnetIds": params["subnet_ids"],
            "Tags": dict_to_list({**tags, NAME_TAG: self.name}),
            "WindowsConfiguration": windows,
        }
        if params.get("security_group_ids"):
            request["SecurityGroupIds"] = params["security_group_ids"]
        if params.get("kms_key_id"):
            request["KmsKeyId"] = params["kms_key_id"]
        # Same request after an interruption -> same token -> FSx returns the first file system.
        token = client_token("fsx-windows", self.tenant, self.name, request)[:CLIENT_TOKEN_MAX]
        return self.client.create_file_system(ClientRequestToken=token, aws_retry=True, **request)["FileSystem"]

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any]:
        file_system_id = resource["FileSystemId"]
        request = update_request(plan.changes)
        if (request or "aliases" in plan.changes) and resource.get("Lifecycle") != AVAILABLE:
            if not self.params["wait"]:
                self.module.fail_json(
                    msg=f"file system {self.name!r} is {resource.get('Lifecycle')}; changing it needs AVAILABLE: "
                    "run again with wait=true, or once it is AVAILABLE",
                    file_system=self.result(resource),
                )
            resource = self.wait_settled(file_system_id, watch_update=False) or resource
        if request:
            self.client.update_file_system(FileSystemId=file_system_id, aws_retry=True, **request)
            self.update_started = "StorageCapacity" in request or "ThroughputCapacity" in request.get(
                "WindowsConfiguration", {}
            )
        if "aliases" in plan.changes:
            before, after = plan.changes["aliases"]
            to_add, to_remove = alias_changes(before or [], after)
            if to_remove:
                self.client.disassociate_file_system_aliases(
                    FileSystemId=file_system_id, Aliases=to_remove, aws_retry=True
                )
            if to_add:
                self.client.associate_file_system_aliases(FileSystemId=file_system_id, Aliases=to_add, aws_retry=True)
        return resource

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        arn = resource["ResourceARN"]
        if to_remove:
            self.client.untag_resource(ResourceARN=arn, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.client.tag_resource(ResourceARN=arn, Tags=dict_to_list(to_set), aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        file_system_id = resource["FileSystemId"]
        if resource.get("Lifecycle") == "CREATING" and self.params["wait"]:
            # FSx refuses to delete a file system that is still being created.
            wait_for(
                fetch=lambda: self.describe(file_system_id),
                state_of=lambda item: item.get("Lifecycle") if item else ABSENT,
                targets=[AVAILABLE, *FAILED_LIFECYCLES, ABSENT],
                timeout=self.remaining(),
                kind="file system",
                tenant=self.tenant,
                name=self.name,
                expected=EXPECTED_CREATION,
            )
        windows: dict[str, Any] = {"SkipFinalBackup": self.params["skip_final_backup"]}
        if not self.params["skip_final_backup"]:
            backup_tags = {str(k): str(v) for k, v in (self.params.get("final_backup_tags") or {}).items()}
            backup_tags.update(ownership_tags(self.tenant, self.environment))
            backup_tags[NAME_TAG] = f"{self.name}-final"
            windows["FinalBackupTags"] = dict_to_list(backup_tags)
        response = self.client.delete_file_system(
            FileSystemId=file_system_id, WindowsConfiguration=windows, aws_retry=True
        )
        self.final_backup_id = (response.get("WindowsResponse") or {}).get("FinalBackupId")

    # -- waiting -------------------------------------------------------------------------------
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def wait_settled(self, file_system_id: str, watch_update: bool) -> dict[str, Any] | None:
        return wait_for(
            fetch=lambda: self.describe(file_system_id),
            state_of=lambda item: settle_state(item, watch_update)[0],
            targets=[AVAILABLE],
            failures=SETTLE_FAILURES,
            failure_reason=lambda item: settle_state(item, watch_update)[1],
            timeout=self.remaining(),
            kind="file system",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_UPDATE if watch_update else EXPECTED_CREATION,
        )

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        if resource is None:
            return None
        file_system_id = resource["FileSystemId"]
        if not self.params["wait"]:
            return self.describe(file_system_id) or resource
        return self.wait_settled(file_system_id, watch_update=self.update_started)

    def wait_absent(self) -> None:
        if not self.params["wait"] or self.found is None:
            return
        file_system_id = self.found["FileSystemId"]
        wait_for(
            fetch=lambda: self.describe(file_system_id),
            state_of=lambda item: item.get("Lifecycle") if item else ABSENT,
            targets=[ABSENT],
            failures=["FAILED"],
            failure_reason=failure_reason,
            timeout=self.remaining(),
            kind="file system",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_DELETION,
        )

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return file_system_summary(resource, self.current_tags(resource))

    def finish(self, result: dict[str, Any], state: str, check_mode: bool) -> dict[str, Any]:
        if self.final_backup_id:
            result["final_backup_id"] = self.final_backup_id
        if check_mode or not self.params["wait"]:
            return result
        current = result.get(self.kind) or {}
        if state == "present" and current.get("lifecycle") not in (None, AVAILABLE):
            # A no-op run on a file system that an earlier run (wait=false) only started: wait for it now.
            result[self.kind] = self.result(self.wait_settled(current["file_system_id"], watch_update=False))
        elif state == "absent" and self.found is not None and self.found.get("Lifecycle") == DELETING:
            self.wait_absent()
            result[self.kind] = {}
        return result


def validation_errors(params: dict[str, Any]) -> list[str]:
    """Checks that need no AWS call, so that a bad request fails before touching anything."""
    if params["state"] != "present":
        return []
    errors = []
    deployment, subnets = params["deployment_type"], params["subnet_ids"]
    expected = 2 if deployment == "MULTI_AZ_1" else 1
    if len(subnets) != expected or len(set(subnets)) != expected:
        errors.append(f"subnet_ids: {deployment} needs exactly {expected} subnet(s), got {subnets}")
    preferred = params.get("preferred_subnet_id")
    if deployment == "MULTI_AZ_1" and not preferred:
        errors.append("preferred_subnet_id: is required with MULTI_AZ_1")
    if preferred and preferred not in subnets:
        errors.append(f"preferred_subnet_id: {preferred} is not one of subnet_ids")
    storage_type, capacity = params["storage_type"], params["storage_capacity"]
    if storage_type == "HDD" and deployment == "SINGLE_AZ_1":
        errors.append("storage_type: HDD needs SINGLE_AZ_2 or MULTI_AZ_1")
    low, high = STORAGE_LIMITS[storage_type]
    if not low <= capacity <= high:
        errors.append(f"storage_capacity: {storage_type} storage is {low} to {high} GiB, got {capacity}")
    retention = params.get("automatic_backup_retention_days")
    if retention is not None and not 0 <= retention <= 90:
        errors.append(f"automatic_backup_retention_days: must be 0 to 90, got {retention}")
    daily = params.get("daily_automatic_backup_start_time")
    if daily is not None and not DAILY_TIME.match(daily):
        errors.append(f"daily_automatic_backup_start_time: {daily!r} is not HH:MM")
    weekly = params.get("weekly_maintenance_start_time")
    if weekly is not None and not WEEKLY_TIME.match(weekly):
        errors.append(f"weekly_maintenance_start_time: {weekly!r} is not d:HH:MM (d from 1 to 7)")
    if len(params.get("aliases") or []) > MAX_ALIASES:
        errors.append(f"aliases: at most {MAX_ALIASES} aliases")
    return errors


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        deployment_type=dict(type="str", choices=["SINGLE_AZ_1", "SINGLE_AZ_2", "MULTI_AZ_1"]),
        subnet_ids=dict(type="list", elements="str"),
        preferred_subnet_id=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        storage_type=dict(type="str", default="SSD", choices=["SSD", "HDD"]),
        storage_capacity=dict(type="int"),
        throughput_capacity=dict(type="int", choices=THROUGHPUT_CHOICES),
        active_directory_id=dict(type="str"),
        aliases=dict(type="list", elements="str"),
        automatic_backup_retention_days=dict(type="int"),
        daily_automatic_backup_start_time=dict(type="str"),
        weekly_maintenance_start_time=dict(type="str"),
        kms_key_id=dict(type="str", no_log=False),
        copy_tags_to_backups=dict(type="bool"),
        skip_final_backup=dict(type="bool", default=False),
        final_backup_tags=dict(type="dict"),
        **tenant_argument_spec(wait_timeout=3600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[
            (
                "state",
                "present",
                ["deployment_type", "subnet_ids", "storage_capacity", "throughput_capacity", "active_directory_id"],
            )
        ],
        supports_check_mode=True,
    )
    errors = validation_errors(module.params)
    if errors:
        module.fail_json(msg="invalid file system request: " + "; ".join(errors), errors=errors)
    client = module.client("fsx", retry_decorator=retry_decorator())
    run(module, FileSystemKind(module, client), module.params["state"])


if __name__ == "__main__":
    main()
