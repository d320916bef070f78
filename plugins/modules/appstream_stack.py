#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_stack
version_added: 0.1.0
short_description: Manage an Amazon AppStream 2.0 stack and its fleet associations
description:
  - Creates, updates in place and deletes an AppStream 2.0 stack owned by a tenant, with every
    setting CreateStack and UpdateStack accept, and associates the stack with its fleets.
  - B(Secure user settings by default.) The AppStream API enables every user action a stack does
    not set (clipboard both ways, file transfer both ways, local printing, ...). This module always
    sends every action of the API and, for an action not given in O(user_settings), applies the
    toolkit's secure default instead (see O(user_settings)).
  - A setting is removed with an empty value (V("") for text, V([]) for lists, V({}) for
    structured settings); the module then sends UpdateStack C(AttributesToDelete). An option left
    unset (null) leaves the setting as it is.
  - Ownership. A stack whose C(tenant) tag is not O(tenant) is never changed or deleted, and the
    module refuses to associate a fleet owned by another tenant.
  - Check mode makes read calls only and reports the planned change and a diff.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description:
      - Name of the stack; by the toolkit's convention C(<tenant>-stack).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the stack and its fleet associations.
      - V(absent) disassociates every fleet from the stack, then deletes it.
    type: str
    default: present
    choices: [present, absent]
  display_name:
    description:
      - Name shown to users in the AppStream portal (at most 100 characters).
      - It cannot be removed, only changed.
    type: str
  description:
    description:
      - Description of the stack (at most 256 characters). It cannot be removed, only changed.
    type: str
  user_settings:
    description:
      - What users may do between their device and the streaming session.
      - Every action of the API is always sent. An action not given here takes the secure default
        shown, not the API's V(ENABLED); so the stack never silently allows more than documented.
    type: dict
    suboptions:
      clipboard_copy_from_local:
        description: Paste from the local device into the session (C(CLIPBOARD_COPY_FROM_LOCAL_DEVICE)).
        type: bool
        default: true
      clipboard_copy_to_local:
        description:
          - Copy from the session to the local device (C(CLIPBOARD_COPY_TO_LOCAL_DEVICE)).
          - Disabled by default because it lets data leave the session.
        type: bool
        default: false
      clipboard_copy_from_local_max_length:
        description:
          - Maximum number of characters pasted into the session, 1 to 20971520.
          - Only with O(user_settings.clipboard_copy_from_local=true); unset means the API maximum 20971520.
        type: int
      clipboard_copy_to_local_max_length:
        description:
          - Maximum number of characters copied out of the session, 1 to 20971520.
          - Only with O(user_settings.clipboard_copy_to_local=true); unset means the API maximum 20971520.
        type: int
      file_upload:
        description: Upload files from the local device into the session (C(FILE_UPLOAD)).
        type: bool
        default: true
      file_download:
        description: Download files from the session to the local device (C(FILE_DOWNLOAD)).
        type: bool
        default: false
      printing:
        description: Print from the session to a local printer (C(PRINTING_TO_LOCAL_DEVICE)).
        type: bool
        default: false
      domain_password_signin:
        description:
          - Sign in to a domain-joined session with the domain password (C(DOMAIN_PASSWORD_SIGNIN)).
          - Enabled by default because SAML users of domain-joined fleets cannot sign in without it
            unless certificate-based authentication is configured.
        type: bool
        default: true
      domain_smart_card_signin:
        description: Sign in to a domain-joined session with a smart card (C(DOMAIN_SMART_CARD_SIGNIN)).
        type: bool
        default: false
      auto_time_zone_redirection:
        description:
          - The session follows the time zone of the local device (C(AUTO_TIME_ZONE_REDIRECTION)).
          - Enabled by default; no data leaves the session.
        type: bool
        default: true
      smart_card_redirection:
        description: Redirect local smart-card readers into the session (C(SMART_CARD_REDIRECTION)).
        type: bool
        default: false
  storage_connectors:
    description:
      - Persistent storage offered in the session. The list replaces the stack's connectors;
        connector types missing from it are removed (C(STORAGE_CONNECTOR_<TYPE>)).
      - V([]) removes every connector (C(STORAGE_CONNECTORS)).
      - A member left unset on a connector (for example the home folders bucket AWS fills in) is
        not compared.
    type: list
    elements: dict
    suboptions:
      connector_type:
        description: Kind of storage.
        type: str
        required: true
        choices: [HOMEFOLDERS, GOOGLE_DRIVE, ONE_DRIVE]
      resource_identifier:
        description: ARN of the storage connector.
        type: str
      domains:
        description: Domains of the accounts allowed to use the connector (Google Drive, OneDrive).
        type: list
        elements: str
      domains_require_admin_consent:
        description: OneDrive for Business domains that require admin consent (V(ONE_DRIVE) only).
        type: list
        elements: str
  storage_connector_authentication:
    description:
      - Whether users' Google Drive and OneDrive authentication persists across sessions.
      - V("") removes the setting (C(STORAGE_CONNECTOR_AUTHENTICATION)).
    type: str
    choices: [FORCE_REAUTHENTICATION, REUSE_CREDENTIALS, ""]
  application_settings:
    description:
      - Persistent application settings (a VHD per user in an S3 bucket of the account).
      - Turn persistence off with O(application_settings.enabled=false); the API cannot remove it.
    type: dict
    suboptions:
      enabled:
        description: Whether application and Windows settings persist across sessions.
        type: bool
        required: true
      settings_group:
        description:
          - Path prefix in the settings bucket; stacks with the same group share the settings.
          - When unset the value AWS keeps is not compared.
        type: str
  access_endpoints:
    description:
      - Interface VPC endpoints through which users must stream (at most 4).
      - V([]) removes the restriction (C(ACCESS_ENDPOINTS)).
    type: list
    elements: dict
    suboptions:
      endpoint_type:
        description: Type of the endpoint.
        type: str
        default: STREAMING
        choices: [STREAMING]
      vpce_id:
        description: Identifier of the interface endpoint (C(com.amazonaws.<region>.appstream.streaming)).
        type: str
  embed_host_domains:
    description:
      - Domains allowed to embed streaming sessions in an iframe (at most 20).
      - V([]) removes them (C(EMBED_HOST_DOMAINS)).
    type: list
    elements: str
  redirect_url:
    description:
      - URL users are sent to when their session ends. V("") removes it (C(REDIRECT_URL)).
    type: str
  feedback_url:
    description:
      - URL of the feedback link in the session toolbar. V("") removes it (C(FEEDBACK_URL)).
    type: str
  streaming_experience_settings:
    description:
      - Streaming protocol preference. V({}) removes it (C(STREAMING_EXPERIENCE_SETTINGS)).
    type: dict
    suboptions:
      preferred_protocol:
        description: Preferred transport of the streaming session.
        type: str
        choices: [TCP, UDP]
  content_redirection:
    description:
      - URL redirection from the session to the local browser. V({}) removes it (C(CONTENT_REDIRECTION)).
    type: dict
    suboptions:
      host_to_client:
        description: Redirection of URLs opened in the session to the local browser.
        type: dict
        suboptions:
          enabled:
            description: Whether URLs are redirected.
            type: bool
            required: true
          allowed_urls:
            description: URL patterns that are redirected.
            type: list
            elements: str
          denied_urls:
            description: URL patterns that are never redirected.
            type: list
            elements: str
  webauthn_redirection:
    description:
      - WebAuthn (passkeys, security keys) redirection between the session and the local device.
      - V({}) removes it (C(WEB_AUTHN_REDIRECTION)).
    type: dict
    suboptions:
      enabled:
        description: Whether WebAuthn requests are redirected; required unless removing.
        type: bool
      process_compatibility_list:
        description: Windows processes allowed to use WebAuthn redirection.
        type: list
        elements: str
  agent_access_config:
    description:
      - Access of AI agents to the session (screen capture, input, MCP tools).
      - UpdateStack merges this setting, so a member left unset keeps its current value and is
        not compared.
      - V({}) removes it (C(AGENT_ACCESS_CONFIG)).
    type: dict
    suboptions:
      settings:
        description: Permission of each agent action.
        type: list
        elements: dict
        suboptions:
          action:
            description: Agent action.
            type: str
            required: true
            choices: [COMPUTER_VISION, COMPUTER_INPUT, FORWARD_MCP_TOOLS]
          permission:
            description: Whether the action is allowed.
            type: str
            required: true
            choices: [ENABLED, DISABLED]
      s3_bucket_arn:
        description: Bucket receiving screenshots and session replays.
        type: str
      screenshots_upload_enabled:
        description: Whether screenshots are uploaded to the bucket.
        type: bool
      replay_session_enabled:
        description: Whether sessions are recorded for replay.
        type: bool
      kms_key_arn:
        description:
          - KMS key encrypting the uploads. V("") removes it (C(AGENT_ACCESS_CONFIG_KMS_KEY_ARN)).
        type: str
      screen_resolution:
        description: Resolution of the agent's view.
        type: str
        choices: [W_1280xH_720]
      screen_image_format:
        description: Image format of the agent's view.
        type: str
        choices: [PNG, JPEG]
      user_control_mode:
        description: What the user can do while an agent works.
        type: str
        choices: [VIEW_ONLY, VIEW_STOP, DISABLED]
  fleets:
    description:
      - Fleets associated with the stack (AssociateFleet). Each fleet must exist and carry the
        O(tenant) tag; in check mode a fleet that does not exist yet only raises a warning.
      - AWS associates at most one fleet with a stack; to move the stack to another fleet, list
        only the new one (with O(purge_fleets=true) the old fleet is disassociated first).
      - When unset, associations are left as they are.
    type: list
    elements: str
  purge_fleets:
    description:
      - Disassociate fleets that are associated with the stack but not listed in O(fleets).
      - Ignored when O(fleets) is unset.
    type: bool
    default: true
