#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_fleet
version_added: 0.1.0
short_description: Manage an AppStream 2.0 fleet, its run state and its scaling
description:
  - Creates, updates, starts, stops and deletes an Amazon AppStream 2.0 fleet owned by a tenant.
  - "Updates send only what changed. A C(RUNNING) Always-On or On-Demand fleet accepts
    O(display_name), the capacity, the image and the idle/disconnect timeouts in place
    (an Elastic fleet: O(display_name), the timeouts, O(max_concurrent_sessions),
    O(session_script_s3_location) and O(usb_device_filter_strings)). Every other change needs a
    stopped fleet and follows O(when_running)."
  - "Removing a setting: set the option to an explicit empty value (V(\"\"), V([]), V({}), or V(0)
    for O(max_sessions_per_instance)). The module sends the matching C(AttributesToDelete) entry
    (C(DOMAIN_JOIN_INFO), C(IAM_ROLE_ARN), C(SESSION_SCRIPT_S3_LOCATION), C(USB_DEVICE_FILTER_STRINGS),
    C(MAX_SESSIONS_PER_INSTANCE), C(VPC_CONFIGURATION) for O(subnet_ids=[]),
    C(VPC_CONFIGURATION_SECURITY_GROUP_IDS) for O(security_group_ids=[])). Leaving an option unset
    never changes the setting. AWS applies removals to stopped fleets only."
  - Waiting fails as soon as the fleet reports C(FleetErrors), with the service's error codes and
    messages, instead of waiting for the timeout.
  - Deleting a fleet disassociates it from its stacks, removes its scaling, stops it if needed,
    waits for C(STOPPED) and deletes it.
  - "Ownership: the module only changes or deletes a fleet whose C(tenant) tag is O(tenant); a fleet
    with the same name and another owner (or none) is never adopted."
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Name of the fleet (unique per account and region).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the fleet and leaves its run state alone (a new fleet is C(STOPPED), as
        AWS creates it).
      - V(running) also starts it and waits for C(RUNNING); V(stopped) stops it and waits for C(STOPPED).
      - V(absent) deletes it (see the description).
    type: str
    choices: [present, running, stopped, absent]
    default: present
  fleet_type:
    description: Fleet type; AWS cannot change it after creation (a different value is refused).
    type: str
    choices: [ALWAYS_ON, ON_DEMAND, ELASTIC]
  instance_type:
    description: Instance type, for example C(stream.standard.medium). Required to create the fleet.
    type: str
  image_name:
    description: Name of the image the fleet streams. Mutually exclusive with O(image_arn).
    type: str
  image_arn:
    description: ARN of the image (for example a shared image). Mutually exclusive with O(image_name).
    type: str
  desired_instances:
    description:
      - Desired number of instances of a single-session Always-On or On-Demand fleet.
      - With O(scaling), Application Auto Scaling owns the capacity once the fleet exists, so this value is only
        used when the fleet is created.
    type: int
  desired_sessions:
    description: Desired number of user sessions of a multi-session fleet (needs O(max_sessions_per_instance)).
    type: int
  max_sessions_per_instance:
    description: Maximum sessions per instance (multi-session fleets). V(0) removes the setting.
    type: int
  max_concurrent_sessions:
    description: Maximum concurrent sessions of an Elastic fleet.
    type: int
  subnet_ids:
    description:
      - Subnets of the fleet's VPC configuration; V([]) removes the VPC configuration.
      - Elastic fleets need at least two subnets in different availability zones.
    type: list
    elements: str
  security_group_ids:
    description: Security groups (at most five); V([]) removes them from the VPC configuration.
    type: list
    elements: str
  domain_join_info:
    description:
      - Active Directory domain the fleet's instances join (a directory config must exist for it).
      - V({}) removes the domain join.
    type: dict
    suboptions:
      directory_name:
        description: Fully qualified name of the directory.
        type: str
      organizational_unit_distinguished_name:
        description: Distinguished name of the OU that receives the computer objects.
        type: str
        aliases: [ou]
  enable_default_internet_access:
    description: Default internet access (needs public subnets; at most 100 instances).
    type: bool
  iam_role_arn:
    description: IAM role the instances assume; V("") removes it.
    type: str
  idle_disconnect_timeout:
    description: Seconds of inactivity before users are disconnected (V(0) disables it, else 60-36000).
    type: int
  disconnect_timeout:
    description: Seconds a disconnected session is kept (60-36000).
    type: int
  max_user_duration:
    description: Maximum session duration in seconds (600-432000).
    type: int
  stream_view:
    description: What users see, the application windows or the desktop.
    type: str
    choices: [APP, DESKTOP]
  display_name:
    description: Display name (at most 100 characters). The API cannot remove it.
    type: str
  description:
    description: Description (at most 256 characters). The API cannot remove it.
    type: str
  session_script_s3_location:
    description: S3 location of the session scripts archive (Elastic fleets); V({}) removes it.
    type: dict
    suboptions:
      s3_bucket:
        description: Bucket name.
        type: str
      s3_key:
        description: Object key.
        type: str
  platform:
    description: Platform of the fleet (Elastic fleets need it).
    type: str
    choices: [WINDOWS, WINDOWS_SERVER_2016, WINDOWS_SERVER_2019, WINDOWS_SERVER_2022, WINDOWS_SERVER_2025,
              WINDOWS_11, AMAZON_LINUX2, RHEL8, ROCKY_LINUX8, UBUNTU_PRO_2404]
  usb_device_filter_strings:
    description: USB devices users may redirect (Windows native client); V([]) removes them.
    type: list
    elements: str
  when_running:
    description:
      - What to do when a change needs a stopped fleet and the fleet is running.
      - V(fail) refuses and names the fields, changing nothing. Check mode does not fail, it warns that an apply
        would refuse the change and returns it in RV(refused_on_apply), so a plan goes on with its other tasks.
      - V(restart) stops the fleet (disconnecting its users), waits for C(STOPPED), updates it, starts it and
        waits for C(RUNNING). Check mode warns that the fleet would stop and its users be disconnected (with the
        number of streaming sessions), reports RV(requires_restart) and RV(restart_fields), and the diff shows
        the stop in C(state).
    type: str
    choices: [fail, restart]
    default: fail
  scaling:
    description:
      - Fleet scaling through Application Auto Scaling (namespace C(appstream), resource C(fleet/<name>),
        dimension C(appstream:fleet:DesiredCapacity)). Unset leaves scaling alone; V({}) removes the
        scalable target with its policy and scheduled actions.
      - "With a schedule, the target's current min/max belong to the schedule once the target is registered:
        later runs change them only through the scheduled actions, so a run at night keeps the night's
        capacity 0. A new target is registered with the capacity the working hours give at that moment."
    type: dict
    suboptions:
      min_capacity:
        description: Minimum capacity (required unless removing scaling).
        type: int
      max_capacity:
        description: Maximum capacity (required unless removing scaling).
        type: int
      target_utilization:
        description:
          - Target-tracking policy on C(AppStreamAverageCapacityUtilization), in percent.
          - Unset removes the module's policy (named C(<name>-capacity-utilization)); other policies are left alone.
        type: float
      scale_in_cooldown:
        description: Scale-in cooldown of the policy in seconds; unset keeps the current value.
        type: int
      scale_out_cooldown:
        description: Scale-out cooldown of the policy in seconds; unset keeps the current value.
        type: int
      schedule:
        description: Scheduled actions.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name of the scheduled action.
            type: str
            required: true
          schedule:
            description: C(cron(...)), C(at(...)) or C(rate(...)) expression.
            type: str
            required: true
          timezone:
            description: IANA time zone the expression is evaluated in.
            type: str
            default: UTC
          min_capacity:
            description: Minimum capacity the action sets.
            type: int
            required: true
          max_capacity:
            description: Maximum capacity the action sets.
            type: int
            required: true
      working_hours:
        description:
          - Capacity O(scaling.min_capacity)..O(scaling.max_capacity) during working hours and 0 outside, as two
            scheduled actions C(<name>-working-hours-start) and C(<name>-working-hours-stop).
        type: dict
        suboptions:
          timezone:
            description: IANA time zone of the hours, for example C(Europe/Paris).
            type: str
          start:
            description: Start of the working day, C(HH:MM).
            type: str
          stop:
            description: End of the working day, C(HH:MM).
            type: str
          weekdays:
            description: Working days.
            type: list
            elements: str
            default: [mon, tue, wed, thu, fri]
      purge_schedule:
        description: Delete scheduled actions of the fleet that are not listed.
        type: bool
        default: true
      capacity_now:
        description:
          - With scheduled actions and a registered target, also register the target's capacity in this run
            instead of leaving it to the next scheduled action; with O(scaling.working_hours), the capacity the
            hours give at this moment (min..max inside, 0 outside), otherwise min..max.
          - For runbooks that change the capacity or the hours now (C(playbooks/ops/fleet_scale.yml),
            C(playbooks/ops/fleet_schedule.yml)).
        type: bool
        default: false
  wait_timeout:
    description: Seconds to wait for each transition (start, stop, deletion).
    default: 2700
