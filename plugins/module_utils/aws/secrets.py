# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a tenant's secret only when the secret is the tenant's.

Secrets Manager names are unique per account and region, and the toolkit names a tenant's secrets
`<tenant>/directory/admin`, `<tenant>/users/<sam>`, ... A secret of that name created by someone
else (another tenant's tag, or none) must never be used: the directory would be created with a
password its owner knows, or the toolkit would later overwrite it. Every read therefore looks at
the secret's tags first (DescribeSecret), then reads the value of exactly that secret (by ARN).

Self-contained (no project imports): the `tenant_secret` lookup loads this file by path on the
controller, modules import it as `ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import list_to_dict

TENANT_TAG = "tenant"
# Secrets Manager's throttling and transient errors, retried with backoff (AWSRetry knows EC2's names only).
RETRY_CODES = ["ThrottlingException", "InternalServiceError", "ServiceUnavailableException"]


class SecretError(Exception):
    """A secret exists but cannot be used; the message names it and says why (never its value)."""


class SecretNotOwned(SecretError):
    pass


def field_of(secret_string: str, field: str | None, secret_id: str) -> str:
    """The whole string, or one key of its JSON document (a plain string counts as the password)."""
    if not field:
        return secret_string
    text = secret_string.strip()
    if not text.startswith("{"):
        if field == "password":
            return secret_string
        raise SecretError(f"secret {secret_id!r} is a plain string, not a JSON document with a {field!r} key")
    try:
        document = json.loads(text)
    except ValueError:
        raise SecretError(f"secret {secret_id!r} is not valid JSON") from None
    value = document.get(field, document.get(field.capitalize())) if isinstance(document, dict) else None
    if value in (None, ""):
        raise SecretError(f"secret {secret_id!r} has no {field!r} key")
    return str(value)


def known_secret_arn(known: Any, secret_id: str, region: str | None) -> str | None:
    """The ARN in `known` (ARN -> tags, from tenant_tags_info) of the secret named `secret_id` in `region`.

    A secret's ARN is `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`, and a
    name holds no colon, so the name is the whole last part but its last seven characters: `a/b` is never
    taken for `a/b-c` (`...:secret:a/b-c-AbCdEf`). An ARN given as `secret_id` must be listed as it is.
    """
    if not known:
        return None
    if secret_id.startswith("arn:"):
        return secret_id if secret_id in known else None
    for arn in known:
        parts = str(arn).split(":", 6)
        if len(parts) != 7 or parts[2] != "secretsmanager" or parts[3] != (region or "") or parts[5] != "secret":
            continue
        name = parts[6]
        if len(name) == len(secret_id) + 7 and name.startswith(f"{secret_id}-"):
            return str(arn)
    return None


def known_owned_secret_arn(known: Any, secret_id: str, region: str | None, tenant: str) -> str | None:
    """known_secret_arn, only when the listing gives that secret the tenant's `tenant` tag."""
    arn = known_secret_arn(known, secret_id, region)
    tags = known[arn] if arn is not None else None
    return arn if isinstance(tags, Mapping) and tags.get(TENANT_TAG) == tenant else None


def read_owned_secret(
    client: Any, secret_id: str, tenant: str, field: str | None = None, known: Any = None
) -> str | None:
    """The secret's value (or one field of it); None when there is no such secret.

    `client` is a boto3 Secrets Manager client wrapped with AWSRetry (calls take `aws_retry`).
    Raises SecretNotOwned when the secret is not tagged for `tenant`, SecretError when it is
    scheduled for deletion or holds no such field.

    `known` (the `known_tags` of the modules: ARN -> tags, the tenant's resources listed once in the run by
    tenant_tags_info under the tenant's lock) saves the DescribeSecret of a secret it lists as the tenant's:
    its value is read by ARN at once. A secret it does not list, or one deleted or scheduled for deletion
    since, is described first as ever, so a foreign secret is still refused before its value is read.
    """
    region = getattr(getattr(client, "meta", None), "region_name", None)
    arn = known_owned_secret_arn(known, secret_id, region, tenant)
    if arn is not None:
        try:
            value = client.get_secret_value(SecretId=arn, aws_retry=True)
        except Exception as err:
            # Gone (ResourceNotFound) or scheduled for deletion (InvalidRequest) since the listing: say so below.
            if error_code(err) not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise
        else:
            return string_field(value, field, secret_id)
    try:
        described = client.describe_secret(SecretId=secret_id, aws_retry=True)
    except Exception as err:
        if error_code(err) == "ResourceNotFoundException":
            return None
        raise
    if described.get("DeletedDate"):
        raise SecretError(
            f"secret {secret_id!r} is scheduled for deletion: restore it (aws secretsmanager restore-secret) "
            "or wait until it is deleted, then run again"
        )
    tags = list_to_dict(described.get("Tags"))
    if tags.get(TENANT_TAG) != tenant:
        raise SecretNotOwned(
            f"secret {secret_id!r} exists but is not owned by tenant {tenant!r} (its tenant tag is "
            f"{tags.get(TENANT_TAG)!r}); the toolkit never reads, uses or changes it"
        )
    return string_field(client.get_secret_value(SecretId=described["ARN"], aws_retry=True), field, secret_id)


def string_field(value: dict[str, Any], field: str | None, secret_id: str) -> str:
    """The string (or one field of it) of a GetSecretValue answer."""
    if "SecretString" not in value:
        raise SecretError(f"secret {secret_id!r} holds binary data, not a string")
    return field_of(value["SecretString"], field, secret_id)
