# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_credentials
short_description: Access keys given as host variables, as a credentials file of the running playbook run
version_added: 0.2.0
description:
  - Writes the access key, secret key and optional session token to a credentials file of the tenant (mode 0600,
    in a directory of mode 0700 of the running C(ansible-playbook) run) under the profile C(tenant-keys-<tenant>),
    and returns the file's path.
  - A play's C(environment) then holds a path and a profile name (C(AWS_SHARED_CREDENTIALS_FILE), C(AWS_PROFILE)),
    which Ansible shows at C(-vvv), and no key. Keys put in C(environment) itself would be printed on every
    module's command line at C(-vvv).
  - The file is written once per run and tenant (rewritten only when the keys change) and removed with its
    directory when the run ends, by the C(iconeus.tenant_toolkit.tenant_state) callback.
  - Prefer a profile (C(aws_profile)), the per-tenant deployer role (C(aws_assume_role_arn)) or the controller's
    own credentials (AWX, Jenkins) to keys in an inventory; this lookup keeps keys that an inventory holds anyway
    out of the output.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant (part of the profile's and of the file's name).
    type: str
    required: true
  access_key:
    description: AWS access key id.
    type: str
    required: true
  secret_key:
    description: AWS secret access key.
    type: str
    required: true
  session_token:
    description: AWS STS session token of temporary credentials.
    type: str
notes:
  - The run's directory is C(<run files>/<run id>), where C(<run files>) is E(TENANT_TOOLKIT_RUN_FILES), by default
    C(~/.cache/appstream-tenant-toolkit/runs). A run killed with SIGKILL cannot remove its directory.
  - Fails when the C(tenant_state) callback is not enabled (it names the run and removes its files).
"""

EXAMPLES = r"""
- name: Run a task with the keys of the host vars, none of them in the environment
  ansible.builtin.command: aws sts get-caller-identity
  environment:
    AWS_SHARED_CREDENTIALS_FILE: >-
      {{ lookup('iconeus.tenant_toolkit.tenant_credentials', tenant='acme-neuro',
                access_key=aws_access_key_id, secret_key=aws_secret_access_key) }}
    AWS_PROFILE: tenant-keys-acme-neuro
  changed_when: false
"""

RETURN = r"""
_raw:
  description: The path of the credentials file holding the profile C(tenant-keys-<tenant>).
  type: list
  elements: path
"""

import os
import re
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.credentials_file import (
    CredentialsError,
    profile_text,
    run_files_directory,
    write_if_changed,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import RUN_ID_ENV, RUN_PID_ENV, is_run_id

TENANT = re.compile(r"^[a-z][a-z0-9-]{2,23}$")  # the tenant contract's name rule (design.md section 4)


def profile_name(tenant: str) -> str:
    return f"tenant-keys-{tenant}"


def credentials_path(directory: Path, tenant: str) -> Path:
    return directory / f"{tenant}.credentials"


def current_run(environ: dict[str, str], pid: int, parent: int) -> str:
    """The id of the run this process belongs to, as the tenant_state callback exported it."""
    run_id = environ.get(RUN_ID_ENV, "")
    if not is_run_id(run_id) or environ.get(RUN_PID_ENV) not in (str(pid), str(parent)):
        raise AnsibleLookupError(
            "tenant_credentials: no run id of this run: the iconeus.tenant_toolkit.tenant_state callback is not "
            "enabled (callbacks_enabled in ansible.cfg; run from the project root, or set ANSIBLE_CONFIG to its "
            "ansible.cfg). It removes the run's credentials file when the run ends."
        )
    return run_id


class LookupModule(LookupBase):
    def run(self, terms: list[str], variables: Any = None, **kwargs: Any) -> list[str]:
        self.set_options(var_options=variables, direct=kwargs)
        if terms:
            raise AnsibleLookupError("tenant_credentials takes no terms, only options")
        tenant = self.get_option("tenant")
        if not isinstance(tenant, str) or not TENANT.match(tenant):
            raise AnsibleLookupError("tenant: must be a tenant name (^[a-z][a-z0-9-]{2,23}$)")
        keys = {
            "aws_access_key_id": self.get_option("access_key"),
            "aws_secret_access_key": self.get_option("secret_key"),
            "aws_session_token": self.get_option("session_token"),
        }
        run_id = current_run(dict(os.environ), os.getpid(), os.getppid())
        comment = (
            f"Keys of tenant {tenant} from its host variables, for run {run_id} only, written by\n"
            "iconeus.tenant_toolkit.tenant_credentials; removed when the run ends."
        )
        try:
            text = profile_text(profile_name(tenant), keys, comment)
            path = credentials_path(run_files_directory(run_id), tenant)
        except CredentialsError as err:
            raise AnsibleLookupError(f"tenant {tenant}: {err}") from None
        write_if_changed(path, text)
        return [str(path)]
