"""Sandbox-only hooks (POST /_sandbox/ds/<action>): what AWS or an LDAP client does, made callable."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.backends.ds.base import DirectoryBase
from sandbox.backends.ds.rules import hash_password, password_matches


class HooksMixin(DirectoryBase):
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
