"""AppStream resources as the backend keeps them, and their DescribeX shapes.

Settings are kept under their API member names, so that create, update and
AttributesToDelete work on one dict and the describe output is mostly a copy of it.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import ipaddress
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.backends.appstream.constants import GONE, USER_SETTING_DEFAULTS
from sandbox.clock import Lifecycle

ARN_PREFIX = "arn:aws:appstream"


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def arn(region: str, account: str, kind: str, name: str) -> str:
    return f"{ARN_PREFIX}:{region}:{account}:{kind}/{name}"


def digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def compact(document: dict[str, Any]) -> dict[str, Any]:
    """Drop members without a value, as AWS omits them."""
    return {key: value for key, value in document.items() if value is not None}


def eni_for(region: str, name: str, subnet_cidr: str | None) -> dict[str, Any]:
    """A stable ENI id and an address inside the subnet (AWS keeps the first four and the last)."""
    result: dict[str, Any] = {"EniId": "eni-" + digest(region, name)[:17]}
    if subnet_cidr:
        network = ipaddress.ip_network(subnet_cidr, strict=False)
        usable = max(network.num_addresses - 5, 1)
        offset = 4 + int(digest(region, name, subnet_cidr), 16) % usable
        result["EniPrivateIpAddress"] = str(network.network_address + offset)
    return result


@dataclass
class Image:
    name: str
    arn: str
    visibility: str
    platform: str
    lifecycle: Lifecycle
    created: datetime.datetime = field(default_factory=utcnow)
    display_name: str | None = None
    description: str | None = None
    base_image_arn: str | None = None
    builder_name: str | None = None
    agent_version: str | None = None
    latest_agent: bool = True
    released: datetime.datetime | None = None
    builder_supported: bool = True
    applications: list[dict[str, Any]] = field(default_factory=list)
    state_reason: dict[str, str] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    shared_with: dict[str, dict[str, bool]] = field(default_factory=dict)
    permissions: dict[str, bool] | None = None  # for images shared with this account

    @property
    def state(self) -> str:
        return self.lifecycle.state

    def describe(self) -> dict[str, Any]:
        document = {
            "Name": self.name,
            "Arn": self.arn,
            "BaseImageArn": self.base_image_arn,
            "DisplayName": self.display_name,
            "State": self.state,
            "Visibility": self.visibility,
            "ImageBuilderSupported": self.builder_supported,
            "ImageBuilderName": self.builder_name,
            "Platform": self.platform,
            "Description": self.description,
            "StateChangeReason": self.state_reason,
            "Applications": copy.deepcopy(self.applications),
            "CreatedTime": self.created,
            "PublicBaseImageReleasedDate": self.released,
            "AppstreamAgentVersion": self.agent_version,
            "ImagePermissions": self.permissions,
            "ImageErrors": copy.deepcopy(self.errors) or None,
            "LatestAppstreamAgentVersion": "TRUE" if self.latest_agent else "FALSE",
            "DynamicAppProvidersEnabled": "DISABLED",
        }
        if self.visibility == "PRIVATE":
            document["ImageSharedWithOthers"] = "TRUE" if self.shared_with else "FALSE"
        return compact(document)


@dataclass
class ImageBuilder:
    name: str
    arn: str
    settings: dict[str, Any]
    image_arn: str
    platform: str
    lifecycle: Lifecycle
    agent_version: str
    latest_agent: bool
    network: dict[str, Any] | None = None
    created: datetime.datetime = field(default_factory=utcnow)
    state_reason: dict[str, str] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.lifecycle.state

    @property
    def domain_joined(self) -> bool:
        return bool(self.settings.get("DomainJoinInfo"))

    def describe(self) -> dict[str, Any]:
        kept = {k: copy.deepcopy(v) for k, v in self.settings.items() if k not in ("ImageName", "ImageArn")}
        return compact(
            {
                "Name": self.name,
                "Arn": self.arn,
                "ImageArn": self.image_arn,
                **kept,
                "Platform": self.platform,
                "State": self.state,
                "StateChangeReason": self.state_reason,
                "CreatedTime": self.created,
                "NetworkAccessConfiguration": copy.deepcopy(self.network),
                "ImageBuilderErrors": copy.deepcopy(self.errors),
                "AppstreamAgentVersion": self.agent_version,
                "LatestAppstreamAgentVersion": "TRUE" if self.latest_agent else "FALSE",
            }
        )


@dataclass
class Fleet:
    name: str
    arn: str
    settings: dict[str, Any]
    lifecycle: Lifecycle
    created: datetime.datetime = field(default_factory=utcnow)
    errors: list[dict[str, str]] = field(default_factory=list)
    fail_next_start: list[dict[str, str]] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.lifecycle.state

    @property
    def fleet_type(self) -> str:
        return self.settings["FleetType"]

    @property
    def domain_joined(self) -> bool:
        return bool(self.settings.get("DomainJoinInfo"))

    def capacity_status(self, active_sessions: int) -> dict[str, int]:
        state = self.state
        if self.fleet_type == "ELASTIC":
            return {"Desired": 0, "Running": active_sessions, "InUse": active_sessions, "Available": 0}
        capacity = self.settings.get("ComputeCapacity") or {}
        per_instance = self.settings.get("MaxSessionsPerInstance")
        if not per_instance:
            desired = capacity.get("DesiredInstances", 0)
            running = desired if state == "RUNNING" else 0
            in_use = min(active_sessions, running)
            return {"Desired": desired, "Running": running, "InUse": in_use, "Available": running - in_use}
        desired_sessions = capacity.get("DesiredSessions", 0)
        desired = math.ceil(desired_sessions / per_instance)
        running = desired if state == "RUNNING" else 0
        slots = running * per_instance
        active = min(active_sessions, slots)
        in_use = math.ceil(active / per_instance)
        return {
            "Desired": desired,
            "Running": running,
            "InUse": in_use,
            "Available": running - in_use,
            "DesiredUserSessions": desired_sessions,
            "AvailableUserSessions": slots - active,
            "ActiveUserSessions": active,
            "ActualUserSessions": slots,
            "Draining": 0,
            "DrainModeActiveUserSessions": 0,
            "DrainModeUnusedUserSessions": 0,
        }

    def describe(self, active_sessions: int = 0) -> dict[str, Any]:
        kept = {k: copy.deepcopy(v) for k, v in self.settings.items() if k != "ComputeCapacity"}
        return compact(
            {
                "Arn": self.arn,
                "Name": self.name,
                **kept,
                "ComputeCapacityStatus": self.capacity_status(active_sessions),
                "State": self.state,
                "CreatedTime": self.created,
                "FleetErrors": copy.deepcopy(self.errors),
            }
        )


@dataclass
class Stack:
    name: str
    arn: str
    settings: dict[str, Any]
    settings_bucket: str
    created: datetime.datetime = field(default_factory=utcnow)
    tags: dict[str, str] = field(default_factory=dict)

    def user_settings(self) -> list[dict[str, Any]]:
        """Every action AWS reports: the stack's own settings over the defaults."""
        merged: dict[str, dict[str, Any]] = {
            action: {"Action": action, "Permission": permission} for action, permission in USER_SETTING_DEFAULTS.items()
        }
        for setting in self.settings.get("UserSettings") or []:
            merged[setting["Action"]] = copy.deepcopy(setting)
        return list(merged.values())

    def application_settings(self) -> dict[str, Any]:
        chosen = self.settings.get("ApplicationSettings") or {"Enabled": False}
        result = copy.deepcopy(chosen)
        if result.get("Enabled"):
            result["S3BucketName"] = self.settings_bucket
        return result

    def describe(self) -> dict[str, Any]:
        kept = {
            k: copy.deepcopy(v) for k, v in self.settings.items() if k not in ("UserSettings", "ApplicationSettings")
        }
        return compact(
            {
                "Arn": self.arn,
                "Name": self.name,
                **kept,
                "CreatedTime": self.created,
                "StackErrors": [],
                "UserSettings": self.user_settings(),
                "ApplicationSettings": self.application_settings(),
            }
        )


