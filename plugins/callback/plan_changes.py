# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: plan_changes
type: aggregate
short_description: Count, per host, the tasks a run changed (in check mode, the planned changes)
version_added: 0.1.0
description:
  - Counts per host the tasks that reported C(changed) (a looped task counts once), names them, and records the
    hosts whose run failed or was unreachable. At the end of the playbook it writes them as JSON to O(output).
  - "Run with C(--check) over C(site.yml) it measures how far each tenant is from its definition: 0 means
    converged. playbooks/ops/portfolio.yml runs the plan this way for every tenant of the portfolio:
    C({\"check_mode\": true, \"hosts\": {\"demo\": {\"changed\": 2, \"tasks\": [...], \"failed\": false}}})."
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - enabled with C(ANSIBLE_CALLBACKS_ENABLED=iconeus.tenant_toolkit.plan_changes)
options:
  output:
    description: Where to write the JSON. Nothing is written when unset.
    type: path
    env:
      - name: TOOLKIT_PLAN_CHANGES_FILE
    ini:
      - section: callback_plan_changes
        key: output
"""

import json
import os
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "iconeus.tenant_toolkit.plan_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[str, dict[str, Any]] = {}

    def _host(self, name: str) -> dict[str, Any]:
        return self.hosts.setdefault(name, {"changed": 0, "tasks": [], "failed": False, "unreachable": False})

    def v2_runner_on_ok(self, result: Any) -> None:
        host = self._host(result._host.get_name())
        if result._result.get("changed", False):
            host["changed"] += 1
            host["tasks"].append(result._task.get_name())

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        host = self._host(result._host.get_name())
        if not ignore_errors:
            host["failed"] = True
            host.setdefault("failure", f"{result._task.get_name()}: {result._result.get('msg', '')}"[:500])

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._host(result._host.get_name())["unreachable"] = True

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._host(result._host.get_name())

    def v2_playbook_on_stats(self, stats: Any) -> None:
        output = self.get_option("output")
        if not output:
            return
        for name in stats.processed:
            self._host(name)
        document = {"check_mode": bool(context.CLIARGS.get("check", False)), "hosts": self.hosts}
        directory = os.path.dirname(os.path.abspath(output))
        os.makedirs(directory, exist_ok=True)
        with open(output, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=True)
