"""AWS Directory Service, Managed Microsoft AD only, as the sandbox models it.

A directory moves Requested -> Creating -> Active over (scaled) time, gets two domain
controllers in the two subnets of its VPC (network interfaces and a `<id>_controllers`
security group created in moto's EC2, like AWS does), and leaves them behind when it is
deleted. Passwords are never stored in clear, never logged and never returned: the
backend keeps a salted hash per user so tests can prove a reset happened through the
`check-password` admin hook.

Seams for later work:
- `DirectoryService.dc_provider`: an object implementing `DomainControllerProvider`
  (e.g. a Samba AD DC launcher). When set, it is asked to provision a real domain
  controller when a directory becomes Active; the addresses it returns replace
  DnsIpAddrs. It also receives password resets and is told to destroy the DC when the
  directory is gone. Default None: directories are pure bookkeeping.
- `DirectoryService.add_dependent_check(fn)`: other backends (FSx) register a function
  naming the resources that still use a directory; DeleteDirectory refuses while any do,
  as AWS refuses to delete a directory with authorized applications.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox import moto_state
from sandbox.clock import Lifecycle, SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService, paginate

# Modelled AWS durations, in real AWS seconds (the sandbox multiplies them by its time scale).
DURATIONS: dict[str, float] = {
    "directory_requested": 60,  # Requested -> Creating
    "directory_creating": 24 * 60,  # Creating -> Active (25 minutes in all)
    "directory_deleting": 10 * 60,  # Deleting -> gone
    "controller_creating": 20 * 60,  # an added domain controller: Creating -> Active
    "controller_deleting": 10 * 60,  # a removed domain controller: Deleting -> gone
}

DEFAULT_DIRECTORY_LIMIT = 20  # Managed Microsoft AD directories per region (AWS default quota)
MAX_DOMAIN_CONTROLLERS = 20
MAX_TAGS = 50
NETBIOS_MAX = 15
GONE = "Deleted"  # internal terminal stage: the resource is dropped the next time it is read
_PBKDF2_ROUNDS = 20_000
_COMPLEXITY_CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9\s]")


# -- seams ------------------------------------------------------------------------------------
class ProvisioningError(Exception):
    """Raised by a DomainControllerProvider when a DC cannot be provisioned: the directory goes Failed."""


class DomainControllerProvider(Protocol):
    """Backs a directory with a real domain controller (for example a Samba AD DC).

    The backend calls these with its lock held, on the request thread that first observes
    the transition, so `provision` should be quick or hand the slow part to a thread.
    """

    def provision(self, directory: Directory, admin_password: str) -> list[str]:
        """Start a DC for `directory` (name, short_name, ...); return its DNS/DC addresses."""
        ...

    def set_password(self, directory: Directory, user: str, password: str) -> None:
        """Apply a ResetUserPassword; raise AwsError("UserDoesNotExistException", ...) for unknown users."""
        ...

    def destroy(self, directory: Directory) -> None:
        """Stop and remove the DC of a deleted directory."""
        ...


DependentCheck = Callable[[str, str], list[str]]  # (region, directory id) -> ids of resources using it


# -- lifecycle with timestamps ----------------------------------------------------------------------
@dataclass
class StampedLifecycle(Lifecycle):
    """A Lifecycle that also knows when its current state was entered (StageLastUpdatedDateTime)."""

    entered_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.entered_at = self.clock.now()

    def set(self, state: str) -> None:
        with self._lock:
            super().set(state)
            self.entered_at = self.clock.now()

    def go(self, now_state: str, *steps: tuple[Any, ...]) -> None:
        with self._lock:
            start = self.clock.now()
            due = start
            stamped = []
            for step in steps:
                due += step[0] * self.clock.time_scale
                stamped.append((step[0], step[1], self._stamper(due, step[2] if len(step) > 2 else None)))
            super().go(now_state, *stamped)
            self.entered_at = start

    def _stamper(self, due: float, callback: Callable[[], None] | None) -> Callable[[], None]:
        def enter() -> None:
            self.entered_at = due
            if callback is not None:
                callback()

        return enter


# -- EC2 side effects shared with the FSx backend ------------------------------------------------------
def pick_address(region: str, subnet_id: str, seed: str) -> str:
    """A free address of the subnet, chosen deterministically from `seed` (AWS reserves .0-.3 and the last)."""
    subnet = moto_state.subnet(region, subnet_id)
    network = ipaddress.ip_network(subnet.cidr_block, strict=False)
    used = {
        eni.private_ip_address
        for eni in list(moto_state.ec2(region).enis.values())
        if getattr(eni.subnet, "id", None) == subnet_id
    }
    span = network.num_addresses - 5
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % span
    for probe in range(span):
        candidate = str(network.network_address + 4 + (start + probe) % span)
        if candidate not in used:
            return candidate
    raise AwsError("InsufficientFreeAddressesInSubnet", f"No free address left in subnet {subnet_id}")


def create_service_interface(
    region: str, subnet_id: str, group_ids: list[str], description: str, seed: str
) -> tuple[str, str]:
    """Create the requester-managed ENI an AWS service puts in a customer subnet; return (id, address)."""
    address = pick_address(region, subnet_id, seed)
    eni = moto_state.ec2(region).create_network_interface(
        subnet=subnet_id, private_ip_address=address, group_ids=group_ids, description=description
    )
    eni.requester_managed = True
    return eni.id, address


def delete_interfaces(region: str, eni_ids: list[str]) -> None:
    from moto.core.exceptions import ServiceException

    for eni_id in eni_ids:
        with contextlib.suppress(ServiceException):  # already gone: someone cleaned the VPC by hand
            moto_state.ec2(region).delete_network_interface(eni_id)


# -- pagination ------------------------------------------------------------------------------------
def cursor_page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], token: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """One page of `items` in `sort_key` order, resuming after the cursor carried by `token`.

    Unlike an offset, the cursor stays right when resources appear or disappear between
    pages (directories finishing their deletion, say). Raises ValueError for a bad token.
    """
    ordered = sorted(items, key=sort_key)
    if token:
        try:
            stamp, identifier = json.loads(base64.b64decode(token, validate=True))
            cursor = (float(stamp), str(identifier))
        except (binascii.Error, TypeError, ValueError) as exc:
            raise ValueError(f"invalid pagination token {token!r}") from exc
        ordered = [item for item in ordered if sort_key(item) > cursor]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    return page, base64.b64encode(json.dumps(list(sort_key(page[-1]))).encode()).decode()


# -- passwords ------------------------------------------------------------------------------------
def hash_password(password: str) -> bytes:
    salt = os.urandom(16)
    return salt + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)


def password_matches(stored: bytes, password: str) -> bool:
    salt, digest = stored[:16], stored[16:]
    return hmac.compare_digest(digest, hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS))


def meets_complexity(password: str, user: str) -> bool:
    """AD's default policy as AWS applies it: 8-64 characters, 3 of 4 classes, not containing the user name."""
    if not 8 <= len(password) <= 64:
        return False
    if len(user) >= 3 and user.lower() in password.lower():
        return False
    return sum(1 for pattern in _COMPLEXITY_CLASSES if re.search(pattern, password)) >= 3


