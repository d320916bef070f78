# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift across tenants: the plan of every tenant (site.yml --check --diff) read back as a verdict.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ plan | drift_summary(tenants, run_rc, output_tail) }}  -> {summary, tenants: {name: {status, ...}}}
    {{ drift | drift_html }}                                   -> a self-contained HTML page

`plan` is the file the tenant_state callback writes at the end of a run (TENANT_TOOLKIT_PLAN_FILE): per
host, the tasks that reported a change (in check mode: that would change something) with their diffs,
the failures and the recap. A tenant is

- ``in_sync`` when its plan ran to the end and no task would change anything;
- ``drifted`` when its plan ran to the end and some task would change something (a converge would);
- ``error`` when its plan could not be made (a task failed, the tenant was unreachable, the plan did not
  run to its end or never reached it): never counted as in sync.

The exit status of drift.yml follows ``terraform plan -detailed-exitcode``: 0 when every tenant is in
sync, 2 otherwise; ``summary.status`` (and each tenant's ``status``) tells a drift from an error.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

IN_SYNC = "in_sync"
DRIFTED = "drifted"
ERROR = "error"


def _tenant_verdict(host: Mapping[str, Any] | None, run_failed: str | None) -> dict[str, Any]:
    if host is None:
        reason = run_failed or "the plan never reached this tenant"
        return {"status": ERROR, "changes": [], "errors": [reason], "recap": {}}
    changes = list(host.get("changes") or [])
    failures = [f for f in host.get("failures") or [] if not f.get("ignored")]
    unreachable = list(host.get("unreachable") or [])
    recap = dict(host.get("recap") or {})
    errors = [f"{f.get('task')}: {f.get('msg') or 'failed'}" for f in failures + unreachable]
    if recap.get("failures") or recap.get("unreachable") or errors:
        status = ERROR
        errors = errors or ["the plan failed for this tenant (see the plan's log)"]
    elif run_failed:
        status, errors = ERROR, [run_failed]
    else:
        status = DRIFTED if changes else IN_SYNC
    return {"status": status, "changes": changes, "errors": errors, "recap": recap}


def drift_summary(
    plan: Mapping[str, Any] | None, tenants: Sequence[str], run_rc: int = 0, output_tail: str = ""
) -> dict[str, Any]:
    """Each tenant's verdict, the counts, the overall status and the exit status drift.yml ends with."""
    if plan is not None and not isinstance(plan, Mapping):
        raise AnsibleFilterError(f"drift_summary expects the plan file's document, got {type(plan).__name__}")
    hosts = (plan or {}).get("hosts") or {}
    run_failed = None
    if plan is None:
        tail = f": {output_tail.strip()[-2000:]}" if output_tail and output_tail.strip() else ""
        run_failed = f"the plan did not run to its end (ansible-playbook exit status {run_rc}){tail}"
    verdicts = {str(name): _tenant_verdict(hosts.get(name), run_failed) for name in sorted(tenants)}
    counts = {
        status: sum(1 for v in verdicts.values() if v["status"] == status) for status in (IN_SYNC, DRIFTED, ERROR)
    }
    overall = ERROR if counts[ERROR] else DRIFTED if counts[DRIFTED] else IN_SYNC
    return {
        "run_id": (plan or {}).get("run_id"),
        "started": (plan or {}).get("started"),
        "exit_status": 0 if overall == IN_SYNC else 2,
        "summary": {
            "status": overall,
            "tenants": len(verdicts),
            "in_sync": counts[IN_SYNC],
            "drifted": counts[DRIFTED],
            "errors": counts[ERROR],
            "changes": sum(len(v["changes"]) for v in verdicts.values()),
        },
        "tenants": verdicts,
    }


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)
    return f"<pre>{html.escape(text)}</pre>"