attributes:
  check_mode:
    details: Read calls only; the result carries the planned change and a diff.
  diff_mode:
    details: The diff lists the settings that change, before and after, in the options' names.
notes:
  - Stacks have no lifecycle states, so the module never waits.
  - Stack tags are read with C(ListTagsForResource) on the stack ARN, unless O(known_tags) lists the stack.
  - A second run with the same options makes read calls only (C(DescribeStacks),
    C(ListAssociatedFleets), C(ListTagsForResource) unless O(known_tags) lists the stack) and reports no change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.known_tags
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant stack exists with the secure defaults and its fleet
  iconeus.tenant_toolkit.appstream_stack:
    name: acme-neuro-stack
    tenant: acme-neuro
    environment: prod
    display_name: Acme Neuro analysis suite
    fleets: [acme-neuro-fleet]
    application_settings:
      enabled: true
      settings_group: acme-neuro

- name: Ensure a user-pool stack offers home folders and limits pasted text
  iconeus.tenant_toolkit.appstream_stack:
    name: trial-lab-stack
    tenant: trial-lab
    user_settings:
      clipboard_copy_from_local_max_length: 65536
      file_download: true
    storage_connectors:
      - connector_type: HOMEFOLDERS
    redirect_url: https://lab.example/bye
    streaming_experience_settings:
      preferred_protocol: UDP
    fleets: [trial-lab-fleet]

