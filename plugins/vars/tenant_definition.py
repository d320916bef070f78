# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_definition
version_added: 0.2.0
short_description: Loads a tenant definition as data, never as templates
description:
  - "A tenant definition (the C(tenant) variable in C(host_vars/<tenant>/)) comes from a customer: its
    strings are data. Ansible's C(host_group_vars) plugin loads host_vars files as trusted templates, so
    a value such as C({{ lookup('pipe', ...) }}) would run on the controller as soon as the variable is
    read."
  - "This plugin loads the same files again and, for the C(tenant) key only, hands Ansible the value
    with no string trusted as a template: Ansible then never renders it. Listed after
    C(host_group_vars) in C(vars_plugins_enabled), it replaces the trusted copy. Validation
    (C(iconeus.tenant_toolkit.tenant_validate)) then refuses any template marker in the definition,
    naming the field."
  - "Only host_vars are read: a C(tenant) variable defined in group_vars or in the inventory file
    itself is not protected (the tenant contract puts it in C(host_vars/<tenant>/tenant.yml))."
  - "A host_vars file that holds C(tenant) must hold nothing else (the customer's file could otherwise set
    any other variable, as a trusted template): the inventory fails to load, naming the file and the keys."
  - Vault-encrypted files are read as host_group_vars reads them.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  stage:
    ini:
      - key: stage
        section: vars_tenant_definition
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
extends_documentation_fragment:
  - vars_plugin_staging
"""

EXAMPLES = r"""
# ansible.cfg: after host_group_vars, so that its untrusted copy of `tenant` wins.
# [defaults]
# vars_plugins_enabled = host_group_vars, iconeus.tenant_toolkit.tenant_definition
"""

import os
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.inventory.group import InventoryObjectType
from ansible.plugins.vars import BaseVarsPlugin
from ansible.utils.path import basedir

DEFINITION_KEY = "tenant"

# Ansible asks a vars plugin for a host's variables once per task and host (the strategy's get_vars), and once
# per inventory source of the run (-i each) for the `all` group, the host's groups and the host: with N tenants
# in one run, N times per task and host. Each host's host_vars files are found once per process and host_vars
# directory (by real path), as host_group_vars finds them (its FOUND cache); a group costs nothing. Each file
# is parsed once per version, keyed by its path, inode, size and modification time, instead of on every call
# (YAML parsing was 40% of the controller's CPU time at three tenants; finding the files, 6.9 s of the main
# process's 37 s at ten). Only files that passed the check below are kept. The same object is handed out on
# every call, as host_group_vars hands out the loader's copy (cache="all", unsafe=True) for the whole process.
_HOST_VARS_DIRS: dict[str, str | None] = {}
_FOUND: dict[tuple[str, str], tuple[str, ...]] = {}
_PARSED: dict[tuple[str, int, int, int], Any] = {}
# The files that held the definition: a later version without it fails the inventory (host_group_vars keeps the
# first version, trusted, for the whole run; it must never be the only copy of `tenant`).
_HELD_DEFINITION: set[str] = set()


class VarsModule(BaseVarsPlugin):
    is_stateless = True

    def get_vars(self, loader: Any, path: str, entities: Any, cache: bool = True) -> dict[str, Any]:
        # BaseVarsPlugin.get_vars only records basedir(path), which this plugin does not use: not called (it was a
        # fifth of this plugin's cost, asked as often as it is).
        if not isinstance(entities, list):
            entities = [entities]
        data: dict[str, Any] = {}
        for entity in entities:
            if getattr(entity, "base_type", None) is not InventoryObjectType.HOST or entity.name.startswith(os.sep):
                continue
            for found in host_vars_files(loader, path, entity.name):
                loaded = load_checked(loader, found)
                if loaded is not None and DEFINITION_KEY in loaded:
                    data[DEFINITION_KEY] = loaded[DEFINITION_KEY]
        return data


def host_vars_files(loader: Any, path: str, host: str) -> tuple[str, ...]:
    """The host's files in host_vars/ beside the inventory source (real paths), found once per process and
    directory, as host_group_vars finds them: a file added during the run is not seen by either."""
    if path not in _HOST_VARS_DIRS:
        host_vars = os.path.join(os.path.realpath(basedir(path)), "host_vars")
        _HOST_VARS_DIRS[path] = host_vars if os.path.isdir(host_vars) else None
    host_vars_dir = _HOST_VARS_DIRS[path]
    if host_vars_dir is None:
        return ()
    key = (host_vars_dir, host)
    if key not in _FOUND:
        _FOUND[key] = tuple(os.path.realpath(name) for name in loader.find_vars_files(host_vars_dir, host))
    return _FOUND[key]


def load_checked(loader: Any, found: str) -> dict[str, Any] | None:
    """The mapping a host_vars file (a real path) holds, parsed once per version of the file; None when empty."""
    try:
        status = os.stat(found)
    except OSError as err:  # removed since Ansible listed it
        raise AnsibleParserError(f"{found}: {err.strerror}") from err
    key = (found, status.st_ino, status.st_size, status.st_mtime_ns)
    if key not in _PARSED:
        # cache="none": never the loader's shared copy, which host_group_vars loads trusted as templates.
        # trusted_as_template=False: the strings are plain data, never rendered by Ansible.
        loaded = check_host_vars(
            found, loader.load_from_file(found, cache="none", unsafe=True, trusted_as_template=False)
        )
        holds = loaded is not None and DEFINITION_KEY in loaded
        if found in _HELD_DEFINITION and not holds:
            raise AnsibleParserError(
                f"{found}: the tenant definition ({DEFINITION_KEY}) was removed from this file during the run"
            )
        if holds:
            _HELD_DEFINITION.add(found)
        _PARSED[key] = loaded
    return _PARSED[key]


def check_host_vars(found: str, loaded: Any) -> dict[str, Any] | None:
    """A host_vars file's mapping, refused when it is not one or when it holds the definition beside other keys."""
    if loaded is None:
        return None
    if not isinstance(loaded, dict):
        raise AnsibleParserError(f"{found}: a host_vars file must hold a mapping")
    if DEFINITION_KEY in loaded:
        # The customer's file holds the definition and nothing else: any other key in it would reach Ansible
        # through host_group_vars as a trusted template (a pre-set tenant_spec, an ansible_* connection variable).
        others = sorted(str(key) for key in loaded if key != DEFINITION_KEY)
        if others:
            raise AnsibleParserError(
                f"{found}: a file holding the tenant definition ({DEFINITION_KEY}) may hold nothing else; "
                f"it also sets {', '.join(others)} (put operator settings in another host_vars file)"
            )
    return loaded
