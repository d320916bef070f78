"""Directory configs: one per directory name, OUs that are OUs, in-use protection."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.resources import DirectoryConfig, RegionState
from sandbox.backends.appstream.rules import check_ou_dn
from sandbox.errors import already_exists, in_use, not_permitted
from sandbox.jsonproto import Context


def joined_to(rs: RegionState, directory: str) -> list[tuple[str, str]]:
    """(resource name, OU) of every fleet and image builder joined to `directory`."""
    joined = []
    for resource in [*rs.fleets.values(), *rs.live_builders().values()]:
        info = resource.settings.get("DomainJoinInfo") or {}
        if info.get("DirectoryName") == directory:
            joined.append((resource.name, info.get("OrganizationalUnitDistinguishedName") or ""))
    return joined


class DirectoryMixin(AppStreamBase):
    @staticmethod
    def check_ous(directory: str, ous: list[str]) -> None:
        if not ous:
            raise not_permitted("At least one organizational unit distinguished name is required.")
        for ou in ous:
            check_ou_dn(ou, directory)

    def create_directory_config(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        name = params["DirectoryName"]
        if name in rs.directory_configs:
            raise already_exists(f"A directory config for {name} already exists.")
        self.check_ous(name, params["OrganizationalUnitDistinguishedNames"])
        credentials = params.get("ServiceAccountCredentials") or {}
        config = DirectoryConfig(
            name=name,
            ous=list(params["OrganizationalUnitDistinguishedNames"]),
            account_name=credentials.get("AccountName"),
            password=credentials.get("AccountPassword"),
            certificate_auth=copy.deepcopy(params.get("CertificateBasedAuthProperties")),
        )
        rs.directory_configs[name] = config
        return {"DirectoryConfig": self.shaped("DirectoryConfig", config.describe())}

    def describe_directory_configs(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        names = params.get("DirectoryNames")
        configs = [self.directory_config(rs, n) for n in names] if names else list(rs.directory_configs.values())
        page, token = self.page("DescribeDirectoryConfigs", configs, params)
        described = [self.shaped("DirectoryConfig", c.describe()) for c in page]
        return self.with_token({"DirectoryConfigs": described}, token)

    def update_directory_config(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        config = self.directory_config(rs, params["DirectoryName"])
        ous = params.get("OrganizationalUnitDistinguishedNames")
        if ous is not None:
            self.check_ous(config.name, ous)
            kept = {ou.lower() for ou in ous}
            still_used = sorted(name for name, ou in joined_to(rs, config.name) if ou and ou.lower() not in kept)
            if still_used:
                raise in_use(f"An OU being removed is used by {', '.join(still_used)}.")
            config.ous = list(ous)
        credentials = params.get("ServiceAccountCredentials")
        if credentials:
            config.account_name = credentials["AccountName"]
            config.password = credentials["AccountPassword"]
        if params.get("CertificateBasedAuthProperties") is not None:
            config.certificate_auth = copy.deepcopy(params["CertificateBasedAuthProperties"])
        return {"DirectoryConfig": self.shaped("DirectoryConfig", config.describe())}

    def delete_directory_config(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        config = self.directory_config(rs, params["DirectoryName"])
        users = sorted(name for name, _ in joined_to(rs, config.name))
        if users:
            raise in_use(f"Directory config {config.name} is used by {', '.join(users)}.")
        del rs.directory_configs[config.name]
        return {}
