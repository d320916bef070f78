"""AssociateFileSystemAliases, DisassociateFileSystemAliases, DescribeFileSystemAliases."""

from __future__ import annotations

from typing import Any

from sandbox.backends.fsx.base import FSxBase
from sandbox.backends.fsx.constants import DURATIONS, GONE, MAX_ALIASES
from sandbox.backends.fsx.rules import bad_request, check_alias
from sandbox.backends.fsx.shapes import fsx_page, shown
from sandbox.jsonproto import Context


class AliasesMixin(FSxBase):
    def associate_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        self._require_available(item, "associate aliases")
        names = list(dict.fromkeys(check_alias(name) for name in params["Aliases"]))
        existing = {alias.name: alias for alias in item.aliases}
        new = [name for name in names if name not in existing]
        if len(item.aliases) + len(new) > MAX_ALIASES:
            raise bad_request(f"A file system can have at most {MAX_ALIASES} aliases.")
        seconds = DURATIONS["alias_association"]
        for name in new:
            existing[name] = self._alias(name, seconds)
            item.aliases.append(existing[name])
        if new:
            self._action(
                item,
                "FILE_SYSTEM_ALIAS_ASSOCIATION",
                None,
                (seconds / 5, "IN_PROGRESS"),
                (seconds * 4 / 5, "COMPLETED"),
            )
        return {"Aliases": [{"Name": name, "Lifecycle": existing[name].lifecycle.state} for name in names]}

    def disassociate_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        self._require_available(item, "disassociate aliases")
        names = list(dict.fromkeys(name.lower() for name in params["Aliases"]))
        existing = {alias.name: alias for alias in item.aliases}
        unknown = [name for name in names if name not in existing]
        if unknown:
            raise bad_request(f"Aliases not associated with {item.file_system_id}: {', '.join(unknown)}.")
        seconds = DURATIONS["alias_disassociation"]
        for name in names:
            if existing[name].lifecycle.state != "DELETING":
                existing[name].lifecycle.go("DELETING", (seconds, GONE))
        self._action(
            item, "FILE_SYSTEM_ALIAS_DISASSOCIATION", None, (seconds / 5, "IN_PROGRESS"), (seconds * 4 / 5, "COMPLETED")
        )
        return {"Aliases": [{"Name": name, "Lifecycle": "DELETING"} for name in names]}

    def describe_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        now = self.clock.now()  # one instant for the whole answer
        aliases = [{"Name": alias.name, "Lifecycle": shown(alias.lifecycle, now)} for alias in item.aliases]
        page, following = fsx_page(aliases, params)
        result: dict[str, Any] = {"Aliases": page}
        if following:
            result["NextToken"] = following
        return result