# -- model ------------------------------------------------------------------------------------
@dataclass
class DomainController:
    controller_id: str
    subnet_id: str
    availability_zone: str
    address: str
    eni_id: str
    status: StampedLifecycle
    launch_time: float


@dataclass(frozen=True)
class DirectoryInfo:
    """What other backends may know about a directory (a snapshot, not a live object)."""

    directory_id: str
    name: str
    short_name: str
    stage: str
    vpc_id: str
    dns_ip_addrs: tuple[str, ...]


@dataclass
class Directory:
    region: str
    directory_id: str
    name: str
    short_name: str
    description: str | None
    edition: str
    network_type: str | None
    vpc_id: str
    subnet_ids: list[str]
    zones: list[str]
    security_group_id: str
    launch_time: float
    stage: StampedLifecycle
    stage_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    desired_controllers: int = 2
    controllers: list[DomainController] = field(default_factory=list)
    password_hashes: dict[str, bytes] = field(default_factory=dict, repr=False)
    provided_addresses: list[str] | None = None
    pending_admin_password: str | None = field(default=None, repr=False)

    @property
    def dns_ip_addrs(self) -> list[str]:
        if self.provided_addresses:
            return list(self.provided_addresses)
        if self.stage.state == "Requested":
            return []
        return [controller.address for controller in self.controllers[:2]]


@dataclass
class RegionState:
    directories: dict[str, Directory] = field(default_factory=dict)
    directory_limit: int = DEFAULT_DIRECTORY_LIMIT


