#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ingest_instrument_credentials
version_added: 0.1.0
short_description: Keep an instrument's access key in Secrets Manager, and rotate it without interrupting uploads
description:
  - Ensures the IAM user of an instrument has an Active access key whose secret is kept in Secrets Manager
    under O(secret_name) (JSON with C(aws_access_key_id), C(aws_secret_access_key), C(bucket), C(instrument),
    C(region), C(created)), tagged for the tenant like the tenant's other secrets. The key is created and stored
    by this module alone - it never appears in the module's result, in a variable or in a log.
  - O(mode=converge) creates and stores a key only when no valid one is stored. O(mode=rotate) deactivates then
    deletes the previous key (the one not stored, left Active by the last rotation), creates a new key and stores
    it; the key stored until now stays Active, so an upload running with it goes on and the acquisition PC keeps
    working until its profile holds the new key. O(mode=retire) deactivates then deletes the previous key only,
    ending its grace period once the PC uses the new key.
  - A secret of that name that is not tagged for the tenant is never read, used or changed.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  user_name:
    description: The instrument's IAM user (module M(iconeus.tenant_toolkit.tenant_iam_principal)).
    type: str
    required: true
  secret_name:
    description: Secrets Manager name of the key, C(<tenant>/ingest/<instrument>).
    type: str
    required: true
  instrument:
    description: Instrument name, stored with the key for the PC's configuration.
    type: str
    required: true
  bucket:
    description: Landing bucket, stored with the key for the PC's configuration.
    type: str
    required: true
  mode:
    description: converge, rotate or retire (see the description).
    type: str
    choices: [converge, rotate, retire]
    default: converge
  kms_key_id:
    description: KMS key of a new secret (default the account's aws/secretsmanager key).
    type: str
  tenant:
    description:
      - Name of the tenant that owns the secret, the value of its C(tenant) tag.
      - A new secret gets the ownership tags C(tenant), C(managed-by=appstream-tenant-toolkit) and, with
        O(environment), C(environment).
attributes:
  check_mode:
    details: Read calls only (the secret is read to learn the stored key id); the plan says what would change.
  diff_mode:
    support: none
    details: Nothing to compare; the plan says which keys change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.attributes
notes:
  - Give the PC its key with C(aws secretsmanager get-secret-value --secret-id <tenant>/ingest/<instrument>) and write
    it into the PC's AWS profile (uploader/README.md); roles/ingest/README.md describes the rotation procedure.
"""

EXAMPLES = r"""
- name: Ensure the instrument's key is kept in Secrets Manager
  iconeus.tenant_toolkit.ingest_instrument_credentials:
    user_name: acme-neuro-ingest-ECHO-01
    secret_name: acme-neuro/ingest/ECHO-01
    instrument: ECHO-01
    bucket: acme-neuro-ingest-123456789012-eu-west-3
    tenant: acme-neuro

- name: Rotate it (the current key stays Active until the next rotation)
  iconeus.tenant_toolkit.ingest_instrument_credentials:
    user_name: acme-neuro-ingest-ECHO-01
    secret_name: acme-neuro/ingest/ECHO-01
    instrument: ECHO-01
    bucket: acme-neuro-ingest-123456789012-eu-west-3
    tenant: acme-neuro
    mode: rotate
"""

RETURN = r"""
access_key_id:
  description: The key id stored in the secret after the run (in check mode, the one stored before). Never the secret.
  type: str
  returned: always
  sample: AKIAIOSFODNN7EXAMPLE
previous_access_key_ids:
  description: The user's other keys still present after the run (a previous key in its grace period).
  type: list
  elements: str
  returned: always
  sample: [AKIAI44QH8DHBEXAMPLE]
secret_arn:
  description: ARN of the secret (empty in check mode before it exists).
  type: str
  returned: always
plan:
  description: Keys retired (deactivated, then deleted), whether a key is created, and why.
  type: dict
  returned: always
  sample: {retire: [AKIAI44QH8DHBEXAMPLE], create: true, reasons: ["rotation: ..."]}
"""

import datetime
import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets import (
    RETRY_CODES as SECRET_RETRY_CODES,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets import (
    SecretError,
    read_owned_secret,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import dict_to_list, ownership_tags
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.credentials import AccessKey, plan_keys

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime.datetime) else float(value or 0)


class Credentials:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.iam = module.client("iam", retry_decorator=retry_decorator())
        self.secrets = module.client("secretsmanager", retry_decorator=retry_decorator(SECRET_RETRY_CODES))

    def keys(self) -> list[AccessKey]:
        try:
            found = self.iam.list_access_keys(UserName=self.params["user_name"], aws_retry=True)["AccessKeyMetadata"]
        except Exception as err:
            # In check mode on a new tenant the user is not created yet: it has no key, one would be created.
            if self.module.check_mode and error_code(err) == "NoSuchEntity":
                return []
            raise
        return [AccessKey(k["AccessKeyId"], k["Status"], _epoch(k.get("CreateDate"))) for k in found]

    def stored_key_id(self) -> str | None:
        """The key id in the secret (its value is read, never returned); None when there is no secret."""
        value = read_owned_secret(self.secrets, self.params["secret_name"], self.params["tenant"])
        if value is None:
            return None
        try:
            document = json.loads(value)
        except ValueError:
            return None
        return document.get("aws_access_key_id") if isinstance(document, dict) else None

    def secret_arn(self) -> str:
        try:
            return self.secrets.describe_secret(SecretId=self.params["secret_name"], aws_retry=True)["ARN"]
        except Exception as err:
            if error_code(err) == "ResourceNotFoundException":
                return ""
            raise

    def retire(self, key_id: str) -> None:
        user = self.params["user_name"]
        self.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive", aws_retry=True)
        self.iam.delete_access_key(UserName=user, AccessKeyId=key_id, aws_retry=True)

    def create_and_store(self) -> str:
        created = self.iam.create_access_key(UserName=self.params["user_name"], aws_retry=True)["AccessKey"]
        value = json.dumps(
            {
                "aws_access_key_id": created["AccessKeyId"],
                "aws_secret_access_key": created["SecretAccessKey"],
                "instrument": self.params["instrument"],
                "bucket": self.params["bucket"],
                "region": self.module.region,
                "created": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
            }
        )
        arn = self.secret_arn()
        if arn:
            self.secrets.put_secret_value(SecretId=arn, SecretString=value, aws_retry=True)
        else:
            params: dict[str, Any] = {
                "Name": self.params["secret_name"],
                "Description": f"Access key of instrument {self.params['instrument']} (tenant {self.params['tenant']})",
                "SecretString": value,
                "Tags": dict_to_list(ownership_tags(self.params["tenant"], self.params["environment"])),
            }
            if self.params["kms_key_id"]:
                params["KmsKeyId"] = self.params["kms_key_id"]
            self.secrets.create_secret(aws_retry=True, **params)
        return created["AccessKeyId"]

    def run(self) -> dict[str, Any]:
        keys = self.keys()
        stored = self.stored_key_id()
        plan = plan_keys(keys, stored, self.params["mode"])
        result: dict[str, Any] = {"changed": plan.changed, "plan": plan.as_dict()}
        current = stored
        if plan.changed and not self.module.check_mode:
            for key_id in plan.retire:
                self.retire(key_id)
            if plan.create:
                current = self.create_and_store()
        remaining = {key.key_id for key in keys} - set(plan.retire if not self.module.check_mode else [])
        result["access_key_id"] = current or ""
        result["previous_access_key_ids"] = sorted(remaining - {current})
        result["secret_arn"] = self.secret_arn()
        return result


def main() -> None:
    argument_spec = dict(
        user_name=dict(type="str", required=True),
        secret_name=dict(type="str", required=True),
        instrument=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        mode=dict(type="str", choices=["converge", "rotate", "retire"], default="converge"),
        kms_key_id=dict(type="str"),
        tenant=dict(type="str", required=True),
        environment=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        module.exit_json(**Credentials(module).run())
    except SecretError as err:
        module.fail_json(msg=str(err))
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(
            err, msg=f"instrument credentials {module.params['secret_name']!r}: AWS refused the request"
        )


if __name__ == "__main__":
    main()