attributes:
  check_mode:
    details: Read calls only; the result carries the plan, the diff and whether a restart would happen.
  diff_mode:
    details: Before and after values of the changed options, including the run state and scaling.
notes:
  - AWS creates fleets C(STOPPED); unlike Terraform's provider, a fleet is only started with O(state=running).
  - Starting takes 10-20 minutes on AWS (up to 25 when domain-joined), stopping about 5.
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
- name: Ensure the tenant's fleet runs the catalogue image
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-neuro-fleet
    tenant: acme-neuro
    environment: prod
    state: running
    fleet_type: ON_DEMAND
    instance_type: stream.standard.medium
    image_name: acme-neuro-suite-3f9c0a1b2c4d
    desired_instances: 1
    subnet_ids: [subnet-0a1b2c3d, subnet-4e5f6a7b]
    security_group_ids: [sg-0123456789abcdef0]
    domain_join_info:
      directory_name: corp.acme-neuro.example
      ou: OU=AppStream,OU=Computers,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example
    idle_disconnect_timeout: 900
    disconnect_timeout: 900
    max_user_duration: 28800
    scaling:
      min_capacity: 1
      max_capacity: 4
      target_utilization: 75
      working_hours:
        timezone: Europe/Paris
        start: "07:30"
        stop: "20:00"

