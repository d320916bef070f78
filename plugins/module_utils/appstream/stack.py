# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream stacks: user settings, storage connectors, application settings, access endpoints and the
other stack fields in their option and API shapes, the update requests and AttributesToDelete, and the
stack's fleet associations.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import REMOVE

# option name -> (API action, secure default). The AppStream API enables every action that a
# stack does not set; the toolkit always sends all of them, so an unset option means the
# secure default below, never the API's "enabled".
USER_SETTING_ACTIONS: dict[str, tuple[str, bool]] = {
    # Pasting into the session is how users bring parameters and notes in: allowed.
    "clipboard_copy_from_local": ("CLIPBOARD_COPY_FROM_LOCAL_DEVICE", True),
    # Copying out of the session is a data exfiltration path: refused.
    "clipboard_copy_to_local": ("CLIPBOARD_COPY_TO_LOCAL_DEVICE", False),
    # Users upload their acquisitions into the session: allowed.
    "file_upload": ("FILE_UPLOAD", True),
    # Results stay in the tenant's storage: refused.
    "file_download": ("FILE_DOWNLOAD", False),
    # Printing to a local printer is another way out: refused.
    "printing": ("PRINTING_TO_LOCAL_DEVICE", False),
    # SAML users of domain-joined fleets type their domain password at session start unless
    # certificate-based authentication is configured: allowed, or they cannot sign in.
    "domain_password_signin": ("DOMAIN_PASSWORD_SIGNIN", True),
    # No smart-card infrastructure in the tenant design: refused.
    "domain_smart_card_signin": ("DOMAIN_SMART_CARD_SIGNIN", False),
    # The session clock follows the user's device; nothing leaves the session: allowed.
    "auto_time_zone_redirection": ("AUTO_TIME_ZONE_REDIRECTION", True),
    # Local smart-card readers inside the session are not needed: refused.
    "smart_card_redirection": ("SMART_CARD_REDIRECTION", False),
}


#: clipboard option -> its maximum-length option (the model accepts MaximumLength on these only)
CLIPBOARD_MAX_LENGTH_OPTIONS: dict[str, str] = {
    "clipboard_copy_from_local": "clipboard_copy_from_local_max_length",
    "clipboard_copy_to_local": "clipboard_copy_to_local_max_length",
}


#: UserSetting.MaximumLength: 1 to 20,971,520 (20 MB), the default when the action is enabled
CLIPBOARD_MAX_LENGTH = 20_971_520
API_DEFAULT_PERMISSION = "ENABLED"


