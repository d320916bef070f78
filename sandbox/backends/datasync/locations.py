"""CreateLocationS3, CreateLocationFsxWindows, their Describe and Update, DeleteLocation, ListLocations."""

from __future__ import annotations

from typing import Any

from sandbox import moto_state
from sandbox.backends.datasync.base import DataSyncBase, new_id
from sandbox.backends.datasync.constants import MAX_PAGE
from sandbox.backends.datasync.models import Location, RegionState
from sandbox.backends.datasync.rules import (
    bucket_of,
    file_system_of,
    invalid,
    normalise_subdirectory,
    role_name_of,
    security_group_of,
    string_filter_matches,
    tags_from_list,
)
from sandbox.backends.datasync.storage import bucket_exists, role_exists
from sandbox.jsonproto import Context, paginate


class LocationsMixin(DataSyncBase):
    # -- S3 -------------------------------------------------------------------------------------------
    def create_location_s3(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("AgentArns"):
            raise invalid("The sandbox models no DataSync agents (S3 in the same account needs none).")
        bucket = bucket_of(params["S3BucketArn"])
        role_arn = params["S3Config"]["BucketAccessRoleArn"]
        self._check_bucket_access(bucket, role_arn)
        subdirectory = normalise_subdirectory(params.get("Subdirectory"))
        location = Location(
            region=ctx.region,
            location_id=new_id("loc-", "0123456789abcdefghijklmnopqrstuvwxyz"),
            kind="S3",
            uri=f"s3://{bucket}{subdirectory}",
            subdirectory=subdirectory,
            creation_time=self.clock.now(),
            tags=tags_from_list(params.get("Tags")),
            bucket=bucket,
            bucket_access_role_arn=role_arn,
            storage_class=params.get("S3StorageClass", "STANDARD"),
        )
        self.state(ctx).locations[location.location_id] = location
        return {"LocationArn": location.arn}

    @staticmethod
    def _check_bucket_access(bucket: str, role_arn: str) -> None:
        # DataSync assumes the role and reads the bucket when the location is created.
        if not bucket_exists(bucket):
            raise invalid(f"Unable to access bucket {bucket}: the bucket does not exist.", "AccessDenied")
        if not role_exists(role_name_of(role_arn)):
            raise invalid(f"DataSync cannot assume role {role_arn}: the role does not exist.", "AccessDenied")

    def describe_location_s3(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        location = self._location(self.state(ctx), params["LocationArn"])
        if location.kind != "S3":
            raise invalid(f"Location {location.arn} is not an S3 location.")
        return {
            "LocationArn": location.arn,
            "LocationUri": location.uri,
            "S3StorageClass": location.storage_class,
            "S3Config": {"BucketAccessRoleArn": location.bucket_access_role_arn},
            "CreationTime": location.creation_time,
        }

    def update_location_s3(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        location = self._location(self.state(ctx), params["LocationArn"])
        if location.kind != "S3":
            raise invalid(f"Location {location.arn} is not an S3 location.")
        if "S3Config" in params:
            self._check_bucket_access(location.bucket, params["S3Config"]["BucketAccessRoleArn"])
            location.bucket_access_role_arn = params["S3Config"]["BucketAccessRoleArn"]
        if "Subdirectory" in params:
            location.subdirectory = normalise_subdirectory(params["Subdirectory"])
            location.uri = f"s3://{location.bucket}{location.subdirectory}"
        location.storage_class = params.get("S3StorageClass", location.storage_class)
        return {}

    # -- FSx for Windows File Server ------------------------------------------------------------------
    def create_location_fsx_windows(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("CmkSecretConfig") or params.get("CustomSecretConfig"):
            raise invalid("The sandbox models FSx for Windows locations with a Password only.")
        if not params.get("Password"):
            raise invalid("Password is required for an FSx for Windows File Server location.")
        region, file_system_id = file_system_of(params["FsxFilesystemArn"])
        if region != ctx.region:
            raise invalid("The file system must be in the location's Region.")
        self._check_file_system(region, file_system_id)
        for arn in params["SecurityGroupArns"]:
            if moto_state.security_group(region, security_group_of(arn)) is None:
                raise invalid(f"Security group {arn} does not exist.")
        subdirectory = normalise_subdirectory(params.get("Subdirectory"))
        location = Location(
            region=ctx.region,
            location_id=new_id("loc-", "0123456789abcdefghijklmnopqrstuvwxyz"),
            kind="FSXW",
            uri=f"fsxw://{region}.{file_system_id}{subdirectory}",
            subdirectory=subdirectory,
            creation_time=self.clock.now(),
            tags=tags_from_list(params.get("Tags")),
            file_system_id=file_system_id,
            security_group_arns=list(params["SecurityGroupArns"]),
            user=params["User"],
            domain=params.get("Domain", ""),
            password=params["Password"],
        )
        self.state(ctx).locations[location.location_id] = location
        return {"LocationArn": location.arn}

    def _check_file_system(self, region: str, file_system_id: str) -> None:
        if self._file_systems is None:
            return
        lifecycle = self._file_systems.lifecycle_of(region, file_system_id)
        if lifecycle is None:
            raise invalid(f"File system {file_system_id} does not exist.", "NotFound")
        if lifecycle != "AVAILABLE":
            raise invalid(f"File system {file_system_id} is {lifecycle}, not AVAILABLE.")

    def describe_location_fsx_windows(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        location = self._location(self.state(ctx), params["LocationArn"])
        if location.kind != "FSXW":
            raise invalid(f"Location {location.arn} is not an FSx for Windows File Server location.")
        answer: dict[str, Any] = {
            "LocationArn": location.arn,
            "LocationUri": location.uri,
            "SecurityGroupArns": list(location.security_group_arns),
            "CreationTime": location.creation_time,
            "User": location.user,
        }
        if location.domain:
            answer["Domain"] = location.domain
        return answer

    def update_location_fsx_windows(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        location = self._location(self.state(ctx), params["LocationArn"])
        if location.kind != "FSXW":
            raise invalid(f"Location {location.arn} is not an FSx for Windows File Server location.")
        if params.get("CmkSecretConfig") or params.get("CustomSecretConfig"):
            raise invalid("The sandbox models FSx for Windows locations with a Password only.")
        if "Subdirectory" in params:
            location.subdirectory = normalise_subdirectory(params["Subdirectory"])
            location.uri = f"fsxw://{location.region}.{location.file_system_id}{location.subdirectory}"
        location.user = params.get("User", location.user)
        location.domain = params.get("Domain", location.domain)
        if params.get("Password"):
            location.password = params["Password"]
        return {}

    # -- both -----------------------------------------------------------------------------------------
    def delete_location(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        location = self._location(state, params["LocationArn"])
        users = [task.arn for task in state.tasks.values() if location.arn in (task.source_arn, task.destination_arn)]
        if users:
            raise invalid(f"Location {location.arn} is used by task {users[0]}; delete the task first.")
        del state.locations[location.location_id]
        return {}

    def list_locations(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state: RegionState = self.state(ctx)
        locations = sorted(state.locations.values(), key=lambda item: (item.creation_time, item.location_id))
        for item in params.get("Filters", []):
            name, operator, values = item["Name"], item["Operator"], item["Values"]
            if name == "LocationUri":
                locations = [loc for loc in locations if string_filter_matches(loc.uri, operator, values)]
            elif name == "LocationType":
                locations = [loc for loc in locations if string_filter_matches(loc.kind, operator, values)]
            else:
                raise invalid(f"The sandbox does not filter locations by {name}.")
        entries = [{"LocationArn": loc.arn, "LocationUri": loc.uri} for loc in locations]
        page, following = paginate(entries, params, default_limit=MAX_PAGE)
        answer: dict[str, Any] = {"Locations": page}
        if following:
            answer["NextToken"] = following
        return answer