def _change(change: Mapping[str, Any]) -> str:
    parts = [f"<li><strong>{html.escape(str(change.get('task', '?')))}</strong>"]
    parts.append(f" <code>{html.escape(str(change.get('action', '')))}</code>")
    if change.get("censored"):
        parts.append(" (result hidden by no_log)")
    for key in ("actions", "items", "msg"):
        if change.get(key):
            parts.append(f"<div class='detail'>{html.escape(key)}: {_pre(change[key])}</div>")
    diff = change.get("diff")
    for one in diff if isinstance(diff, list) else [diff] if diff else []:
        if isinstance(one, Mapping) and ("before" in one or "after" in one):
            parts.append(
                "<div class='diff'><div><h4>before</h4>"
                + _pre(one.get("before"))
                + "</div><div><h4>after</h4>"
                + _pre(one.get("after"))
                + "</div></div>"
            )
        else:
            parts.append(_pre(one))
    parts.append("</li>")
    return "".join(parts)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1d2733; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; } h4 { margin: .3em 0; font-size: .9em; color: #555; }
.badge { display: inline-block; padding: .1em .6em; border-radius: .8em; font-size: .85em; color: #fff; }
.in_sync { background: #2e7d32; } .drifted { background: #e65100; } .error { background: #b71c1c; }
pre { background: #f5f7fa; padding: .6em; overflow-x: auto; font-size: .85em; margin: .2em 0; }
.diff { display: grid; grid-template-columns: 1fr 1fr; gap: .8em; }
table { border-collapse: collapse; } td, th { border: 1px solid #cfd8dc; padding: .3em .7em; text-align: left; }
li { margin-bottom: .8em; }
"""


def drift_html(drift: Mapping[str, Any]) -> str:
    """A self-contained HTML page (no script, no external file) of a drift_summary result; every value escaped."""
    if not isinstance(drift, Mapping) or "tenants" not in drift:
        raise AnsibleFilterError("drift_html expects the result of drift_summary")
    summary = drift["summary"]
    rows = "".join(
        f"<tr><td><a href='#t-{html.escape(name)}'>{html.escape(name)}</a></td>"
        f"<td><span class='badge {html.escape(v['status'])}'>{html.escape(v['status'])}</span></td>"
        f"<td>{len(v['changes'])}</td><td>{html.escape('; '.join(map(str, v['errors'])))}</td></tr>"
        for name, v in drift["tenants"].items()
    )
    sections = []
    for name, verdict in drift["tenants"].items():
        body = [
            f"<h2 id='t-{html.escape(name)}'>{html.escape(name)} <span class='badge {html.escape(verdict['status'])}'>"
        ]
        body.append(f"{html.escape(verdict['status'])}</span></h2>")
        if verdict["errors"]:
            body.append("<p>Errors (the plan could not be made; this is not a verdict of in sync):</p><ul>")
            body.extend(f"<li>{_pre(error)}</li>" for error in verdict["errors"])
            body.append("</ul>")
        if verdict["changes"]:
            body.append(
                f"<p>A converge (<code>site.yml</code>) would make {len(verdict['changes'])} change(s):</p><ul>"
            )
            body.extend(_change(change) for change in verdict["changes"])
            body.append("</ul>")
        elif verdict["status"] == IN_SYNC:
            body.append("<p>In sync: a converge would change nothing.</p>")
        sections.append("".join(body))
    counts = f"{summary['drifted']} drifted, {summary['errors']} error(s), {summary['in_sync']} in sync"
    title = f"Drift: {summary['status']} ({counts})"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>Plan run {html.escape(str(drift.get('run_id') or '?'))} "
        f"started {html.escape(str(drift.get('started') or '?'))}"
        " (<code>site.yml --check --diff</code> on every tenant, read calls only); "
        f"exit status {int(drift['exit_status'])}.</p>"
        f"<table><thead><tr><th>Tenant</th><th>Status</th><th>Changes</th><th>Errors</th></tr></thead><tbody>{rows}"
        "</tbody></table>" + "".join(sections) + "</body></html>\n"
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"drift_summary": drift_summary, "drift_html": drift_html}