- name: Change the instance type, restarting the fleet if it runs
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-neuro-fleet
    tenant: acme-neuro
    instance_type: stream.standard.large
    when_running: restart

- name: Leave the domain and drop the IAM role (AttributesToDelete)
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-neuro-fleet
    tenant: acme-neuro
    state: stopped
    domain_join_info: {}
    iam_role_arn: ""

- name: Delete the fleet (detaches its stacks first)
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-neuro-fleet
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
fleet:
  description: The fleet as DescribeFleets reports it (snake_case), with its tags and scaling.
  type: dict
  returned: when the fleet exists
  contains:
    name:
      description: Fleet name.
      type: str
      sample: acme-neuro-fleet
    arn:
      description: Fleet ARN.
      type: str
      sample: arn:aws:appstream:eu-west-3:123456789012:fleet/acme-neuro-fleet
    state:
      description: C(STARTING), C(RUNNING), C(STOPPING) or C(STOPPED).
      type: str
      sample: RUNNING
    instance_type:
      description: Instance type.
      type: str
      sample: stream.standard.medium
    compute_capacity_status:
      description: Desired, running, in-use and available capacity.
      type: dict
      sample: {desired: 1, running: 1, in_use: 0, available: 1}
    fleet_errors:
      description: Errors AWS reported while starting the fleet.
      type: list
      elements: dict
      sample: []
    tags:
      description: Tags of the fleet.
      type: dict
      sample: {tenant: acme-neuro, environment: prod, managed-by: appstream-tenant-toolkit}
    scaling:
      description: Current scaling (when O(scaling) is given); null when no scalable target is registered.
      type: dict
      sample:
        min_capacity: 1
        max_capacity: 4
        target_utilization: 75.0
        schedule:
          - {name: acme-neuro-fleet-working-hours-start, schedule: "cron(30 7 ? * MON-FRI *)",
             timezone: Europe/Paris, min_capacity: 1, max_capacity: 4}