def user_settings_wanted(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The user settings the module enforces: given options over the secure defaults.

    The result is the comparable form: one boolean per action and, for enabled clipboard
    actions, the effective maximum length.
    """
    options = options or {}
    wanted: dict[str, Any] = {}
    for option, (_action, default) in USER_SETTING_ACTIONS.items():
        value = options.get(option)
        wanted[option] = default if value is None else bool(value)
    for option, length_option in CLIPBOARD_MAX_LENGTH_OPTIONS.items():
        if wanted[option]:
            wanted[length_option] = options.get(length_option) or CLIPBOARD_MAX_LENGTH
    return wanted


def user_settings_check(options: Mapping[str, Any] | None) -> list[str]:
    """Errors in the user settings options (the API refuses a length on a disabled action)."""
    errors = []
    options = options or {}
    wanted = user_settings_wanted(options)
    for option, length_option in CLIPBOARD_MAX_LENGTH_OPTIONS.items():
        length = options.get(length_option)
        if length is None:
            continue
        if not wanted[option]:
            errors.append(f"user_settings.{length_option} is only allowed when user_settings.{option} is true")
        elif not 1 <= length <= CLIPBOARD_MAX_LENGTH:
            errors.append(f"user_settings.{length_option}: {length} is not between 1 and {CLIPBOARD_MAX_LENGTH}")
    return errors


def user_settings_request(wanted: Mapping[str, Any]) -> list[dict[str, Any]]:
    """UserSettings for CreateStack/UpdateStack: every action of the model, explicitly."""
    request = []
    for option, (action, _default) in USER_SETTING_ACTIONS.items():
        enabled = bool(wanted[option])
        setting: dict[str, Any] = {"Action": action, "Permission": "ENABLED" if enabled else "DISABLED"}
        length_option = CLIPBOARD_MAX_LENGTH_OPTIONS.get(option)
        if length_option and enabled:
            setting["MaximumLength"] = int(wanted.get(length_option) or CLIPBOARD_MAX_LENGTH)
        request.append(setting)
    return request


def user_settings_view(settings: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The comparable form of a stack's UserSettings; an action the stack omits is the API's ENABLED."""
    by_action = {s["Action"]: s for s in settings or []}
    view: dict[str, Any] = {}
    for option, (action, _default) in USER_SETTING_ACTIONS.items():
        setting = by_action.get(action, {})
        view[option] = setting.get("Permission", API_DEFAULT_PERMISSION) == "ENABLED"
        length_option = CLIPBOARD_MAX_LENGTH_OPTIONS.get(option)
        if length_option and view[option]:
            view[length_option] = setting.get("MaximumLength") or CLIPBOARD_MAX_LENGTH
    return view


CONNECTOR_FIELDS = {
    "resource_identifier": "ResourceIdentifier",
    "domains": "Domains",
    "domains_require_admin_consent": "DomainsRequireAdminConsent",
}


def connectors_wanted(connectors: list[Mapping[str, Any]] | None) -> Any:
    """Comparable storage connectors: None leaves them alone, [] removes them all."""
    if connectors is None:
        return None
    if not connectors:
        return REMOVE
    wanted = []
    for connector in connectors:
        item = {"connector_type": connector["connector_type"]}
        for option in CONNECTOR_FIELDS:
            if connector.get(option) is not None:
                item[option] = list(connector[option]) if option != "resource_identifier" else connector[option]
        wanted.append(item)
    return sorted(wanted, key=lambda c: c["connector_type"])


def connectors_view(connectors: Iterable[Mapping[str, Any]] | None, wanted: Any = None) -> list[dict[str, Any]] | None:
    """Comparable form of a stack's connectors.

    A field the request leaves unset is not compared (AWS fills in, for example, the home
    folders bucket), so it is dropped from the view of a connector the request also names.
    """
    if not connectors:
        return None
    requested = {c["connector_type"]: c for c in wanted} if isinstance(wanted, list) else {}
    view = []
    for connector in connectors:
        item: dict[str, Any] = {"connector_type": connector["ConnectorType"]}
        for option, member in CONNECTOR_FIELDS.items():
            if connector.get(member) not in (None, []):
                item[option] = copy.deepcopy(connector[member])
        if item["connector_type"] in requested:
            asked = requested[item["connector_type"]]
            item = {k: v for k, v in item.items() if k == "connector_type" or k in asked}
        view.append(item)
    return sorted(view, key=lambda c: c["connector_type"])


def connectors_request(wanted: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    request = []
    for connector in wanted:
        item: dict[str, Any] = {"ConnectorType": connector["connector_type"]}
        for option, member in CONNECTOR_FIELDS.items():
            if connector.get(option) is not None:
                item[member] = copy.deepcopy(connector[option])
        request.append(item)
    return request


# comparable field -> (request member, AttributesToDelete value or None when it cannot be removed)
STACK_FIELDS: dict[str, tuple[str, str | None]] = {
    "display_name": ("DisplayName", None),
    "description": ("Description", None),
    "user_settings": ("UserSettings", "USER_SETTINGS"),
    "storage_connectors": ("StorageConnectors", "STORAGE_CONNECTORS"),
    "storage_connector_authentication": ("StorageConnectorAuthentication", "STORAGE_CONNECTOR_AUTHENTICATION"),
    "application_settings": ("ApplicationSettings", None),
    "access_endpoints": ("AccessEndpoints", "ACCESS_ENDPOINTS"),
    "embed_host_domains": ("EmbedHostDomains", "EMBED_HOST_DOMAINS"),
    "redirect_url": ("RedirectURL", "REDIRECT_URL"),
    "feedback_url": ("FeedbackURL", "FEEDBACK_URL"),
    "streaming_experience_settings": ("StreamingExperienceSettings", "STREAMING_EXPERIENCE_SETTINGS"),
    "content_redirection": ("ContentRedirection", "CONTENT_REDIRECTION"),
    "webauthn_redirection": ("WebAuthnRedirection", "WEB_AUTHN_REDIRECTION"),
    "agent_access_config": ("AgentAccessConfig", "AGENT_ACCESS_CONFIG"),
}


# Nested option names <-> API members of the structured settings.
_NESTED: dict[str, dict[str, str]] = {
    "application_settings": {"enabled": "Enabled", "settings_group": "SettingsGroup"},
    "streaming_experience_settings": {"preferred_protocol": "PreferredProtocol"},
    "webauthn_redirection": {"enabled": "Enabled", "process_compatibility_list": "ProcessCompatibilityList"},
    "agent_access_config": {
        "settings": "Settings",
        "s3_bucket_arn": "S3BucketArn",
        "screenshots_upload_enabled": "ScreenshotsUploadEnabled",
        "replay_session_enabled": "ReplaySessionEnabled",
        "kms_key_arn": "KmsKeyArn",
        "screen_resolution": "ScreenResolution",
        "screen_image_format": "ScreenImageFormat",
        "user_control_mode": "UserControlMode",
    },
}


_URL_REDIRECTION = {"enabled": "Enabled", "allowed_urls": "AllowedUrls", "denied_urls": "DeniedUrls"}
_AGENT_SETTING = {"action": "AgentAction", "permission": "Permission"}


def _compact(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _to_api(mapping: Mapping[str, str], value: Mapping[str, Any]) -> dict[str, Any]:
    return {mapping[k]: copy.deepcopy(v) for k, v in value.items() if v is not None and k in mapping}


def _from_api(mapping: Mapping[str, str], value: Mapping[str, Any] | None) -> dict[str, Any]:
    reverse = {member: option for option, member in mapping.items()}
    return {reverse[k]: copy.deepcopy(v) for k, v in (value or {}).items() if k in reverse and v is not None}


def _structured_wanted(value: Mapping[str, Any] | None) -> Any:
    """A dict option: None leaves it alone, a dict with nothing set ({}) removes it."""
    if value is None:
        return None
    compact = _compact(value)
    return compact or REMOVE


def _text_wanted(value: str | None) -> Any:
    """A text option: None leaves it alone, "" removes it."""
    if value is None:
        return None
    return value if value != "" else REMOVE


def _list_wanted(value: list[Any] | None) -> Any:
    if value is None:
        return None
    return list(value) if value else REMOVE


def _agent_config_wanted(value: Mapping[str, Any] | None) -> Any:
    wanted = _structured_wanted(value)
    if isinstance(wanted, dict) and wanted.get("settings") is not None:
        wanted["settings"] = sorted((_compact(s) for s in wanted["settings"]), key=lambda s: s["action"])
    return wanted


def _content_redirection_wanted(value: Mapping[str, Any] | None) -> Any:
    wanted = _structured_wanted(value)
    if isinstance(wanted, dict) and wanted.get("host_to_client") is not None:
        wanted["host_to_client"] = _compact(wanted["host_to_client"])
    return wanted


def _application_settings_wanted(value: Mapping[str, Any] | None) -> Any:
    if value is None or value.get("enabled") is None:
        return None
    wanted = {"enabled": bool(value["enabled"])}
    if value.get("settings_group") is not None:
        wanted["settings_group"] = value["settings_group"]
    return wanted


def _endpoints_wanted(value: list[Mapping[str, Any]] | None) -> Any:
    wanted = _list_wanted(value)
    if isinstance(wanted, list):
        wanted = sorted(
            (
                _compact({"endpoint_type": e.get("endpoint_type") or "STREAMING", "vpce_id": e.get("vpce_id")})
                for e in wanted
            ),
            key=lambda e: (e["endpoint_type"], e.get("vpce_id") or ""),
        )
    return wanted


def stack_wanted(params: Mapping[str, Any]) -> dict[str, Any]:
    """Comparable stack settings requested by the module options (None: leave as is; REMOVE: delete)."""
    return {
        "display_name": params.get("display_name"),
        "description": params.get("description"),
        "user_settings": user_settings_wanted(params.get("user_settings")),
        "storage_connectors": connectors_wanted(params.get("storage_connectors")),
        "storage_connector_authentication": _text_wanted(params.get("storage_connector_authentication")),
        "application_settings": _application_settings_wanted(params.get("application_settings")),
        "access_endpoints": _endpoints_wanted(params.get("access_endpoints")),
        "embed_host_domains": _list_wanted(params.get("embed_host_domains")),
        "redirect_url": _text_wanted(params.get("redirect_url")),
        "feedback_url": _text_wanted(params.get("feedback_url")),
        "streaming_experience_settings": _structured_wanted(params.get("streaming_experience_settings")),
        "content_redirection": _content_redirection_wanted(params.get("content_redirection")),
        "webauthn_redirection": _structured_wanted(params.get("webauthn_redirection")),
        "agent_access_config": _agent_config_wanted(params.get("agent_access_config")),
    }


def stack_view(stack: Mapping[str, Any], wanted: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The comparable settings of a described stack (DescribeStacks), in the options' names.

    Members AWS fills in by itself (the persistence bucket, connector resource identifiers the
    request left unset, the settings group of a stack that names none) are left out of the
    comparison so a second run does not see drift.
    """
    wanted = wanted or {}
    application = stack.get("ApplicationSettings") or {}
    application_view: dict[str, Any] | None = {"enabled": bool(application.get("Enabled"))}
    asked_application = wanted.get("application_settings")
    if application.get("SettingsGroup") and (
        not isinstance(asked_application, dict) or "settings_group" in asked_application
    ):
        application_view["settings_group"] = application["SettingsGroup"]
    endpoints = [
        _compact({"endpoint_type": e.get("EndpointType"), "vpce_id": e.get("VpceId")})
        for e in stack.get("AccessEndpoints") or []
    ]
    content = stack.get("ContentRedirection")
    content_view = None
    if content:
        content_view = {"host_to_client": _from_api(_URL_REDIRECTION, content.get("HostToClient"))}
        content_view = {k: v for k, v in content_view.items() if v}
    agent = stack.get("AgentAccessConfig")
    agent_view = None
    if agent:
        agent_view = _from_api(_NESTED["agent_access_config"], agent)
        if "settings" in agent_view:
            agent_view["settings"] = sorted(
                (_from_api(_AGENT_SETTING, s) for s in agent_view["settings"]), key=lambda s: s["action"]
            )
        asked = wanted.get("agent_access_config")
        if isinstance(asked, dict):
            # UpdateStack merges AgentAccessConfig: members the request leaves unset are kept, so
            # they are not compared; kms_key_arn "" asks for the key's removal.
            agent_view = {k: v for k, v in agent_view.items() if k in asked}
            if asked.get("kms_key_arn") == "" and "kms_key_arn" not in agent_view:
                agent_view["kms_key_arn"] = ""
    return {
        "display_name": stack.get("DisplayName"),
        "description": stack.get("Description"),
        "user_settings": user_settings_view(stack.get("UserSettings")),
        "storage_connectors": connectors_view(stack.get("StorageConnectors"), wanted.get("storage_connectors")),
        "storage_connector_authentication": stack.get("StorageConnectorAuthentication"),
        "application_settings": application_view,
        "access_endpoints": sorted(endpoints, key=lambda e: (e["endpoint_type"], e.get("vpce_id") or "")) or None,
        "embed_host_domains": list(stack.get("EmbedHostDomains") or []) or None,
        "redirect_url": stack.get("RedirectURL") or None,
        "feedback_url": stack.get("FeedbackURL") or None,
        "streaming_experience_settings": _from_api(
            _NESTED["streaming_experience_settings"], stack.get("StreamingExperienceSettings")
        )
        or None,
        "content_redirection": content_view or None,
        "webauthn_redirection": _from_api(_NESTED["webauthn_redirection"], stack.get("WebAuthnRedirection")) or None,
        "agent_access_config": agent_view or None,
    }


def member_value(name: str, value: Any) -> Any:
    """A comparable value turned into its CreateStack/UpdateStack member."""
    if name == "user_settings":
        return user_settings_request(value)
    if name == "storage_connectors":
        return connectors_request(value)
    if name == "access_endpoints":
        return [
            {"EndpointType": e["endpoint_type"], **({"VpceId": e["vpce_id"]} if "vpce_id" in e else {})} for e in value
        ]
    if name == "content_redirection":
        request = {}
        if value.get("host_to_client") is not None:
            request["HostToClient"] = _to_api(_URL_REDIRECTION, value["host_to_client"])
        return request
    if name == "agent_access_config":
        request = _to_api(_NESTED["agent_access_config"], {k: v for k, v in value.items() if v != ""})
        if "Settings" in request:
            request["Settings"] = [_to_api(_AGENT_SETTING, s) for s in request["Settings"]]
        return request
    if name in _NESTED:
        return _to_api(_NESTED[name], value)
    return copy.deepcopy(value)


def create_stack_request(name: str, wanted: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    request: dict[str, Any] = {"Name": name}
    for field_name, (member, _attribute_to_delete) in STACK_FIELDS.items():
        value = wanted.get(field_name)
        if value is None or value == REMOVE:
            continue
        request[member] = member_value(field_name, value)
    if tags:
        request["Tags"] = dict(tags)
    return request


def update_stack_requests(name: str, changes: Mapping[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """UpdateStack requests that apply `changes` (field -> (before, after)); usually one.

    A removed setting goes to AttributesToDelete. When some storage connector types go away
    while others are set, the removal is sent first on its own: the API refuses a member that
    one request both sets and deletes, and it keeps connector types a request does not name.
    """
    main: dict[str, Any] = {"Name": name}
    to_delete: list[str] = []
    connector_removal: list[str] = []
    for field_name, (before, after) in changes.items():
        if field_name not in STACK_FIELDS:
            continue
        member, attribute = STACK_FIELDS[field_name]
        if after == REMOVE:
            if attribute is None:
                raise ValueError(f"{field_name} cannot be removed, only changed")
            to_delete.append(attribute)
            continue
        main[member] = member_value(field_name, after)
        if field_name == "agent_access_config" and after.get("kms_key_arn") == "":
            to_delete.append("AGENT_ACCESS_CONFIG_KMS_KEY_ARN")
        if field_name == "storage_connectors":
            kept = {c["connector_type"] for c in after}
            gone = sorted({c["connector_type"] for c in before or []} - kept)
            connector_removal = [f"STORAGE_CONNECTOR_{t}" for t in gone]
    requests = []
    if connector_removal:
        requests.append({"Name": name, "AttributesToDelete": connector_removal})
    if to_delete:
        main["AttributesToDelete"] = sorted(to_delete)
    if len(main) > 1:
        requests.append(main)
    return requests


def removable(field_name: str) -> bool:
    return STACK_FIELDS.get(field_name, ("", None))[1] is not None


def attributes_to_delete(changes: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """The AttributesToDelete values that `changes` need (for plans and tests)."""
    names = []
    for request in update_stack_requests("x", changes):
        names.extend(request.get("AttributesToDelete", []))
    return sorted(set(names))


def fleets_wanted(requested: list[str] | None, current: Iterable[str], purge: bool) -> list[str] | None:
    if requested is None:
        return None
    if purge:
        return sorted(set(requested))
    return sorted(set(requested) | set(current))


def fleet_changes(current: Iterable[str], wanted: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """(fleets to associate, fleets to disassociate)."""
    if wanted is None:
        return [], []
    current, wanted = set(current), set(wanted)
    return sorted(wanted - current), sorted(current - wanted)
