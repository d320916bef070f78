# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change history of a tenant: one JSON record per run that changed it, in the state store's bucket.

A record says who changed what and when: the run id, its start and end, the operator (the AWS caller
identity and the local user), the controller host, the toolkit version (galaxy.yml, and the git commit of
the checkout when there is one), the playbook with its tags, every changed task with its diff, the
failures, and the recap. It never holds a secret: Ansible censors the results of no_log tasks before any
callback sees them, and `scrub` removes whatever sits under a key that names a secret.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import history_prefix

RECORD_VERSION = 1
REMOVED = "<removed: secret>"
# Keys whose values are secrets whatever the module says (password, passwd, secret, token, private key,
# credentials...), matched anywhere in a key name, case-insensitively.
SECRET_KEY = re.compile(r"passw(or)?d|passphrase|secret|token|private[_-]?key|credential", re.IGNORECASE)
# Result keys that carry how Ansible ran a task, not what changed.
INTERNAL_KEYS = ("invocation", "_ansible_no_log", "_ansible_verbose_always", "_ansible_item_label")
_KEY_NAME = re.compile(r"^(?P<time>\d{8}T\d{6}Z)-(?P<run_id>.+)\.json$")


def scrub(value: Any) -> Any:
    """`value` with everything under a secret-looking key replaced by a marker (recursively)."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if isinstance(key, str) and SECRET_KEY.search(key) and item not in (None, "", [], {}):
                cleaned[key] = REMOVED
            else:
                cleaned[key] = scrub(item)
        return cleaned
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def change_of(task: str, action: str, role: str | None, result: dict[str, Any]) -> dict[str, Any]:
    """One changed task of a host, as recorded: its name, module, diff(s) and the items that changed."""
    change: dict[str, Any] = {"task": task, "action": action}
    if role:
        change["role"] = role
    if result.get("censored"):
        change["censored"] = True  # a no_log task: Ansible hid its result, only the change itself is known
        return change
    diffs = _diffs(result)
    items = [
        scrub(item.get("_ansible_item_label", item.get("item")))
        for item in result.get("results") or []
        if isinstance(item, dict) and item.get("changed")
    ]
    if diffs:
        change["diff"] = scrub(diffs if len(diffs) > 1 else diffs[0])
    if items:
        change["items"] = items
    for key in ("actions", "msg"):
        if result.get(key) and isinstance(result[key], (str, list)):
            change[key] = scrub(result[key])
    return change


def failure_of(task: str, action: str, result: dict[str, Any], ignored: bool = False) -> dict[str, Any]:
    failure = {"task": task, "action": action, "msg": scrub(result.get("msg") or result.get("reason") or "")}
    if result.get("censored"):
        failure["censored"] = True
    if ignored:
        failure["ignored"] = True
    return failure


def _diffs(result: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    diff = result.get("diff")
    if isinstance(diff, list):
        found.extend(d for d in diff if d)
    elif diff:
        found.append(diff)
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("changed") and item.get("diff"):
            found.extend(item["diff"] if isinstance(item["diff"], list) else [item["diff"]])
    return [strip_internal(d) for d in found]


def strip_internal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_internal(v) for k, v in value.items() if k not in INTERNAL_KEYS}
    return value


def record(
    *,
    tenant: str,
    run: dict[str, Any],
    operator: dict[str, Any],
    toolkit: dict[str, Any],
    playbook: dict[str, Any],
    changes: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    recap: dict[str, int],
    ended: str,
) -> dict[str, Any]:
    """The history record of one run for one tenant."""
    # The recap decides: a failure rescued by a block, or ignored, does not fail the host.
    status = "failed" if recap.get("failures") or recap.get("unreachable") else "ok"
    return {
        "version": RECORD_VERSION,
        "tenant": tenant,
        "run_id": run["run_id"],
        "started": run["started"],
        "ended": ended,
        "status": status,
        "check_mode": bool(playbook.get("check_mode")),
        "operator": operator,
        "controller": run.get("host"),
        "toolkit": toolkit,
        "playbook": playbook,
        "changes": changes,
        "failures": failures,
        "recap": recap,
    }


# -- listing -------------------------------------------------------------------------------------------
def parse_key(tenant: str, key: str) -> dict[str, str] | None:
    """`history/<tenant>/20261206T101503Z-r-0123456789ab.json` -> {time, run_id, key}; None if not a record."""
    prefix = history_prefix(tenant)
    if not key.startswith(prefix):
        return None
    match = _KEY_NAME.match(key[len(prefix) :])
    if match is None:
        return None
    stamp = datetime.datetime.strptime(match["time"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    return {"key": key, "time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "run_id": match["run_id"]}


def select(
    entries: Iterable[dict[str, str]], since: str | None, until: str | None, limit: int | None
) -> list[dict[str, str]]:
    """Newest first, within [since, until] (dates YYYY-MM-DD, both days included), at most `limit`."""
    chosen = [
        entry
        for entry in entries
        if (since is None or entry["time"][:10] >= since) and (until is None or entry["time"][:10] <= until)
    ]
    chosen.sort(key=lambda entry: entry["key"], reverse=True)
    return chosen if not limit else chosen[:limit]


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """The few lines of a record that a listing shows."""
    operator = document.get("operator") or {}
    playbook = document.get("playbook") or {}
    return {
        "time": document.get("started"),
        "run_id": document.get("run_id"),
        "status": document.get("status"),
        "operator": operator.get("user"),
        "caller_arn": operator.get("caller_arn"),
        "controller": document.get("controller"),
        "playbook": playbook.get("path"),
        "tags": playbook.get("tags") or [],
        "changed_tasks": len(document.get("changes") or []),
        "tasks": [change.get("task") for change in document.get("changes") or []],
        "failures": [f"{failure.get('task')}: {failure.get('msg')}" for failure in document.get("failures") or []],
        "toolkit": (document.get("toolkit") or {}).get("version"),
        "commit": (document.get("toolkit") or {}).get("commit"),
    }
