"""AppStream planning: live / stop / recreate per fleet type and state, AttributesToDelete,
request building, the Application Auto Scaling diff and working hours as cron."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import errors_text, reason_text
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.builder import (
    builder_comparable,
    builder_desired,
    builder_field_kind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.fleet import (
    attributes_to_delete,
    create_fleet_request,
    fleet_changes_requiring_stop,
    fleet_comparable,
    fleet_desired,
    fleet_field_kind,
    fleet_option_errors,
    restart_notice,
    settled_fleet_state,
    streaming_sessions,
    update_fleet_request,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.scaling import (
    ScalingChanges,
    cron_at,
    scaling_changes,
    scaling_comparable,
    scaling_desired,
    scaling_option_errors,
    weekdays_expression,
    within_working_hours,
    working_hours_actions,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    LIVE,
    RECREATE,
    REMOVE,
    STOP,
    PlanRefused,
    ReplacementRequired,
    ResourceKind,
    converge,
    field_changes,
)


def options(**values):
    """Module params as Ansible gives them: every option present, None when unset."""
    names = [
        "image_name", "image_arn", "instance_type", "fleet_type", "max_user_duration", "disconnect_timeout",
        "idle_disconnect_timeout", "description", "display_name", "enable_default_internet_access", "iam_role_arn",
        "stream_view", "platform", "max_concurrent_sessions", "max_sessions_per_instance",
        "usb_device_filter_strings", "subnet_ids", "security_group_ids", "domain_join_info",
        "session_script_s3_location", "desired_instances", "desired_sessions", "scaling",
    ]  # fmt: skip
    params = dict.fromkeys(names)
    params.update(values)
    return params


FLEET = {
    "Name": "f",
    "Arn": "arn:aws:appstream:eu-west-3:123456789012:fleet/f",
    "FleetType": "ON_DEMAND",
    "InstanceType": "stream.standard.medium",
    "ImageName": "img-1",
    "ImageArn": "arn:aws:appstream:eu-west-3:123456789012:image/img-1",
    "State": "RUNNING",
    "ComputeCapacityStatus": {"Desired": 2, "Running": 2},
    "VpcConfig": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
    "DomainJoinInfo": {"DirectoryName": "corp.example", "OrganizationalUnitDistinguishedName": "OU=A,DC=corp"},
    "IamRoleArn": "arn:aws:iam::123456789012:role/r",
    "DisconnectTimeoutInSeconds": 900,
    "IdleDisconnectTimeoutInSeconds": 900,
    "MaxUserDurationInSeconds": 28800,
}


def changes_for(fleet, **values):
    return field_changes(fleet_comparable(fleet), fleet_desired(options(**values)))


# -- which changes are live, need a stop, need a new fleet ---------------------------------------
@pytest.mark.parametrize(
    "name", ["display_name", "desired_instances", "image_name", "idle_disconnect_timeout", "disconnect_timeout"]
)
def test_running_on_demand_fleet_accepts_these_live(name):
    assert fleet_field_kind(name, "ON_DEMAND", "RUNNING") == LIVE
    assert fleet_field_kind(name, "ALWAYS_ON", "RUNNING") == LIVE


@pytest.mark.parametrize(
    "name",
    [
        "instance_type",
        "subnet_ids",
        "security_group_ids",
        "domain_join_info",
        "enable_default_internet_access",
        "iam_role_arn",
        "max_user_duration",
        "description",
        "stream_view",
    ],
)
def test_running_fleet_needs_a_stop_for_these(name):
    assert fleet_field_kind(name, "ON_DEMAND", "RUNNING") == STOP
    assert fleet_field_kind(name, "ON_DEMAND", "STARTING") == STOP


def test_stopped_fleet_accepts_everything_but_its_type():
    assert fleet_field_kind("instance_type", "ON_DEMAND", "STOPPED") == LIVE
    assert fleet_field_kind("domain_join_info", "ALWAYS_ON", "STOPPED", removal=True) == LIVE
    assert fleet_field_kind("fleet_type", "ON_DEMAND", "STOPPED") == RECREATE


def test_elastic_fleet_has_its_own_live_fields():
    assert fleet_field_kind("max_concurrent_sessions", "ELASTIC", "RUNNING") == LIVE
    assert fleet_field_kind("session_script_s3_location", "ELASTIC", "RUNNING") == LIVE
    assert fleet_field_kind("desired_instances", "ELASTIC", "RUNNING") == STOP
    assert fleet_field_kind("session_script_s3_location", "ON_DEMAND", "RUNNING") == STOP


def test_removals_need_a_stop_even_of_live_fields():
    assert fleet_field_kind("session_script_s3_location", "ELASTIC", "RUNNING", removal=True) == STOP


def test_run_state_and_scaling_never_need_a_stop():
    assert fleet_field_kind("state", "ON_DEMAND", "RUNNING") == LIVE
    assert fleet_field_kind("scaling", "ON_DEMAND", "RUNNING") == LIVE


def test_changes_requiring_stop_lists_only_the_stop_fields():
    changes = changes_for(FLEET, instance_type="stream.standard.large", display_name="New", desired_instances=3)
    assert sorted(changes) == ["desired_instances", "display_name", "instance_type"]
    assert fleet_changes_requiring_stop(changes, "ON_DEMAND", "RUNNING") == ["instance_type"]
    assert fleet_changes_requiring_stop(changes, "ON_DEMAND", "STOPPED") == []


def test_transitional_states_settle_to_their_target():
    assert settled_fleet_state("STARTING") == "RUNNING"
    assert settled_fleet_state("STOPPING") == "STOPPED"
    assert settled_fleet_state("RUNNING") == "RUNNING"


# -- comparison ----------------------------------------------------------------------------------
def test_unchanged_fleet_has_no_changes():
    same = changes_for(
        FLEET,
        instance_type="stream.standard.medium",
        image_name="img-1",
        desired_instances=2,
        subnet_ids=["subnet-b", "subnet-a"],
        security_group_ids=["sg-1"],
        domain_join_info={"directory_name": "corp.example", "organizational_unit_distinguished_name": "OU=A,DC=corp"},
        iam_role_arn="arn:aws:iam::123456789012:role/r",
        idle_disconnect_timeout=900,
    )
    assert same == {}


def test_unset_options_are_not_managed():
    assert changes_for(FLEET) == {}


def test_capacity_is_not_compared_when_scaling_owns_it():
    desired = fleet_desired(options(desired_instances=1), capacity_managed=False)
    assert field_changes(fleet_comparable(FLEET), desired) == {}


def test_multi_session_fleet_compares_desired_sessions():
    fleet = {**FLEET, "MaxSessionsPerInstance": 4, "ComputeCapacityStatus": {"Desired": 2, "DesiredUserSessions": 8}}
    assert fleet_comparable(fleet)["desired_sessions"] == 8
    assert "desired_instances" not in fleet_comparable(fleet)


# -- the removal convention ---------------------------------------------------------------------
def test_empty_values_mean_remove():
    desired = fleet_desired(
        options(
            domain_join_info={"directory_name": None, "organizational_unit_distinguished_name": None},
            iam_role_arn="",
            session_script_s3_location={"s3_bucket": None, "s3_key": None},
            security_group_ids=[],
            max_sessions_per_instance=0,
        )
    )
    for name in (
        "domain_join_info",
        "iam_role_arn",
        "session_script_s3_location",
        "security_group_ids",
        "max_sessions_per_instance",
    ):
        assert desired[name] == REMOVE, name


def test_removal_of_an_absent_setting_is_no_change():
    fleet = {k: v for k, v in FLEET.items() if k != "IamRoleArn"}
    assert changes_for(fleet, iam_role_arn="") == {}


def test_attributes_to_delete_for_removals():
    changes = changes_for(
        FLEET,
        domain_join_info={"directory_name": None, "organizational_unit_distinguished_name": None},
        iam_role_arn="",
        security_group_ids=[],
    )
    assert attributes_to_delete(changes) == ["DOMAIN_JOIN_INFO", "IAM_ROLE_ARN", "VPC_CONFIGURATION_SECURITY_GROUP_IDS"]


def test_removing_subnets_removes_the_whole_vpc_config():
    changes = changes_for(FLEET, subnet_ids=[], security_group_ids=[])
    assert attributes_to_delete(changes) == ["VPC_CONFIGURATION"]
    request = update_fleet_request("f", changes, fleet_comparable(FLEET))
    assert "VpcConfig" not in request


def test_update_request_sends_only_what_changed():
    changes = changes_for(FLEET, display_name="Lab", instance_type="stream.standard.large", iam_role_arn="")
    request = update_fleet_request("f", changes, fleet_comparable(FLEET))
    assert request == {
        "Name": "f",
        "DisplayName": "Lab",
        "InstanceType": "stream.standard.large",
        "AttributesToDelete": ["IAM_ROLE_ARN"],
    }


def test_update_request_resends_the_unchanged_half_of_the_vpc_config():
    changes = changes_for(FLEET, security_group_ids=["sg-2"])
    request = update_fleet_request("f", changes, fleet_comparable(FLEET))
    assert request["VpcConfig"] == {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-2"]}


def test_update_request_keeps_subnets_while_dropping_security_groups():
    changes = changes_for(FLEET, subnet_ids=["subnet-c"], security_group_ids=[])
    request = update_fleet_request("f", changes, fleet_comparable(FLEET))
    assert request["VpcConfig"] == {"SubnetIds": ["subnet-c"]}
    assert request["AttributesToDelete"] == ["VPC_CONFIGURATION_SECURITY_GROUP_IDS"]


def test_update_request_capacity_and_domain_join_shapes():
    changes = changes_for(
        FLEET,
        desired_instances=5,
        domain_join_info={"directory_name": "corp.example", "organizational_unit_distinguished_name": "OU=B,DC=corp"},
    )
    request = update_fleet_request("f", changes, fleet_comparable(FLEET))
    assert request["ComputeCapacity"] == {"DesiredInstances": 5}
    assert request["DomainJoinInfo"] == {
        "DirectoryName": "corp.example",
        "OrganizationalUnitDistinguishedName": "OU=B,DC=corp",
    }


def test_state_and_scaling_alone_make_no_update_request():
    assert update_fleet_request("f", {"state": ("STOPPED", "RUNNING"), "scaling": (None, {})}, {}) is None


def test_create_request_carries_settings_and_tags():
    desired = fleet_desired(
        options(
            instance_type="stream.standard.medium",
            image_name="img-1",
            desired_instances=1,
            subnet_ids=["subnet-a"],
            security_group_ids=["sg-1"],
            iam_role_arn="",
        )
    )
    request = create_fleet_request("f", desired, {"tenant": "acme"})
    assert request == {
        "Name": "f",
        "InstanceType": "stream.standard.medium",
        "ImageName": "img-1",
        "ComputeCapacity": {"DesiredInstances": 1},
        "VpcConfig": {"SubnetIds": ["subnet-a"], "SecurityGroupIds": ["sg-1"]},
        "Tags": {"tenant": "acme"},
    }


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"description": ""}, "description: the AppStream API cannot remove it"),
        ({"fleet_type": "ELASTIC", "desired_instances": 2}, "desired_instances: not allowed for ELASTIC"),
        ({"fleet_type": "ON_DEMAND", "max_concurrent_sessions": 5}, "max_concurrent_sessions: only for ELASTIC"),
        ({"desired_sessions": 4}, "needs max_sessions_per_instance"),
        ({"subnet_ids": [], "security_group_ids": ["sg-1"]}, "security_group_ids: cannot be set"),
        ({"scaling": {"min_capacity": 5, "max_capacity": 2}}, "above max_capacity"),
    ],
)
def test_option_errors(values, fragment):
    assert any(fragment in error for error in fleet_option_errors(options(**values)))


def test_errors_text_is_the_service_text():
    errors = [{"ErrorCode": "IMAGE_NOT_FOUND", "ErrorMessage": "Image x is gone."}]
    assert errors_text(errors) == "IMAGE_NOT_FOUND: Image x is gone."
    builder = {"StateChangeReason": {"Code": "INTERNAL_ERROR", "Message": "boom"}, "ImageBuilderErrors": errors}
    assert reason_text(builder, "ImageBuilderErrors") == "INTERNAL_ERROR: boom; IMAGE_NOT_FOUND: Image x is gone."


# -- image builders --------------------------------------------------------------------------------
BUILDER = {
    "Name": "b",
    "Arn": "arn:aws:appstream:eu-west-3:123456789012:image-builder/b",
    "ImageArn": "arn:aws:appstream:eu-west-3::image/AppStream-WinServer2019-07-16-2024",
    "InstanceType": "stream.standard.medium",
    "State": "RUNNING",
    "VpcConfig": {"SubnetIds": ["subnet-a"], "SecurityGroupIds": ["sg-1"]},
    "Description": "old",
}


def builder_options(**values):
    params = dict.fromkeys(
        [
            "image_name",
            "image_arn",
            "instance_type",
            "enable_default_internet_access",
            "description",
            "display_name",
            "subnet_ids",
            "security_group_ids",
            "iam_role_arn",
            "domain_join_info",
            "access_endpoints",
        ]
    )
    params.update(values)
    return params


def test_builder_compares_the_image_by_name_from_its_arn():
    desired = builder_desired(builder_options(image_name="AppStream-WinServer2019-07-16-2024"))
    assert field_changes(builder_comparable(BUILDER), desired) == {}


@pytest.mark.parametrize(
    "name",
    ["image_name", "instance_type", "subnet_ids", "security_group_ids", "domain_join_info", "iam_role_arn"],
)
def test_builder_changes_the_api_cannot_make_need_recreation(name):
    assert builder_field_kind(name, "RUNNING") == RECREATE
    assert builder_field_kind(name, "STOPPED") == RECREATE


def test_builder_description_changes_in_place_only_when_stopped():
    assert builder_field_kind("description", "RUNNING") == STOP
    assert builder_field_kind("description", "STOPPED") == LIVE
    assert builder_field_kind("display_name", "STOPPED") == LIVE


def test_builder_transitional_state_compares_as_its_target():
    assert builder_comparable({**BUILDER, "State": "SNAPSHOTTING"})["state"] == "STOPPED"
    assert builder_comparable({**BUILDER, "State": "PENDING"})["state"] == "RUNNING"


# -- scaling -----------------------------------------------------------------------------------------
def scaling_option(**values):
    option = {
        "min_capacity": 1,
        "max_capacity": 4,
        "target_utilization": None,
        "scale_in_cooldown": None,
        "scale_out_cooldown": None,
        "schedule": None,
        "working_hours": None,
        "purge_schedule": True,
    }
    option.update(values)
    return option


HOURS = {"timezone": "Europe/Paris", "start": "07:30", "stop": "20:00", "weekdays": ["mon", "tue", "wed", "thu", "fri"]}


def test_weekdays_become_ranges():
    assert weekdays_expression(["mon", "tue", "wed", "thu", "fri"]) == "MON-FRI"
    assert weekdays_expression(["fri", "mon", "wed"]) == "MON,WED,FRI"
    assert weekdays_expression(["sat", "sun"]) == "SAT,SUN"
    assert weekdays_expression(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) == "*"
    assert weekdays_expression(["MONDAY", "tue", "wed", "sat"]) == "MON-WED,SAT"


def test_cron_is_in_application_auto_scaling_format():
    assert cron_at("07:30", ["mon", "tue", "wed", "thu", "fri"]) == "cron(30 7 ? * MON-FRI *)"
    assert cron_at("20:00", ["sat"]) == "cron(0 20 ? * SAT *)"


def test_working_hours_make_a_start_and_a_stop_action():
    start, stop = working_hours_actions("f", HOURS, 1, 4)
    assert start == {
        "name": "f-working-hours-start",
        "schedule": "cron(30 7 ? * MON-FRI *)",
        "timezone": "Europe/Paris",
        "min_capacity": 1,
        "max_capacity": 4,
    }
    assert (stop["schedule"], stop["min_capacity"], stop["max_capacity"]) == ("cron(0 20 ? * MON-FRI *)", 0, 0)


def test_within_working_hours_uses_the_schedule_time_zone():
    monday_morning_utc = datetime.datetime(2024, 12, 2, 6, 45, tzinfo=datetime.UTC)  # 07:45 in Paris
    assert within_working_hours(HOURS, monday_morning_utc)
    assert not within_working_hours(HOURS, monday_morning_utc - datetime.timedelta(hours=1))
    saturday = datetime.datetime(2024, 11, 30, 10, 0, tzinfo=datetime.UTC)
    assert not within_working_hours(HOURS, saturday)


def test_new_target_starts_at_the_capacity_the_schedule_gives_now():
    night = datetime.datetime(2024, 12, 2, 23, 0, tzinfo=datetime.UTC)
    desired = scaling_desired("f", scaling_option(working_hours=HOURS), None, now=night)
    assert (desired["min_capacity"], desired["max_capacity"]) == (0, 0)
    day = datetime.datetime(2024, 12, 2, 10, 0, tzinfo=datetime.UTC)
    desired = scaling_desired("f", scaling_option(working_hours=HOURS), None, now=day)
    assert (desired["min_capacity"], desired["max_capacity"]) == (1, 4)


def test_registered_target_with_a_schedule_is_left_to_the_schedule():
    night = datetime.datetime(2024, 12, 2, 23, 0, tzinfo=datetime.UTC)
    current = scaling_desired("f", scaling_option(working_hours=HOURS), None, now=night)
    again = scaling_desired("f", scaling_option(working_hours=HOURS), current, now=night)
    assert scaling_changes(current, again).changed is False
    bigger = scaling_desired("f", scaling_option(max_capacity=8, working_hours=HOURS), current, now=night)
    changes = scaling_changes(current, bigger)
    assert changes.register_target is None
    assert [a["name"] for a in changes.put_actions] == ["f-working-hours-start"]
    assert changes.put_actions[0]["max_capacity"] == 8


def test_capacity_now_registers_the_capacity_the_schedule_gives_at_this_moment():
    night = datetime.datetime(2024, 12, 2, 23, 0, tzinfo=datetime.UTC)
    day = datetime.datetime(2024, 12, 2, 10, 0, tzinfo=datetime.UTC)
    current = scaling_desired("f", scaling_option(working_hours=HOURS), None, now=day)
    bigger = scaling_option(max_capacity=8, working_hours=HOURS, capacity_now=True)
    assert scaling_changes(current, scaling_desired("f", bigger, current, now=day)).register_target == {
        "MinCapacity": 1,
        "MaxCapacity": 8,
    }
    assert scaling_changes(current, scaling_desired("f", bigger, current, now=night)).register_target == {
        "MinCapacity": 0,
        "MaxCapacity": 0,
    }


def test_scaling_with_only_its_defaults_is_still_a_removal():
    assert (
        scaling_desired("f", dict.fromkeys(scaling_option()) | {"purge_schedule": True, "capacity_now": False}, None)
        == REMOVE
    )


def test_scaling_from_nothing_registers_puts_policy_and_actions():
    desired = scaling_desired("f", scaling_option(target_utilization=75, working_hours=HOURS), None)
    changes = scaling_changes(None, desired)
    assert changes.register_target == {"MinCapacity": 1, "MaxCapacity": 4}
    assert changes.put_policy == {
        "TargetValue": 75.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "AppStreamAverageCapacityUtilization"},
    }
    assert [a["name"] for a in changes.put_actions] == ["f-working-hours-start", "f-working-hours-stop"]
    assert not changes.delete_actions and not changes.deregister_target


def test_scaling_read_back_is_no_change():
    target = {"ResourceId": "fleet/f", "MinCapacity": 1, "MaxCapacity": 4}
    policy = {
        "PolicyName": "f-capacity-utilization",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 75.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "AppStreamAverageCapacityUtilization"},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    }
    actions = [
        {
            "ScheduledActionName": "nightly",
            "Schedule": "cron(0 22 * * ? *)",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0},
        }
    ]
    current = scaling_comparable(target, policy, actions)
    option = scaling_option(
        target_utilization=75,
        schedule=[
            {
                "name": "nightly",
                "schedule": "cron(0 22 * * ? *)",
                "timezone": None,
                "min_capacity": 0,
                "max_capacity": 0,
            }
        ],
    )
    desired = scaling_desired("f", option, current)
    assert desired["scale_in_cooldown"] == 300  # unset cooldowns keep AWS's value
    assert scaling_changes(current, desired) == ScalingChanges()


def test_unlisted_scheduled_actions_are_purged_unless_asked_not_to():
    current = {
        "min_capacity": 1,
        "max_capacity": 4,
        "target_utilization": None,
        "scale_in_cooldown": None,
        "scale_out_cooldown": None,
        "schedule": [{"name": "old", "schedule": "at(2024-01-01T00:00:00)", "timezone": "UTC", "min_capacity": 0,
                      "max_capacity": 0}],
    }  # fmt: skip
    assert scaling_changes(current, scaling_desired("f", scaling_option(), current)).delete_actions == ["old"]
    kept = scaling_desired("f", scaling_option(purge_schedule=False), current)
    assert scaling_changes(current, kept).delete_actions == []


def test_dropping_target_utilization_deletes_the_policy():
    current = {"min_capacity": 1, "max_capacity": 4, "target_utilization": 70.0, "schedule": []}
    changes = scaling_changes(current, scaling_desired("f", scaling_option(), current))
    assert changes.delete_policy and changes.put_policy is None


def test_empty_scaling_removes_everything():
    empty = dict.fromkeys(scaling_option()) | {"purge_schedule": True}
    assert scaling_desired("f", empty, None) == REMOVE
    current = {
        "min_capacity": 1,
        "max_capacity": 4,
        "target_utilization": 70.0,
        "schedule": [{"name": "a"}, {"name": "b"}],
    }
    changes = scaling_changes(current, REMOVE)
    assert changes.delete_actions == ["a", "b"] and changes.delete_policy and changes.deregister_target
    assert scaling_changes(None, REMOVE).changed is False


def test_unset_scaling_is_not_managed():
    assert scaling_desired("f", None, {"min_capacity": 1}) is None
    assert scaling_changes({"min_capacity": 1}, None).changed is False


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        ({"min_capacity": None}, "min_capacity and max_capacity are required"),
        ({"target_utilization": 150}, "must be a percentage"),
        ({"working_hours": {"timezone": "UTC", "start": "20:00", "stop": "07:30"}}, "stop must be later"),
        ({"working_hours": {"timezone": "UTC", "start": "7h30", "stop": "20:00"}}, "is not a time"),
        ({"schedule": [{"name": "x", "schedule": "0 22 * * *"}]}, "is not cron(...)"),
    ],
)
def test_scaling_option_errors(option, fragment):
    assert any(fragment in error for error in scaling_option_errors(scaling_option(**option)))


# -- the shared cycle's hooks the AppStream modules rely on -----------------------------------------
def make_refusing_kind(existing):
    """A minimal ResourceKind whose annotate hook refuses stop fields, as appstream_fleet does."""

    class Kind(ResourceKind):
        kind = "fleet"
        field_kinds = {"instance_type": STOP}

        def __init__(self):
            super().__init__(SimpleNamespace(params={"name": "f", "tags": None, "purge_tags": True}), "acme")
            self.writes = []

        def find(self):
            return existing

        def current_tags(self, resource):
            return resource["tags"]

        def desired(self):
            return {"instance_type": "large"}

        def comparable(self, resource):
            return {"instance_type": resource["instance_type"]}

        def update(self, resource, plan):
            self.writes.append("update")

        def annotate(self, result, plan):
            result["restart_fields"] = plan.by_kind[STOP]
            if plan.by_kind[STOP]:
                raise PlanRefused("needs a stop", result)

    return Kind()


def test_annotate_can_refuse_a_plan_and_keep_it_in_the_error():
    kind = make_refusing_kind({"instance_type": "medium", "tags": {"tenant": "acme"}})
    with pytest.raises(PlanRefused) as refused:
        converge(kind, "present", check_mode=False)
    assert refused.value.result["restart_fields"] == ["instance_type"]
    assert refused.value.result["plan"]["requires_stop"] == ["instance_type"]
    assert kind.writes == []


def test_replacement_required_carries_the_plan_for_check_mode():
    kind = make_refusing_kind({"instance_type": "medium", "tags": {"tenant": "acme"}})
    kind.field_kinds = {"instance_type": RECREATE}
    kind.annotate = lambda result, plan: None
    with pytest.raises(ReplacementRequired) as refused:
        converge(kind, "present", check_mode=True)
    assert refused.value.result["plan"]["requires_recreate"] == ["instance_type"]


# -- what a plan says about a fleet that would restart -----------------------------------------------
@pytest.mark.parametrize(
    ("status", "sessions"),
    [
        ({"Desired": 2, "Running": 2, "InUse": 1, "Available": 1}, 1),
        ({"Desired": 1, "Running": 1, "InUse": 1, "ActiveUserSessions": 3, "DesiredUserSessions": 4}, 3),
        ({}, None),
    ],
    ids=["single-session", "multi-session", "unknown"],
)
def test_streaming_sessions_count_users_not_instances(status, sessions):
    assert streaming_sessions({"ComputeCapacityStatus": status}) == sessions


def test_the_restart_notice_says_the_fleet_stops_and_its_users_are_disconnected():
    fleet = {"State": "RUNNING", "ComputeCapacityStatus": {"InUse": 2}}
    notice = restart_notice("lab-fleet", ["instance_type", "security_group_ids"], fleet)
    assert notice == (
        "fleet 'lab-fleet' is RUNNING: changing instance_type, security_group_ids needs it stopped, so the fleet "
        "stops and its users are disconnected (2 streaming sessions now); it is then updated and started again "
        "(when_running=restart)"
    )
    assert "(1 streaming session now)" in restart_notice(
        "f", ["instance_type"], {"ComputeCapacityStatus": {"InUse": 1}}
    )
    assert "disconnected; it is" in restart_notice("f", ["instance_type"], {})
