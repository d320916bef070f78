"""Stacks: create, describe, update (every member and AttributesToDelete), delete."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.constants import STACK_ATTRIBUTES, STACK_REQUEST_ONLY
from sandbox.backends.appstream.resources import Stack, arn, digest
from sandbox.backends.appstream.rules import check_tag_keys, delete_conflicts, merged_tags
from sandbox.errors import already_exists, in_use, invalid_combination
from sandbox.jsonproto import Context


def check_stack_settings(settings: dict[str, Any]) -> None:
    connectors = [c["ConnectorType"] for c in settings.get("StorageConnectors") or []]
    duplicated = sorted({c for c in connectors if connectors.count(c) > 1})
    if duplicated:
        raise invalid_combination(f"Storage connector type(s) {', '.join(duplicated)} given more than once.")
    for connector in settings.get("StorageConnectors") or []:
        if connector.get("DomainsRequireAdminConsent") and connector["ConnectorType"] != "ONE_DRIVE":
            raise invalid_combination("DomainsRequireAdminConsent only applies to ONE_DRIVE connectors.")
    actions = [s["Action"] for s in settings.get("UserSettings") or []]
    if len(actions) != len(set(actions)):
        raise invalid_combination("Each UserSettings action can be given once.")


def delete_stack_attributes(settings: dict[str, Any], attributes: list[str]) -> None:
    for attribute in attributes:
        member, key, connector_type = STACK_ATTRIBUTES[attribute]
        if not member:
            continue
        if connector_type:
            kept = [c for c in settings.get(member) or [] if c["ConnectorType"] != connector_type]
            settings[member] = kept
            if not kept:
                settings.pop(member)
        elif key:
            if isinstance(settings.get(member), dict):
                settings[member].pop(key, None)
        else:
            settings.pop(member, None)


class StacksMixin(AppStreamBase):
    def create_stack(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        name = params["Name"]
        if name in rs.stacks:
            raise already_exists(f"Stack {name} already exists.")
        settings = {k: copy.deepcopy(v) for k, v in params.items() if k not in STACK_REQUEST_ONLY}
        check_stack_settings(settings)
        tags = params.get("Tags") or {}
        check_tag_keys(tags)
        bucket = f"appstream-app-settings-{ctx.region}-{ctx.account_id}-{digest(ctx.region, ctx.account_id)[:8]}"
        stack = Stack(
            name=name,
            arn=arn(ctx.region, ctx.account_id, "stack", name),
            settings=settings,
            settings_bucket=bucket,
            tags=merged_tags({}, tags),
        )
        rs.stacks[name] = stack
        return {"Stack": self.shaped("Stack", stack.describe())}

    def describe_stacks(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        names = params.get("Names")
        stacks = [self.stack(rs, n) for n in names] if names else list(rs.stacks.values())
        page, token = self.page("DescribeStacks", stacks, params)
        return self.with_token({"Stacks": [self.shaped("Stack", s.describe()) for s in page]}, token)

    def update_stack(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        stack = self.stack(rs, params["Name"])
        deleting = list(params.get("AttributesToDelete") or [])
        if params.get("DeleteStorageConnectors"):
            deleting.append("STORAGE_CONNECTORS")
        conflicts = delete_conflicts(params, [STACK_ATTRIBUTES[a][0] for a in deleting if not STACK_ATTRIBUTES[a][1]])
        if conflicts:
            raise invalid_combination(f"{', '.join(conflicts)} cannot be set and deleted in one request.")
        settings = copy.deepcopy(stack.settings)
        delete_stack_attributes(settings, deleting)
        for member, value in params.items():
            if member in STACK_REQUEST_ONLY or value is None:
                continue
            if member == "UserSettings":
                settings[member] = self.merged_user_settings(settings.get(member) or [], value)
            elif member == "AgentAccessConfig" and isinstance(settings.get(member), dict):
                settings[member] = {**settings[member], **copy.deepcopy(value)}
            else:
                settings[member] = copy.deepcopy(value)
        check_stack_settings(settings)
        stack.settings = settings
        return {"Stack": self.shaped("Stack", stack.describe())}

    @staticmethod
    def merged_user_settings(current: list[dict[str, Any]], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """UpdateStack changes the actions it names and keeps the others."""
        merged = {setting["Action"]: setting for setting in copy.deepcopy(current)}
        for setting in changes:
            merged[setting["Action"]] = copy.deepcopy(setting)
        return list(merged.values())

    def delete_stack(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        stack = self.stack(rs, params["Name"])
        fleets = rs.fleets_of(stack.name)
        if fleets:
            raise in_use(
                f"Cannot delete stack {stack.name}. This stack has fleets associated with it. Only stacks with no "
                "fleets associated with it can be deleted."
            )
        del rs.stacks[stack.name]
        for key in [k for k in rs.user_stacks if k[0] == stack.name]:
            del rs.user_stacks[key]
        return {}