- name: Ensure the stack no longer redirects, embeds or offers storage (AttributesToDelete)
  iconeus.tenant_toolkit.appstream_stack:
    name: trial-lab-stack
    tenant: trial-lab
    redirect_url: ""
    embed_host_domains: []
    storage_connectors: []

- name: Ensure the stack is gone (its fleets are disassociated first)
  iconeus.tenant_toolkit.appstream_stack:
    name: trial-lab-stack
    tenant: trial-lab
    state: absent
"""

RETURN = r"""
stack:
  description:
    - The stack as DescribeStacks reports it, in snake_case, with its associated fleets and tags.
    - Empty after deletion; the current stack (or empty) in check mode.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the stack.
      type: str
      returned: when the stack exists
      sample: arn:aws:appstream:eu-west-3:123456789012:stack/acme-neuro-stack
    name:
      description: Name of the stack.
      type: str
      returned: when the stack exists
      sample: acme-neuro-stack
    display_name:
      description: Name shown to users.
      type: str
      returned: when set
      sample: Acme Neuro analysis suite
    user_settings:
      description: Permission of every user action.
      type: list
      elements: dict
      returned: when the stack exists
      sample: [{action: CLIPBOARD_COPY_TO_LOCAL_DEVICE, permission: DISABLED}]
    storage_connectors:
      description: Storage connectors of the stack.
      type: list
      elements: dict
      returned: when set
      sample: [{connector_type: HOMEFOLDERS}]
    application_settings:
      description: Persistence of application settings, with the bucket AWS uses.
      type: dict
      returned: when the stack exists
      sample:
        enabled: true
        settings_group: acme-neuro
        s3_bucket_name: appstream-app-settings-eu-west-3-123456789012-abcd1234
    stack_errors:
      description: Errors AWS reports for the stack (for example a storage connector error).
      type: list
      elements: dict
      returned: when the stack exists
      sample: []
    fleets:
      description: Names of the fleets associated with the stack.
      type: list
      elements: str
      returned: when the stack exists
      sample: [acme-neuro-fleet]
    tags:
      description: Tags of the stack.
      type: dict
      returned: when the stack exists
      sample: {tenant: acme-neuro, environment: prod, managed-by: appstream-tenant-toolkit}
