# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every AWS module of the toolkit shares: options, clients with retries, tokens, the run loop."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    NotOwned,
    PlanRefused,
    ResourceKind,
    converge,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import WaitFailed, WaitTimeout

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]

# JSON-protocol services (AppStream, DS, FSx) name their throttling and transient errors
# differently from EC2; AWSRetry only knows EC2's names by default.
RETRY_CODES = [
    "ThrottlingException",
    "TooManyRequestsException",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailableException",
    "ServiceException",
]


def retry_decorator(extra: list[str] | None = None) -> Any:
    return AWSRetry.jittered_backoff(
        retries=10, delay=1, max_delay=30, catch_extra_error_codes=RETRY_CODES + (extra or [])
    )


def tenant_argument_spec(wait_timeout: int = 1800) -> dict[str, Any]:
    """Options every tenant-owned resource takes: its owner, tags and waiting."""
    return dict(
        tenant=dict(type="str", required=True),
        environment=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=wait_timeout),
    )


ACCOUNT_ID = re.compile(r"^\d{12}$")


def account_id_of(module: Any) -> str:
    """The account the run works in: the `account_id` option when given, else one sts:GetCallerIdentity."""
    given = module.params.get("account_id")
    if given:
        if not ACCOUNT_ID.match(given):
            module.fail_json(msg=f"account_id: {given!r} is not a 12-digit AWS account id")
        return given
    return module.client("sts", retry_decorator=retry_decorator()).get_caller_identity(aws_retry=True)["Account"]


def client_token(*parts: Any) -> str:
    """A deterministic idempotency token: the same request after an interruption reuses it."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:64]


def converge_or_fail(module: Any, kind: ResourceKind, state: str, allow_recreate: bool = False) -> dict[str, Any]:
    """Converge `kind` and return the result, turning every known failure into a clear module failure."""
    try:
        result = converge(kind, state, module.check_mode, allow_recreate=allow_recreate)
        return kind.finish(result, state, module.check_mode)
    except NotOwned as err:
        module.fail_json(msg=str(err))
    except PlanRefused as err:
        # Nothing was changed; the refused plan (which fields, why) is part of the failure.
        refused = {k: v for k, v in err.result.items() if k not in ("changed", "diff", "msg")}
        module.fail_json(msg=str(err), **refused)
    except WaitFailed as err:
        module.fail_json(msg=str(err), **{kind.kind: kind.result(err.resource)})
    except WaitTimeout as err:
        module.fail_json(msg=str(err), **{kind.kind: kind.result(err.resource)})
    except (BotoCoreError, ClientError) as err:
        # ClientError: AWS answered with an error; BotoCoreError: no answer at all (endpoint unreachable,
        # no credentials, a read timeout). Both end as a module failure naming the resource, never a traceback.
        verb = "AWS refused the request" if isinstance(err, ClientError) else "the request did not reach AWS"
        module.fail_json_aws(err, msg=f"{kind.kind} {kind.name!r}: {verb}")
    raise AssertionError("unreachable: fail_json exits")  # pragma: no cover


def run(module: Any, kind: ResourceKind, state: str, allow_recreate: bool = False) -> None:
    """Converge `kind` and exit the module with its result."""
    module.exit_json(**converge_or_fail(module, kind, state, allow_recreate=allow_recreate))
