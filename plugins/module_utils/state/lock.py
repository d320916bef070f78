# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time per tenant: a lock item per tenant in the state store's DynamoDB table, held with a
lease its run renews.

- Taking it: PutItem conditioned on `attribute_not_exists(pk) OR lease_expires < :now OR run_id = :me`
  (free, expired, or already this run's). A holder that is provably dead on this very machine (its pid is
  gone, see state.run) is taken over with the extra condition `run_id = :dead`, naming that holder only.
- Renewing: UpdateItem of `lease_expires` conditioned on `run_id = :me`; a failed condition means the
  lease ran out and another run took the lock.
- Releasing: DeleteItem conditioned on `run_id = :me`. Forcing a dead holder's lock away conditions on its
  run id and on the lease expiry read a moment before, so a holder that renews meanwhile keeps its lock.

The time compared is the callers' clock (epoch seconds): controllers must keep NTP time, as leases of a
few minutes tolerate seconds of skew, not minutes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import (
    process_gone,
    process_start,
    same_machine,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import (
    PARTITION_KEY,
    StoreMissing,
    lock_key,
    missing_message,
)

CONDITION_FAILED = "ConditionalCheckFailedException"
TABLE_MISSING = "ResourceNotFoundException"
DEFAULT_LEASE_SECONDS = 300


@dataclass
class Holder:
    """Who holds (or asks for) a tenant's lock: the run and the process that runs it."""

    run_id: str
    operator: str = ""  # the local user
    caller_arn: str = ""  # the AWS identity (STS GetCallerIdentity)
    host: str = ""
    pid: int = 0
    process_start: str = ""
    boot_id: str = ""
    pid_namespace: str = ""
    started: str = ""  # when the run started (ISO 8601, UTC)
    playbook: str = ""
    acquired: float = 0.0
    lease_seconds: int = 0
    lease_expires: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_STRINGS = (
    "run_id",
    "operator",
    "caller_arn",
    "host",
    "process_start",
    "boot_id",
    "pid_namespace",
    "started",
    "playbook",
)
_NUMBERS = ("pid", "acquired", "lease_seconds", "lease_expires")


def holder_from_params(params: dict[str, Any]) -> Holder:
    """A Holder from a plain mapping (the run_id lookup's description, a module option)."""
    known = {key: params[key] for key in (*_STRINGS, *_NUMBERS) if params.get(key) is not None}
    for key in _STRINGS:
        if key in known:
            known[key] = str(known[key])
    for key in ("pid", "lease_seconds"):
        if key in known:
            known[key] = int(known[key])
    for key in ("acquired", "lease_expires"):
        if key in known:
            known[key] = float(known[key])
    return Holder(**known)


def holder_from_item(item: dict[str, Any]) -> Holder:
    """The holder recorded in a DynamoDB item (attribute values typed as {"S": ...} / {"N": ...})."""
    values: dict[str, Any] = {}
    for key in _STRINGS:
        if key in item:
            values[key] = item[key].get("S", "")
    for key in _NUMBERS:
        if key in item:
            values[key] = float(item[key]["N"])
    for key in ("pid", "lease_seconds"):
        if key in values:
            values[key] = int(values[key])
    values.setdefault("run_id", "")
    return Holder(**values)


def item_of(tenant: str, holder: Holder, now: float, lease_seconds: int) -> dict[str, Any]:
    item: dict[str, Any] = {PARTITION_KEY: {"S": lock_key(tenant)}, "tenant": {"S": tenant}}
    for key in _STRINGS:
        value = getattr(holder, key)
        if value:
            item[key] = {"S": str(value)}
    item["pid"] = {"N": str(int(holder.pid))}
    item["acquired"] = {"N": f"{now:.3f}"}
    item["lease_seconds"] = {"N": str(int(lease_seconds))}
    item["lease_expires"] = {"N": f"{now + lease_seconds:.3f}"}
    return item


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def describe(holder: Holder, now: float | None = None) -> str:
    """`run r-0123456789ab (operator alice, arn:..., host ctl1 pid 4242, started ..., playbook site.yml); lease ...`."""
    now = time.time() if now is None else now
    who = [f"operator {holder.operator or '?'}"]
    if holder.caller_arn:
        who.append(f"AWS identity {holder.caller_arn}")
    who.append(f"host {holder.host or '?'} pid {holder.pid or '?'}")
    who.append(f"started {holder.started or '?'}")
    who.append(f"playbook {holder.playbook or '?'}")
    remaining = holder.lease_expires - now
    lease = (
        f"lease expires in {format_seconds(remaining)}"
        if remaining > 0
        else (f"lease expired {format_seconds(-remaining)} ago")
    )
    return f"run {holder.run_id} ({', '.join(who)}); {lease}"


def is_expired(holder: Holder, now: float) -> bool:
    return holder.lease_expires < now


def provably_dead(holder: Holder, local: dict[str, Any], start_of: Any = process_start) -> bool:
    """Whether the holder's process is known gone: it ran on this machine and its pid is gone or reused."""
    return same_machine(holder.as_dict(), local) and process_gone(holder.pid, holder.process_start, start_of)


def why_gone(holder: Holder, local: dict[str, Any], now: float, start_of: Any = process_start) -> str | None:
    """Why the holder can be considered gone (expired lease, or a dead process here); None: it may be alive."""
    if is_expired(holder, now):
        return f"its lease expired {format_seconds(now - holder.lease_expires)} ago"
    if provably_dead(holder, local, start_of):
        return f"its process {holder.pid} on this host ({holder.host}) no longer exists"
    return None


# -- DynamoDB ---------------------------------------------------------------------------------------
def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def _missing(err: Exception, region: str | None) -> StoreMissing:
    return StoreMissing(missing_message(None, region, "lock table"))


def read(client: Any, table: str, tenant: str, region: str | None = None) -> Holder | None:
    try:
        response = client.get_item(TableName=table, Key={PARTITION_KEY: {"S": lock_key(tenant)}}, ConsistentRead=True)
    except Exception as err:
        if _code(err) == TABLE_MISSING:
            raise _missing(err, region) from None
        raise
    item = response.get("Item")
    return holder_from_item(item) if item else None


def try_acquire(
    client: Any,
    table: str,
    tenant: str,
    holder: Holder,
    lease_seconds: int,
    now: float,
    take_over: str | None = None,
    region: str | None = None,
) -> tuple[bool, Holder | None]:
    """One attempt: (True, None) when this run now holds the lock, else (False, the current holder)."""
    condition = "attribute_not_exists(pk) OR lease_expires < :now OR run_id = :me"
    values: dict[str, Any] = {":now": {"N": f"{now:.3f}"}, ":me": {"S": holder.run_id}}
    if take_over:
        condition += " OR run_id = :dead"
        values[":dead"] = {"S": take_over}
    try:
        client.put_item(
            TableName=table,
            Item=item_of(tenant, holder, now, lease_seconds),
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except Exception as err:
        code = _code(err)
        if code == TABLE_MISSING:
            raise _missing(err, region) from None
        if code != CONDITION_FAILED:
            raise
        item = getattr(err, "response", {}).get("Item")
        current = holder_from_item(item) if item else read(client, table, tenant, region)
        return False, current
    return True, None


def renew(client: Any, table: str, tenant: str, run_id: str, lease_seconds: int, now: float) -> bool:
    """Push the lease on; False when this run no longer holds the lock (lost to another run)."""
    try:
        client.update_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": lock_key(tenant)}},
            UpdateExpression="SET lease_expires = :expires, renewed = :now",
            ConditionExpression="run_id = :me",
            ExpressionAttributeValues={
                ":expires": {"N": f"{now + lease_seconds:.3f}"},
                ":now": {"N": f"{now:.3f}"},
                ":me": {"S": run_id},
            },
        )
    except Exception as err:
        if _code(err) == CONDITION_FAILED:
            return False
        raise
    return True


def release(client: Any, table: str, tenant: str, run_id: str) -> bool:
    """Delete the lock if this run holds it; False when it did not (gone, or another run's)."""
    try:
        client.delete_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": lock_key(tenant)}},
            ConditionExpression="run_id = :me",
            ExpressionAttributeValues={":me": {"S": run_id}},
        )
    except Exception as err:
        if _code(err) == CONDITION_FAILED:
            return False
        raise
    return True


def force_release(client: Any, table: str, tenant: str, seen: Holder) -> bool:
    """Delete a gone holder's lock, only if it is still exactly as seen (same run, same lease)."""
    try:
        client.delete_item(
            TableName=table,
            Key={PARTITION_KEY: {"S": lock_key(tenant)}},
            ConditionExpression="run_id = :run AND lease_expires = :expires",
            ExpressionAttributeValues={":run": {"S": seen.run_id}, ":expires": {"N": f"{seen.lease_expires:.3f}"}},
        )
    except Exception as err:
        if _code(err) == CONDITION_FAILED:
            return False
        raise
    return True
