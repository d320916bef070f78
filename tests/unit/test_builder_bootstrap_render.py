"""The account bootstrap's PowerShell script (playbooks/ops/builder_bootstrap.yml), rendered the way the runbook
renders it and parsed by the tree-sitter-powershell grammar: well-formed, doing what the runbook says, and
carrying every operator value as data, never as code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import ops_vars_validate as OPS

from tests import windows_scripts as win

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "ops" / "builder_bootstrap.yml"
TEMPLATE = ROOT / "playbooks" / "ops" / "templates" / "builder_bootstrap.ps1.j2"
TENANT_SPEC = {
    "name": "trial-lab",
    "region": "eu-west-3",
    "appstream": {"base_image": "AppStream-WinServer2019-06-17-2024"},
}

# Values the runbook's own checks accept that hold characters PowerShell, JSON or a here-string could trip on.
HOSTILE_BUT_VALID = {
    "bootstrap_mode": "winrm",
    "image_controller_cidr": "10.40.250.0/28",
    "bootstrap_iam_role_arn": "arn:aws:iam::123456789012:role/path/o.brien+x=y,z@lab",
    "bootstrap_secret_name": "toolkit/boot@strap+x=y.z-é",
    "bootstrap_account": "o.brien_-1",
    "bootstrap_url_validity": 3600,
}
# Values that would never pass those checks: even so, they stay data.
HOSTILE_INVALID = {
    **HOSTILE_BUT_VALID,
    "image_controller_cidr": "10.0.0.0/8'\n'@\nStop-Computer -Force\n@'",
    "bootstrap_secret_name": "x'@\nRemove-Item -Recurse -Force C:\\\n@'$(calc)\"; & calc; \"",
    "bootstrap_account": "$(Invoke-Expression 'calc')` ${env:X}",
}


def plays() -> list[dict[str, Any]]:
    return yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))


def bootstrap_play() -> dict[str, Any]:
    return next(play for play in plays() if play.get("name", "").startswith("Start the bootstrap builder"))


def extra_variables_spec(variables: dict[str, Any]) -> dict[str, Any]:
    task = plays()[0]["tasks"][0]
    spec = win.render(
        task["iconeus.tenant_toolkit.ops_vars_validate"]["spec"], {}, {"bootstrap_mode": variables["bootstrap_mode"]}
    )
    return {"spec": spec, "required_one_of": [], "mutually_exclusive": [], "only_if": [], "ordered": []}


def want(variables: dict[str, Any]) -> dict[str, Any]:
    """What the runbook's first play registers: the variables typed, defaults filled in."""
    checked, errors = OPS.evaluate({**extra_variables_spec(variables), "variables": variables})
    return checked if not errors else {**variables, "bootstrap_output_dir": None}


def render_script(variables: dict[str, Any]) -> str:
    data = {
        "builder_bootstrap_vars": {"variables": want(variables)},
        "tenant_spec": TENANT_SPEC,
        "tenant_aws_environment": {},
    }
    return str(win.render(TEMPLATE.read_text(encoding="utf-8"), bootstrap_play()["vars"], data))


def settings_of(script: str) -> dict[str, Any]:
    """The JSON the script reads its values from: the one single-quoted here-string holding '{'."""
    (literal,) = [
        text for text in win.powershell_strings(script) if text.startswith("@'") and "{" in text.split("\n")[1]
    ]
    return json.loads(literal.split("\n", 1)[1].rsplit("\n", 1)[0])


