"""Project wiring: global group_vars reach every kind of playbook; tenants stay separate."""

from __future__ import annotations

import re

import yaml

from tests.helpers import ROOT, run_playbook, write_inventory


def demo_tenant() -> dict:
    return yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]


def test_catalogue_reaches_an_ops_playbook_run_directly():
    run = run_playbook("playbooks/ops/catalogue.yml", ROOT / "inventories" / "demo")
    assert run.rc == 0, run.stdout + run.stderr
    assert re.search(r"image_name: demo-suite-[0-9a-f]{12}", run.stdout), run.stdout
    assert "icostudio" in run.stdout and "vcredist_2015_2022_x64" in run.stdout


def test_catalogue_reaches_playbooks_imported_from_site(tmp_path):
    run = run_playbook("site.yml", ROOT / "inventories" / "demo", args=["--tags", "validate", "-v"])
    assert run.rc == 0, run.stdout + run.stderr
    assert run.recap["demo"]["failed"] == 0
    assert re.search(r"image_name.{0,4}demo-suite-[0-9a-f]{12}", run.stdout), run.stdout


def test_two_inventories_keep_their_own_definitions(tmp_path):
    other = demo_tenant()
    other["name"] = "otherlab"
    other["apps"] = ["icobatch"]
    inventory = write_inventory(tmp_path / "otherlab", other)
    run = run_playbook("playbooks/ops/catalogue.yml", [ROOT / "inventories" / "demo", inventory])
    assert run.rc == 0, run.stdout + run.stderr
    assert set(run.recap) == {"demo", "otherlab"}
    blocks = dict(re.findall(r"ok: \[(\w+)\] =>(.*?)(?=ok: \[|PLAY RECAP)", run.stdout, re.DOTALL))
    demo_block, other_block = blocks["demo"], blocks["otherlab"]
    assert "icostudio" in demo_block and "demo-suite-" in demo_block
    assert "icostudio" not in other_block and "otherlab-suite-" in other_block


# The stages in the order site.yml runs them; each is also a playbook of its own (lock.yml takes each
# tenant's lock once per run, right after validation).
STAGES = [
    "validate",
    "lock",
    "network",
    "directory",
    "storage",
    "directory_content",
    "image",
    "share",
    "fleet",
    "stack",
    "users",
    "guardrails",
    "alerts",
    "ingest",
    "summary",
]


def test_site_is_the_stage_playbooks_in_order_and_nothing_else():
    site = yaml.safe_load((ROOT / "site.yml").read_text())
    assert all(set(entry) <= {"name", "ansible.builtin.import_playbook", "vars", "tags"} for entry in site), site
    assert [entry["ansible.builtin.import_playbook"] for entry in site] == [
        f"playbooks/{stage}.yml" for stage in STAGES
    ]
    for stage in STAGES:
        assert (ROOT / "playbooks" / f"{stage}.yml").is_file(), stage


def test_site_overlaps_the_directory_and_file_system_creations():
    """site.yml starts the directory and the file system without waiting; later stages wait for them."""
    site = {
        entry["ansible.builtin.import_playbook"]: entry for entry in yaml.safe_load((ROOT / "site.yml").read_text())
    }
    assert site["playbooks/directory.yml"]["vars"] == {"aws_directory_wait": False}
    assert site["playbooks/storage.yml"]["vars"] == {"aws_file_storage_wait": False}
    order = list(site)
    assert order.index("playbooks/image.yml") < order.index("playbooks/share.yml"), "FSx is awaited after the image"


def test_the_sandbox_admin_api_is_called_from_the_sandbox_task_file_only():
    """Production runs never touch /_sandbox/: the one task file that does is included only for a run aimed
    at an endpoint of its own (the image stage's sandbox_hook build mode is an explicit opt-in of its own)."""
    callers = sorted(
        path.relative_to(ROOT).as_posix()
        for path in [ROOT / "site.yml", *(ROOT / "roles").rglob("*.yml"), *(ROOT / "playbooks").glob("**/*.yml")]
        if "/_sandbox/" in path.read_text() and "group_vars" not in path.parts
    )
    # The image stage (its builder's start) and the builder bootstrap runbook: their create-image hook, in the
    # sandbox_hook mode only.
    assert callers == [
        "playbooks/ops/builder_bootstrap.yml",
        "playbooks/tasks/image_start_builder.yml",
        "playbooks/tasks/sandbox.yml",
    ]
    for hook_user in ("tasks/image_start_builder.yml", "ops/builder_bootstrap.yml"):
        text = (ROOT / "playbooks" / hook_user).read_text()
        assert text.count("/_sandbox/") == 1 and "sandbox_hook" in text, hook_user
    includes = []
    for playbook in (ROOT / "playbooks").glob("*.yml"):
        for play in yaml.safe_load(playbook.read_text()):
            for task in play.get("tasks", []):
                if task.get("ansible.builtin.include_tasks") == "tasks/sandbox.yml":
                    includes.append((playbook.name, task["when"]))
    assert sorted(name for name, _ in includes) == ["directory_content.yml", "ingest.yml", "share.yml"]
    for name, when in includes:
        conditions = when if isinstance(when, list) else [when]
        assert any("aws_endpoint_url is defined" in condition for condition in conditions), name