@dataclass
class DirectoryConfig:
    name: str
    ous: list[str]
    account_name: str | None
    password: str | None
    certificate_auth: dict[str, Any] | None
    created: datetime.datetime = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        # AWS never returns the service account password, although the shape has a member for it.
        credentials = {"AccountName": self.account_name} if self.account_name else None
        return compact(
            {
                "DirectoryName": self.name,
                "OrganizationalUnitDistinguishedNames": list(self.ous),
                "ServiceAccountCredentials": credentials,
                "CreatedTime": self.created,
                "CertificateBasedAuthProperties": copy.deepcopy(self.certificate_auth),
            }
        )


@dataclass
class User:
    name: str
    authentication_type: str
    arn: str
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool = True
    status: str = "FORCE_CHANGE_PASSWORD"
    created: datetime.datetime = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        return compact(
            {
                "Arn": self.arn,
                "UserName": self.name,
                "Enabled": self.enabled,
                "Status": self.status,
                "FirstName": self.first_name,
                "LastName": self.last_name,
                "CreatedTime": self.created,
                "AuthenticationType": self.authentication_type,
            }
        )


@dataclass
class Session:
    id: str
    user_id: str
    stack: str
    fleet: str
    authentication_type: str
    instance_id: str
    start: datetime.datetime
    max_expiration: datetime.datetime
    network: dict[str, Any] | None = None
    # What the usage reports tell of it: the applications launched (in order), the client's address.
    applications: list[str] = field(default_factory=list)
    client_ip: str = "198.51.100.10"

    def describe(self) -> dict[str, Any]:
        return compact(
            {
                "Id": self.id,
                "UserId": self.user_id,
                "StackName": self.stack,
                "FleetName": self.fleet,
                "State": "ACTIVE",
                "ConnectionState": "CONNECTED",
                "StartTime": self.start,
                "MaxExpirationTime": self.max_expiration,
                "AuthenticationType": self.authentication_type,
                "NetworkAccessConfiguration": copy.deepcopy(self.network),
                "InstanceId": self.instance_id,
                "InstanceDrainStatus": "NOT_APPLICABLE",
            }
        )


