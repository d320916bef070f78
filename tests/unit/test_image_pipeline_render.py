"""The image pipeline's pure parts: Image Assistant command lines and answers, session scripts,
catalogue identity through the filters, and the image builder inventory plugin (botocore Stubber)."""

from __future__ import annotations

import copy
import datetime
import importlib
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.catalogue import validate_catalogue
from botocore.stub import Stubber

from tests import windows_scripts as win
from tests.helpers import load_plugin

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((ROOT / "group_vars/all/catalogue.yml").read_text())["app_catalogue"]
DEMO_TENANT = yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]


ia = load_plugin("plugins/filter/image_assistant.py", "test_filter_image_assistant")
scripts = load_plugin("plugins/filter/session_scripts.py", "test_filter_session_scripts")
catalogue_filters = load_plugin("plugins/filter/catalogue.py", "test_filter_catalogue")
inventory_plugin = load_plugin("plugins/inventory/appstream_image_builders.py", "test_inventory_builders")


def command_line_to_argv(line: str) -> list[str]:
    """Windows' CommandLineToArgvW / MSVC runtime rules (2008+), to read back what Windows receives."""
    argv: list[str] = []
    index, length = 0, len(line)
    while index < length:
        while index < length and line[index] in " \t":
            index += 1
        if index >= length:
            break
        current: list[str] = []
        quoted = False
        while index < length:
            char = line[index]
            if char == "\\":
                start = index
                while index < length and line[index] == "\\":
                    index += 1
                count = index - start
                if index < length and line[index] == '"':
                    current.append("\\" * (count // 2))
                    if count % 2:
                        current.append('"')
                        index += 1
                else:
                    current.append("\\" * count)
                continue
            if char == '"':
                if quoted and index + 1 < length and line[index + 1] == '"':
                    current.append('"')
                    index += 2
                    continue
                quoted = not quoted
                index += 1
                continue
            if char in " \t" and not quoted:
                break
            current.append(char)
            index += 1
        argv.append("".join(current))
    return argv


# --------------------------------------------------------------------------
# Image Assistant command lines
# --------------------------------------------------------------------------

ICOSTUDIO = CATALOGUE["icostudio"]["launch"]


def test_add_application_argv_keeps_a_path_with_spaces_as_one_argument():
    argv = ia.image_assistant_argv("add-application", ICOSTUDIO)
    assert argv == [
        "Image-Assistant.exe",
        "add-application",
        "--name",
        "IcoStudio",
        "--absolute-app-path",
        r"C:\Program Files\Iconeus\IcoStudio\IcoStudio.exe",
        "--display-name",
        "IcoStudio",
        "--working-directory",
        r"C:\Program Files\Iconeus\IcoStudio",
    ]


def test_add_application_command_line_quotes_paths_with_spaces():
    line = ia.windows_command_line(ia.image_assistant_argv("add-application", ICOSTUDIO))
    assert line == (
        "Image-Assistant.exe add-application --name IcoStudio "
        r'--absolute-app-path "C:\Program Files\Iconeus\IcoStudio\IcoStudio.exe" '
        r'--display-name IcoStudio --working-directory "C:\Program Files\Iconeus\IcoStudio"'
    )


def test_launch_parameters_with_quotes_and_spaces_are_escaped_for_windows():
    launch = {
        **ICOSTUDIO,
        "launch_parameters": r'--project "C:\Data\My Project" --mode fast',
        "absolute_icon_path": r"C:\Program Files\Iconeus\icon.png",
    }
    argv = ia.image_assistant_argv("add-application", launch)
    line = ia.windows_command_line(argv)
    assert r'--launch-parameters "--project \"C:\Data\My Project\" --mode fast"' in line
    assert command_line_to_argv(line) == argv


@pytest.mark.parametrize(
    "value",
    [
        r"C:\Data\\",
        r"C:\Path With Space\\",
        'say "hi"',
        r"\"already escaped\"",
        r"trailing backslash \\",
        "",
        "tab\tseparated",
        r"\\server\share\Users\%USERNAME%",
    ],
)
def test_every_argument_survives_the_windows_round_trip(value):
    argv = ia.image_assistant_argv(
        "add-application", {"name": "App", "absolute_app_path": r"C:\A b\app.exe", "launch_parameters": value or None}
    )
    assert command_line_to_argv(ia.windows_command_line(argv)) == argv


def test_windows_command_line_matches_ansible_windows_escaping():
    # ConvertTo-EscapedArgument (ansible.windows Process.psm1) on the same inputs.
    assert ia.windows_command_line(["a", "", "b c", 'd"e', "f\\", "g h\\", 'i\\"j']) == (
        'a "" "b c" "d\\"e" f\\ "g h\\\\" "i\\\\\\"j"'
    )


def test_remove_and_list_applications_argv():
    assert ia.image_assistant_argv("remove-application", {"name": "Old App"}) == [
        "Image-Assistant.exe",
        "remove-application",
        "--name",
        "Old App",
    ]
    assert ia.image_assistant_argv("list-applications") == ["Image-Assistant.exe", "list-applications"]
    assert ia.image_assistant_argv("update-default-profile", {}, r"C:\Program Files\Amazon\IA.exe")[0] == (
        r"C:\Program Files\Amazon\IA.exe"
    )


def test_create_image_argv_has_name_description_tags_and_flags_in_a_stable_order():
    argv = ia.image_assistant_argv(
        "create-image",
        {
            "name": "demo-suite-0123456789ab",
            "description": "Analysis suite: icostudio 3.2.0, icobatch 3.2.0",
            "display_name": "demo suite 0123456789ab",
            "tags": {"tenant": "demo", "environment": "dev", "base-image": "AppStream-WinServer2019-07-16-2024"},
            "use_latest_agent_version": True,
            "dry_run": False,
        },
    )
    assert argv == [
        "Image-Assistant.exe",
        "create-image",
        "--name",
        "demo-suite-0123456789ab",
        "--display-name",
        "demo suite 0123456789ab",
        "--description",
        "Analysis suite: icostudio 3.2.0, icobatch 3.2.0",
        "--tags",
        "base-image",
        "AppStream-WinServer2019-07-16-2024",
        "environment",
        "dev",
        "tenant",
        "demo",
        "--use-latest-agent-version",
    ]
    line = ia.windows_command_line(argv)
    assert '--description "Analysis suite: icostudio 3.2.0, icobatch 3.2.0"' in line
    assert command_line_to_argv(line) == argv


def test_dry_run_flag_is_given_only_when_true():
    assert "--dry-run" in ia.image_assistant_argv("create-image", {"name": "x-suite-1", "dry_run": "true"})
    assert "--dry-run" not in ia.image_assistant_argv("create-image", {"name": "x-suite-1", "dry_run": False})


def test_unknown_command_option_and_missing_name_are_refused():
    with pytest.raises(AnsibleFilterError, match="unknown command"):
        ia.image_assistant_argv("delete-image", {})
    with pytest.raises(AnsibleFilterError, match="does not take launch_parameters"):
        ia.image_assistant_argv("remove-application", {"name": "a", "launch_parameters": "-x"})
    with pytest.raises(AnsibleFilterError, match="needs name, absolute_app_path"):
        ia.image_assistant_argv("add-application", {"display_name": "App"})


# --------------------------------------------------------------------------
# Image Assistant answers and the registration plan
# --------------------------------------------------------------------------


def test_status_of_a_successful_answer_is_ok_with_its_message():
    status = ia.image_assistant_status({"rc": 0, "stdout": '{"status": 0, "message": "Success"}\r\n', "stderr": ""})
    assert status["ok"] is True and status["status"] == 0 and status["message"] == "Success"


def test_status_of_an_error_carries_image_assistants_message():
    result = {"rc": 1, "stdout": '{"status": 1, "message": "Application name already exists: IcoStudio"}'}
    status = ia.image_assistant_status(result)
    assert status["ok"] is False
    assert status["message"] == "Application name already exists: IcoStudio"


def test_status_finds_the_json_among_other_output_lines():
    stdout = 'Loading...\r\n{"status": 0, "message": "Image creation started"}\r\n'
    assert ia.image_assistant_status({"rc": 0, "stdout": stdout})["message"] == "Image creation started"


def test_status_without_json_or_with_an_exit_code_is_a_failure():
    assert ia.image_assistant_status({"rc": 255, "stdout": "", "stderr": "Unhandled exception"}) == {
        "ok": False,
        "skipped": False,
        "status": None,
        "message": "Image Assistant gave no JSON answer (exit code 255): Unhandled exception",
        "rc": 255,
        "data": {},
    }
    assert ia.image_assistant_status({"rc": 1, "stdout": '{"status": 0, "message": "?"}'})["ok"] is False


def test_status_of_a_task_skipped_in_check_mode_is_ok():
    assert ia.image_assistant_status({"skipped": True, "changed": False})["ok"] is True


def list_answer(*apps: dict[str, Any]) -> dict[str, Any]:
    stdout = json.dumps({"status": 0, "message": "Success", "applications": list(apps)})
    return ia.image_assistant_status({"rc": 0, "stdout": stdout})


def test_registered_applications_are_read_whatever_the_key_style():
    answer = list_answer(
        {"Name": "IcoStudio", "AbsoluteAppPath": ICOSTUDIO["absolute_app_path"], "DisplayName": "IcoStudio"},
        {"name": "notepad", "absolute_app_path": r"C:\Windows\notepad.exe"},
    )
    registered = ia.image_assistant_registered(answer)
    assert [app["name"] for app in registered] == ["IcoStudio", "notepad"]
    assert registered[0]["absolute_app_path"] == ICOSTUDIO["absolute_app_path"]
    assert registered[1]["display_name"] is None


def test_plan_removes_strangers_adds_missing_and_keeps_matching():
    desired = ia.image_assistant_launchable(CATALOGUE, ["vcredist_2015_2022_x64", "icostudio", "icobatch"])
    registered = ia.image_assistant_registered(
        list_answer(
            {
                "Name": "IcoStudio",
                "AbsoluteAppPath": ICOSTUDIO["absolute_app_path"].upper(),
                "DisplayName": "IcoStudio",
                "WorkingDirectory": ICOSTUDIO["working_directory"] + "\\",
                "AbsoluteIconPath": r"C:\ProgramData\Amazon\Photon\AppCatalogHelper\AppIcons\IcoStudio.png",
            },
            {"Name": "notepad", "AbsoluteAppPath": r"C:\Windows\notepad.exe"},
        )
    )
    plan = ia.image_assistant_plan(registered, desired)
    assert plan == {"remove": ["notepad"], "add": [desired[1]], "keep": ["IcoStudio"]}


def test_plan_replaces_an_application_registered_with_other_launch_parameters():
    desired = [{**ICOSTUDIO, "launch_parameters": "--safe"}]
    registered = ia.image_assistant_registered(
        list_answer({"Name": "IcoStudio", "AbsoluteAppPath": ICOSTUDIO["absolute_app_path"], "LaunchParameters": "-x"})
    )
    plan = ia.image_assistant_plan(registered, [ia.image_assistant_launchable({"a": {"launch": desired[0]}}, ["a"])[0]])
    assert plan["remove"] == ["IcoStudio"] and [app["name"] for app in plan["add"]] == ["IcoStudio"]


def test_plan_of_an_identical_registration_changes_nothing():
    desired = ia.image_assistant_launchable(CATALOGUE, ["icostudio", "icobatch"])
    registered = ia.image_assistant_registered(
        list_answer(
            *[
                {
                    "Name": app["name"],
                    "AbsoluteAppPath": app["absolute_app_path"],
                    "DisplayName": app["display_name"],
                    "WorkingDirectory": app["working_directory"],
                }
                for app in desired
            ]
        )
    )
    assert ia.image_assistant_plan(registered, desired) == {"remove": [], "add": [], "keep": ["IcoStudio", "IcoBatch"]}


def test_launchable_apps_follow_the_install_order_and_skip_libraries():
    order = [e["key"] for e in catalogue_filters.catalogue_resolve(CATALOGUE, ["icobatch", "icostudio"])]
    assert [app["name"] for app in ia.image_assistant_launchable(CATALOGUE, order)] == ["IcoBatch", "IcoStudio"]


# --------------------------------------------------------------------------
# The image: name, description, tags, and the sandbox hook
# --------------------------------------------------------------------------


def demo_image(**overrides: Any) -> dict[str, Any]:
    tenant = {**DEMO_TENANT, **overrides}
    resolved = catalogue_filters.catalogue_resolve(CATALOGUE, tenant["apps"])
    digest = catalogue_filters.catalogue_hash(resolved, tenant["appstream"]["base_image"])
    name = catalogue_filters.catalogue_image_name(tenant["name"], digest)
    return ia.image_assistant_image(tenant, name, digest, CATALOGUE, [e["key"] for e in resolved])


def test_image_carries_the_catalogue_name_and_ownership_tags():
    image = demo_image()
    assert image["name"].startswith("demo-suite-") and len(image["name"]) == len("demo-suite-") + 12
    digest = image["name"].rsplit("-", 1)[1]
    assert image["tags"] == {
        "base-image": "AppStream-WinServer2019-07-16-2024",
        "catalogue-hash": digest,
        "environment": "dev",
        "managed-by": "appstream-tenant-toolkit",
        "tenant": "demo",
    }
    assert "icostudio 3.2.0" in image["description"] and len(image["description"]) <= 256
    assert len(image["display_name"]) <= 100


def test_image_names_aws_refuses_are_rejected():
    with pytest.raises(AnsibleFilterError, match="must not start with 'aws'"):
        ia.image_assistant_image(DEMO_TENANT, "aws-suite-1", "1", CATALOGUE, [])
    with pytest.raises(AnsibleFilterError, match="longer than 100"):
        ia.image_assistant_image(DEMO_TENANT, "a" * 101, "1", CATALOGUE, [])
    with pytest.raises(AnsibleFilterError, match="may only contain"):
        ia.image_assistant_image(DEMO_TENANT, "demo suite", "1", CATALOGUE, [])


def test_long_descriptions_are_cut_to_the_api_limit():
    many = {f"app{i}": {"version": "1.0.0-really-long-version-string"} for i in range(40)}
    image = ia.image_assistant_image(DEMO_TENANT, "demo-suite-1", "1", many, list(many))
    assert len(image["description"]) == 256 and image["description"].endswith("...")


def test_hook_payload_mirrors_create_image():
    image = demo_image()
    apps = ia.image_assistant_launchable(CATALOGUE, ["icostudio"])
    apps[0]["absolute_icon_path"] = r"C:\icons\IcoStudio.png"
    payload = ia.image_assistant_hook_payload(image, "demo-builder", "eu-west-3", apps, True)
    assert payload == {
        "region": "eu-west-3",
        "builder_name": "demo-builder",
        "image_name": image["name"],
        "description": image["description"],
        "display_name": image["display_name"],
        "tags": image["tags"],
        "applications": [
            {
                "name": "IcoStudio",
                "display_name": "IcoStudio",
                "absolute_app_path": ICOSTUDIO["absolute_app_path"],
                "working_directory": ICOSTUDIO["working_directory"],
            }
        ],
        "use_latest_agent_version": True,
    }


# --------------------------------------------------------------------------
# Catalogue identity through the filters
# --------------------------------------------------------------------------


def digest_of(
    catalogue: dict[str, Any], apps: list[str], base_image: str = "AppStream-WinServer2019-07-16-2024"
) -> str:
    return catalogue_filters.catalogue_hash(catalogue_filters.catalogue_resolve(catalogue, apps), base_image)


def test_same_catalogue_gives_the_same_hash_whatever_the_order():
    reordered = dict(reversed(list(copy.deepcopy(CATALOGUE).items())))
    assert digest_of(CATALOGUE, ["icostudio", "icobatch"]) == digest_of(reordered, ["icobatch", "icostudio"])


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("icostudio", "version", "3.2.1"),
        ("vcredist_2015_2022_x64", "sha256", "0" * 63 + "1"),
        ("matlab_runtime_r2021b", "install_args", ["-mode", "silent"]),
    ],
)
def test_any_version_or_checksum_change_gives_a_new_hash(key, field, value):
    changed = copy.deepcopy(CATALOGUE)
    changed[key][field] = value
    assert digest_of(changed, ["icostudio", "icobatch"]) != digest_of(CATALOGUE, ["icostudio", "icobatch"])


