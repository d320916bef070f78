#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_lock
version_added: 0.2.0
short_description: Take, release or inspect the lock that lets one run at a time change a tenant
description:
  - Each tenant has at most one lock, an item of the toolkit state store's DynamoDB table (made by
    C(playbooks/bootstrap.yml)), naming the run that holds it and a lease that run renews while it lasts.
  - O(state=acquired) takes the lock for the run O(run_id). The write succeeds only when the tenant is not
    locked, its lease has expired, or the run already holds it (a DynamoDB conditional write, where one
    request decides). While another run holds it, the module waits up to O(wait_timeout) seconds, reporting who
    holds it (run id, operator, host, start, playbook) on the progress file that the C(tenant_progress)
    callback prints, then fails naming that run. A holder whose process is provably gone (it ran on this
    same machine and its pid is gone) is taken over at once.
  - The C(tenant_state) callback renews the lease of each lock its run took and releases it when the
    playbook ends, failed or not. A run killed outright leaves its lock until the lease expires.
  - In check mode nothing is written; the module only says, as a warning, when another run holds the lock.
  - O(state=released) releases the lock of O(run_id) when that run holds it. With O(force=true) it removes the
    lock of another run O(run_id) that is gone (its lease expired, or its process on this machine no longer
    exists) and refuses, naming it, to remove the lock of a live run. A tenant that O(run_id) does not hold is
    left as it is.
  - O(state=inspected) returns the current holder, if any.
  - Taking and releasing a lock are not changes to the tenant, they report C(changed=false). Removing another
    run's lock with O(force=true) is a change.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant whose lock this is.
    type: str
    required: true
  state:
    description: V(acquired) takes the lock, V(released) releases it, V(inspected) only reads it.
    type: str
    choices: [acquired, released, inspected]
    default: acquired
  run_id:
    description:
      - The run taking or releasing the lock (C(lookup('iconeus.tenant_toolkit.run_id'))); with O(force=true),
        the run whose lock is removed. Required unless O(state=inspected).
    type: str
  holder:
    description:
      - What the lock records about the run (C(query('iconeus.tenant_toolkit.run_id', info=true) | first)), namely
        operator, host, pid and start of the controller process, kernel boot id, pid namespace, start time,
        playbook.
    type: dict
    default: {}
  force:
    description: With O(state=released), remove the lock of the run O(run_id) when that run is gone.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds O(state=acquired) waits for another run to release the lock (0 fails at once).
    type: int
    default: 300
  lease_seconds:
    description: How long the lock is valid without a renewal; the C(tenant_state) callback renews it every third of it.
    type: int
    default: 300
  table:
    description: The state store's DynamoDB table.
    type: str
    default: tenant-toolkit-state
  bucket:
    description: The state store's history bucket (default C(tenant-toolkit-state-<account>-<region>)).
    type: str
attributes:
  check_mode:
    details: Only GetItem; a lock held by another run is reported as a warning.
  diff_mode:
    support: none
    details: A lock has no before and after to show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
notes:
  - Needs the state store of the account and region (C(playbooks/bootstrap.yml)); without it the module fails
    and says so.
  - Leases compare the controllers' clocks; keep them on NTP time.
"""

EXAMPLES = r"""
- name: Ensure this run holds the tenant's lock, waiting up to 10 minutes for another run
  iconeus.tenant_toolkit.tenant_lock:
    tenant: acme-neuro
    run_id: "{{ lookup('iconeus.tenant_toolkit.run_id') }}"
    holder: "{{ query('iconeus.tenant_toolkit.run_id', info=true) | first }}"
    wait_timeout: 600

- name: Remove the lock of a run whose controller died
  iconeus.tenant_toolkit.tenant_lock:
    tenant: acme-neuro
    state: released
    force: true
    run_id: r-0123456789ab

- name: Who holds the lock?
  iconeus.tenant_toolkit.tenant_lock:
    tenant: acme-neuro
    state: inspected
  register: acme_lock
