"""CreateMicrosoftAD, DescribeDirectories, DeleteDirectory, ResetUserPassword."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox import moto_state
from sandbox.backends.ds.base import DirectoryBase, directory_page, shown
from sandbox.backends.ds.constants import DURATIONS, GONE, NETBIOS_MAX
from sandbox.backends.ds.models import Directory, StampedLifecycle
from sandbox.backends.ds.network import check_directory_network
from sandbox.backends.ds.provider import ProvisioningError
from sandbox.backends.ds.rules import hash_password, meets_complexity, tags_from_list
from sandbox.errors import AwsError
from sandbox.jsonproto import Context


class DirectoriesMixin(DirectoryBase):
    def create_microsoft_ad(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        edition = params.get("Edition", "Enterprise")
        if edition == "Hybrid":
            raise AwsError(
                "UnsupportedOperationException", "Hybrid edition directories are created with CreateHybridAD."
            )
        short_name = self._short_name(params)
        tags = tags_from_list(params.get("Tags", []), "DirectoryLimitExceededException")
        live = self._live(state)
        if len(live) >= state.directory_limit:
            raise AwsError(
                "DirectoryLimitExceededException",
                f"Directory limit exceeded. A maximum of {state.directory_limit} directories may be created.",
            )
        vpc_settings = params["VpcSettings"]
        zones = check_directory_network(ctx.region, vpc_settings["VpcId"], vpc_settings["SubnetIds"])
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
        creation = DURATIONS["directory_requested"] + DURATIONS["directory_creating"]
        backed = self.dc_provider is not None
        for index in range(2):
            directory.controllers.append(self._new_controller(directory, index, None if backed else creation))
        if not backed:
            stage.go(
                "Requested",
                (DURATIONS["directory_requested"], "Creating"),
                (DURATIONS["directory_creating"], "Active"),
            )
            return directory
        # Backed by a real DC: provisioning starts now, off the request thread; the directory stays
        # Requested/Creating until both its modelled creation time has passed and its DC answers.
        stage.go("Requested", (DURATIONS["directory_requested"], "Creating"))
        directory.active_due = self.clock.after(creation)
        directory.dc_requested = True
        password = params["Password"]
        self.background.submit(
            f"provision the DC of {directory.directory_id}", lambda: self._provision(directory, password)
        )
        return directory

    def _provision(self, directory: Directory, admin_password: str) -> None:
        """Background job: provision the directory's DC, then let it become Active (or Failed)."""
        assert self.dc_provider is not None
        try:
            addresses = self.dc_provider.provision(directory, admin_password)
        except ProvisioningError as exc:
            reason: str | None = f"Domain controller provisioning failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - any provider failure fails the directory, as AWS would
            reason = f"Domain controller provisioning failed: {type(exc).__name__}: {exc}"
        else:
            reason = None
        with self._lock:
            if directory.stage.state not in ("Requested", "Creating"):
                # Deleted (its DC is destroyed when the deletion completes) or failed by the admin hook.
                if reason is None:
                    directory.provided_addresses = addresses
                return
            if reason is not None:
                self._fail(directory, reason)
                return
            directory.provided_addresses = addresses
            due = max(directory.active_due, self.clock.now())
            directory.stage.arrive("Active", due)
            for controller in directory.controllers:
                if controller.status.state == "Creating" and not controller.status.pending:
                    controller.status.arrive("Active", due)

    def _fail(self, directory: Directory, reason: str) -> None:
        directory.stage.set("Failed")
        directory.stage_reason = reason
        for controller in directory.controllers:
            if controller.status.state == "Creating":
                controller.status.set("Failed")

    def describe_directories(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        live = self._live(self.state(ctx))
        wanted = params.get("DirectoryIds")
        directories = [self._get(self.state(ctx), item) for item in wanted] if wanted else list(live.values())
        page, following = directory_page(directories, lambda item: (item.launch_time, item.directory_id), params)
        result: dict[str, Any] = {"DirectoryDescriptions": [self._describe(item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    def _describe(self, directory: Directory) -> dict[str, Any]:
        stage = shown(directory.stage)
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
        provider = self.dc_provider if directory.provided_addresses is not None else None
        if provider is None and user.lower() not in directory.password_hashes:
            raise AwsError(
                "UserDoesNotExistException", f"User {user} does not exist in directory {directory.directory_id}."
            )
        if provider is not None:
            # The real DC applies it (a helper process, about a second): without the backend's lock, so
            # that other calls do not wait behind it.
            with self.unlocked():
                provider.set_password(directory, user, password)
        directory.password_hashes[user.lower()] = hash_password(password)
        return {}