plan:
  description: What the module did or, in check mode, would do.
  returned: always
  type: dict
  contains:
    action:
      description: V(none), V(create), V(update) or V(delete).
      type: str
      returned: always
      sample: update
    fields:
      description: Settings that change.
      type: list
      elements: str
      returned: always
      sample: [redirect_url, user_settings]
    removals:
      description: Settings removed through AttributesToDelete.
      type: list
      elements: str
      returned: always
      sample: [redirect_url]
    attributes_to_delete:
      description: The AttributesToDelete values sent (or that would be sent).
      type: list
      elements: str
      returned: always
      sample: [REDIRECT_URL]
    fleets_to_associate:
      description: Fleets associated with the stack by this run.
      type: list
      elements: str
      returned: always
      sample: [acme-neuro-fleet]
    fleets_to_disassociate:
      description: Fleets disassociated from the stack by this run.
      type: list
      elements: str
      returned: always
      sample: []
"""

import contextlib
from typing import Any

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import get_tags
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import set_tags as apply_tags
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.stack import (
    USER_SETTING_ACTIONS,
    attributes_to_delete,
    create_stack_request,
    fleet_changes,
    fleets_wanted,
    stack_view,
    stack_wanted,
    update_stack_requests,
    user_settings_check,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan, ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    is_owned,
    known_or_read,
    owner_of,
)

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


class Stack(ResourceKind):
    kind = "stack"

    def __init__(self, module: Any, client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.current_fleets: list[str] = []
        self.fleet_plan: tuple[list[str], list[str]] = ([], [])
        self.deletions: list[str] = []

    # -- reads --------------------------------------------------------------------------------
    def find(self) -> dict[str, Any] | None:
        try:
            stacks = self.client.describe_stacks(Names=[self.name], aws_retry=True)["Stacks"]
        except is_boto3_error_code("ResourceNotFoundException"):
            return None
        if not stacks:
            return None
        stack = stacks[0]
        self.current_fleets = sorted(
            paginate(self.client.list_associated_fleets, "Names", aws_retry=True, StackName=self.name)
        )
        arn = stack["Arn"]
        tags = known_or_read(self.known_tags, arn, lambda: get_tags(self.client, arn))
        return {"stack": stack, "fleets": self.current_fleets, "tags": tags}

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource["tags"]

    def desired(self) -> dict[str, Any]:
        wanted = stack_wanted(self.params)
        wanted["fleets"] = fleets_wanted(self.params.get("fleets"), self.current_fleets, self.params["purge_fleets"])
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        view = stack_view(resource["stack"], self.desired())
        view["fleets"] = resource["fleets"]
        return view

    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        plan = super().plan(resource, state)
        if state == "absent":
            self.fleet_plan = ([], list(self.current_fleets))
            return plan
        self.fleet_plan = fleet_changes(self.current_fleets, self.desired()["fleets"])
        if resource is not None:
            self.deletions = attributes_to_delete({k: v for k, v in plan.changes.items() if k != "fleets"})
        self.check_fleets(self.fleet_plan[0])
        return plan

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        result["plan"].update(
            attributes_to_delete=self.deletions,
            fleets_to_associate=self.fleet_plan[0],
            fleets_to_disassociate=self.fleet_plan[1],
        )

    def check_fleets(self, names: list[str]) -> None:
        """Refuse, before any change, to associate a fleet that is missing or owned by another tenant."""
        for name in names:
            try:
                fleets = self.client.describe_fleets(Names=[name], aws_retry=True)["Fleets"]
            except is_boto3_error_code("ResourceNotFoundException"):
                fleets = []
            if not fleets:
                message = f"fleet {name!r} does not exist, so stack {self.name!r} cannot be associated with it"
                if self.module.check_mode:
                    self.module.warn(message + " (yet: in check mode it is assumed to be created earlier in the run)")
                    continue
                self.module.fail_json(msg=message)
            arn = fleets[0]["Arn"]
            tags = known_or_read(self.known_tags, arn, lambda arn=arn: get_tags(self.client, arn))
            if not is_owned(tags, self.tenant):
                self.module.fail_json(
                    msg=f"fleet {name!r} is not owned by tenant {self.tenant!r} (its tenant tag is "
                    f"{owner_of(tags)!r}); stack {self.name!r} is never associated with it"
                )

    # -- writes -------------------------------------------------------------------------------
    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.create_stack(aws_retry=True, **create_stack_request(self.name, desired, tags))
        self.associate(self.fleet_plan[0])
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        settings = {k: v for k, v in plan.changes.items() if k != "fleets"}
        for request in update_stack_requests(self.name, settings):
            self.client.update_stack(aws_retry=True, **request)
        to_add, to_remove = self.fleet_plan
        for fleet in to_remove:
            self.client.disassociate_fleet(FleetName=fleet, StackName=self.name, aws_retry=True)
        self.associate(to_add)
        return None

    def associate(self, fleets: list[str]) -> None:
        for fleet in fleets:
            self.client.associate_fleet(FleetName=fleet, StackName=self.name, aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        for fleet in resource["fleets"]:
            self.client.disassociate_fleet(FleetName=fleet, StackName=self.name, aws_retry=True)
        try:
            self.client.delete_stack(Name=self.name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # deleted meanwhile: the goal is reached

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        apply_tags(self.client, resource["stack"]["Arn"], to_set, to_remove)
        self.known_tags.pop(resource["stack"]["Arn"], None)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        stack = camel_dict_to_snake_dict(resource["stack"])
        stack["fleets"] = list(resource["fleets"])
        stack["tags"] = dict(resource["tags"])
        return stack


def input_errors(params: dict[str, Any]) -> list[str]:
    errors = user_settings_check(params.get("user_settings"))
    for option in ("display_name", "description"):
        if params.get(option) == "":
            errors.append(f"{option}: the API cannot remove it; give a new value or leave it unset")
    connectors = params.get("storage_connectors") or []
    types = [c["connector_type"] for c in connectors]
    for duplicate in sorted({t for t in types if types.count(t) > 1}):
        errors.append(f"storage_connectors: {duplicate} is given more than once")
    for connector in connectors:
        if connector.get("domains_require_admin_consent") and connector["connector_type"] != "ONE_DRIVE":
            errors.append("storage_connectors: domains_require_admin_consent only applies to ONE_DRIVE")
    webauthn = params.get("webauthn_redirection") or {}
    if webauthn.get("process_compatibility_list") is not None and webauthn.get("enabled") is None:
        errors.append("webauthn_redirection.enabled is required unless removing the setting with {}")
    if len(params.get("access_endpoints") or []) > 4:
        errors.append("access_endpoints: at most 4 endpoints")
    if len(params.get("embed_host_domains") or []) > 20:
        errors.append("embed_host_domains: at most 20 domains")
    return errors


def argument_spec() -> dict[str, Any]:
    spec = tenant_argument_spec()
    spec.pop("wait")
    spec.pop("wait_timeout")
    spec["known_tags"] = dict(type="dict")
    user_settings = {
        option: dict(type="bool", default=default) for option, (_action, default) in USER_SETTING_ACTIONS.items()
    }
    user_settings.update(
        clipboard_copy_from_local_max_length=dict(type="int"),
        clipboard_copy_to_local_max_length=dict(type="int"),
    )
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        display_name=dict(type="str"),
        description=dict(type="str"),
        user_settings=dict(type="dict", options=user_settings),
        storage_connectors=dict(
            type="list",
            elements="dict",
            options=dict(
                connector_type=dict(type="str", required=True, choices=["HOMEFOLDERS", "GOOGLE_DRIVE", "ONE_DRIVE"]),
                resource_identifier=dict(type="str"),
                domains=dict(type="list", elements="str"),
                domains_require_admin_consent=dict(type="list", elements="str"),
            ),
        ),
        storage_connector_authentication=dict(type="str", choices=["FORCE_REAUTHENTICATION", "REUSE_CREDENTIALS", ""]),
        application_settings=dict(
            type="dict",
            options=dict(enabled=dict(type="bool", required=True), settings_group=dict(type="str")),
        ),
        access_endpoints=dict(
            type="list",
            elements="dict",
            options=dict(
                endpoint_type=dict(type="str", default="STREAMING", choices=["STREAMING"]),
                vpce_id=dict(type="str"),
            ),
        ),
        embed_host_domains=dict(type="list", elements="str"),
        redirect_url=dict(type="str"),
        feedback_url=dict(type="str"),
        streaming_experience_settings=dict(
            type="dict", options=dict(preferred_protocol=dict(type="str", choices=["TCP", "UDP"]))
        ),
        content_redirection=dict(
            type="dict",
            options=dict(
                host_to_client=dict(
                    type="dict",
                    options=dict(
                        enabled=dict(type="bool", required=True),
                        allowed_urls=dict(type="list", elements="str"),
                        denied_urls=dict(type="list", elements="str"),
                    ),
                )
            ),
        ),
        webauthn_redirection=dict(
            type="dict",
            options=dict(enabled=dict(type="bool"), process_compatibility_list=dict(type="list", elements="str")),
        ),
        agent_access_config=dict(
            type="dict",
            options=dict(
                settings=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        action=dict(
                            type="str",
                            required=True,
                            choices=["COMPUTER_VISION", "COMPUTER_INPUT", "FORWARD_MCP_TOOLS"],
                        ),
                        permission=dict(type="str", required=True, choices=["ENABLED", "DISABLED"]),
                    ),
                ),
                s3_bucket_arn=dict(type="str"),
                screenshots_upload_enabled=dict(type="bool"),
                replay_session_enabled=dict(type="bool"),
                kms_key_arn=dict(type="str", no_log=False),
                screen_resolution=dict(type="str", choices=["W_1280xH_720"]),
                screen_image_format=dict(type="str", choices=["PNG", "JPEG"]),
                user_control_mode=dict(type="str", choices=["VIEW_ONLY", "VIEW_STOP", "DISABLED"]),
            ),
        ),
        fleets=dict(type="list", elements="str"),
        purge_fleets=dict(type="bool", default=True),
    )
    return spec


def main() -> None:
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    client = module.client("appstream", retry_decorator=retry_decorator())
    kind = Stack(module, client)
    try:
        run(module, kind, module.params["state"])
    except botocore.exceptions.BotoCoreError as err:
        module.fail_json_aws(err, msg=f"stack {kind.name!r}: AWS could not be reached")


if __name__ == "__main__":
    main()
