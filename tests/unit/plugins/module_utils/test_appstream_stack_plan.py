"""Stack and user-pool planning: secure user settings, AttributesToDelete, user diffs, batching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.stack import (
    CLIPBOARD_MAX_LENGTH,
    USER_SETTING_ACTIONS,
    attributes_to_delete,
    create_stack_request,
    fleet_changes,
    fleets_wanted,
    stack_view,
    stack_wanted,
    update_stack_requests,
    user_settings_check,
    user_settings_request,
    user_settings_view,
    user_settings_wanted,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.users import (
    BATCH_SIZE,
    association_request,
    batches,
    describe_batch_errors,
    plan_users,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import REMOVE, field_changes
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import appstream_stack, appstream_user

ROOT = Path(__file__).resolve().parents[4]
MODEL_ACTIONS = {
    "CLIPBOARD_COPY_FROM_LOCAL_DEVICE",
    "CLIPBOARD_COPY_TO_LOCAL_DEVICE",
    "FILE_UPLOAD",
    "FILE_DOWNLOAD",
    "PRINTING_TO_LOCAL_DEVICE",
    "DOMAIN_PASSWORD_SIGNIN",
    "DOMAIN_SMART_CARD_SIGNIN",
    "AUTO_TIME_ZONE_REDIRECTION",
    "SMART_CARD_REDIRECTION",
}


def permissions(settings: list[dict[str, Any]]) -> dict[str, str]:
    return {s["Action"]: s["Permission"] for s in settings}


def described(**members: Any) -> dict[str, Any]:
    """A DescribeStacks entry as AWS returns it: every action listed, persistence reported."""
    stack = {
        "Arn": "arn:aws:appstream:eu-west-3:123456789012:stack/acme-stack",
        "Name": "acme-stack",
        "UserSettings": user_settings_request(user_settings_wanted(None)),
        "ApplicationSettings": {"Enabled": False},
    }
    stack.update(members)
    return stack


# -- user settings ------------------------------------------------------------------------------
def test_every_action_of_the_botocore_model_is_mapped() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("appstream")
    assert set(model.shape_for("Action").enum) == MODEL_ACTIONS
    assert {action for action, _unused in USER_SETTING_ACTIONS.values()} == MODEL_ACTIONS


def test_unset_user_settings_take_the_secure_defaults_not_the_api_defaults() -> None:
    sent = permissions(user_settings_request(user_settings_wanted(None)))
    assert sent == {
        "CLIPBOARD_COPY_FROM_LOCAL_DEVICE": "ENABLED",
        "CLIPBOARD_COPY_TO_LOCAL_DEVICE": "DISABLED",
        "FILE_UPLOAD": "ENABLED",
        "FILE_DOWNLOAD": "DISABLED",
        "PRINTING_TO_LOCAL_DEVICE": "DISABLED",
        "DOMAIN_PASSWORD_SIGNIN": "ENABLED",
        "DOMAIN_SMART_CARD_SIGNIN": "DISABLED",
        "AUTO_TIME_ZONE_REDIRECTION": "ENABLED",
        "SMART_CARD_REDIRECTION": "DISABLED",
    }


def test_given_user_settings_override_only_their_action() -> None:
    sent = permissions(user_settings_request(user_settings_wanted({"file_download": True, "printing": None})))
    assert sent["FILE_DOWNLOAD"] == "ENABLED"
    assert sent["PRINTING_TO_LOCAL_DEVICE"] == "DISABLED"
    assert sent["CLIPBOARD_COPY_TO_LOCAL_DEVICE"] == "DISABLED"


def test_maximum_length_is_sent_for_enabled_clipboard_actions_only() -> None:
    sent = {
        s["Action"]: s
        for s in user_settings_request(user_settings_wanted({"clipboard_copy_from_local_max_length": 500}))
    }
    assert sent["CLIPBOARD_COPY_FROM_LOCAL_DEVICE"]["MaximumLength"] == 500
    assert "MaximumLength" not in sent["CLIPBOARD_COPY_TO_LOCAL_DEVICE"]
    assert all("MaximumLength" not in s for a, s in sent.items() if not a.startswith("CLIPBOARD"))


def test_maximum_length_on_a_disabled_or_out_of_range_clipboard_is_refused() -> None:
    assert user_settings_check({"clipboard_copy_to_local_max_length": 10}) == [
        "user_settings.clipboard_copy_to_local_max_length is only allowed when "
        "user_settings.clipboard_copy_to_local is true"
    ]
    assert "not between" in user_settings_check({"clipboard_copy_from_local_max_length": CLIPBOARD_MAX_LENGTH + 1})[0]


def test_an_action_the_stack_does_not_report_counts_as_the_api_default_enabled() -> None:
    view = user_settings_view([{"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"}])
    assert view["file_download"] is False
    assert view["printing"] is True
    assert view["clipboard_copy_to_local_max_length"] == CLIPBOARD_MAX_LENGTH


def test_a_stack_created_with_the_defaults_has_no_user_settings_drift() -> None:
    wanted = stack_wanted({})
    assert field_changes(stack_view(described(), wanted), wanted) == {}


def test_a_stack_left_with_the_api_defaults_is_corrected() -> None:
    wanted = stack_wanted({})
    stack = described(UserSettings=[])
    changes = field_changes(stack_view(stack, wanted), wanted)
    assert list(changes) == ["user_settings"]
    before, after = changes["user_settings"]
    assert before["clipboard_copy_to_local"] is True
    assert after["clipboard_copy_to_local"] is False


def test_module_documentation_states_the_same_secure_defaults() -> None:
    module = appstream_stack
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]["user_settings"]["suboptions"]
    for option, (_unused, default) in USER_SETTING_ACTIONS.items():
        assert documented[option]["default"] is default, option
    argument_spec = module.argument_spec()["user_settings"]["options"]
    assert {k: v.get("default") for k, v in argument_spec.items()} == {
        k: v.get("default") for k, v in documented.items()
    }


# -- removal and AttributesToDelete -------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "value", "attribute"),
    [
        ("redirect_url", "", "REDIRECT_URL"),
        ("feedback_url", "", "FEEDBACK_URL"),
        ("storage_connectors", [], "STORAGE_CONNECTORS"),
        ("embed_host_domains", [], "EMBED_HOST_DOMAINS"),
        ("access_endpoints", [], "ACCESS_ENDPOINTS"),
        ("streaming_experience_settings", {"preferred_protocol": None}, "STREAMING_EXPERIENCE_SETTINGS"),
        ("content_redirection", {"host_to_client": None}, "CONTENT_REDIRECTION"),
        ("webauthn_redirection", {"enabled": None, "process_compatibility_list": None}, "WEB_AUTHN_REDIRECTION"),
        ("agent_access_config", {}, "AGENT_ACCESS_CONFIG"),
        ("storage_connector_authentication", "", "STORAGE_CONNECTOR_AUTHENTICATION"),
    ],
)
def test_an_empty_value_removes_the_setting_through_attributes_to_delete(
    option: str, value: Any, attribute: str
) -> None:
    current = {
        "RedirectURL": "https://lab.example/bye",
        "FeedbackURL": "https://lab.example/feedback",
        "StorageConnectors": [{"ConnectorType": "HOMEFOLDERS"}],
        "EmbedHostDomains": ["lab.example"],
        "AccessEndpoints": [{"EndpointType": "STREAMING", "VpceId": "vpce-1"}],
        "StreamingExperienceSettings": {"PreferredProtocol": "UDP"},
        "ContentRedirection": {"HostToClient": {"Enabled": True}},
        "WebAuthnRedirection": {"Enabled": True},
        "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}]},
        "StorageConnectorAuthentication": "FORCE_REAUTHENTICATION",
    }
    wanted = stack_wanted({option: value})
    assert wanted[option] == REMOVE
    changes = field_changes(stack_view(described(**current), wanted), wanted)
    assert list(changes) == [option]
    assert attributes_to_delete(changes) == [attribute]
    [request] = update_stack_requests("acme-stack", changes)
    assert request == {"Name": "acme-stack", "AttributesToDelete": [attribute]}


def test_removing_an_absent_setting_is_no_change() -> None:
    wanted = stack_wanted({"redirect_url": "", "embed_host_domains": [], "storage_connectors": []})
    assert field_changes(stack_view(described(), wanted), wanted) == {}


def test_unset_options_leave_the_settings_alone() -> None:
    wanted = stack_wanted({})
    stack = described(RedirectURL="https://lab.example/bye", EmbedHostDomains=["lab.example"])
    assert field_changes(stack_view(stack, wanted), wanted) == {}


def test_a_dropped_connector_type_is_deleted_before_the_remaining_connectors_are_set() -> None:
    current = described(
        StorageConnectors=[{"ConnectorType": "HOMEFOLDERS"}, {"ConnectorType": "ONE_DRIVE", "Domains": ["lab.example"]}]
    )
    wanted = stack_wanted({"storage_connectors": [{"connector_type": "HOMEFOLDERS", "domains": None}]})
    changes = field_changes(stack_view(current, wanted), wanted)
    assert update_stack_requests("acme-stack", changes) == [
        {"Name": "acme-stack", "AttributesToDelete": ["STORAGE_CONNECTOR_ONE_DRIVE"]},
        {"Name": "acme-stack", "StorageConnectors": [{"ConnectorType": "HOMEFOLDERS"}]},
    ]


def test_connector_members_aws_fills_in_are_not_drift() -> None:
    current = described(
        StorageConnectors=[{"ConnectorType": "HOMEFOLDERS", "ResourceIdentifier": "appstream2-36fb080bb8-eu-west-3"}]
    )
    wanted = stack_wanted({"storage_connectors": [{"connector_type": "HOMEFOLDERS"}]})
    assert field_changes(stack_view(current, wanted), wanted) == {}


def test_connector_domains_are_compared_as_sets() -> None:
    current = described(StorageConnectors=[{"ConnectorType": "ONE_DRIVE", "Domains": ["b.example", "a.example"]}])
    wanted = stack_wanted(
        {"storage_connectors": [{"connector_type": "ONE_DRIVE", "domains": ["a.example", "b.example"]}]}
    )
    assert field_changes(stack_view(current, wanted), wanted) == {}


def test_settings_group_is_compared_only_when_requested() -> None:
    current = described(ApplicationSettings={"Enabled": True, "SettingsGroup": "acme", "S3BucketName": "bucket"})
    unset = stack_wanted({"application_settings": {"enabled": True}})
    assert field_changes(stack_view(current, unset), unset) == {}
    other = stack_wanted({"application_settings": {"enabled": True, "settings_group": "other"}})
    assert list(field_changes(stack_view(current, other), other)) == ["application_settings"]


def test_a_change_and_a_removal_share_one_update_stack_call() -> None:
    current = described(RedirectURL="https://lab.example/bye")
    wanted = stack_wanted(
        {"redirect_url": "", "feedback_url": "https://lab.example/feedback", "user_settings": {"printing": True}}
    )
    changes = field_changes(stack_view(current, wanted), wanted)
    [request] = update_stack_requests("acme-stack", changes)
    assert request["AttributesToDelete"] == ["REDIRECT_URL"]
    assert request["FeedbackURL"] == "https://lab.example/feedback"
    assert permissions(request["UserSettings"])["PRINTING_TO_LOCAL_DEVICE"] == "ENABLED"
    assert len(request["UserSettings"]) == len(MODEL_ACTIONS)


def test_create_request_carries_every_setting_but_no_removal() -> None:
    wanted = stack_wanted(
        {
            "display_name": "Acme",
            "redirect_url": "",
            "storage_connectors": [{"connector_type": "HOMEFOLDERS"}],
            "application_settings": {"enabled": True, "settings_group": "acme"},
            "access_endpoints": [{"endpoint_type": "STREAMING", "vpce_id": "vpce-1"}],
            "streaming_experience_settings": {"preferred_protocol": "UDP"},
            "content_redirection": {
                "host_to_client": {"enabled": True, "allowed_urls": ["https://*.lab.example"], "denied_urls": None}
            },
            "agent_access_config": {
                "settings": [{"action": "COMPUTER_VISION", "permission": "DISABLED"}],
                "screen_resolution": "W_1280xH_720",
            },
        }
    )
    request = create_stack_request("acme-stack", wanted, {"tenant": "acme"})
    assert "RedirectURL" not in request
    assert request["DisplayName"] == "Acme"
    assert request["StorageConnectors"] == [{"ConnectorType": "HOMEFOLDERS"}]
    assert request["ApplicationSettings"] == {"Enabled": True, "SettingsGroup": "acme"}
    assert request["AccessEndpoints"] == [{"EndpointType": "STREAMING", "VpceId": "vpce-1"}]
    assert request["StreamingExperienceSettings"] == {"PreferredProtocol": "UDP"}
    assert request["ContentRedirection"] == {
        "HostToClient": {"Enabled": True, "AllowedUrls": ["https://*.lab.example"]}
    }
    assert request["AgentAccessConfig"] == {
        "Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "DISABLED"}],
        "ScreenResolution": "W_1280xH_720",
    }
    assert request["Tags"] == {"tenant": "acme"}


def test_structured_settings_read_back_are_not_drift() -> None:
    options = {
        "content_redirection": {
            "host_to_client": {"enabled": True, "allowed_urls": ["https://x"], "denied_urls": None}
        },
        "agent_access_config": {
            "settings": [
                {"action": "COMPUTER_INPUT", "permission": "ENABLED"},
                {"action": "COMPUTER_VISION", "permission": "DISABLED"},
            ]
        },
        "webauthn_redirection": {"enabled": True, "process_compatibility_list": ["chrome.exe"]},
        "access_endpoints": [
            {"endpoint_type": "STREAMING", "vpce_id": "vpce-2"},
            {"endpoint_type": "STREAMING", "vpce_id": "vpce-1"},
        ],
    }
    wanted = stack_wanted(options)
    request = create_stack_request("acme-stack", wanted, {})
    request["AgentAccessConfig"]["Settings"].reverse()
    stack = described(**{k: v for k, v in request.items() if k not in ("Name", "Tags")})
    assert field_changes(stack_view(stack, wanted), wanted) == {}


def test_display_name_and_description_cannot_be_removed() -> None:
    with pytest.raises(ValueError, match="cannot be removed"):
        update_stack_requests("acme-stack", {"display_name": ("Acme", REMOVE)})


# -- fleets -------------------------------------------------------------------------------------
def test_purge_fleets_keeps_only_the_listed_fleets() -> None:
    assert fleets_wanted(["a"], ["a", "b"], purge=True) == ["a"]
    assert fleet_changes(["a", "b"], ["a", "c"]) == (["c"], ["b"])


def test_without_purge_fleets_only_add() -> None:
    assert fleets_wanted(["c"], ["a", "b"], purge=False) == ["a", "b", "c"]


def test_unset_fleets_leave_the_associations_alone() -> None:
    assert fleets_wanted(None, ["a"], purge=True) is None
    assert fleet_changes(["a"], None) == ([], [])


# -- users ---------------------------------------------------------------------------------------
def user(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "first_name": "A", "last_name": "B", "enabled": True, "stacks": None, **extra}


def existing_user(email: str, enabled: bool = True) -> dict[str, Any]:
    return {"UserName": email, "Enabled": enabled, "FirstName": "A", "LastName": "B", "AuthenticationType": "USERPOOL"}


def test_missing_users_are_created_and_associated_with_the_default_stacks() -> None:
    plan = plan_users(
        [user("ada@lab.example")], {}, {"s1": set()}, ["s1"], "present", False, True, default_stacks=["s1"]
    )
    assert [u["email"] for u in plan.create] == ["ada@lab.example"]
    assert plan.associate == [("ada@lab.example", "s1")]
    assert plan.changed


def test_a_new_disabled_user_is_created_then_disabled() -> None:
    plan = plan_users([user("ada@lab.example", enabled=False)], {}, {}, [], "present", False, True)
    assert plan.disable == ["ada@lab.example"]


def test_a_user_matching_the_request_needs_no_call() -> None:
    plan = plan_users(
        [user("ada@lab.example")],
        {"ada@lab.example": existing_user("ada@lab.example")},
        {"s1": {"ada@lab.example"}},
        ["s1"],
        "present",
        True,
        True,
        default_stacks=["s1"],
    )
    assert not plan.changed
    assert plan.delete_candidates == []


def test_enabled_flag_drives_enable_and_disable() -> None:
    existing = {"a@x": existing_user("a@x", enabled=False), "b@x": existing_user("b@x", enabled=True)}
    plan = plan_users([user("a@x"), user("b@x", enabled=False)], existing, {}, [], "present", False, True)
    assert plan.enable == ["a@x"]
    assert plan.disable == ["b@x"]


def test_purge_stacks_removes_only_managed_associations() -> None:
    plan = plan_users(
        [user("a@x", stacks=["s1"])],
        {"a@x": existing_user("a@x")},
        {"s1": {"a@x"}, "s2": {"a@x"}},
        ["s1", "s2"],
        "present",
        False,
        True,
    )
    assert plan.disassociate == [("a@x", "s2")]
    kept = plan_users(
        [user("a@x", stacks=["s1"])],
        {"a@x": existing_user("a@x")},
        {"s1": {"a@x"}, "s2": {"a@x"}},
        ["s1", "s2"],
        "present",
        False,
        False,
    )
    assert kept.disassociate == []


def test_purge_users_only_considers_users_of_the_managed_stacks() -> None:
    existing = {e: existing_user(e) for e in ("keep@x", "gone@x", "stranger@x")}
    plan = plan_users(
        [user("keep@x")],
        existing,
        {"s1": {"keep@x", "gone@x"}},
        ["s1"],
        "present",
        True,
        True,
        default_stacks=["s1"],
    )
    assert plan.disassociate == [("gone@x", "s1")]
    assert plan.delete_candidates == ["gone@x"]
    assert "stranger@x" not in plan.delete_candidates


def test_associations_with_unmanaged_stacks_are_ignored() -> None:
    plan = plan_users([], {"a@x": existing_user("a@x")}, {"other-tenant-stack": {"a@x"}}, ["s1"], "present", True, True)
    assert not plan.changed
    assert plan.delete_candidates == []


def test_absent_users_are_disassociated_and_become_deletion_candidates() -> None:
    plan = plan_users(
        [user("a@x"), user("never@x")], {"a@x": existing_user("a@x")}, {"s1": {"a@x"}}, ["s1"], "absent", False, True
    )
    assert plan.disassociate == [("a@x", "s1")]
    assert plan.delete_candidates == ["a@x"]
    assert plan.create == []


def test_name_differences_are_reported_not_changed() -> None:
    plan = plan_users([user("a@x", first_name="Ada")], {"a@x": existing_user("a@x")}, {}, [], "present", False, True)
    assert plan.name_mismatches == ["a@x"]
    assert not plan.changed


def test_batches_hold_at_most_25_associations() -> None:
    pairs = [(f"u{i}@x", "s1") for i in range(60)]
    sizes = [len(b) for b in batches(pairs)]
    assert sizes == [25, 25, 10]
    assert BATCH_SIZE == 25
    assert sum(sizes) == 60


def test_association_request_shape_matches_the_model() -> None:
    assert association_request([("a@x", "s1")], notify=False) == [
        {"StackName": "s1", "UserName": "a@x", "AuthenticationType": "USERPOOL", "SendEmailNotification": False}
    ]
    assert "SendEmailNotification" not in association_request([("a@x", "s1")])[0]


def test_batch_errors_name_the_user_and_the_stack() -> None:
    errors = [
        {
            "UserStackAssociation": {
                "StackName": "acme-stack",
                "UserName": "ada@lab.example",
                "AuthenticationType": "USERPOOL",
            },
            "ErrorCode": "DIRECTORY_NOT_FOUND",
        }
    ]
    [line] = describe_batch_errors(errors, "associated with")
    assert "'ada@lab.example'" in line
    assert "'acme-stack'" in line
    assert "domain" in line


def test_stack_input_errors_are_found_before_any_call() -> None:
    errors = appstream_stack.input_errors(
        {
            "description": "",
            "storage_connectors": [
                {"connector_type": "HOMEFOLDERS", "domains_require_admin_consent": ["x"]},
                {"connector_type": "HOMEFOLDERS"},
            ],
            "webauthn_redirection": {"enabled": None, "process_compatibility_list": ["chrome.exe"]},
        }
    )
    assert any(e.startswith("description: the API cannot remove it") for e in errors)
    assert "storage_connectors: HOMEFOLDERS is given more than once" in errors
    assert "storage_connectors: domains_require_admin_consent only applies to ONE_DRIVE" in errors
    assert any(e.startswith("webauthn_redirection.enabled is required") for e in errors)


def test_user_input_errors_follow_the_create_user_model() -> None:
    errors = appstream_user.user_errors(
        [
            {"email": "zoe@lab.example", "first_name": "Zoë", "last_name": "Brun"},
            {"email": "zoe@lab.example", "first_name": "Zoe", "last_name": "Brun"},
            {"email": "no space@lab.example", "first_name": None, "last_name": None},
        ]
    )
    assert errors == [
        "users: zoe@lab.example is listed more than once",
        "users[zoe@lab.example].first_name: 'Zoë' may only contain letters A-Z, digits, spaces, '_' and '-'",
        "users: 'no space@lab.example' is not a user-pool user name (an e-mail address, at most 128 characters)",
    ]


def test_absent_with_purge_removes_every_user_of_the_managed_stacks() -> None:
    existing = {e: existing_user(e) for e in ("a@x", "b@x")}
    plan = plan_users([], existing, {"s1": {"a@x", "b@x"}}, ["s1"], "absent", True, True)
    assert plan.disassociate == [("a@x", "s1"), ("b@x", "s1")]
    assert plan.delete_candidates == ["a@x", "b@x"]


def test_agent_access_members_left_unset_are_kept_and_the_kms_key_is_removed_explicitly() -> None:
    current = described(
        AgentAccessConfig={
            "Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}],
            "KmsKeyArn": "arn:aws:kms:eu-west-3:123456789012:key/abc",
            "UserControlMode": "VIEW_STOP",
        }
    )
    unchanged = stack_wanted({"agent_access_config": {"user_control_mode": "VIEW_STOP"}})
    assert field_changes(stack_view(current, unchanged), unchanged) == {}
    no_key = stack_wanted({"agent_access_config": {"user_control_mode": "VIEW_STOP", "kms_key_arn": ""}})
    changes = field_changes(stack_view(current, no_key), no_key)
    [request] = update_stack_requests("acme-stack", changes)
    assert request["AttributesToDelete"] == ["AGENT_ACCESS_CONFIG_KMS_KEY_ARN"]
    assert request["AgentAccessConfig"] == {"UserControlMode": "VIEW_STOP"}
    gone = described(AgentAccessConfig={"UserControlMode": "VIEW_STOP"})
    assert field_changes(stack_view(gone, no_key), no_key) == {}