plan:
  description: What the run changes (or, in check mode, would change).
  type: dict
  returned: always
  contains:
    action:
      description: C(none), C(create), C(update) or C(delete).
      type: str
      sample: update
    fields:
      description: Options whose value changes.
      type: list
      elements: str
      sample: [instance_type, display_name]
    live:
      description: Changes the fleet accepts in its current state.
      type: list
      elements: str
      sample: [display_name]
    requires_stop:
      description: Changes that need a stopped fleet.
      type: list
      elements: str
      sample: [instance_type]
    requires_recreate:
      description: Changes AWS cannot make (the fleet type).
      type: list
      elements: str
      sample: []
    removals:
      description: Settings removed through C(AttributesToDelete).
      type: list
      elements: str
      sample: [domain_join_info]
requires_restart:
  description: Whether the change stops and restarts a running fleet.
  type: bool
  returned: always
  sample: true
restart_fields:
  description: The changes that need the restart.
  type: list
  elements: str
  returned: always
  sample: [instance_type]
refused_on_apply:
  description:
    - In check mode with O(when_running=fail), why an apply would refuse the planned change of the running fleet.
  type: str
  returned: when check mode plans a change that needs a stop and O(when_running=fail)
  sample: "fleet 'acme-neuro-fleet' is RUNNING; instance_type can only change while it is stopped. ..."
diff:
  description: Before and after values of the changed options.
  type: dict
  returned: always
  sample: {before: {instance_type: stream.standard.medium}, after: {instance_type: stream.standard.large}}