def test_description_and_unrequested_apps_do_not_change_the_hash():
    changed = copy.deepcopy(CATALOGUE)
    changed["icostudio"]["description"] = "new words"
    changed["matlab_runtime_r2020b"]["version"] = "9.9 (R2020b Update 9)"
    assert digest_of(changed, ["icostudio"]) == digest_of(CATALOGUE, ["icostudio"])


def test_a_new_base_image_gives_a_new_hash():
    assert digest_of(CATALOGUE, ["icostudio"]) != digest_of(
        CATALOGUE, ["icostudio"], "AppStream-WinServer2019-10-08-2024"
    )


def test_dependencies_install_first():
    order = [e["key"] for e in catalogue_filters.catalogue_resolve(CATALOGUE, ["icostudio", "icobatch"])]
    assert set(order) == {
        "icostudio",
        "icobatch",
        "vcredist_2015_2022_x64",
        "matlab_runtime_r2020b",
        "matlab_runtime_r2021b",
    }
    for app in ("icostudio", "icobatch"):
        for dependency in CATALOGUE[app]["dependencies"]:
            assert order.index(dependency) < order.index(app)


# --------------------------------------------------------------------------
# Session scripts configuration
# --------------------------------------------------------------------------


def session_config(**start: Any) -> dict[str, Any]:
    event = {
        "executables": [
            {"context": "system", "filename": r"C:\AppStream\SessionScripts\TenantToolkit\session-log.bat"},
            {
                "context": "user",
                "filename": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "arguments": r'-NoProfile -File "C:\AppStream\SessionScripts\Tenant Toolkit\map-drives.ps1"',
                "s3LogEnabled": False,
            },
        ],
        "waitingTime": 30,
    }
    event.update(start)
    return {"SessionStart": event}


