"""The tenant_secret lookup reads a tenant's secret only when the secret is tagged for that tenant."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from tests.helpers import run_tasks

LOOKUP = "'iconeus.tenant_toolkit.tenant_secret'"

REGION = "eu-west-3"


def _connection(sandbox: SandboxClient) -> str:
    return f"endpoint_url='{sandbox.endpoint}', region='{REGION}', access_key='testing', secret_key='testing'"


def _read(sandbox: SandboxClient, tmp_path: Path, expression: str) -> tuple[int, str, list[dict]]:
    """Evaluate `expression` (a lookup call) in a play; return rc, output (stdout and stderr), AWS calls."""
    run = run_tasks(
        tmp_path,
        [
            {"name": "Read", "ansible.builtin.set_fact": {"got": "{{ " + expression + " }}"}},
            {"name": "Show", "ansible.builtin.debug": {"msg": "GOT={{ got | to_json }}"}},
        ],
        sandbox,
        region=REGION,
    )
    return run.rc, run.stdout + run.stderr, sandbox.log(run.log_mark)


@pytest.fixture
def secrets(sandbox: SandboxClient) -> dict[str, str]:
    client = sandbox.boto3("secretsmanager", REGION)
    tenant = f"sec-{uuid.uuid4().hex[:6]}"
    names = {
        "json": f"{tenant}/directory/admin",
        "plain": f"{tenant}/users/plain",
        "foreign": f"{tenant}/users/foreign",
        "untagged": f"{tenant}/users/untagged",
        "deleted": f"{tenant}/users/deleted",
    }
    owned = [{"Key": "tenant", "Value": tenant}, {"Key": "managed-by", "Value": "appstream-tenant-toolkit"}]
    client.create_secret(
        Name=names["json"], SecretString=json.dumps({"username": "Admin", "password": "J-1"}), Tags=owned
    )
    client.create_secret(Name=names["plain"], SecretString="P-2", Tags=owned)
    client.create_secret(Name=names["foreign"], SecretString="F-3", Tags=[{"Key": "tenant", "Value": "someone-else"}])
    client.create_secret(Name=names["untagged"], SecretString="U-4")
    client.create_secret(Name=names["deleted"], SecretString="D-5", Tags=owned)
    client.delete_secret(SecretId=names["deleted"], RecoveryWindowInDays=7)
    return {"tenant": tenant, **names}


def test_an_owned_secret_is_read_whole_or_by_field(sandbox: SandboxClient, tmp_path: Path, secrets: dict) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    rc, out, calls = _read(
        sandbox,
        tmp_path,
        f"[lookup({LOOKUP}, '{secrets['json']}', tenant='{tenant}', field='password', {conn}),"
        f" lookup({LOOKUP}, '{secrets['plain']}', tenant='{tenant}', field='password', {conn}),"
        f" lookup({LOOKUP}, '{secrets['json']}', tenant='{tenant}', field='username', {conn})]",
    )
    assert rc == 0, out
    assert 'GOT=[\\"J-1\\", \\"P-2\\", \\"Admin\\"]' in out or 'GOT=["J-1", "P-2", "Admin"]' in out, out
    operations = [c["operation"] for c in calls]
    assert operations == ["DescribeSecret", "GetSecretValue"] * 3


def test_a_missing_secret_is_empty_with_skip_and_an_error_otherwise(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict
) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    missing = f"{tenant}/users/nobody"
    rc, out, _ = _read(
        sandbox, tmp_path, f"lookup({LOOKUP}, '{missing}', tenant='{tenant}', on_missing='skip', {conn})"
    )
    assert rc == 0 and 'GOT=""' in out.replace('\\"', '"'), out
    rc, out, _ = _read(sandbox, tmp_path / "b", f"lookup({LOOKUP}, '{missing}', tenant='{tenant}', {conn})")
    assert rc != 0 and f"secret '{missing}' does not exist" in out, out


@pytest.mark.parametrize(("which", "owner"), [("foreign", "'someone-else'"), ("untagged", "None")])
def test_a_secret_of_another_owner_is_refused_without_reading_its_value(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict, which: str, owner: str
) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    rc, out, calls = _read(
        sandbox, tmp_path, f"lookup({LOOKUP}, '{secrets[which]}', tenant='{tenant}', on_missing='skip', {conn})"
    )
    assert rc != 0
    refusal = f"secret '{secrets[which]}' exists but is not owned by tenant '{tenant}' (its tenant tag is {owner})"
    assert refusal in out
    # Said again on its own line naming the host: the tasks that read secrets are no_log, which censors the failure.
    assert f"[ERROR]: localhost: {refusal}" in out, out
    assert [c["operation"] for c in calls] == ["DescribeSecret"]
    assert "F-3" not in out and "U-4" not in out


def test_a_secret_scheduled_for_deletion_is_refused_with_the_way_out(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict
) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    rc, out, _ = _read(sandbox, tmp_path, f"lookup({LOOKUP}, '{secrets['deleted']}', tenant='{tenant}', {conn})")
    assert rc != 0 and "is scheduled for deletion: restore it" in out, out
    assert "D-5" not in out


def _arns(sandbox: SandboxClient, *names: str) -> dict[str, str]:
    client = sandbox.boto3("secretsmanager", REGION)
    return {name: client.describe_secret(SecretId=name)["ARN"] for name in names}


def test_a_secret_the_run_listed_as_the_tenants_is_read_by_arn_in_one_call(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict
) -> None:
    # known_tags is what tenant_tags_info listed in this run (ARN -> tags): the listed secret needs no
    # DescribeSecret; an unlisted one is described first, as without it.
    tenant, conn = secrets["tenant"], _connection(sandbox)
    arns = _arns(sandbox, secrets["json"])
    known = {arns[secrets["json"]]: {"tenant": tenant}}
    rc, out, calls = _read(
        sandbox,
        tmp_path,
        f"[lookup({LOOKUP}, '{secrets['json']}', tenant='{tenant}', field='password', known_tags={known!r}, {conn}),"
        f" lookup({LOOKUP}, '{secrets['plain']}', tenant='{tenant}', field='password', known_tags={known!r}, {conn})]",
    )
    assert rc == 0, out
    assert 'GOT=["J-1", "P-2"]' in out.replace('\\"', '"'), out
    # The listed secret's value in one call (J-1 is its value: the ARN read is that secret), the other described.
    assert [c["operation"] for c in calls] == ["GetSecretValue", "DescribeSecret", "GetSecretValue"]


def test_a_listed_secret_scheduled_for_deletion_since_is_still_refused_with_the_way_out(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict
) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    known = {arn: {"tenant": tenant} for arn in _arns(sandbox, secrets["deleted"]).values()}
    rc, out, calls = _read(
        sandbox, tmp_path, f"lookup({LOOKUP}, '{secrets['deleted']}', tenant='{tenant}', known_tags={known!r}, {conn})"
    )
    assert rc != 0 and "is scheduled for deletion: restore it" in out, out
    assert [c["operation"] for c in calls] == ["GetSecretValue", "DescribeSecret"]
    assert "D-5" not in out


def test_a_listing_of_another_tenant_or_a_look_alike_name_does_not_spare_the_ownership_check(
    sandbox: SandboxClient, tmp_path: Path, secrets: dict
) -> None:
    tenant, conn = secrets["tenant"], _connection(sandbox)
    arns = _arns(sandbox, secrets["foreign"], secrets["plain"])
    # The foreign secret listed with its own owner's tag, and the owned one under a name it does not have.
    known = {arns[secrets["foreign"]]: {"tenant": "someone-else"}}
    look_alike = {arns[secrets["plain"]]: {"tenant": tenant}}
    rc, out, calls = _read(
        sandbox, tmp_path, f"lookup({LOOKUP}, '{secrets['foreign']}', tenant='{tenant}', known_tags={known!r}, {conn})"
    )
    assert rc != 0 and "is not owned by tenant" in out, out
    assert [c["operation"] for c in calls] == ["DescribeSecret"] and "F-3" not in out
    prefix = secrets["plain"][:-1]  # `.../plai`: the listed `.../plain-XXXXXX` is not its secret
    rc, out, calls = _read(
        sandbox,
        tmp_path / "b",
        f"lookup({LOOKUP}, '{prefix}', tenant='{tenant}', on_missing='skip', known_tags={look_alike!r}, {conn})",
    )
    assert rc == 0, out
    assert [c["operation"] for c in calls] == ["DescribeSecret"]


def _service_secret_play(sandbox: SandboxClient, tenant: str, extra: dict) -> list[dict]:
    environment = {"AWS_ENDPOINT_URL": sandbox.endpoint, "AWS_ACCESS_KEY_ID": "testing"}
    environment |= {"AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}
    return [
        {
            "name": "Read or make the service account password",
            "ansible.builtin.include_role": {"name": "ad_structure", "tasks_from": "service_secret"},
            "vars": {
                "tenant_spec": {"name": tenant, "environment": "dev", "region": REGION},
                "tenant_directory": {"name": f"corp.{tenant}.example", "netbios": "CORP"},
                "tenant_aws_environment": environment,
                **extra,
            },
        },
        {
            "name": "Show",
            "ansible.builtin.debug": {
                "msg": "SERVICE={{ ad_structure_service_password | length if ad_structure_service_password is defined "
                "else 'unset' }}"
            },
        },
    ]


def test_a_vault_service_password_is_used_and_nothing_is_stored(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = f"svc-{uuid.uuid4().hex[:6]}"
    vault = {"vault_appstream_service_password": "Vault-Given-Pass-1"}
    run = run_tasks(tmp_path, _service_secret_play(sandbox, tenant, vault), sandbox, region=REGION)
    assert run.rc == 0, run.stdout
    assert "SERVICE=18" in run.stdout
    assert sandbox.log(run.log_mark) == []  # neither read nor stored: AppStream gets the same vault value

    run = run_tasks(tmp_path / "b", _service_secret_play(sandbox, tenant, {}), sandbox, region=REGION)
    assert run.rc == 0, run.stdout
    stored = sandbox.boto3("secretsmanager", REGION).get_secret_value(SecretId=f"{tenant}/directory/appstream-service")
    assert json.loads(stored["SecretString"])["password"] != "Vault-Given-Pass-1"


def test_the_service_secret_entry_point_alone_does_not_read_a_listed_secret(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    """directory_content.yml's service_secret entry point (the directory cannot be reached) with
    ad_structure_service_password_needed=false: a secret the run's listing shows as the tenant's is neither read
    nor generated; one it does not show is read, or generated and stored, as before."""
    tenant = f"svl-{uuid.uuid4().hex[:6]}"
    name = f"{tenant}/directory/appstream-service"
    client = sandbox.boto3("secretsmanager", REGION)

    def play(known: dict, **extra: object) -> list[dict]:
        return _service_secret_play(
            sandbox, tenant, {"ad_structure_service_password_needed": False, "ad_structure_known_tags": known, **extra}
        )

    first = run_tasks(tmp_path / "first", play({}), sandbox, region=REGION)  # nothing listed: generated, stored
    assert first.rc == 0, first.stdout
    assert "SERVICE=24" in first.stdout
    arn = client.describe_secret(SecretId=name)["ARN"]
    stored = client.get_secret_value(SecretId=name)["SecretString"]
    mark = sandbox.log_mark()

    listed = {arn: {"tenant": tenant}}
    for label, check in (("listed", False), ("listed-check", True)):
        run = run_tasks(tmp_path / label, play(listed), sandbox, region=REGION, check=check)
        assert run.rc == 0, run.stdout
        assert "SERVICE=unset" in run.stdout  # neither read nor generated
    assert sandbox.log(mark) == []
    assert client.get_secret_value(SecretId=name)["SecretString"] == stored

    foreign = run_tasks(tmp_path / "foreign", play({arn: {"tenant": "someone-else"}}), sandbox, region=REGION)
    assert foreign.rc == 0 and "SERVICE=24" in foreign.stdout  # read: a listing entry not the tenant's is no proof

    vault = run_tasks(tmp_path / "vault", play(listed, vault_appstream_service_password="Vault-Given-Pass-1"), sandbox)
    assert vault.rc == 0 and "SERVICE=18" in vault.stdout, vault.stdout  # the vault's value wins, as before

    # Scheduled for deletion since the listing: this entry point no longer notices (documented); the main entry
    # point, which needs the value, still refuses it.
    client.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    unnoticed = run_tasks(tmp_path / "deleted", play(listed), sandbox, region=REGION)
    assert unnoticed.rc == 0 and "SERVICE=unset" in unnoticed.stdout, unnoticed.stdout
    needed = run_tasks(
        tmp_path / "needed",
        _service_secret_play(sandbox, tenant, {"ad_structure_known_tags": listed}),
        sandbox,
        region=REGION,
    )
    assert needed.rc != 0 and "scheduled for deletion" in needed.stdout, needed.stdout
