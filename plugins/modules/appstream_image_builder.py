#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_image_builder
version_added: 0.1.0
short_description: Manage an AppStream 2.0 image builder and its run state
description:
  - Creates, starts, stops, updates and deletes an Amazon AppStream 2.0 image builder owned by a tenant.
  - Creating a builder starts it (the API's behaviour); the module waits for C(RUNNING), or for
    C(STOPPED) with O(state=stopped).
  - "AWS can change only the description and display name of an existing builder, and only while it is
    stopped (C(UpdateImageBuilder)); those follow O(when_running). Every other change (image, instance
    type, network, domain join, IAM role, internet access, access endpoints) needs a new builder: the
    module refuses it and names the fields unless O(recreate=true). Check mode lists them in
    RV(plan.requires_recreate)."
  - Waiting fails as soon as the builder reaches C(FAILED), with its C(StateChangeReason) and
    C(ImageBuilderErrors).
  - Returns the builder's private address (the WinRM target of in-guest automation).
  - "Ownership: the module only changes or deletes a builder whose C(tenant) tag is O(tenant)."
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Name of the image builder.
    type: str
    required: true
  state:
    description:
      - V(present) creates the builder if needed (a new builder starts) and otherwise leaves its run state alone.
      - V(running) starts it if it is stopped; V(stopped) stops it if it runs; V(absent) stops and deletes it.
      - A builder that is busy (pending, snapshotting an image, stopping) is waited for first.
    type: str
    choices: [present, running, stopped, absent]
    default: present
  image_name:
    description: Name of the image the builder starts from (an AWS base image or an image of the account).
    type: str
  image_arn:
    description: ARN of the image the builder starts from. Mutually exclusive with O(image_name).
    type: str
  instance_type:
    description: Instance type, for example C(stream.standard.medium). Required to create the builder.
    type: str
  subnet_ids:
    description: The builder's subnet (AppStream takes exactly one).
    type: list
    elements: str
  security_group_ids:
    description: Security groups of the builder (at most five).
    type: list
    elements: str
  domain_join_info:
    description: Active Directory domain the builder joins (a directory config must exist for it).
    type: dict
    suboptions:
      directory_name:
        description: Fully qualified name of the directory.
        type: str
      organizational_unit_distinguished_name:
        description: Distinguished name of the OU that receives the computer object.
        type: str
        aliases: [ou]
  iam_role_arn:
    description: IAM role the builder assumes.
    type: str
  enable_default_internet_access:
    description: Default internet access (needs a public subnet).
    type: bool
  access_endpoints:
    description: Interface VPC endpoints users stream through.
    type: list
    elements: dict
    suboptions:
      endpoint_type:
        description: Endpoint type.
        type: str
        choices: [STREAMING]
        default: STREAMING
      vpce_id:
        description: Identifier of the interface VPC endpoint.
        type: str
  description:
    description: Description (changed in place while the builder is stopped).
    type: str
  display_name:
    description: Display name (changed in place while the builder is stopped).
    type: str
  appstream_agent_version:
    description:
      - AppStream agent version, or C(LATEST) (sent as AWS's C([LATEST])). Sent when the module creates or starts
        the builder; AWS applies it at start, so it is not compared with a builder that already runs.
    type: str
  recreate:
    description: Replace the builder (stop, delete, create) when a requested change cannot be made in place.
    type: bool
    default: false
  when_running:
    description:
      - What to do when the description or display name change and the builder runs.
      - V(fail) refuses and names the fields; V(restart) stops the builder, updates it and starts it again.
    type: str
    choices: [fail, restart]
    default: fail
  wait_timeout:
    description: Seconds to wait for each transition.
attributes:
  check_mode:
    details: Read calls only; the plan lists what changes in place and what needs a new builder.
  diff_mode:
    details: Before and after values of the changed options.
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
- name: Ensure the tenant's image builder runs
  iconeus.tenant_toolkit.appstream_image_builder:
    name: acme-neuro-builder
    tenant: acme-neuro
    environment: prod
    state: running
    image_name: AppStream-WinServer2019-07-16-2024
    instance_type: stream.standard.medium
    subnet_ids: [subnet-0a1b2c3d]
    security_group_ids: [sg-0123456789abcdef0]
    domain_join_info:
      directory_name: corp.acme-neuro.example
      ou: OU=AppStream,OU=Computers,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example
  register: builder

- name: Show the WinRM target
  ansible.builtin.debug:
    msg: "{{ builder.image_builder.private_ip }}"

- name: Stop the builder when the image is done
  iconeus.tenant_toolkit.appstream_image_builder:
    name: acme-neuro-builder
    tenant: acme-neuro
    state: stopped

- name: Move the builder to a newer base image (a new builder)
  iconeus.tenant_toolkit.appstream_image_builder:
    name: acme-neuro-builder
    tenant: acme-neuro
    image_name: AppStream-WinServer2019-10-08-2024
    instance_type: stream.standard.medium
    recreate: true
"""

RETURN = r"""
image_builder:
  description: The builder as DescribeImageBuilders reports it (snake_case), with its tags.
  type: dict
  returned: when the builder exists
  contains:
    name:
      description: Builder name.
      type: str
      sample: acme-neuro-builder
    arn:
      description: Builder ARN.
      type: str
      sample: arn:aws:appstream:eu-west-3:123456789012:image-builder/acme-neuro-builder
    state:
      description: Builder state.
      type: str
      sample: RUNNING
    private_ip:
      description: Private IPv4 address of the builder's network interface (the WinRM target).
      type: str
      sample: 10.40.10.37
    image_arn:
      description: Image the builder started from.
      type: str
      sample: arn:aws:appstream:eu-west-3::image/AppStream-WinServer2019-07-16-2024
    state_change_reason:
      description: Why the builder changed state (for example why it failed).
      type: dict
      sample: {code: INTERNAL_ERROR, message: The image builder failed.}
    image_builder_errors:
      description: Errors AWS reported for the builder.
      type: list
      elements: dict
      sample: []
    tags:
      description: Tags of the builder.
      type: dict
      sample: {tenant: acme-neuro, managed-by: appstream-tenant-toolkit}
plan:
  description: What the run changes (or, in check mode, would change).
  type: dict
  returned: always
  contains:
    action:
      description: C(none), C(create), C(update), C(recreate) or C(delete).
      type: str
      sample: update
    fields:
      description: Options whose value changes.
      type: list
      elements: str
      sample: [state]
    live:
      description: Changes applied to the builder as it is (including start and stop).
      type: list
      elements: str
      sample: [state]
    requires_stop:
      description: Changes that need a stopped builder (description, display name).
      type: list
      elements: str
      sample: []
    requires_recreate:
      description: Changes that need a new builder.
      type: list
      elements: str
      sample: [instance_type]
    removals:
      description: Settings removed.
      type: list
      elements: str
      sample: []
requires_restart:
  description: Whether the change stops and restarts a running builder.
  type: bool
  returned: always
  sample: false
restart_fields:
  description: The changes that need the restart.
  type: list
  elements: str
  returned: always
  sample: []
diff:
  description: Before and after values of the changed options.
  type: dict
  returned: always
  sample: {before: {state: STOPPED}, after: {state: RUNNING}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    describe_one,
    get_tags,
    reason_text,
    set_tags,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.builder import (
    BUILDER_SETTLED,
    builder_comparable,
    builder_desired,
    builder_field_kind,
    create_image_builder_request,
    settled_builder_state,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    STOP,
    Plan,
    PlanRefused,
    ResourceKind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import is_owned
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import ABSENT, wait_for

EXPECTED_SECONDS = {"RUNNING": 10 * 60, "STOPPED": 5 * 60, ABSENT: 3 * 60}


def argument_spec() -> dict[str, Any]:
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "running", "stopped", "absent"]),
        image_name=dict(type="str"),
        image_arn=dict(type="str"),
        instance_type=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        domain_join_info=dict(
            type="dict",
            options=dict(
                directory_name=dict(type="str"),
                organizational_unit_distinguished_name=dict(type="str", aliases=["ou"]),
            ),
        ),
        iam_role_arn=dict(type="str"),
        enable_default_internet_access=dict(type="bool"),
        access_endpoints=dict(
            type="list",
            elements="dict",
            options=dict(
                endpoint_type=dict(type="str", default="STREAMING", choices=["STREAMING"]),
                vpce_id=dict(type="str"),
            ),
        ),
        description=dict(type="str"),
        display_name=dict(type="str"),
        appstream_agent_version=dict(type="str"),
        recreate=dict(type="bool", default=False),
        when_running=dict(type="str", default="fail", choices=["fail", "restart"]),
    )
    spec.update(tenant_argument_spec(wait_timeout=1800))
    return spec


class ImageBuilder(ResourceKind):
    kind = "image_builder"

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.requested_state = module.params["state"]
        self.current: dict[str, Any] | None = None
        self.target_state: str | None = None

    # -- reading ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any] | None:
        builder = describe_one(self.client, "describe_image_builders", "ImageBuilders", Names=[self.name])
        if builder is not None and builder.get("State") == "DELETING":
            return builder if self.requested_state == "absent" else self.wait_gone()
        return builder

    def find(self) -> dict[str, Any] | None:
        builder = self.describe()
        if builder is not None:
            tags = get_tags(self.client, builder["Arn"])
            owned = is_owned(tags, self.tenant)
            if owned and not self.module.check_mode and self.params["wait"]:
                builder = self.settle(builder) or builder
            builder = {**builder, "Tags": tags}
        self.current = builder
        return builder

    def settle(self, builder: dict[str, Any]) -> dict[str, Any] | None:
        """Plan against a settled builder: start, stop, update and delete all need one."""
        state = builder.get("State")
        if state in BUILDER_SETTLED or state == "DELETING":
            return builder
        target = settled_builder_state(state)
        if self.requested_state == "absent" and target == "RUNNING":
            return self.wait_state(["RUNNING", "STOPPED"])
        return self.wait_state([target or "RUNNING"])

    def wait_gone(self) -> None:
        self.wait_state([ABSENT])
        return None

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags") or {}

    # -- planning ----------------------------------------------------------------------------
    def desired(self) -> dict[str, Any]:
        wanted = builder_desired(self.params)
        wanted["state"] = {"running": "RUNNING", "stopped": "STOPPED"}.get(self.requested_state)
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return builder_comparable(resource)

    def classify(self, name: str) -> str:
        return builder_field_kind(name, (self.current or {}).get("State"))

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        state = (self.current or {}).get("State")
        running = settled_builder_state(state) == "RUNNING"
        fields = sorted(plan.by_kind[STOP]) if plan.action == "update" and running else []
        if self.requested_state == "stopped":
            fields = []  # stopped anyway: stop, then update
        result["requires_restart"] = bool(fields)
        result["restart_fields"] = fields
        if state == "FAILED" and self.requested_state in ("running", "stopped") and plan.action == "update":
            raise PlanRefused(
                f"image builder {self.name!r} is FAILED ({reason_text(self.current or {}, 'ImageBuilderErrors')}); "
                "delete it (state=absent) or replace it (recreate=true)",
                result,
            )
        if fields and self.params["when_running"] == "fail":
            raise PlanRefused(
                f"image builder {self.name!r} is {state}; {', '.join(fields)} can only change while it is stopped. "
                "Set when_running=restart to stop, update and start it again, or use state=stopped",
                result,
            )

    # -- waiting -----------------------------------------------------------------------------
    def wait_state(self, targets: list[str]) -> dict[str, Any] | None:
        return wait_for(
            lambda: describe_one(self.client, "describe_image_builders", "ImageBuilders", Names=[self.name]),
            lambda builder: ABSENT if builder is None else builder["State"],
            targets=targets,
            failures=[] if "FAILED" in targets else ["FAILED"],
            failure_reason=lambda builder: reason_text(builder, "ImageBuilderErrors"),
            timeout=self.params["wait_timeout"],
            kind="image builder",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_SECONDS.get(targets[0]),
        )

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        if resource is None or not self.params["wait"] or self.target_state is None:
            return resource
        if resource.get("State") == self.target_state:
            return resource
        waited = self.wait_state([self.target_state])
        return {**(waited or {}), "Tags": resource.get("Tags", {})}

    def wait_absent(self) -> None:
        if self.params["wait"]:
            self.wait_state([ABSENT])

    # -- changing ----------------------------------------------------------------------------
    def agent_version(self) -> str | None:
        version = self.params.get("appstream_agent_version")
        return "[LATEST]" if version in ("LATEST", "latest") else version

    def start(self) -> None:
        version = self.agent_version()
        extra = {"AppstreamAgentVersion": version} if version else {}
        self.client.start_image_builder(Name=self.name, aws_retry=True, **extra)

    def stop_and_wait(self) -> None:
        self.client.stop_image_builder(Name=self.name, aws_retry=True)
        self.wait_state(["STOPPED"])

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        missing = []
        if not desired.get("instance_type"):
            missing.append("instance_type")
        if not (desired.get("image_name") or desired.get("image_arn")):
            missing.append("image_name or image_arn")
        if missing:
            self.module.fail_json(
                msg=f"image builder {self.name!r} does not exist; creating it needs {', '.join(missing)}"
            )
        request = create_image_builder_request(self.name, desired, tags, self.agent_version())
        builder = self.client.create_image_builder(aws_retry=True, **request)["ImageBuilder"]
        builder["Tags"] = dict(tags)
        if desired.get("state") == "STOPPED":
            # A new builder always starts; it can only be stopped once RUNNING.
            self.wait_state(["RUNNING"])
            self.client.stop_image_builder(Name=self.name, aws_retry=True)
        self.target_state = desired.get("state") or "RUNNING"
        return builder

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        state = resource["State"]
        target = {"running": "RUNNING", "stopped": "STOPPED"}.get(self.requested_state) or state
        updates = {
            member: plan.changes[name][1]
            for name, member in (("description", "Description"), ("display_name", "DisplayName"))
            if name in plan.changes
        }
        if state == "RUNNING" and updates:
            self.stop_and_wait()
            state = "STOPPED"
        elif state == "RUNNING" and target == "STOPPED":
            self.client.stop_image_builder(Name=self.name, aws_retry=True)
            state = "STOPPING"
        if updates:
            resource = self.client.update_image_builder(Name=self.name, aws_retry=True, **updates)["ImageBuilder"]
        if target == "RUNNING" and state == "STOPPED":
            self.start()
        self.target_state = target
        return resource

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        set_tags(self.client, resource["Arn"], to_set, to_remove)

    def delete(self, resource: dict[str, Any]) -> None:
        state = resource["State"]
        if state == "DELETING":
            return
        if settled_builder_state(state) == "RUNNING" and state != "RUNNING":
            resource = self.wait_state(["RUNNING", "FAILED"]) or resource
            state = resource["State"]
        if state == "RUNNING":
            self.client.stop_image_builder(Name=self.name, aws_retry=True)
            state = "STOPPING"
        if state not in ("STOPPED", "FAILED"):
            self.wait_state(["STOPPED"])
        self.client.delete_image_builder(Name=self.name, aws_retry=True)

    # -- result ------------------------------------------------------------------------------
    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        builder = camel_dict_to_snake_dict({k: v for k, v in resource.items() if k != "Tags"})
        builder["tags"] = dict(resource.get("Tags") or {})
        builder["private_ip"] = (resource.get("NetworkAccessConfiguration") or {}).get("EniPrivateIpAddress")
        return builder


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("image_name", "image_arn")],
    )
    client = module.client("appstream", retry_decorator=retry_decorator(["ConcurrentModificationException"]))
    builder = ImageBuilder(module, client)
    run(module, builder, module.params["state"], allow_recreate=module.params["recreate"])


if __name__ == "__main__":
    main()