def test_session_scripts_render_as_json_with_escaped_backslashes():
    rendered = json.dumps(scripts.session_scripts_config(session_config()), indent=2, sort_keys=True)
    assert r'"filename": "C:\\AppStream\\SessionScripts\\TenantToolkit\\session-log.bat"' in rendered
    assert r'"arguments": "-NoProfile -File \"C:\\AppStream\\SessionScripts\\Tenant Toolkit\\map-drives.ps1\""' in (
        rendered
    )
    config = json.loads(rendered)
    assert config["SessionStart"]["executables"][1]["filename"].endswith("powershell.exe")
    assert config["SessionStart"]["executables"][0] == {
        "context": "system",
        "filename": r"C:\AppStream\SessionScripts\TenantToolkit\session-log.bat",
        "arguments": "",
        "s3LogEnabled": True,
    }


def test_an_event_left_out_gets_awss_default():
    config = scripts.session_scripts_config(session_config())
    assert config["SessionTermination"] == {
        "executables": [
            {"context": "system", "filename": "", "arguments": "", "s3LogEnabled": True},
            {"context": "user", "filename": "", "arguments": "", "s3LogEnabled": True},
        ],
        "waitingTime": 30,
    }


def test_waiting_time_above_sixty_seconds_is_rejected():
    with pytest.raises(AnsibleFilterError, match=r"SessionStart.waitingTime: 61 is outside 1..60"):
        scripts.session_scripts_config(session_config(waitingTime=61))


def test_two_user_executables_in_one_event_are_rejected():
    config = session_config()
    config["SessionStart"]["executables"].append({"context": "user", "filename": r"C:\x\second.bat"})
    with pytest.raises(AnsibleFilterError, match="2 user executables"):
        scripts.session_scripts_config(config)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (r"C:\scripts\map-drives.ps1", "must be an .exe or a .bat"),
        (r"scripts\logon.bat", "is not an absolute Windows path"),
        ("C:/scripts/logon.bat", "is not an absolute Windows path"),
    ],
)
def test_executables_other_than_absolute_exe_or_bat_are_rejected(filename, message):
    config = session_config()
    config["SessionStart"]["executables"][0]["filename"] = filename
    with pytest.raises(AnsibleFilterError, match=message):
        scripts.session_scripts_config(config)


def test_every_broken_rule_is_named_at_once():
    errors = scripts.session_scripts_errors(
        {
            "SessionLogon": {},
            "SessionStart": {"executables": [{"context": "admin", "filename": "x.exe", "s3LogEnabled": "yes"}]},
            "SessionTermination": {"executables": [], "waitingTime": "30"},
        }
    )
    assert errors == [
        "SessionLogon: unknown event (allowed: SessionStart, SessionTermination)",
        "SessionStart.executables[0].context: must be one of system, user, got 'admin'",
        "SessionStart.executables[0].filename: 'x.exe' is not an absolute Windows path",
        "SessionStart.executables[0].s3LogEnabled: must be true or false, got 'yes'",
        "SessionTermination.waitingTime: must be a whole number of seconds, got '30'",
    ]


# --------------------------------------------------------------------------
# The image builder inventory plugin
# --------------------------------------------------------------------------

REGION = "eu-west-3"
ARN = "arn:aws:appstream:eu-west-3:123456789012:image-builder/{}"


def described_builder(name: str, state: str, ip: str | None) -> dict[str, Any]:
    builder: dict[str, Any] = {
        "Name": name,
        "Arn": ARN.format(name),
        "State": state,
        "ImageArn": "arn:aws:appstream:eu-west-3::image/AppStream-WinServer2019-07-16-2024",
        "InstanceType": "stream.standard.medium",
        "Platform": "WINDOWS_SERVER_2019",
        "CreatedTime": datetime.datetime(2024, 11, 28, 16, 0, tzinfo=datetime.UTC),
    }
    if ip:
        builder["NetworkAccessConfiguration"] = {"EniPrivateIpAddress": ip, "EniId": "eni-0123"}
    return builder