# Playbooks that validate tenants but change none of their resources, so take no tenant lock.
UNLOCKED = {
    "playbooks/summary.yml": "prints what validation found",
    "playbooks/bootstrap.yml": "the account bootstrap makes the state store the locks live in",
    "playbooks/ops/unlock.yml": "removes the lock of a run that is gone; it cannot hold the lock it removes",
    "playbooks/ops/catalogue.yml": "resolves the catalogue without an AWS call",
    "playbooks/ops/history.yml": "reads the state store's history",
    "playbooks/ops/portfolio.yml": "reads every tenant and writes a report",
    "playbooks/ops/report.yml": "reads the tenant and writes a report",
    "playbooks/ops/usage.yml": "reads usage and writes a report",
    "playbooks/ops/streaming_url.yml": "asks AppStream for a URL; no resource changes",
    "playbooks/ops/ingest_sync.yml": "starts DataSync executions only (operator guide: ingest is not locked)",
    "playbooks/ops/builder_bootstrap.yml": "an account-level bootstrap builder, not the tenant's resources",
}


def test_every_playbook_that_changes_a_tenant_locks_it_after_validation():
    for path in sorted([*ROOT.glob("playbooks/*.yml"), *ROOT.glob("playbooks/ops/*.yml")]):
        plays = yaml.safe_load(path.read_text()) or []
        if not isinstance(plays, list):
            continue
        imports = [str(play.get("ansible.builtin.import_playbook", "")) for play in plays if isinstance(play, dict)]
        names = [name.rsplit("/", 1)[-1] for name in imports]
        relative = str(path.relative_to(ROOT))
        if "validate.yml" not in names or relative in UNLOCKED:
            continue
        # Right after validation, or after checks that make no AWS call (ops/users.yml refuses SAML tenants first).
        assert "lock.yml" in names[names.index("validate.yml") + 1 :], f"{relative} changes a tenant without its lock"


# What validation and the lock set, and the only places that set them: the later imports of validate.yml and
# lock.yml in a run leave a tenant done out of their hosts, so nothing may change these facts after them.
SETTERS = {
    ("playbooks/validate.yml", "tenant_spec"): "the normalised definition, once per run",
    ("playbooks/validate.yml", "tenant_validated"): "the proof of validation",
    ("playbooks/validate.yml", "tenant_run_tenants"): "the run's tenant names and ranges, read once per play",
    ("playbooks/lock.yml", "tenant_lock"): "this run's lock",
    ("playbooks/tasks/image_start_builder.yml", "tenant_spec"): "add_host of the WinRM builder (a host, not a tenant)",
}


def test_only_validation_and_the_lock_set_what_they_make_and_no_play_reloads_the_inventory():
    found = set()
    for path in sorted([ROOT / "site.yml", *ROOT.glob("playbooks/**/*.yml"), *ROOT.glob("roles/**/*.yml")]):
        relative = path.relative_to(ROOT).as_posix()
        if "/meta/" in relative:  # argument specs describe options, they set nothing
            continue
        text = path.read_text()
        assert "refresh_inventory" not in text, f"{relative} reloads the inventory (it would drop the run's groups)"
        made = r"^\s+(tenant_spec|tenant_validated|tenant_run_tenants|tenant_lock):"
        for name in re.findall(made, text, re.MULTILINE):
            found.add((relative, name))
    assert found == set(SETTERS), sorted(found ^ set(SETTERS))


def test_the_saml_and_ingest_stages_take_their_group_of_the_run_with_one_expression():
    """directory, storage, directory content and share take this run's SAML tenants, ingest its tenants with an
    ingest, all with the same expression (every tenant when validation did not run); no other play does."""
    expressions = {}
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            hosts = str(play.get("hosts", ""))
            if "tenant_toolkit_saml_" in hosts or "tenant_toolkit_ingest_" in hosts:
                expressions[path.name] = hosts
    assert sorted(expressions) == ["directory.yml", "directory_content.yml", "ingest.yml", "share.yml", "storage.yml"]
    assert len({hosts.replace("tenant_toolkit_ingest_", "tenant_toolkit_saml_") for hosts in expressions.values()}) == 1
    assert "('tenant_toolkit_validated_' ~ run) not in groups" in expressions["ingest.yml"]
    assert "tenant_toolkit_ingest_" in expressions["ingest.yml"] and "saml" not in expressions["ingest.yml"]
