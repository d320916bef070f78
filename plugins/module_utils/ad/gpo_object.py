# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Group Policy Object over LDAP and SMB: find it by display name, create it the way
C(samba-tool gpo create) and GPMC do (AD object, SYSVOL folder with the ACL derived from the AD
object's, GPT.INI), repair a half-made one, publish a new version, link it, unlink it and delete it.

Shared by the GPO modules (gpo_drive_maps, gpo_machine_policy); each module only says what it
writes inside the GPO. Check mode is honoured here: reads always happen, writes never do, and every
write is announced in `actions` first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.connection import fail
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.dn import escape_filter, same_dn
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpo import (
    gpo_folder_sd,
    merge_gplink,
    parse_gplink,
    remove_gplink,
    render_gplink,
    with_gpt_version,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.ldap import Directory, first_value
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import SecurityDescriptor
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.smb import FileShare

GPO_ATTRIBUTES = [
    "cn",
    "displayName",
    "versionNumber",
    "gPCFileSysPath",
    "gPCUserExtensionNames",
    "gPCMachineExtensionNames",
    "flags",
]


def sysvol_location(file_sys_path: str, domain: str, guid: str) -> tuple[str, str]:
    """(share, path inside it) of a GPO folder from its gPCFileSysPath."""
    parts = [part for part in (file_sys_path or "").split("\\") if part]
    if len(parts) >= 3:
        return parts[1], "\\".join(parts[2:])
    return "sysvol", f"{domain}\\Policies\\{guid}"


def folder_acl_matches(current: SecurityDescriptor, wanted: SecurityDescriptor) -> bool:
    return (
        (current.owner or "").upper() == (wanted.owner or "").upper()
        and current.dacl == wanted.dacl
        and current.protected
    )


@dataclass
class GpoLocation:
    """Where a GPO lives and what its AD object holds (the planned values for a GPO still to create)."""

    dn: str
    guid: str
    file_sys_path: str
    share_name: str
    folder: str
    version: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    exists: bool = True
    created: bool = False  # made by this run (or, in check mode, to be made)

    def attribute(self, name: str) -> str:
        return first_value(self.attributes.get(name)) or ""


class GroupPolicyObject:
    """One GPO, found by display name, and the LDAP and SMB connections to work on it."""

    def __init__(self, directory_params: dict[str, Any], smb_auth_protocol: str, check: bool, actions: list[str]):
        self.params = directory_params
        self.smb_auth_protocol = smb_auth_protocol
        self.check = check
        self.actions = actions
        self.directory = Directory(directory_params)
        self.policies_dn = f"CN=Policies,CN=System,{self.directory.domain_dn}"
        self._share: FileShare | None = None

    # -- connections --
    def share(self, name: str = "sysvol") -> FileShare:
        if self._share is None:
            self._share = FileShare(
                self.params["server"],
                name,
                self.params["username"],
                self.params["password"],
                auth_protocol=self.smb_auth_protocol,
                connect_timeout=self.params.get("connect_timeout") or 10,
            )
        return self._share

    def close(self) -> None:
        if self._share is not None:
            self._share.close()
        self.directory.close()

    # -- reads --
    def find(self, name: str) -> dict[str, Any] | None:
        found = self.directory.search(
            self.policies_dn,
            f"(&(objectClass=groupPolicyContainer)(displayName={escape_filter(name)}))",
            GPO_ATTRIBUTES,
            scope="LEVEL",
        )
        if len(found) > 1:
            raise AdError(
                f"{len(found)} GPOs are named {name!r}: "
                + ", ".join(first_value(entry["attributes"]["cn"]) for entry in found),
                "ambiguous",
            )
        return found[0] if found else None

    def locate(self, entry: dict[str, Any]) -> GpoLocation:
        guid = first_value(entry["attributes"]["cn"]).upper()
        file_sys_path = first_value(entry["attributes"].get("gPCFileSysPath")) or ""
        share_name, folder = sysvol_location(file_sys_path, self.directory.domain, guid)
        return GpoLocation(
            dn=entry["dn"],
            guid=guid,
            file_sys_path=file_sys_path,
            share_name=share_name,
            folder=folder,
            version=int(first_value(entry["attributes"].get("versionNumber")) or 0),
            attributes=dict(entry["attributes"]),
        )

    def link_view(self, guid: str) -> list[dict[str, Any]]:
        """Every container linking the GPO, with the link's options and its order there."""
        view = []
        entries = self.directory.search(
            self.directory.domain_dn, f"(gPLink=*{escape_filter(guid)}*)", ["gPLink", "distinguishedName"]
        )
        for entry in entries:
            links = parse_gplink(first_value(entry["attributes"].get("gPLink")))
            for order, link in enumerate(links, start=1):
                if link.guid == guid.upper():
                    view.append(
                        {"target": entry["dn"], "enabled": link.enabled, "enforced": link.enforced, "order": order}
                    )
        return sorted(view, key=lambda item: item["target"].lower())

    def read_text(self, where: GpoLocation, relative: str) -> str | None:
        if not where.exists:
            return None
        return self.share(where.share_name).read_text(f"{where.folder}\\{relative}")

    def read_bytes(self, where: GpoLocation, relative: str) -> bytes | None:
        if not where.exists:
            return None
        return self.share(where.share_name).read_bytes(f"{where.folder}\\{relative}")

    # -- the GPO itself --
    def ensure(self, name: str) -> tuple[GpoLocation, str | None]:
        """The GPO named `name`, created when missing (planned only in check mode), with its SYSVOL side
        repaired when a earlier run stopped half way. Returns the location and GPT.INI's text."""
        entry = self.find(name)
        domain = self.directory.domain
        if entry is None:
            guid = "{" + str(uuid.uuid4()).upper() + "}"
            file_sys_path = f"\\\\{domain}\\SysVol\\{domain}\\Policies\\{guid}"
            share_name, folder = sysvol_location(file_sys_path, domain, guid)
            where = GpoLocation(
                f"CN={guid},{self.policies_dn}", guid, file_sys_path, share_name, folder, exists=False, created=True
            )
            self.actions.append("create GPO")
            if not self.check:
                self.create(name, where)
                where.exists = True
            return where, None
        where = self.locate(entry)
        gpt_text = self.share(where.share_name).read_text(f"{where.folder}\\GPT.INI")
        self.repair_sysvol(where, gpt_text)
        return where, gpt_text

    def create(self, name: str, where: GpoLocation) -> None:
        self.directory.add(
            where.dn,
            ["top", "container", "groupPolicyContainer"],
            {
                "displayName": name,
                "gPCFileSysPath": where.file_sys_path,
                "versionNumber": "0",
                "gPCFunctionalityVersion": "2",
                "flags": "0",
            },
        )
        for child in ("User", "Machine"):
            self.directory.add(f"CN={child},{where.dn}", ["top", "container"], {})
        self.repair_sysvol(where, None, quiet=True)

    def repair_sysvol(self, where: GpoLocation, gpt_text: str | None, quiet: bool = False) -> None:
        """Make the SYSVOL side match the AD object: folder, ACL, User/Machine and GPT.INI."""
        share = self.share(where.share_name)
        folder = where.folder
        wanted = gpo_folder_sd(self.directory.read_sd(where.dn, flags=0x7))
        missing_folder = not share.exists(folder)
        if missing_folder:
            if not quiet:
                self.actions.append(f"recreate the SYSVOL folder {folder}")
            if self.check:
                return
            share.makedirs(folder)
        if not folder_acl_matches(share.get_sd(folder), wanted):
            if not quiet and not missing_folder:
                self.actions.append("restore the SYSVOL folder ACL from the GPO's AD ACL")
            if not self.check:
                share.set_sd(folder, wanted, set_owner=True, set_group=True)
        for child in ("Machine", "User"):
            if not share.exists(f"{folder}\\{child}"):
                if not quiet and not missing_folder:
                    self.actions.append(f"recreate {folder}\\{child}")
                if not self.check:
                    share.mkdir(f"{folder}\\{child}")
        if gpt_text is None and not share.exists(f"{folder}\\GPT.INI"):
            if not quiet and not missing_folder:
                self.actions.append("recreate GPT.INI")
            if not self.check:
                share.write_text(f"{folder}\\GPT.INI", with_gpt_version("", where.version), encoding="ascii")

    # -- content --
    def write_file(self, where: GpoLocation, relative: str, data: bytes | None) -> None:
        """Write (or with None delete) one file of the GPO, making its folders."""
        share = self.share(where.share_name)
        path = f"{where.folder}\\{relative}"
        if data is None:
            share.remove_file(path)
            return
        share.makedirs(path.rsplit("\\", 1)[0])
        share.write_bytes(path, data)

    def publish(self, where: GpoLocation, version: int, attributes: dict[str, str]) -> None:
        """Publish new content: GPT.INI's version first, then the AD object's version and attributes.

        Files first, AD last: a client that sees the new AD version must find the new files.
        """
        share = self.share(where.share_name)
        gpt = share.read_text(f"{where.folder}\\GPT.INI") or ""
        share.write_text(f"{where.folder}\\GPT.INI", with_gpt_version(gpt, version), encoding="ascii")
        changes: dict[str, Any] = {"versionNumber": [("MODIFY_REPLACE", [str(version)])]}
        for name, value in attributes.items():
            changes[name] = [("MODIFY_REPLACE", [value] if value else [])]
        self.directory.modify(where.dn, changes)

    # -- links --
    def ensure_links(
        self, where: GpoLocation, current_view: list[dict[str, Any]], wanted: list[dict[str, Any]] | None, purge: bool
    ) -> list[dict[str, Any]]:
        """Link the GPO to each wanted container (other GPOs' links kept); unlink elsewhere with `purge`."""
        if wanted is None:
            return current_view
        guid = where.guid.upper()
        view: dict[str, dict[str, Any]] = {}
        for link in wanted:
            target = link["target"]
            entry = self.directory.get(target, ["gPLink"])
            if entry is None:
                if not self.check:
                    raise AdError(f"cannot link to {target}: no such container", "missing")
                # Check mode: an earlier task of the same run would create the container.
                self.actions.append(f"link to {target} (once it exists)")
                view[target.lower()] = {
                    "target": target,
                    "enabled": link["enabled"],
                    "enforced": link["enforced"],
                    "order": 1,
                }
                continue
            links = parse_gplink(first_value(entry["attributes"].get("gPLink")) or "")
            merged = merge_gplink(
                links, where.dn, enabled=link["enabled"], enforced=link["enforced"], order=link.get("order")
            )
            if merged != links:
                existing = next((item for item in links if item.guid == guid), None)
                self.actions.append(f"{'update link on' if existing else 'link to'} {target}")
                if not self.check:
                    self.directory.modify(target, {"gPLink": [("MODIFY_REPLACE", [render_gplink(merged)])]})
            order = next(index for index, item in enumerate(merged, start=1) if item.guid == guid)
            view[target.lower()] = {
                "target": target,
                "enabled": link["enabled"],
                "enforced": link["enforced"],
                "order": order,
            }
        for item in current_view:
            if any(same_dn(item["target"], link["target"]) for link in wanted):
                continue
            if purge:
                self.unlink(item["target"], guid)
            else:
                view[item["target"].lower()] = item
        return sorted(view.values(), key=lambda item: item["target"].lower())

    def unlink(self, target: str, guid: str) -> None:
        entry = self.directory.get(target, ["gPLink"])
        links = parse_gplink(first_value((entry or {}).get("attributes", {}).get("gPLink")) or "")
        kept = remove_gplink(links, guid)
        if kept != links:
            self.actions.append(f"unlink from {target}")
            if not self.check:
                self.directory.modify(target, {"gPLink": [("MODIFY_REPLACE", [render_gplink(kept)] if kept else [])]})

    # -- removal --
    def delete(self, entry: dict[str, Any]) -> GpoLocation:
        """Remove every link to the GPO, then its SYSVOL folder and its AD object (with its children)."""
        where = self.locate(entry)
        for item in self.link_view(where.guid):
            self.unlink(item["target"], where.guid)
        self.actions.append(f"delete the SYSVOL folder {where.folder}")
        self.actions.append(f"delete GPO {where.guid}")
        if not self.check:
            self.share(where.share_name).remove_tree(where.folder)
            for child in sorted(
                self.directory.search(entry["dn"], "(objectClass=*)", ["distinguishedName"]),
                key=lambda item: -len(item["dn"]),
            ):
                self.directory.delete(child["dn"])
        return where


def gpo_argument_spec() -> dict[str, Any]:
    """The options every GPO module takes besides the LDAP connection and its own `state` and content
    (documented once by the doc fragment iconeus.tenant_toolkit.gpo)."""
    link_spec = dict(
        target=dict(type="str", required=True),
        enabled=dict(type="bool", default=True),
        enforced=dict(type="bool", default=False),
        order=dict(type="int"),
    )
    return dict(
        smb_auth_protocol=dict(type="str", default="negotiate", choices=["negotiate", "ntlm", "kerberos"]),
        name=dict(type="str", required=True),
        links=dict(type="list", elements="dict", options=link_spec),
        purge_links=dict(type="bool", default=False),
    )


def run_gpo_module(module: Any, runner_class: Callable[[Any], Any], error_prefix: str = "") -> None:
    """Run a GPO module's `present()` or `absent()` by O(state), always closing its connections, and exit
    with the result (without its diff unless diff mode asked for it). An AdError fails with its kind; a
    ValueError (a value of the GPO's files or options that is not valid) with `error_prefix` and its text."""
    runner = None
    try:
        runner = runner_class(module)
        result = runner.present() if module.params["state"] == "present" else runner.absent()
    except AdError as err:
        fail(module, err)
    except ValueError as err:
        module.fail_json(msg=f"{error_prefix}{err}")
    finally:
        if runner is not None:
            runner.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)