def shape(script: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The commands of a script with the data here-string's content left out."""
    return [
        (
            found.name,
            tuple(
                (kind, "@'<data>'@" if text.startswith("@'") and "{" in text else text) for kind, text in found.elements
            ),
        )
        for found in win.powershell_commands(script)
    ]


def command(script: str, name: str) -> win.Command:
    found = [found for found in win.powershell_commands(script) if found.name.lower() == name.lower()]
    assert len(found) == 1, f"{len(found)} {name} commands"
    return found[0]


def test_the_hostile_but_valid_values_pass_the_runbook_checks() -> None:
    _checked, errors = OPS.evaluate({**extra_variables_spec(HOSTILE_BUT_VALID), "variables": HOSTILE_BUT_VALID})
    assert errors == []


def test_the_invalid_values_are_refused_naming_each_variable() -> None:
    _checked, errors = OPS.evaluate({**extra_variables_spec(HOSTILE_INVALID), "variables": HOSTILE_INVALID})
    assert {error.split(":")[0] for error in errors} == {
        "image_controller_cidr",
        "bootstrap_secret_name",
        "bootstrap_account",
    }


def test_winrm_mode_needs_the_role_the_builder_reads_the_secret_with() -> None:
    variables = {key: value for key, value in HOSTILE_BUT_VALID.items() if key != "bootstrap_iam_role_arn"}
    _checked, errors = OPS.evaluate({**extra_variables_spec(variables), "variables": variables})
    assert [error.split(":")[0] for error in errors] == ["bootstrap_iam_role_arn"]


@pytest.mark.parametrize("variables", [HOSTILE_BUT_VALID, HOSTILE_INVALID], ids=["hostile but valid", "invalid"])
def test_the_script_parses_without_an_error_node(variables: dict[str, Any]) -> None:
    assert win.syntax_problems(render_script(variables), "powershell") == []


@pytest.mark.parametrize("variables", [HOSTILE_BUT_VALID, HOSTILE_INVALID], ids=["hostile but valid", "invalid"])
def test_every_operator_value_reaches_the_script_as_data_only(variables: dict[str, Any]) -> None:
    script = render_script(variables)
    settings = settings_of(script)
    assert settings["secret_id"] == variables["bootstrap_secret_name"]
    assert settings["account"] == variables["bootstrap_account"]
    assert settings["controller_range"] == variables["image_controller_cidr"]
    # The same commands with the same arguments whatever the values: nothing a value holds became code.
    assert shape(script) == shape(render_script(HOSTILE_BUT_VALID))
    assert not {"stop-computer", "remove-item -recurse -force c:\\", "calc", "invoke-expression"} & {
        found.name.lower() for found in win.powershell_commands(script)
    }


def test_the_password_is_read_through_the_builder_role_profile_and_never_printed() -> None:
    script = render_script(HOSTILE_BUT_VALID)
    read = command(script, "Get-SECSecretValue")
    assert read.argument_of("-ProfileName") == "'appstream_machine_role'"
    assert read.argument_of("-SecretId") == "$settings.secret_id"
    assert read.argument_of("-Region") == "$settings.region"
    assert settings_of(script)["region"] == "eu-west-3"
    printed = [
        text
        for found in win.powershell_commands(script)
        if found.name in ("Write-Output", "Write-Host")
        for _kind, text in found.elements
    ]
    assert printed and not [text for text in printed if "$password" in text.lower() or "secrettext" in text.lower()]


def test_the_account_becomes_a_local_administrator_by_the_well_known_sid() -> None:
    script = render_script(HOSTILE_BUT_VALID)
    assert command(script, "Get-LocalGroup").argument_of("-SID") == "'S-1-5-32-544'"
    assert command(script, "New-LocalUser").argument_of("-Name") == "$settings.account"


def test_winrm_opens_to_the_controller_range_only() -> None:
    script = render_script(HOSTILE_BUT_VALID)
    rule = command(script, "New-NetFirewallRule")
    assert rule.argument_of("-RemoteAddress") == "$settings.controller_range"
    assert rule.argument_of("-Direction") == "Inbound" and rule.argument_of("-Action") == "Allow"
    assert settings_of(script)["winrm_ports"] == [5985, 5986]
    assert command(script, "Set-Service").argument_of("-StartupType") == "Automatic"
    # Only encrypted traffic, never Basic authentication.
    settings_set = [found for found in win.powershell_commands(script) if found.name == "Set-Item"]
    assert {(found.argument_of("-Path"), found.argument_of("-Value")) for found in settings_set} == {
        ("'WSMan:\\localhost\\Service\\AllowUnencrypted'", "$false"),
        ("'WSMan:\\localhost\\Service\\Auth\\Basic'", "$false"),
    }


def test_streaming_instances_lock_the_access_away_at_start() -> None:
    script = render_script(HOSTILE_BUT_VALID)
    task = command(script, "Register-ScheduledTask")
    assert task.argument_of("-TaskName") == "$settings.task"
    triggers = [found for found in win.powershell_commands(script) if found.name == "New-ScheduledTaskTrigger"]
    assert any(("parameter", "-AtStartup") in found.elements for found in triggers)
    assert command(script, "New-ScheduledTaskPrincipal").argument_of("-UserId") == "'S-1-5-18'"
    # The lockdown script the task runs, parsed on its own: it acts only when the instance is no image builder.
    (lockdown,) = [
        text for text in win.powershell_strings(script) if text.startswith("@'") and "Disable-LocalUser" in text
    ]
    body = lockdown.split("\n", 1)[1].rsplit("\n", 1)[0]
    assert win.syntax_problems(body, "powershell") == []
    names = [found.name for found in win.powershell_commands(body)]
    assert {"Disable-LocalUser", "Remove-NetFirewallRule", "Remove-Item", "New-ItemProperty"} <= set(names)
    assert "[Environment]::GetEnvironmentVariable('AppStream_Resource_Type', 'Machine') -eq 'image-builder'" in body


def test_the_runbook_keeps_the_streaming_url_out_of_the_output_unless_asked() -> None:
    tasks = {task["name"]: task for task in win.flatten(bootstrap_play()["tasks"])}
    created = tasks["Create the builder's streaming URL"]
    assert created["no_log"] is True
    written = tasks["Write the streaming URL to a file only the controller's user can read"]
    assert written["ansible.builtin.copy"]["mode"] == "0600" and written["no_log"] is True
    shown = tasks["Show the streaming URL (bootstrap_print_url=true)"]
    assert "builder_bootstrap_want.bootstrap_print_url | bool" in shown["when"]
    paused = tasks["Wait for the operator to run the script in the builder's session"]
    assert "not builder_bootstrap_want.bootstrap_confirmed | bool" in paused["when"]