@pytest.fixture
def stubbed_appstream():
    client = boto3.client("appstream", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber


def stub_region(stubber: Stubber, builders: list[tuple[dict[str, Any], dict[str, str]]]) -> None:
    first, second = builders[:2], builders[2:]
    stubber.add_response("describe_image_builders", {"ImageBuilders": [b for b, _ in first], "NextToken": "page2"}, {})
    stubber.add_response("describe_image_builders", {"ImageBuilders": [b for b, _ in second]}, {"NextToken": "page2"})
    for builder, tags in builders:
        stubber.add_response("list_tags_for_resource", {"Tags": tags}, {"ResourceArn": builder["Arn"]})


BUILDERS = [
    (described_builder("acme-neuro-builder", "RUNNING", "10.40.10.37"), {"tenant": "acme-neuro"}),
    (described_builder("demo-builder", "STOPPED", None), {"tenant": "demo"}),
    (described_builder("handmade", "RUNNING", "10.9.0.5"), {}),
]


def builders_inventory_plugin() -> Any:
    """The plugin as Ansible loads it (through the loader, which registers its documented options)."""
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get("iconeus.tenant_toolkit.appstream_image_builders")
    assert plugin is not None
    return plugin


def parse_inventory(tmp_path: Path, client: Any, config: dict[str, Any]) -> Any:
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader

    source = tmp_path / "lab.appstream_image_builders.yml"
    source.write_text(
        yaml.safe_dump({"plugin": "iconeus.tenant_toolkit.appstream_image_builders", "regions": [REGION], **config})
    )
    plugin = builders_inventory_plugin()
    assert plugin.verify_file(str(source))
    plugin._client_factory = lambda: lambda region: client  # type: ignore[method-assign]
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(source), cache=False)
    return inventory