"""

import datetime
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    describe_all,
    describe_one,
    errors_text,
    get_tags,
    set_tags,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.fleet import (
    create_fleet_request,
    fleet_changes_requiring_stop,
    fleet_comparable,
    fleet_desired,
    fleet_field_kind,
    fleet_option_errors,
    restart_notice,
    settled_fleet_state,
    update_fleet_request,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.scaling import (
    apply_scaling,
    read_scaling,
    scaling_changes,
    scaling_desired,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    REMOVE,
    STOP,
    Plan,
    PlanRefused,
    ResourceKind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import is_owned, known_or_read
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import ABSENT, wait_for

PLATFORMS = [
    "WINDOWS",
    "WINDOWS_SERVER_2016",
    "WINDOWS_SERVER_2019",
    "WINDOWS_SERVER_2022",
    "WINDOWS_SERVER_2025",
    "WINDOWS_11",
    "AMAZON_LINUX2",
    "RHEL8",
    "ROCKY_LINUX8",
    "UBUNTU_PRO_2404",
]
FAILED_TO_START = "FAILED_TO_START"
# Modelled AWS durations, for the progress lines only.
EXPECTED_SECONDS = {"RUNNING": 15 * 60, "STOPPED": 5 * 60, ABSENT: 60}


def argument_spec() -> dict[str, Any]:
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "running", "stopped", "absent"]),
        fleet_type=dict(type="str", choices=["ALWAYS_ON", "ON_DEMAND", "ELASTIC"]),
        instance_type=dict(type="str"),
        image_name=dict(type="str"),
        image_arn=dict(type="str"),
        desired_instances=dict(type="int"),
        desired_sessions=dict(type="int"),
        max_sessions_per_instance=dict(type="int"),
        max_concurrent_sessions=dict(type="int"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        domain_join_info=dict(
            type="dict",
            options=dict(
                directory_name=dict(type="str"),
                organizational_unit_distinguished_name=dict(type="str", aliases=["ou"]),
            ),
        ),
        enable_default_internet_access=dict(type="bool"),
        iam_role_arn=dict(type="str"),
        idle_disconnect_timeout=dict(type="int"),
        disconnect_timeout=dict(type="int"),
        max_user_duration=dict(type="int"),
        stream_view=dict(type="str", choices=["APP", "DESKTOP"]),
        display_name=dict(type="str"),
        description=dict(type="str"),
        session_script_s3_location=dict(
            type="dict", options=dict(s3_bucket=dict(type="str"), s3_key=dict(type="str", no_log=False))
        ),
        platform=dict(type="str", choices=PLATFORMS),
        usb_device_filter_strings=dict(type="list", elements="str"),
        when_running=dict(type="str", default="fail", choices=["fail", "restart"]),
        scaling=dict(
            type="dict",
            options=dict(
                min_capacity=dict(type="int"),
                max_capacity=dict(type="int"),
                target_utilization=dict(type="float"),
                scale_in_cooldown=dict(type="int"),
                scale_out_cooldown=dict(type="int"),
                schedule=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        name=dict(type="str", required=True),
                        schedule=dict(type="str", required=True),
                        timezone=dict(type="str", default="UTC"),
                        min_capacity=dict(type="int", required=True),
                        max_capacity=dict(type="int", required=True),
                    ),
                ),
                working_hours=dict(
                    type="dict",
                    options=dict(
                        timezone=dict(type="str"),
                        start=dict(type="str"),
                        stop=dict(type="str"),
                        weekdays=dict(type="list", elements="str", default=["mon", "tue", "wed", "thu", "fri"]),
                    ),
                ),
                purge_schedule=dict(type="bool", default=True),
                capacity_now=dict(type="bool", default=False),
            ),
        ),
    )
    spec.update(tenant_argument_spec(wait_timeout=2700))
    spec.update(known_tags=dict(type="dict"))
    return spec


class Fleet(ResourceKind):
    kind = "fleet"

    def __init__(self, module: AnsibleAWSModule, client: Any, scaling_client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.scaling_client = scaling_client
        self.requested_state = module.params["state"]
        self.current: dict[str, Any] | None = None
        self.current_scaling: dict[str, Any] | None = None
        self.wanted: dict[str, Any] = {}
        self.target_state: str | None = None

    # -- reading ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any] | None:
        return describe_one(self.client, "describe_fleets", "Fleets", Names=[self.name])

    def find(self) -> dict[str, Any] | None:
        fleet = self.describe()
        if fleet is not None:
            arn = fleet["Arn"]
            fleet["Tags"] = known_or_read(self.known_tags, arn, lambda: get_tags(self.client, arn))
            owned = is_owned(fleet["Tags"], self.tenant)
            if owned and not self.module.check_mode and self.params["wait"]:
                fleet = {**self.settle(fleet), "Tags": fleet["Tags"]}
            if owned and self.params.get("scaling") is not None and self.requested_state != "absent":
                self.current_scaling = read_scaling(self.scaling_client, self.name)
        self.current = fleet
        return fleet

    def settle(self, fleet: dict[str, Any]) -> dict[str, Any]:
        """Plan against a settled fleet: the API refuses updates while it starts or stops."""
        if fleet["State"] == "STOPPING":
            return self.wait_state("STOPPED")
        if fleet["State"] == "STARTING" and self.requested_state in ("present", "running"):
            return self.wait_state("RUNNING")
        return fleet

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags") or {}

    @property
    def fleet_type(self) -> str:
        return (self.current or {}).get("FleetType") or self.params.get("fleet_type") or "ON_DEMAND"

    # -- planning ----------------------------------------------------------------------------
    def desired(self) -> dict[str, Any]:
        scaling_option = self.params.get("scaling")
        owns_capacity = scaling_option is not None and bool(scaling_option.get("max_capacity"))
        wanted = fleet_desired(self.params, capacity_managed=not (self.current is not None and owns_capacity))
        wanted["state"] = {"running": "RUNNING", "stopped": "STOPPED"}.get(self.requested_state)
        wanted["scaling"] = scaling_desired(
            self.name, scaling_option, self.current_scaling, now=datetime.datetime.now(datetime.UTC)
        )
        self.wanted = wanted
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        current = fleet_comparable(resource)
        current["state"] = settled_fleet_state(resource.get("State"))
        current["scaling"] = self.current_scaling
        return current

    def classify(self, name: str) -> str:
        removal = self.wanted.get(name) == REMOVE
        return fleet_field_kind(name, self.fleet_type, (self.current or {}).get("State"), removal)

    def restart_fields(self, plan: Plan) -> list[str]:
        """Changes that need a stop of a fleet that must be running afterwards."""
        state = (self.current or {}).get("State")
        if state not in ("RUNNING", "STARTING") or self.requested_state in ("stopped", "absent"):
            return []
        return sorted(plan.by_kind[STOP])

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        fields = self.restart_fields(plan) if plan.action == "update" else []
        result["requires_restart"] = bool(fields)
        result["restart_fields"] = fields
        if plan.action == "recreate":
            current = (self.current or {}).get("FleetType")
            raise PlanRefused(
                f"fleet {self.name!r} is {current}; AWS cannot change the type of a fleet. Delete it "
                f"(state=absent) and create it again as {self.params.get('fleet_type')}",
                result,
            )
        if not fields:
            return
        fleet = self.current or {}
        if self.params["when_running"] == "restart":
            # The diff's state shows the stop a plan would otherwise hide (RUNNING before and after).
            result["diff"]["before"]["state"] = fleet.get("State")
            result["diff"]["after"]["state"] = "STOPPED, users disconnected, then RUNNING"
            if self.module.check_mode:
                self.module.warn(restart_notice(self.name, fields, fleet))
            return
        refusal = (
            f"fleet {self.name!r} is {fleet.get('State')}; {', '.join(fields)} can only change while it "
            "is stopped. Set when_running=restart to stop, update and restart it (this disconnects its "
            "users), or apply the change in a maintenance window with state=stopped"
        )
        if not self.module.check_mode:
            raise PlanRefused(refusal, result)
        # The plan reports what an apply would refuse and goes on: one refused change must not hide the
        # rest of the tenant's plan.
        result["refused_on_apply"] = refusal
        self.module.warn(f"{refusal}. An apply refuses this change and leaves the fleet as it is.")

    # -- waiting -----------------------------------------------------------------------------
    def wait_state(self, target: str) -> dict[str, Any] | None:
        def state_of(fleet: dict[str, Any] | None) -> str:
            if fleet is None:
                return ABSENT
            if target == "RUNNING" and fleet.get("FleetErrors") and fleet.get("State") != "RUNNING":
                return FAILED_TO_START
            return fleet["State"]

        return wait_for(
            self.describe,
            state_of,
            targets=[target],
            failures=[FAILED_TO_START],
            failure_reason=lambda fleet: errors_text(fleet.get("FleetErrors")),
            timeout=self.params["wait_timeout"],
            kind="fleet",
            tenant=self.tenant,
            name=self.name,
            expected=EXPECTED_SECONDS.get(target),
        )

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        if resource is None or not self.params["wait"] or self.target_state is None:
            return resource
        if resource.get("State") == self.target_state:
            return resource
        waited = self.wait_state(self.target_state)
        return {**(waited or {}), "Tags": resource.get("Tags", {})}

    def wait_absent(self) -> None:
        if self.params["wait"]:
            wait_for(
                self.describe,
                lambda fleet: ABSENT if fleet is None else fleet["State"],
                targets=[ABSENT],
                timeout=self.params["wait_timeout"],
                kind="fleet",
                tenant=self.tenant,
                name=self.name,
                expected=EXPECTED_SECONDS[ABSENT],
            )

    # -- changing ----------------------------------------------------------------------------
    def start(self) -> None:
        self.client.start_fleet(Name=self.name, aws_retry=True)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        missing = [n for n in ("instance_type",) if not desired.get(n)]
        if self.params.get("fleet_type") != "ELASTIC":
            if not (desired.get("image_name") or desired.get("image_arn")):
                missing.append("image_name or image_arn")
            if desired.get("desired_instances") is None and desired.get("desired_sessions") is None:
                missing.append("desired_instances or desired_sessions")
        if missing:
            self.module.fail_json(msg=f"fleet {self.name!r} does not exist; creating it needs {', '.join(missing)}")
        fleet = self.client.create_fleet(aws_retry=True, **create_fleet_request(self.name, desired, tags))["Fleet"]
        self.apply_scaling(desired.get("scaling"), None)
        if desired.get("state") == "RUNNING":
            self.start()
        self.target_state = desired.get("state")
        return {**fleet, "Tags": dict(tags)}

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        state = resource["State"]
        running = state in ("RUNNING", "STARTING")
        target = self.wanted.get("state") or settled_fleet_state(state)
        request = update_fleet_request(self.name, plan.changes, self.comparable(resource))
        needs_stop = bool(request) and bool(fleet_changes_requiring_stop(plan.changes, self.fleet_type, state))
        if running and (needs_stop or target == "STOPPED"):
            self.client.stop_fleet(Name=self.name, aws_retry=True)
            state = "STOPPING"
            if request:
                self.wait_state("STOPPED")  # UpdateFleet is refused while the fleet is stopping
                state = "STOPPED"
        if request:
            resource = self.client.update_fleet(aws_retry=True, **request).get("Fleet") or resource
        if "scaling" in plan.changes:
            self.apply_scaling(plan.changes["scaling"][1], self.current_scaling)
        if target == "RUNNING" and state == "STOPPED":
            self.start()
        self.target_state = target
        return resource

    def apply_scaling(self, desired: Any, current: dict[str, Any] | None) -> None:
        changes = scaling_changes(current, desired)
        if changes.changed:
            apply_scaling(self.scaling_client, self.name, changes)
        if desired is not None:
            self.current_scaling = None if desired == REMOVE else desired

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        set_tags(self.client, resource["Arn"], to_set, to_remove)
        self.known_tags.pop(resource["Arn"], None)

    def delete(self, resource: dict[str, Any]) -> None:
        scaling = read_scaling(self.scaling_client, self.name)
        if scaling is not None:
            # First, so that a scheduled action cannot start the fleet again while it stops.
            apply_scaling(self.scaling_client, self.name, scaling_changes(scaling, REMOVE))
        for stack in describe_all(self.client, "list_associated_stacks", "Names", FleetName=self.name):
            self.client.disassociate_fleet(FleetName=self.name, StackName=stack, aws_retry=True)
        state = resource["State"]
        if state in ("RUNNING", "STARTING"):
            self.client.stop_fleet(Name=self.name, aws_retry=True)
        if state != "STOPPED":
            self.wait_state("STOPPED")
        self.client.delete_fleet(Name=self.name, aws_retry=True)

    # -- result ------------------------------------------------------------------------------
    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        fleet = camel_dict_to_snake_dict({k: v for k, v in resource.items() if k != "Tags"})
        fleet["tags"] = dict(resource.get("Tags") or {})
        if self.params.get("scaling") is not None:
            fleet["scaling"] = self.current_scaling
        return fleet


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("image_name", "image_arn"), ("desired_instances", "desired_sessions")],
    )
    errors = fleet_option_errors(module.params)
    if errors:
        module.fail_json(msg="Invalid options: " + "; ".join(errors), errors=errors)
    client = module.client("appstream", retry_decorator=retry_decorator(["ConcurrentModificationException"]))
    scaling_client = module.client("application-autoscaling", retry_decorator=retry_decorator())
    fleet = Fleet(module, client, scaling_client)
    run(module, fleet, module.params["state"])


if __name__ == "__main__":
    main()