"""

RETURN = r"""
lock:
  description: The lock as this run sees it after the module ran, and where the state store is.
  returned: always
  type: dict
  contains:
    tenant:
      description: The tenant.
      type: str
      sample: acme-neuro
    held:
      description: Whether the run O(run_id) holds the lock now.
      type: bool
      sample: true
    run_id:
      description: The run of O(run_id).
      type: str
      sample: r-0123456789ab
    table:
      description: The state store's table.
      type: str
      sample: tenant-toolkit-state
    bucket:
      description: The state store's history bucket as given in O(bucket); null for the account's own.
      type: str
      sample: null
    region:
      description: The region of the state store.
      type: str
      sample: eu-west-3
    endpoint_url:
      description: The endpoint the module used (the sandbox's), else null.
      type: str
      sample: http://127.0.0.1:4566
    lease_seconds:
      description: The lease.
      type: int
      sample: 300
    waited_s:
      description: Seconds spent waiting for another run.
      type: float
      sample: 42.5
    waited_for:
      description: The run waited for, if any.
      type: str
      sample: r-ba9876543210
    took_over:
      description: The run whose lock was taken over because its process on this machine was gone.
      type: str
      sample: null
holder:
  description: The run holding the lock (before a forced removal, the removed one), or null.
  returned: always
  type: dict
  sample:
    run_id: r-ba9876543210
    operator: alice
    host: ctl1
    pid: 4242
    started: "2026-12-06T10:15:03Z"
    playbook: site.yml
    lease_expires: 1796551203.5
"""

import os
import time
from typing import Any

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import delays, report_progress
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import lock
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import (
    RUN_ID_ENV,
    is_run_id,
    local_identity,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import (
    TABLE_NAME,
    StoreMissing,
    missing_message,
)

UNLOCK_HINT = "ansible-playbook playbooks/ops/unlock.yml -i inventories/{tenant} -e force_unlock={run_id}"


class LockModule:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.tenant = module.params["tenant"]
        self.table = module.params["table"]
        # One table per account and region, under a fixed name: no call is needed to find it. The history
        # bucket's name holds the account id, which the tenant_state callback reads when it writes a record.
        self.client = module.client("dynamodb", retry_decorator=retry_decorator())
        self.region = module.region
        self.bucket = module.params["bucket"]
        self.endpoint_url = module.params.get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL")
        self.local = local_identity()

    def lock_result(self, held: bool, **extra: Any) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "held": held,
            "run_id": self.params.get("run_id"),
            "table": self.table,
            "bucket": self.bucket,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "lease_seconds": self.params["lease_seconds"],
            "waited_s": 0.0,
            "waited_for": None,
            "took_over": None,
            **extra,
        }

    def read(self) -> lock.Holder | None:
        return lock.read(self.client, self.table, self.tenant, self.region)

    # -- acquired ------------------------------------------------------------------------------------
    def acquire(self) -> dict[str, Any]:
        run_id = self.params["run_id"]
        if self.module.check_mode:
            current = self.read()
            if (
                current is not None
                and current.run_id != run_id
                and lock.why_gone(current, self.local, time.time()) is None
            ):
                self.module.warn(
                    f"tenant {self.tenant} is locked by {lock.describe(current)}: a real run would wait for it"
                )
            return {"changed": False, "lock": self.lock_result(False), "holder": current.as_dict() if current else None}
        holder = lock.holder_from_params({**self.params["holder"], "run_id": run_id})
        began = time.monotonic()
        pauses = delays(first=1.0, factor=2.0, cap=10.0)
        waited_for: str | None = None
        took_over: str | None = None
        while True:
            now = time.time()
            acquired, current = lock.try_acquire(
                self.client, self.table, self.tenant, holder, self.params["lease_seconds"], now, region=self.region
            )
            if not acquired and current is not None and lock.provably_dead(current, self.local):
                # The holder ran on this machine and its process is gone (a killed run): take its lock over.
                acquired, current_after = lock.try_acquire(
                    self.client,
                    self.table,
                    self.tenant,
                    holder,
                    self.params["lease_seconds"],
                    time.time(),
                    take_over=current.run_id,
                    region=self.region,
                )
                if acquired:
                    took_over = current.run_id
                    self.module.warn(
                        f"tenant {self.tenant}: took over the lock of {lock.describe(current)}, whose process on this "
                        "host no longer exists"
                    )
                current = current_after
            if acquired:
                holder.acquired, holder.lease_seconds = now, self.params["lease_seconds"]
                holder.lease_expires = now + self.params["lease_seconds"]
                waited = round(time.monotonic() - began, 1)
                return {
                    "changed": False,
                    "lock": self.lock_result(True, waited_s=waited, waited_for=waited_for, took_over=took_over),
                    "holder": holder.as_dict(),
                    "msg": (
                        f"run {run_id} holds the lock of {self.tenant}"
                        + (f" after waiting {waited} s for run {waited_for}" if waited_for else "")
                    ),
                }
            if current is None:
                continue  # released between the write and the read: try again at once
            waited_for = current.run_id
            elapsed = time.monotonic() - began
            report_progress(
                "lock of tenant", self.tenant, f"held by {lock.describe(current)}", elapsed, None, self.tenant
            )
            if elapsed >= self.params["wait_timeout"]:
                self.module.fail_json(
                    msg=(
                        f"tenant {self.tenant} is locked by {lock.describe(current)}; waited {int(elapsed)} s "
                        f"(wait_timeout {self.params['wait_timeout']} s). Another run is changing this tenant: wait "
                        "for it to end and run again. If that run is gone (its controller died), its lock expires "
                        "with its lease, or remove it now with "
                        + UNLOCK_HINT.format(tenant=self.tenant, run_id=current.run_id)
                    ),
                    lock=self.lock_result(False, waited_s=round(elapsed, 1), waited_for=current.run_id),
                    holder=current.as_dict(),
                )
            time.sleep(min(next(pauses), max(0.5, self.params["wait_timeout"] - elapsed)))

    # -- released ------------------------------------------------------------------------------------
    def release(self) -> dict[str, Any]:
        run_id = self.params["run_id"]
        if self.params["force"]:
            return self.force_release(run_id)
        current = self.read()
        if current is None or current.run_id != run_id:
            return {"changed": False, "lock": self.lock_result(False), "holder": current.as_dict() if current else None}
        if not self.module.check_mode:
            lock.release(self.client, self.table, self.tenant, run_id)
        return {"changed": False, "lock": self.lock_result(False), "holder": None, "msg": f"released by {run_id}"}

    def force_release(self, run_id: str) -> dict[str, Any]:
        current = self.read()
        if current is None:
            return {
                "changed": False,
                "lock": self.lock_result(False),
                "holder": None,
                "msg": f"tenant {self.tenant} is not locked",
            }
        if current.run_id != run_id:
            # Run `run_id` holds no lock here: nothing to remove (and never another run's lock).
            return {
                "changed": False,
                "lock": self.lock_result(False),
                "holder": current.as_dict(),
                "msg": (
                    f"tenant {self.tenant} is locked by {lock.describe(current)}, not by run {run_id}: nothing removed"
                ),
            }
        gone = lock.why_gone(current, self.local, time.time())
        if gone is None:
            self.module.fail_json(
                msg=(
                    f"refusing to remove the lock of tenant {self.tenant}: {lock.describe(current)} may still be "
                    "running (its lease is being renewed and nothing proves its process gone). Wait for the lease "
                    "to expire if its controller is gone, or stop that run."
                ),
                lock=self.lock_result(False),
                holder=current.as_dict(),
            )
        if not self.module.check_mode and not lock.force_release(self.client, self.table, self.tenant, current):
            self.module.fail_json(
                msg=(
                    f"the lock of tenant {self.tenant} changed while it was being removed (renewed or taken); "
                    "nothing removed"
                ),
                lock=self.lock_result(False),
                holder=current.as_dict(),
            )
        return {
            "changed": True,
            "lock": self.lock_result(False),
            "holder": current.as_dict(),
            "msg": f"{'would remove' if self.module.check_mode else 'removed'} the lock of run {run_id}: {gone}",
        }

    def inspect(self) -> dict[str, Any]:
        current = self.read()
        return {"changed": False, "lock": self.lock_result(False), "holder": current.as_dict() if current else None}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tenant=dict(type="str", required=True),
            state=dict(type="str", choices=["acquired", "released", "inspected"], default="acquired"),
            run_id=dict(type="str"),
            holder=dict(type="dict", default={}),
            force=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=300),
            lease_seconds=dict(type="int", default=lock.DEFAULT_LEASE_SECONDS),
            table=dict(type="str", default=TABLE_NAME),
            bucket=dict(type="str"),
        ),
        required_if=[("state", "acquired", ["run_id"]), ("state", "released", ["run_id"])],
        supports_check_mode=True,
    )
    run_id = module.params["run_id"]
    if run_id is not None and not is_run_id(run_id):
        module.fail_json(msg=f"run_id: {run_id!r} is not a run id (r- and 12 hex digits, from the run_id lookup)")
    # Only the run itself takes or releases its lock: the tenant_state callback gives every process of the
    # run its id (TENANT_TOOLKIT_RUN_ID). Another run's lock is removed with force=true only, which refuses a
    # live run's.
    own = os.environ.get(RUN_ID_ENV, "")
    acting_as_itself = module.params["state"] == "acquired" or (
        module.params["state"] == "released" and not module.params["force"]
    )
    if acting_as_itself and run_id != own:
        module.fail_json(
            msg=f"run_id: {run_id} is not this run's id ({own or 'none: the tenant_state callback is not enabled'}); "
            "a run takes and releases only its own lock (another run's: playbooks/ops/unlock.yml)"
        )
    if module.params["lease_seconds"] < 30:
        module.fail_json(msg="lease_seconds: at least 30 (the callback renews the lease every third of it)")
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout: must be 0 or more seconds")
    tenant = module.params["tenant"]
    try:
        locks = LockModule(module)
        handler = {"acquired": locks.acquire, "released": locks.release, "inspected": locks.inspect}
        module.exit_json(**handler[module.params["state"]]())
    except StoreMissing:
        module.fail_json(msg=f"tenant {tenant}: " + missing_message(None, module.region, "lock table"))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg=f"tenant {tenant}: the lock could not be read or written")


if __name__ == "__main__":
    main()