R = TypeVar("R")


@dataclass
class RegionState:
    """Every AppStream resource of one account in one region."""

    region: str
    images: dict[str, Image] = field(default_factory=dict)
    builders: dict[str, ImageBuilder] = field(default_factory=dict)
    fleets: dict[str, Fleet] = field(default_factory=dict)
    stacks: dict[str, Stack] = field(default_factory=dict)
    directory_configs: dict[str, DirectoryConfig] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    # (stack, user name, authentication type) -> SendEmailNotification
    user_stacks: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    fleet_stacks: list[tuple[str, str]] = field(default_factory=list)  # (fleet, stack), in association order
    sessions: dict[str, Session] = field(default_factory=dict)
    # Usage reports (backends/appstream/usage.py): the account-and-region subscription, the records of the
    # sessions that ended (sessions report row, applications launched) by report day, the days written.
    usage_subscription: dict[str, Any] | None = None
    ended_sessions: dict[datetime.date, list[tuple[dict[str, Any], list[str]]]] = field(default_factory=dict)
    reports_written: set[datetime.date] = field(default_factory=set)
    # Session requests refused for lack of capacity since the fleet's metrics were last published.
    refused_sessions: dict[str, int] = field(default_factory=dict)

    def live_images(self) -> dict[str, Image]:
        return _purge(self.images)

    def live_builders(self) -> dict[str, ImageBuilder]:
        return _purge(self.builders)

    def stacks_of(self, fleet: str) -> list[str]:
        return [s for f, s in self.fleet_stacks if f == fleet]

    def fleets_of(self, stack: str) -> list[str]:
        return [f for f, s in self.fleet_stacks if s == stack]

    def sessions_of(self, fleet: str) -> Iterator[Session]:
        return (s for s in self.sessions.values() if s.fleet == fleet)


def _purge(collection: dict[str, R]) -> dict[str, R]:
    """Forget resources whose deletion has completed; return the rest."""
    for name in [n for n, r in collection.items() if r.lifecycle.state == GONE]:  # type: ignore[attr-defined]
        del collection[name]
    return collection