# -- the service ------------------------------------------------------------------------------------
class DirectoryService(JsonService):
    service_name = "ds"

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)
        self.dc_provider: DomainControllerProvider | None = None  # see the module docstring
        self._dependent_checks: list[DependentCheck] = []

    def new_region_state(self, region: str) -> RegionState:
        return RegionState()

    def region_state(self, region: str) -> RegionState:
        return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="internal", operation="internal"))

    # -- seams for other backends ----------------------------------------------------------------
    def add_dependent_check(self, check: DependentCheck) -> None:
        """Register a function naming the resources that still use a directory (blocks DeleteDirectory)."""
        self._dependent_checks.append(check)

    def directory_info(self, region: str, directory_id: str) -> DirectoryInfo | None:
        with self._lock:
            directory = self._live(self.region_state(region)).get(directory_id)
            if directory is None:
                return None
            return DirectoryInfo(
                directory.directory_id,
                directory.name,
                directory.short_name,
                directory.stage.state,
                directory.vpc_id,
                tuple(directory.dns_ip_addrs),
            )

    # -- bookkeeping -------------------------------------------------------------------------------
    def _live(self, state: RegionState) -> dict[str, Directory]:
        """Directories that still exist, after dropping those whose deletion has completed."""
        for directory in list(state.directories.values()):
            if directory.stage.state == GONE:
                self._release(directory)
                del state.directories[directory.directory_id]
                continue
            for controller in list(directory.controllers):
                if controller.status.state == GONE:
                    delete_interfaces(directory.region, [controller.eni_id])
                    directory.controllers.remove(controller)
        return state.directories

    def _release(self, directory: Directory) -> None:
        from moto.core.exceptions import ServiceException

        if self.dc_provider is not None and directory.provided_addresses is not None:
            self.dc_provider.destroy(directory)
        delete_interfaces(directory.region, [controller.eni_id for controller in directory.controllers])
        with contextlib.suppress(ServiceException):  # already deleted by hand
            moto_state.ec2(directory.region).delete_security_group(group_id=directory.security_group_id)

    def _get(self, state: RegionState, directory_id: str) -> Directory:
        directory = self._live(state).get(directory_id)
        if directory is None:
            raise AwsError("EntityDoesNotExistException", f"Directory {directory_id} does not exist.")
        return directory

    def _require_active(self, directory: Directory) -> None:
        if directory.stage.state != "Active":
            raise AwsError(
                "DirectoryUnavailableException",
                f"Directory {directory.directory_id} is in stage {directory.stage.state}; "
                "the operation needs an Active directory.",
            )

    # -- CreateMicrosoftAD -------------------------------------------------------------------------
    def create_microsoft_ad(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        edition = params.get("Edition", "Enterprise")
        if edition == "Hybrid":
            raise AwsError(
                "UnsupportedOperationException", "Hybrid edition directories are created with CreateHybridAD."
            )
        short_name = self._short_name(params)
        tags = _tags_from_list(params.get("Tags", []), "DirectoryLimitExceededException")
        live = self._live(state)
        if len(live) >= state.directory_limit:
            raise AwsError(
                "DirectoryLimitExceededException",
                f"Directory limit exceeded. A maximum of {state.directory_limit} directories may be created.",
            )
        vpc_settings = params["VpcSettings"]
        zones = _check_directory_network(ctx.region, vpc_settings["VpcId"], vpc_settings["SubnetIds"])
        directory = self._new_directory(ctx.region, params, short_name, edition, zones, tags)
        state.directories[directory.directory_id] = directory
        return {"DirectoryId": directory.directory_id}

    def _short_name(self, params: dict[str, Any]) -> str:
        short_name = params.get("ShortName") or params["Name"].split(".")[0][:NETBIOS_MAX].upper()
        if len(short_name) > NETBIOS_MAX:
            raise AwsError(
                "InvalidParameterException",
                f"Invalid directory short name. The NetBIOS name can have at most {NETBIOS_MAX} characters.",
            )
        return short_name

    def _new_directory(
        self, region: str, params: dict[str, Any], short_name: str, edition: str, zones: list[str], tags: dict[str, str]
    ) -> Directory:
        directory_id = f"d-{secrets.token_hex(5)}"
        vpc_id = params["VpcSettings"]["VpcId"]
        group = moto_state.ec2(region).create_security_group(
            name=f"{directory_id}_controllers",
            description=f"AWS created security group for {directory_id} directory controllers",
            vpc_id=vpc_id,
        )
        stage = StampedLifecycle(self.clock, "Requested")
        directory = Directory(
            region=region,
            directory_id=directory_id,
            name=params["Name"],
            short_name=short_name,
            description=params.get("Description"),
            edition=edition,
            network_type=params.get("NetworkType"),
            vpc_id=vpc_id,
            subnet_ids=list(params["VpcSettings"]["SubnetIds"]),
            zones=zones,
            security_group_id=group.id,
            launch_time=self.clock.now(),
            stage=stage,
            tags=tags,
        )
        directory.password_hashes["admin"] = hash_password(params["Password"])
        if self.dc_provider is not None:
            directory.pending_admin_password = params["Password"]
        creation = DURATIONS["directory_requested"] + DURATIONS["directory_creating"]
        for index in range(2):
            directory.controllers.append(self._new_controller(directory, index, creation))
        stage.go(
            "Requested",
            (DURATIONS["directory_requested"], "Creating"),
            (DURATIONS["directory_creating"], "Active", lambda: self._on_active(directory)),
        )
        return directory

    def _new_controller(self, directory: Directory, index: int, seconds_to_active: float) -> DomainController:
        subnet_index = index % len(directory.subnet_ids)
        subnet_id = directory.subnet_ids[subnet_index]
        eni_id, address = create_service_interface(
            directory.region,
            subnet_id,
            [directory.security_group_id],
            f"AWS created network interface for directory {directory.directory_id}",
            seed=f"{directory.directory_id}:{index}",
        )
        status = StampedLifecycle(self.clock, "Creating")
        status.go("Creating", (seconds_to_active, "Active"))
        return DomainController(
            controller_id=f"dc-{secrets.token_hex(5)}",
            subnet_id=subnet_id,
            availability_zone=directory.zones[subnet_index],
            address=address,
            eni_id=eni_id,
            status=status,
            launch_time=self.clock.now(),
        )

    def _on_active(self, directory: Directory) -> None:
        password, directory.pending_admin_password = directory.pending_admin_password, None
        if self.dc_provider is None or password is None:
            return
        try:
            directory.provided_addresses = self.dc_provider.provision(directory, password)
        except ProvisioningError as exc:
            self._fail(directory, f"Domain controller provisioning failed: {exc}")

    def _fail(self, directory: Directory, reason: str) -> None:
        directory.stage.set("Failed")
        directory.stage_reason = reason
        for controller in directory.controllers:
            if controller.status.state == "Creating":
                controller.status.set("Failed")

    # -- DescribeDirectories -----------------------------------------------------------------------
    def describe_directories(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        live = self._live(self.state(ctx))
        wanted = params.get("DirectoryIds")
        directories = [self._get(self.state(ctx), item) for item in wanted] if wanted else list(live.values())
        page, following = _page(directories, lambda item: (item.launch_time, item.directory_id), params)
        result: dict[str, Any] = {"DirectoryDescriptions": [self._describe(item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    def _describe(self, directory: Directory) -> dict[str, Any]:
        stage = _shown(directory.stage)
        description: dict[str, Any] = {
            "DirectoryId": directory.directory_id,
            "Name": directory.name,
            "ShortName": directory.short_name,
            "Edition": directory.edition,
            "Alias": directory.directory_id,
            "AccessUrl": f"{directory.directory_id}.awsapps.com",
            "Stage": stage,
            "LaunchTime": directory.launch_time,
            "StageLastUpdatedDateTime": directory.stage.entered_at,
            "Type": "MicrosoftAD",
            "VpcSettings": {
                "VpcId": directory.vpc_id,
                "SubnetIds": list(directory.subnet_ids),
                "SecurityGroupId": directory.security_group_id,
                "AvailabilityZones": list(directory.zones),
            },
            "SsoEnabled": False,
            "DesiredNumberOfDomainControllers": directory.desired_controllers,
            "OsVersion": "SERVER_2019",
            "NetworkType": directory.network_type or "IPv4",
        }
        if directory.description:
            description["Description"] = directory.description
        addresses = directory.dns_ip_addrs
        if addresses:
            description["DnsIpAddrs"] = addresses
        if directory.stage_reason and stage == "Failed":
            description["StageReason"] = directory.stage_reason
        if directory.edition == "Enterprise":
            description["RegionsInfo"] = {"PrimaryRegion": directory.region, "AdditionalRegions": []}
        return description

    # -- DeleteDirectory ------------------------------------------------------------------------------
    def delete_directory(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        if directory.stage.state == "Deleting":
            return {"DirectoryId": directory.directory_id}
        users = [found for check in self._dependent_checks for found in check(ctx.region, directory.directory_id)]
        if users:
            raise AwsError(
                "ClientException",
                f"Cannot delete the directory because it still has authorized applications: {', '.join(users)}.",
            )
        directory.stage.go("Deleting", (DURATIONS["directory_deleting"], GONE))
        for controller in directory.controllers:
            controller.status.go("Deleting", (DURATIONS["directory_deleting"], GONE))
        return {"DirectoryId": directory.directory_id}

    # -- ResetUserPassword --------------------------------------------------------------------------
    def reset_user_password(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        self._require_active(directory)
        user, password = params["UserName"], params["NewPassword"]
        if not meets_complexity(password, user):
            raise AwsError(
                "InvalidPasswordException",
                "The new password does not meet the directory's password policy "
                "(8 to 64 characters, three character classes, not containing the user name).",
            )
        if self.dc_provider is not None and directory.provided_addresses is not None:
            self.dc_provider.set_password(directory, user, password)
        elif user.lower() not in directory.password_hashes:
            raise AwsError(
                "UserDoesNotExistException", f"User {user} does not exist in directory {directory.directory_id}."
            )
        directory.password_hashes[user.lower()] = hash_password(password)
        return {}

    # -- domain controllers -----------------------------------------------------------------------
    def update_number_of_domain_controllers(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        self._require_active(directory)
        desired = params["DesiredNumber"]
        if desired > MAX_DOMAIN_CONTROLLERS:
            raise AwsError(
                "DomainControllerLimitExceededException",
                f"A directory can have at most {MAX_DOMAIN_CONTROLLERS} domain controllers.",
            )
        if any(controller.status.state in ("Creating", "Deleting") for controller in directory.controllers):
            raise AwsError("ClientException", "A domain controller update is already in progress for this directory.")
        current = len(directory.controllers)
        for index in range(current, desired):
            directory.controllers.append(self._new_controller(directory, index, DURATIONS["controller_creating"]))
        for controller in directory.controllers[desired:]:
            controller.status.go("Deleting", (DURATIONS["controller_deleting"], GONE))
        directory.desired_controllers = desired
        return {}

    def describe_domain_controllers(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        wanted = set(params.get("DomainControllerIds") or [])
        controllers = [item for item in directory.controllers if not wanted or item.controller_id in wanted]
        page, following = _page(controllers, lambda item: (item.launch_time, item.controller_id), params)
        result: dict[str, Any] = {"DomainControllers": [self._describe_controller(directory, item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    @staticmethod
    def _describe_controller(directory: Directory, controller: DomainController) -> dict[str, Any]:
        return {
            "DirectoryId": directory.directory_id,
            "DomainControllerId": controller.controller_id,
            "DnsIpAddr": controller.address,
            "VpcId": directory.vpc_id,
            "SubnetId": controller.subnet_id,
            "AvailabilityZone": controller.availability_zone,
            "Status": _shown(controller.status),
            "LaunchTime": controller.launch_time,
            "StatusLastUpdatedDateTime": controller.status.entered_at,
        }

    # -- tags ------------------------------------------------------------------------------------
    def add_tags_to_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        added = _tags_from_list(params["Tags"], "TagLimitExceededException")
        merged = {**directory.tags, **added}
        if len(merged) > MAX_TAGS:
            raise AwsError(
                "TagLimitExceededException", f"Tag limit exceeded: a directory can have at most {MAX_TAGS} tags."
            )
        directory.tags = merged
        return {}

    def remove_tags_from_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        for key in params["TagKeys"]:
            directory.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        tags = [{"Key": key, "Value": value} for key, value in directory.tags.items()]
        page, following = paginate(tags, params, limit_key="Limit", default_limit=50)
        result: dict[str, Any] = {"Tags": page}
        if following:
            result["NextToken"] = following
        return result

    # -- admin hooks (POST /_sandbox/ds/<action>) ------------------------------------------------------
    def admin_fail_directory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            directory = self._get(self.region_state(region), payload["directory_id"])
            self._fail(directory, payload.get("reason") or "Directory creation failed")
            return {"directory_id": directory.directory_id, "stage": directory.stage.state}

    def admin_check_password(self, region: str, payload: dict[str, Any]) -> dict[str, bool]:
        with self._lock:
            directory = self._get(self.region_state(region), payload["directory_id"])
            stored = directory.password_hashes.get(str(payload.get("user", "Admin")).lower())
            return {"matches": stored is not None and password_matches(stored, str(payload["password"]))}

    def admin_add_user(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Declare a directory user (as if created over LDAP) so ResetUserPassword can reach it."""
        with self._lock:
            directory = self._get(self.region_state(region), payload["directory_id"])
            user = str(payload["user"])
            directory.password_hashes.setdefault(user.lower(), hash_password(secrets.token_urlsafe(24)))
            return {"directory_id": directory.directory_id, "user": user}

    def admin_dc_certificate(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Where the CA of a Samba-backed directory's DC is, so clients can keep LDAPS validation on.

        On AWS the operator supplies the CA of the certificate they installed for LDAPS."""
        with self._lock:
            directory = self._get(self.region_state(region), payload["directory_id"])
            info = getattr(self.dc_provider, "info", None)
            dc = info(directory.directory_id) if info is not None else None
            if dc is None:
                raise KeyError(f"directory {directory.directory_id} has no Samba DC")
            return {"directory_id": directory.directory_id, "ca_file": str(dc.ca_file)}

    def admin_set_limits(self, region: str, payload: dict[str, Any]) -> dict[str, int]:
        with self._lock:
            state = self.region_state(region)
            if "directories" in payload:
                state.directory_limit = int(payload["directories"])
            return {"directories": state.directory_limit}

    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            live = self._live(self.region_state(region))
            return {
                "directories": [
                    {
                        "id": item.directory_id,
                        "name": item.name,
                        "short_name": item.short_name,
                        "edition": item.edition,
                        "stage": item.stage.state,
                        "vpc_id": item.vpc_id,
                        "subnet_ids": list(item.subnet_ids),
                        "security_group_id": item.security_group_id,
                        "dns_ip_addrs": item.dns_ip_addrs,
                        "domain_controllers": len(item.controllers),
                        "tags": dict(item.tags),
                    }
                    for item in sorted(live.values(), key=lambda entry: entry.launch_time)
                ]
            }


def _shown(lifecycle: Lifecycle) -> str:
    """The stage AWS shows: a resource whose deletion ends between two reads of one request is still Deleting."""
    state = lifecycle.state
    return "Deleting" if state == GONE else state


def _page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], params: dict[str, Any]
) -> tuple[list[Any], str | None]:
    try:
        return cursor_page(items, sort_key, params.get("NextToken"), params.get("Limit") or 100)
    except ValueError as exc:
        raise AwsError("InvalidNextTokenException", "Invalid value passed for the NextToken parameter") from exc


# -- validation helpers -----------------------------------------------------------------------------
def _tags_from_list(tags: list[dict[str, str]], limit_code: str) -> dict[str, str]:
    """Tags as a dict; `limit_code` is what the calling operation answers beyond MAX_TAGS."""
    result = {tag["Key"]: tag["Value"] for tag in tags}
    if len(result) > MAX_TAGS:
        raise AwsError(limit_code, f"Tag limit exceeded: a directory can have at most {MAX_TAGS} tags.")
    reserved = [key for key in result if key.lower().startswith("aws:")]
    if reserved:
        raise AwsError("InvalidParameterException", f"Tag keys starting with 'aws:' are reserved: {reserved}")
    return result


def _check_directory_network(region: str, vpc_id: str, subnet_ids: list[str]) -> list[str]:
    """Two existing subnets of `vpc_id` in different AZs (AWS's own messages); returns their AZs."""
    invalid = "Invalid subnet ID(s). They must correspond to two subnets in different Availability Zones."
    if len(subnet_ids) != 2 or len(set(subnet_ids)) != 2:
        raise AwsError("InvalidParameterException", invalid)
    subnets = [moto_state.subnet(region, subnet_id) for subnet_id in subnet_ids]
    if any(subnet is None for subnet in subnets):
        raise AwsError("InvalidParameterException", invalid)
    zones = [subnet.availability_zone for subnet in subnets]
    if zones[0] == zones[1]:
        raise AwsError(
            "ClientException", "Invalid subnet ID(s). The two subnets must be in different Availability Zones."
        )
    if vpc_id not in moto_state.ec2(region).vpcs:
        raise AwsError("ClientException", "Invalid VPC ID.")
    strays = [subnet.id for subnet in subnets if subnet.vpc_id != vpc_id]
    if strays:
        raise AwsError("ClientException", f"Invalid subnet ID(s) {strays}: the subnets must belong to VPC {vpc_id}.")
    return zones