def test_inventory_groups_builders_by_tenant_and_state(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(tmp_path, client, {})
    stubber.assert_no_pending_responses()
    groups = {name: sorted(h.name for h in group.get_hosts()) for name, group in inventory.groups.items()}
    assert groups["appstream_image_builders"] == ["acme-neuro-builder", "demo-builder", "handmade"]
    assert groups["tenant_acme_neuro"] == ["acme-neuro-builder"]
    assert groups["tenant_demo"] == ["demo-builder"]
    assert groups["state_running"] == ["acme-neuro-builder", "handmade"]
    assert groups["state_stopped"] == ["demo-builder"]


def test_inventory_host_is_a_winrm_target_with_message_encryption_on_the_private_ip(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(tmp_path, client, {})
    host = inventory.get_host("acme-neuro-builder").get_vars()
    assert host["ansible_host"] == "10.40.10.37"
    assert host["ansible_connection"] == "winrm"
    assert host["ansible_port"] == 5985
    assert host["ansible_winrm_scheme"] == "http"
    assert host["ansible_winrm_transport"] == "ntlm"
    assert host["ansible_winrm_message_encryption"] == "always"
    assert "ansible_winrm_server_cert_validation" not in host
    assert host["appstream_tenant"] == "acme-neuro"
    assert host["appstream_image_builder"]["state"] == "RUNNING"
    assert host["appstream_image_builder"]["created_time"] == "2024-11-28T16:00:00+00:00"
    assert "ansible_host" not in inventory.get_host("demo-builder").get_vars()


def test_inventory_host_on_5986_is_an_https_target_checking_the_certificate(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(tmp_path, client, {"port": 5986, "ca_path": "/etc/pki/lab-ca.pem"})
    host = inventory.get_host("acme-neuro-builder").get_vars()
    assert host["ansible_port"] == 5986 and host["ansible_winrm_scheme"] == "https"
    assert host["ansible_winrm_server_cert_validation"] == "validate"
    assert host["ansible_winrm_ca_trust_path"] == "/etc/pki/lab-ca.pem"
    assert "ansible_winrm_message_encryption" not in host


def test_inventory_offers_no_transport_whose_python_packages_are_not_installed(tmp_path, stubbed_appstream):
    client, _stubber = stubbed_appstream
    with pytest.raises(Exception, match="kerberos"):
        parse_inventory(tmp_path, client, {"transport": "kerberos"})


def test_inventory_filters_on_tenant_tag_and_state(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(tmp_path, client, {"tenants": ["acme-neuro", "demo"], "states": ["running"]})
    assert sorted(inventory.hosts) == ["acme-neuro-builder"]


def test_inventory_turns_off_certificate_validation_only_when_asked(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(tmp_path, client, {"port": 5986, "validate_certs": False})
    assert inventory.get_host("handmade").get_vars()["ansible_winrm_server_cert_validation"] == "ignore"


def test_inventory_compose_and_keyed_groups(tmp_path, stubbed_appstream):
    client, stubber = stubbed_appstream
    stub_region(stubber, BUILDERS)
    inventory = parse_inventory(
        tmp_path,
        client,
        {
            "compose": {"builder_type": "appstream_image_builder.instance_type"},
            "keyed_groups": [{"key": "appstream_image_builder.platform", "prefix": "platform"}],
        },
    )
    assert inventory.get_host("handmade").get_vars()["builder_type"] == "stream.standard.medium"
    assert "platform_WINDOWS_SERVER_2019" in inventory.groups


def test_inventory_only_reads_its_own_config_files(tmp_path):
    plugin = builders_inventory_plugin()
    other = tmp_path / "hosts.yml"
    other.write_text("all: {}\n")
    assert not plugin.verify_file(str(other))


def test_inventory_reports_aws_errors_with_the_region(tmp_path, stubbed_appstream):
    from ansible.errors import AnsibleParserError

    client, stubber = stubbed_appstream
    stubber.add_client_error("describe_image_builders", "AccessDeniedException", "not allowed")
    with pytest.raises(AnsibleParserError, match="cannot list the image builders of eu-west-3"):
        parse_inventory(tmp_path, client, {})


def test_group_names_are_safe_for_ansible():
    assert inventory_plugin.tenant_group("acme-neuro") == "tenant_acme_neuro"
    assert inventory_plugin.state_group("PENDING_QUALIFICATION") == "state_pending_qualification"


def test_a_doubled_backslash_is_rejected_at_once():
    # A YAML slip such as 'C:\\AppStream\\x.bat' in a block scalar. The path pattern must stay linear:
    # with nested repetition a near-miss this long would backtrack for ever (no timing asserted:
    # the machine is shared and noisy).
    config = session_config()
    config["SessionStart"]["executables"][0]["filename"] = "C:\\AppStream\\" + "a" * 100_000 + "\\\\log.bat"
    with pytest.raises(AnsibleFilterError, match="is not an absolute Windows path"):
        scripts.session_scripts_config(config)


# --------------------------------------------------------------------------
# Windows Update hold and restore (roles/win_image_base)
# --------------------------------------------------------------------------


def win_service_info_return() -> dict[str, Any]:
    """The RETURN documentation of ansible.windows.win_service_info, as installed."""
    module = importlib.import_module("ansible_collections.ansible.windows.plugins.modules.win_service_info")
    return yaml.safe_load(module.RETURN)["services"]["contains"]


def recorded_by_the_hold(service: dict[str, Any]) -> dict[str, str]:
    """What tasks/hold.yml writes to the registry for the service win_service_info reported."""
    task = win.find_task("win_image_base", "hold.yml", "original Windows Update start mode is recorded")
    items = win.render(task["loop"], win.role_variables("win_image_base"), {"win_image_base_wuauserv": service})
    return {item["name"]: item["data"] for item in items}


def restore_arguments(recorded: dict[str, str] | None) -> dict[str, Any]:
    """The win_service arguments of tasks/restore.yml for what the hold recorded (None: no record)."""
    task = win.find_task("win_image_base", "restore.yml", "Windows Update has its original settings")
    recorded = recorded or {}
    data = {
        "win_image_base_recorded_mode": {"exists": "WuauservStartMode" in recorded}
        | ({"value": recorded["WuauservStartMode"]} if "WuauservStartMode" in recorded else {}),
        "win_image_base_recorded_state": {"exists": "WuauservState" in recorded}
        | ({"value": recorded["WuauservState"]} if "WuauservState" in recorded else {}),
    }
    module, arguments = win.render_task(task, win.role_variables("win_image_base"), data)
    assert module == "ansible.windows.win_service"
    return arguments


def test_win_service_info_reports_a_running_service_as_started():
    # The premise of the restore: the documented state of a running service is "started".
    state = win_service_info_return()["state"]
    assert state["sample"] == "started"
    assert "C(started)" in " ".join(state["description"]) and "running" not in " ".join(state["description"][1:])


def test_restore_starts_windows_update_again_when_it_was_running_before_the_hold():
    running = {"services": [{"name": "wuauserv", "state": "started", "start_mode": "auto"}]}
    recorded = recorded_by_the_hold(running)
    assert recorded == {"WuauservStartMode": "auto", "WuauservState": "started"}
    assert restore_arguments(recorded) == {"name": "wuauserv", "start_mode": "auto", "state": "started"}


@pytest.mark.parametrize("state", ["started", "stopped"])
def test_restore_keeps_a_disabled_windows_update_disabled_and_stopped(state):
    recorded = recorded_by_the_hold({"services": [{"name": "wuauserv", "state": state, "start_mode": "disabled"}]})
    arguments = restore_arguments(recorded)
    assert arguments["start_mode"] == "disabled"
    assert arguments.get("state", "stopped") == "stopped"


@pytest.mark.parametrize("start_mode", ["manual", "delayed"])
def test_restore_puts_back_the_recorded_start_mode_of_a_stopped_service(start_mode):
    recorded = recorded_by_the_hold({"services": [{"name": "wuauserv", "state": "stopped", "start_mode": start_mode}]})
    assert restore_arguments(recorded) == {"name": "wuauserv", "start_mode": start_mode}


# --------------------------------------------------------------------------
# Installers read with the builder's IAM role (roles/win_app_install, instance_role)
# --------------------------------------------------------------------------

ICOSTUDIO_FILE = r"C:\ProgramData\TenantToolkit\installers\icostudio-IcoStudio-3.2.0-x64.msi"


def fetch_arguments(tenant: dict[str, Any]) -> dict[str, Any]:
    task = win.find_task("win_app_install", "fetch_instance_role.yml", "copied from the artifacts bucket")
    data = {
        "tenant_spec": tenant,
        "app_catalogue": CATALOGUE,
        "tenant_apps": ["icostudio"],
        "win_app_install_entry": CATALOGUE["icostudio"],
        "win_app_install_key": "icostudio",
        "win_app_install_file": ICOSTUDIO_FILE,
    }
    module, arguments = win.render_task(task, win.role_variables("win_app_install"), data)
    assert module == "ansible.windows.win_powershell"
    return arguments


def argument_value(arguments: dict[str, Any], command: win.Command, parameter: str) -> Any:
    """What a command receives for -Parameter: a literal, or the win_powershell parameter it names."""
    written = command.argument_of(parameter)
    assert written is not None, f"{command.name} is not given {parameter}"
    if written.startswith("$"):
        return arguments["parameters"].get(written[1:])
    return written.strip("'\"")


def test_read_s3object_uses_the_appstream_machine_role_profile_of_the_builder():
    # AppStream admin guide, "Using an IAM Role to Grant Permissions to Applications and Scripts
    # Running on AppStream 2.0 Streaming Instances": the role's credentials are the profile
    # appstream_machine_role, "specify appstream_machine_role as the credential profile. Otherwise,
    # the operation fails due to insufficient permissions" (PowerShell: -ProfileName).
    arguments = fetch_arguments({"name": "demo", "region": "eu-west-3"})
    reads = [command for command in win.powershell_commands(arguments["script"]) if command.name == "Read-S3Object"]
    assert len(reads) == 1
    assert argument_value(arguments, reads[0], "-ProfileName") == "appstream_machine_role"
    assert argument_value(arguments, reads[0], "-BucketName") == "demo-artifacts"
    assert argument_value(arguments, reads[0], "-Key") == CATALOGUE["icostudio"]["installer_s3_key"]
    assert argument_value(arguments, reads[0], "-File") == ICOSTUDIO_FILE


# --------------------------------------------------------------------------
# `omit` below the top level of a module's options
# --------------------------------------------------------------------------

JINJA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def reaches_omit(text: str, variables: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a template uses `omit`, itself or through the role variables it names."""
    names = set(JINJA_NAME.findall(text)) if ("{{" in text or "{%" in text or seen) else set()
    if "omit" in names:
        return True
    return any(
        reaches_omit(json.dumps(variables[name]), variables, seen | {name})
        for name in names - seen
        if name in variables
    )


def nested_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in nested_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in nested_strings(item)]
    return []


def test_no_module_option_hides_omit_below_its_top_level():
    # `omit` only removes a module option it is the whole value of: inside a mapping such as
    # win_powershell's `parameters`, ansible-core before 2.19 passes the string
    # '__omit_place_holder__<hash>' to the script (the roles declare min_ansible_version 2.17).
    offenders = []
    for role, filename in win.all_role_task_files():
        variables = win.role_variables(role)
        for task in win.role_tasks(role, filename):
            if any(key in task for key in ("include_tasks", "import_tasks", "include_role", "import_role")):
                continue
            module, arguments = win.module_of(task)
            if not isinstance(arguments, dict):
                continue
            for option, value in arguments.items():
                if isinstance(value, str):
                    continue  # a whole option may be omitted
                if any(reaches_omit(text, variables) for text in nested_strings(value)):
                    offenders.append(f"roles/{role}/tasks/{filename}: {task.get('name')}: {module} {option}")
    assert offenders == []


def test_the_installer_read_without_a_region_passes_no_region_at_all():
    arguments = fetch_arguments({"name": "demo"})
    assert "Region" not in arguments["parameters"]
    assert all("__omit_place_holder__" not in str(value) for value in arguments["parameters"].values())
    assert win.syntax_problems(arguments["script"], "powershell") == []
    (read,) = [command for command in win.powershell_commands(arguments["script"]) if command.name == "Read-S3Object"]
    assert read.argument_of("-Region") is None
    assert fetch_arguments({"name": "demo", "region": "eu-west-3"})["parameters"]["Region"] == "eu-west-3"


# --------------------------------------------------------------------------
# Image Assistant update-default-profile
# --------------------------------------------------------------------------


def test_update_default_profile_takes_profile_as_the_admin_guide_documents():
    # AppStream admin guide, "Create Your AppStream 2.0 Image Programmatically by Using the Image
    # Assistant CLI Operations": update-default-profile [--profile <value>], "<domain>\<username>",
    # "." for the domain of a builder not joined to a domain; without it, the Template User.
    assert ia.image_assistant_argv("update-default-profile", {"profile": ".\\ImageBuildAdmin"}) == [
        "Image-Assistant.exe",
        "update-default-profile",
        "--profile",
        ".\\ImageBuildAdmin",
    ]
    assert ia.image_assistant_argv("update-default-profile", {}) == ["Image-Assistant.exe", "update-default-profile"]
    with pytest.raises(AnsibleFilterError, match="does not take profile_name"):
        ia.image_assistant_argv("update-default-profile", {"profile_name": "x"})
    assert ia.image_assistant_argv("reset-user-profile", {"profile": "CORP\\jdoe"})[-2:] == ["--profile", "CORP\\jdoe"]


def test_update_default_profile_runs_only_when_asked():
    # An automated build never signs in as the Template User: there is no profile to copy.
    defaults = win.role_variables("image_assistant")
    assert defaults["image_assistant_update_default_profile"] is False
    block = next(
        task
        for task in yaml.safe_load((ROOT / "roles/image_assistant/tasks/main.yml").read_text())
        if "block" in task and any("update-default-profile" in str(t) for t in task["block"])
    )
    assert block["when"] == "image_assistant_update_default_profile | bool"
    (command,) = [t for t in block["block"] if "ansible.windows.win_command" in t]
    variables = defaults | {"image_assistant_default_profile_user": ".\\ImageBuildAdmin"}
    _, arguments = win.render_task(command, variables)
    assert arguments["argv"] == ["Image-Assistant.exe", "update-default-profile", "--profile", ".\\ImageBuildAdmin"]
    _, arguments = win.render_task(command, defaults)
    assert arguments["argv"] == ["Image-Assistant.exe", "update-default-profile"]


# --------------------------------------------------------------------------
# Detection rules and accepted exit codes (roles/win_app_install)
# --------------------------------------------------------------------------

RESOLVED_KEYS = [entry["key"] for entry in catalogue_filters.catalogue_resolve(CATALOGUE, ["icostudio", "icobatch"])]


def install_role_data(**extra: Any) -> dict[str, Any]:
    return {
        "tenant_spec": {"name": "demo", "region": "eu-west-3"},
        "app_catalogue": CATALOGUE,
        "tenant_apps": RESOLVED_KEYS,
    } | extra


def test_the_probe_finds_each_app_by_its_catalogue_rule():
    task = win.find_task("win_app_install", "probe.yml", "catalogue applications")
    module, arguments = win.render_task(task, win.role_variables("win_app_install"), install_role_data())
    assert module == "ansible.windows.win_powershell"
    rules = json.loads(arguments["parameters"]["Rules"])
    assert [rule["key"] for rule in rules] == RESOLVED_KEYS
    by_key = {rule["key"]: rule for rule in rules}
    assert by_key["vcredist_2015_2022_x64"] == {
        "key": "vcredist_2015_2022_x64",
        "registry": {
            "key": "HKLM:\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64",
            "value": "Version",
            "minimum_version": CATALOGUE["vcredist_2015_2022_x64"]["version"],
        },
    }
    assert by_key["icostudio"] == {"key": "icostudio", "product_id": CATALOGUE["icostudio"]["product_id"]}
    script = arguments["script"]
    assert win.syntax_problems(script, "powershell") == []
    # The registry value is read as data (Get-ItemProperty -LiteralPath), never run.
    reads = [c for c in win.powershell_commands(script) if c.name == "Get-ItemProperty"]
    assert reads and all(c.argument_of("-LiteralPath") for c in reads)
    assert not [c for c in win.powershell_commands(script) if c.name in ("Invoke-Expression", "iex", "cmd", "cmd.exe")]


def package_arguments(key: str) -> dict[str, Any]:
    variables = win.role_variables("win_app_install")
    data = install_role_data(win_app_install_key=key)
    for task in win.role_tasks("win_app_install", "install.yml"):
        if "ansible.builtin.set_fact" in task:
            data |= win.render(task["ansible.builtin.set_fact"], variables, data)
    task = win.find_task("win_app_install", "install.yml", "Ensure the application is installed")
    module, arguments = win.render_task(task, variables, data)
    assert module == "ansible.windows.win_package"
    return arguments


def test_the_vc_runtime_accepts_1638_and_needs_no_bundle_guid():
    arguments = package_arguments("vcredist_2015_2022_x64")
    assert arguments["expected_return_code"] == [0, 3010, 1638]
    assert "product_id" not in arguments
    assert arguments["path"].endswith("\\vcredist_2015_2022_x64-VC_redist.x64-14.40.33816.0.exe")


def test_an_msi_keeps_the_default_exit_codes_its_product_id_and_a_log():
    arguments = package_arguments("icostudio")
    assert arguments["expected_return_code"] == [0, 3010]
    assert arguments["product_id"] == CATALOGUE["icostudio"]["product_id"]
    assert arguments["log_path"] == "C:\\ProgramData\\TenantToolkit\\installers\\icostudio-install.log"


def test_an_app_still_missing_after_its_install_is_named_with_its_rule():
    task = win.find_task("win_app_install", "main.yml", "Ensure every catalogue application is detected")
    data = install_role_data(win_app_install_probe={"result": {"installed": ["icostudio"]}})
    message = win.render(task["ansible.builtin.assert"]["fail_msg"], win.role_variables("win_app_install"), data)
    assert (
        "vcredist_2015_2022_x64 (Version of HKLM\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64" in message
    )
    assert f"icobatch ({CATALOGUE['icobatch']['product_id']})" in message


# --------------------------------------------------------------------------
# Session scripts: nothing a user controls reaches cmd in the system context
# --------------------------------------------------------------------------

HOSTILE_USER = "x&calc=@lab.example"
# AppStream admin guide, "User and Instance Metadata for AppStream 2.0 Fleets": these variables
# exist in the user's context only, and APPSTREAM_SESSION_CONTEXT (machine) carries the session
# context of the streaming URL, which the user can change.
USER_CONTROLLED_VARIABLES = {
    "appstream_stack_name",
    "appstream_user_access_mode",
    "appstream_session_reservation_datetime",
    "appstream_username",
    "appstream_session_id",
    "appstream_session_context",
}
FSX_SHARE = "\\\\amznfsx0a1b2c3d.corp.demo.example\\share"
# The system-context line of the former session-log.bat: cmd expands %AppStream_UserName% before it
# parses the line, so a user named x&calc=@lab.example ran calc as SYSTEM.
FORMER_SESSION_LOG_BAT = (
    "@echo off\r\nsetlocal\r\n"
    'echo %DATE% %TIME% event=%~1 user=%AppStream_UserName% session=%AppStream_Session_ID%>> "%SESSION_LOG%"\r\n'
    "exit /b 0\r\n"
)


def session_tenant(auth: str) -> dict[str, Any]:
    tenant = copy.deepcopy(DEMO_TENANT)
    tenant["auth"] = auth
    tenant["users"] = [{"email": HOSTILE_USER, "first_name": "X", "last_name": "Calc"}]
    return tenant


def rendered_session_scripts(tenant: dict[str, Any], **overrides: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """config.json as the role writes it, and the scripts it installs (file name -> text)."""
    variables = win.role_variables("appstream_session_scripts") | overrides
    data = {"tenant_spec": tenant, "tenant_file_system": {"share_path": FSX_SHARE}}
    tasks = win.role_tasks("appstream_session_scripts")
    (record,) = [task for task in tasks if "ansible.builtin.set_fact" in task]
    config = win.render(record["ansible.builtin.set_fact"], {**variables, **record["vars"]}, data)
    config = config["appstream_session_scripts_rendered"]
    files = {}
    for task in tasks:
        if "ansible.windows.win_template" not in task:
            continue
        if not win.render("{{ " + task["when"] + " }}", variables, data):
            continue
        arguments = win.render(task["ansible.windows.win_template"], variables, data)
        source = arguments["src"]
        files[arguments["dest"].rsplit("\\", 1)[1]] = win.render_template(
            "appstream_session_scripts", source, variables, data
        )
    return config, files


def executables(config: dict[str, Any], context: str) -> list[dict[str, Any]]:
    return [
        executable
        for event in config.values()
        for executable in event["executables"]
        if executable["context"] == context and executable["filename"]
    ]


def script_of(executable: dict[str, Any], files: dict[str, str]) -> tuple[str, str]:
    """The language and text of what a session script entry runs."""
    filename = executable["filename"]
    if filename.lower().endswith(".bat"):
        return "batch", files[filename.rsplit("\\", 1)[1]]
    assert filename.lower().endswith("\\powershell.exe"), filename
    argv = command_line_to_argv(executable["arguments"])
    assert {"-NoProfile", "-NonInteractive"} <= set(argv)
    assert argv[argv.index("-ExecutionPolicy") + 1] == "Bypass"
    return "powershell", files[argv[argv.index("-File") + 1].rsplit("\\", 1)[1]]


def user_variables_read(language: str, text: str) -> set[str]:
    if language == "batch":
        return {name.lower() for name in win.batch_variable_references(text)} & USER_CONTROLLED_VARIABLES
    names = {variable.split(":")[-1].lstrip("${").rstrip("}").lower() for variable in win.powershell_variables(text)}
    names |= {literal.strip("'\"").lower() for literal in win.powershell_strings(text)}
    return names & USER_CONTROLLED_VARIABLES


def test_the_batch_checker_catches_the_former_system_context_log_line():
    assert user_variables_read("batch", FORMER_SESSION_LOG_BAT) == {"appstream_username", "appstream_session_id"}
    line = FORMER_SESSION_LOG_BAT.replace("%AppStream_UserName%", HOSTILE_USER)
    assert "&calc" in line  # what cmd would have parsed as a second command


@pytest.mark.parametrize("auth", ["saml", "userpool"])
def test_no_user_controlled_value_reaches_a_system_context_script(auth):
    config, files = rendered_session_scripts(session_tenant(auth))
    system = executables(config, "system")
    assert {event for event, entry in config.items() for e in entry["executables"] if e in system} == set(config)
    for executable in system:
        language, text = script_of(executable, files)
        assert win.syntax_problems(text, language) == []
        assert user_variables_read(language, text) == set(), executable
    for text in [*files.values(), json.dumps(config)]:
        assert HOSTILE_USER not in text
    # No batch line at all expands a user-controlled variable, whatever its context.
    for name, text in files.items():
        if name.lower().endswith((".bat", ".cmd")):
            assert user_variables_read("batch", text) == set(), name


@pytest.mark.parametrize("auth", ["saml", "userpool"])
def test_the_user_is_recorded_from_the_user_context_by_powershell(auth):
    config, files = rendered_session_scripts(session_tenant(auth))
    (user,) = executables(config, "user")
    assert config["SessionStart"]["executables"].count(user) == 1
    language, text = script_of(user, files)
    assert language == "powershell" and win.syntax_problems(text, language) == []
    assert "appstream_username" in user_variables_read(language, text)
    # Read as data by PowerShell, never handed to cmd or evaluated.
    invoked = {command.name.lower() for command in win.powershell_commands(text)}
    assert not invoked & {"cmd", "cmd.exe", "invoke-expression", "iex", "start-process", "invoke-command"}


# --------------------------------------------------------------------------
# Every Windows script the roles produce is parsed by a real grammar
# --------------------------------------------------------------------------


def hostile_catalogue() -> dict[str, Any]:
    """Valid entries whose values hold quotes, dollars, ampersands and here-string markers."""
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue["icostudio"]["install_args"] = ["ALLUSERS=1", "INSTALLDIR=C:\\O'Brien $(calc) & \"x\"\\'@"]
    catalogue["icostudio"]["launch"]["launch_parameters"] = '--project "C:\\Data\\My Project" \'@ $env:X'
    catalogue["matlab_runtime_r2020b"]["product_id"] = "O'Brien $(calc) & Tools_is1"
    catalogue["vcredist_2015_2022_x64"]["detect"]["registry"]["key"] = "HKLM\\SOFTWARE\\Vendor's $(App) & Co"
    return catalogue


SCRIPT_SCENARIOS: dict[str, dict[str, Any]] = {
    "saml tenant, shipped catalogue": {
        "tenant_spec": session_tenant("saml"),
        "tenant_file_system": {"share_path": FSX_SHARE},
        "app_catalogue": CATALOGUE,
        "tenant_apps": RESOLVED_KEYS,
    },
    "user-pool tenant, hostile catalogue": {
        "tenant_spec": session_tenant("userpool"),
        "tenant_file_system": {},
        "app_catalogue": hostile_catalogue(),
        "tenant_apps": RESOLVED_KEYS,
    },
}
# Operator settings that hold every character a script could trip on.
HOSTILE_DRIVE_MAPS = [
    {"letter": "S", "path": "\\\\fs.corp.example\\share\\O'Brien $(calc) & \"x\"\n'@", "label": "Scratch '@ ${x}"}
]
HOSTILE_SESSION_SETTINGS = {
    "appstream_session_scripts_drive_maps": HOSTILE_DRIVE_MAPS,
    "appstream_session_scripts_log_file": "C:\\Logs\\O'Brien '@ $(calc)\\sessions.log",
}


def playbook_tasks(path: Path) -> list[dict[str, Any]]:
    plays = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        task
        for play in plays
        for part in ("pre_tasks", "tasks", "post_tasks")
        for task in win.flatten(play.get(part) or [])
    ]


def rendered_scripts() -> list[tuple[str, str, str]]:
    """(where, language, text) of every PowerShell and batch script the roles and the Windows scenario produce."""
    scripts: list[tuple[str, str, str]] = []
    sources = [
        (f"roles/{role}/tasks/{name}", role, win.role_tasks(role, name)) for role, name in win.all_role_task_files()
    ]
    sources += [
        (str(path.relative_to(ROOT)), None, playbook_tasks(path))
        for path in sorted((ROOT / "molecule").glob("*/*.yml"))
        if path.name != "molecule.yml"
    ]
    for where, role, tasks in sources:
        variables = win.role_variables(role) if role else {}
        for task in tasks:
            if not any(module in task for module in win.POWERSHELL_MODULES):
                continue
            _, arguments = win.module_of(task)
            for scenario, data in SCRIPT_SCENARIOS.items():
                text = win.render(arguments["script"], {**variables, **(task.get("vars") or {})}, data)
                scripts.append((f"{where}: {task.get('name')} [{scenario}]", "powershell", text))
    for path in sorted(win.ROLES.glob("*/templates/*.j2")):
        language = {".ps1": "powershell", ".bat": "batch", ".cmd": "batch"}.get(Path(path.stem).suffix.lower())
        if language is None:
            continue
        role = path.parts[-3]
        for overrides in ({}, HOSTILE_SESSION_SETTINGS):
            for scenario, data in SCRIPT_SCENARIOS.items():
                text = win.render_template(role, path.name, win.role_variables(role) | overrides, data)
                scripts.append(
                    (
                        f"{path.relative_to(ROOT)} [{scenario}{', hostile settings' if overrides else ''}]",
                        language,
                        text,
                    )
                )
    return scripts


def test_every_rendered_windows_script_parses_without_an_error_node():
    scripts = rendered_scripts()
    inline = {where.split(": ")[0] for where, _, _ in scripts if "/tasks/" in where}
    templates = {where.split(" [")[0] for where, _, _ in scripts if "/templates/" in where}
    # What exists today: a change that stops producing a script must say so here.
    assert {
        "roles/win_image_base/tasks/cleanup.yml",
        "roles/win_image_base/tasks/connection.yml",
        "roles/win_app_install/tasks/probe.yml",
        "roles/win_app_install/tasks/fetch_instance_role.yml",
    } <= inline
    assert templates == {
        "roles/appstream_session_scripts/templates/session-log.ps1.j2",
        "roles/appstream_session_scripts/templates/session-user.ps1.j2",
    }
    problems = {where: found for where, language, text in scripts if (found := win.syntax_problems(text, language))}
    assert problems == {}


def test_the_hostile_catalogue_is_valid():
    assert validate_catalogue(hostile_catalogue()) == []


def test_the_grammar_check_can_fail():
    assert win.syntax_problems("param ([string]$A)\nif ($A {\n", "powershell")
    assert win.syntax_problems("$x = @'\n{{ not rendered }}\n'@\n", "powershell") == [
        "leftover '{{' in the rendered script"
    ]
    assert win.syntax_problems("Write-Output '__omit_place_holder__0123'", "powershell")
    assert win.syntax_problems('@echo off\r\nif "%1"=="" (\r\n', "batch")


# --------------------------------------------------------------------------
# The evidence of a build (plugins/filter/image_build_report.py)
# --------------------------------------------------------------------------

report = load_plugin("plugins/filter/image_build_report.py", "test_filter_image_build_report")
VC_ENTRY = CATALOGUE["vcredist_2015_2022_x64"]


def test_the_vc_runtime_exiting_1638_is_an_accepted_install():
    entry = report.image_build_install_entry(
        {"changed": True, "rc": 1638, "reboot_required": False}, "vcredist_2015_2022_x64", VC_ENTRY, [0, 3010]
    )
    assert entry == {
        "key": "vcredist_2015_2022_x64",
        "version": "14.40.33816.0",
        "action": "installed",
        "rc": 1638,
        "success_exit_codes": [0, 3010, 1638],
        "accepted": True,
        "reboot_required": False,
        "message": "",
        "log_tail": [],
    }


def test_a_failed_msi_keeps_the_end_of_its_log_and_its_exit_code():
    log = "\r\n".join(f"MSI (s) line {number}" for number in range(100))
    result = {"failed": True, "rc": 1603, "msg": "unexpected rc from 'msiexec.exe ...'", "log": log}
    entry = report.image_build_install_entry(result, "icostudio", CATALOGUE["icostudio"])
    assert entry["action"] == "failed" and entry["accepted"] is False and entry["success_exit_codes"] == [0, 3010]
    assert entry["log_tail"] == [f"MSI (s) line {number}" for number in range(60, 100)]
    read = report.image_build_install_entry(result, "icostudio", CATALOGUE["icostudio"], [0], ["last line"])
    assert read["log_tail"] == ["last line"]


def winrm_build(**overrides: Any) -> dict[str, Any]:
    build = {
        "tenant": "demo",
        "environment": "dev",
        "mode": "winrm",
        "builder": "demo-builder",
        "image_name": "demo-suite-0123456789ab",
        "catalogue_hash": "0123456789ab",
        "started": "2026-12-06T10:00:00Z",
        "finished": "2026-12-06T10:40:00Z",
        "installs": [
            *report.image_build_install_entries(CATALOGUE, ["matlab_runtime_r2021b"], "already-installed"),
            report.image_build_install_entry({"rc": 1638}, "vcredist_2015_2022_x64", VC_ENTRY),
            report.image_build_install_entry({"rc": 0}, "icostudio", CATALOGUE["icostudio"], [0, 3010], ["done"]),
        ],
        "detected_after": ["matlab_runtime_r2021b", "vcredist_2015_2022_x64", "icostudio"],
        "list_applications": {
            "source": "Image-Assistant.exe list-applications",
            "status": 0,
            "message": "Success",
            "applications": [dict.fromkeys(ia.LAUNCH_FIELDS) | ICOSTUDIO | {"display_name": "Ico | Studio"}],
            "answer": {"status": 0, "message": "Success", "applications": [{"Name": "IcoStudio"}]},
        },
        "create_image": {
            "request": ["Image-Assistant.exe", "create-image", "--name", "demo-suite-0123456789ab"],
            "dry_run": {"ok": True, "status": 0, "message": "Success"},
            "answer": {"unreachable": True, "message": "The builder dropped the session after create-image."},
        },
        "image": {"name": "demo-suite-0123456789ab", "state": "AVAILABLE"},
        "failure": None,
    }
    return build | overrides


def test_a_winrm_build_gives_the_four_files():
    files = report.image_build_report_files(winrm_build())
    assert list(files) == ["installs.json", "list-applications.json", "create-image.json", "summary.md"]
    installs = json.loads(files["installs.json"])["applications"]
    assert [(app["key"], app["action"], app["rc"], app["detected_after_install"]) for app in installs] == [
        ("matlab_runtime_r2021b", "already-installed", None, True),
        ("vcredist_2015_2022_x64", "installed", 1638, True),
        ("icostudio", "installed", 0, True),
    ]
    assert json.loads(files["list-applications.json"])["answer"]["applications"] == [{"Name": "IcoStudio"}]
    created = json.loads(files["create-image.json"])
    assert created["result"] == "AVAILABLE" and created["answer"]["unreachable"] is True
    summary = files["summary.md"]
    assert "| vcredist_2015_2022_x64 | 14.40.33816.0 | installed | 1638 | 0, 3010, 1638 | yes |" in summary
    assert "| IcoStudio | Ico \\| Studio | C:\\Program Files\\Iconeus\\IcoStudio\\IcoStudio.exe |" in summary


def test_a_build_that_stopped_in_the_builder_says_where():
    failure = {"step": "Ensure the application is installed: icostudio 3.2.0", "message": "unexpected rc\nfrom msiexec"}
    files = report.image_build_report_files(
        winrm_build(failure=failure, detected_after=None, image={"name": "x", "state": None}, create_image=None)
    )
    assert json.loads(files["create-image.json"])["result"] == (
        "failed at Ensure the application is installed: icostudio 3.2.0: unexpected rc\nfrom msiexec"
    )
    result_row = (
        "| Result | failed at Ensure the application is installed: icostudio 3.2.0: unexpected rc from msiexec |"
    )
    assert result_row in files["summary.md"]
    assert json.loads(files["installs.json"])["applications"][1]["detected_after_install"] is None
