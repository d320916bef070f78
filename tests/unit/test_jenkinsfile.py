"""The Jenkins pipeline, read as text: its stages, its tenant parameter, its commands, no secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JENKINSFILE = (ROOT / "Jenkinsfile").read_text(encoding="utf-8")


def strip_comments_and_strings(groovy: str) -> str:
    """The code without comments and string contents, for structural checks."""
    pattern = r"'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|//[^\n]*|/\*.*?\*/"
    return re.sub(pattern, lambda m: "" if m.group().startswith("/") else '""', groovy, flags=re.DOTALL)


def stage_bodies() -> dict[str, str]:
    """Each stage's text, from its `stage('Name')` to the next one."""
    parts = re.split(r"stage\('([^']+)'\)", JENKINSFILE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_pipeline_is_declarative_with_balanced_blocks() -> None:
    code = strip_comments_and_strings(JENKINSFILE)
    assert code.lstrip().startswith("pipeline {")
    for opening, closing in ("{}", "()", "[]"):
        assert code.count(opening) == code.count(closing), f"unbalanced {opening}{closing}"


@pytest.mark.skipif(
    shutil.which("groovyc") is None or shutil.which("java") is None,
    reason="groovyc not installed (Debian: apt-get install groovy): the Groovy syntax is not compiled",
)
def test_the_pipeline_compiles_as_groovy(tmp_path: Path) -> None:
    # Jenkins runs pipelines on Groovy 2.4 (CPS); Debian's groovy package is 2.4 too.
    script = tmp_path / "Jenkinsfile.groovy"
    script.write_text(JENKINSFILE, encoding="utf-8")
    java = Path(os.path.realpath(shutil.which("java") or "java"))
    env = {**os.environ, "JAVA_HOME": os.environ.get("JAVA_HOME", str(java.parent.parent))}
    result = subprocess.run(
        ["groovyc", "-d", str(tmp_path / "classes"), str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stages_run_in_the_order_of_the_release_process() -> None:
    assert list(stage_bodies()) == ["Tenant", "Lint", "Test", "Plan", "Approval", "Apply", "Report", "Drift"]


def test_a_timer_starts_the_nightly_drift_job() -> None:
    triggers = re.search(r"triggers \{(.*?)\n    \}", JENKINSFILE, flags=re.DOTALL)
    assert triggers and re.search(r"cron\('H [0-5] \* \* \*'\)", triggers.group(1)), "a nightly cron trigger"
    assert "TimerTrigger" in JENKINSFILE and "params.MODE == 'drift'" in JENKINSFILE


@pytest.mark.parametrize("stage", ["Tenant", "Lint", "Test", "Plan", "Approval", "Apply", "Report"])
def test_a_drift_build_runs_none_of_the_release_stages(stage: str) -> None:
    body = stage_bodies()[stage]
    assert re.search(r"when \{\s*beforeAgent true\s*expression \{ !isDriftBuild\(\) \}", body), stage


def test_the_drift_stage_runs_drift_yml_on_every_tenant_and_alerts_on_its_exit_status() -> None:
    drift = stage_bodies()["Drift"]
    assert re.search(r"when \{\s*beforeAgent true\s*expression \{ isDriftBuild\(\) \}", drift)
    assert ".venv/bin/ansible-playbook playbooks/ops/drift.yml $inventories" in drift
    assert "for hosts in inventories/*/hosts.yml" in drift and "demo|example) continue" in drift
    assert "--check" not in drift  # drift.yml plans in check mode itself; nothing else runs
    assert "sh(returnStatus: true" in drift
    assert "status == 0 && verdict == 'in_sync'" in drift
    assert "status == 2 && verdict == 'drifted'" in drift and "unstable(" in drift
    assert "error(" in drift  # an error is told apart from a drift
    assert "archiveArtifacts artifacts: 'drift.log, reports/drift.*" in drift


def test_the_tenant_parameter_is_checked_against_the_existing_inventories() -> None:
    assert re.search(r"string\(name: 'TENANT'", JENKINSFILE)
    tenant_stage = stage_bodies()["Tenant"]
    assert "==~ /^[a-z][a-z0-9-]{2,23}$/" in tenant_stage, "the tenant name rule of the contract"
    assert "inventories/*/hosts.yml" in tenant_stage
    assert "error(" in tenant_stage


@pytest.mark.parametrize(
    ("stage", "command"),
    [
        ("Lint", "make lint"),
        ("Test", "make test"),
        ("Plan", '.venv/bin/ansible-playbook site.yml -i "inventories/$TENANT" --check --diff'),
        ("Apply", '.venv/bin/ansible-playbook site.yml -i "inventories/$TENANT"'),
        ("Report", '.venv/bin/ansible-playbook playbooks/ops/report.yml -i "inventories/$TENANT"'),
    ],
)
def test_each_stage_runs_its_command(stage: str, command: str) -> None:
    assert command in stage_bodies()[stage]


def test_apply_is_not_a_check_run() -> None:
    assert "--check" not in stage_bodies()["Apply"]


def test_a_person_approves_before_apply_without_holding_an_executor() -> None:
    approval = stage_bodies()["Approval"]
    assert "input message:" in approval
    assert "agent" not in strip_comments_and_strings(approval)
    assert JENKINSFILE.index("stage('Approval')") < JENKINSFILE.index("stage('Apply')")


@pytest.mark.parametrize("stage", ["Plan", "Apply", "Report", "Drift"])
def test_aws_stages_take_their_credentials_from_jenkins(stage: str) -> None:
    body = stage_bodies()[stage]
    assert "withCredentials(" in body
    assert "credentialsId: params.AWS_CREDENTIALS" in body
    assert "secretKeyVariable: 'AWS_SECRET_ACCESS_KEY'" in body


def test_the_report_is_archived() -> None:
    assert "archiveArtifacts artifacts: 'reports/*'" in stage_bodies()["Report"]


def test_shell_steps_let_the_shell_expand_the_tenant_not_groovy() -> None:
    # Single-quoted Groovy strings: no interpolation of parameters or secrets into the script text.
    for script in re.findall(r"sh\s+(\"\"\".*?\"\"\"|\"[^\"\n]*\")", JENKINSFILE, flags=re.DOTALL):
        assert "${" not in script, script


@pytest.mark.parametrize(
    "secret",
    [
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
        r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{20,}",
        r"(?i)(password|passwd|token|secret)\s*[=:]\s*['\"][^'\"$]+['\"]",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    ],
)
def test_no_secret_literal_is_written_in_the_pipeline(secret: str) -> None:
    assert not re.search(secret, JENKINSFILE)


# -- the ingest-sync job (jenkins/ingest-sync.Jenkinsfile) ------------------------------------------------
INGEST_SYNC = (ROOT / "jenkins" / "ingest-sync.Jenkinsfile").read_text(encoding="utf-8")


def test_the_ingest_sync_job_is_a_declarative_pipeline_with_balanced_blocks() -> None:
    code = strip_comments_and_strings(INGEST_SYNC)
    assert code.lstrip().startswith("pipeline {")
    for opening, closing in ("{}", "()", "[]"):
        assert code.count(opening) == code.count(closing), f"unbalanced {opening}{closing}"


def test_the_ingest_sync_job_runs_hourly_never_twice_at_once() -> None:
    assert "cron('H * * * *')" in INGEST_SYNC
    assert "disableConcurrentBuilds()" in INGEST_SYNC


def test_the_ingest_sync_job_runs_the_runbook_as_the_scheduler_over_every_inventory() -> None:
    assert ".venv/bin/ansible-playbook playbooks/ops/ingest_sync.yml $args -e scheduled=true" in INGEST_SYNC
    assert '"$INVENTORIES"/*/hosts.yml' in INGEST_SYNC
    assert "==~ /^[A-Za-z0-9_][A-Za-z0-9_\\/-]*$/" in INGEST_SYNC, "the parameter is checked before any shell use"
    assert "credentialsId: params.AWS_CREDENTIALS" in INGEST_SYNC


def test_the_ingest_sync_job_lets_the_shell_expand_its_parameter_and_holds_no_secret() -> None:
    for script in re.findall(r"sh\s+(\"\"\".*?\"\"\"|\"[^\"\n]*\")", INGEST_SYNC, flags=re.DOTALL):
        assert "${" not in script, script
    assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", INGEST_SYNC)
