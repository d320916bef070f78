"""The application catalogue: entry rules, dependency order, hash and image name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.catalogue import (
    WINDOWS_ABSOLUTE_PATH,
    CatalogueError,
    catalogue_hash,
    detection_rules,
    find_cycle,
    image_name,
    image_name_errors,
    resolve_catalogue,
    validate_catalogue,
    validate_resolved,
)

from tests.helpers import load_plugin

ROOT = Path(__file__).resolve().parents[2]

SHA_A = "a" * 63 + "b"
SHA_B = "b" * 63 + "c"


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": "1.0",
        "installer_s3_key": "installers/app-1.0.exe",
        "sha256": SHA_A,
        "install_args": ["/quiet"],
        "product_id": "{11111111-2222-3333-4444-555555555555}",
        "dependencies": [],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not DELETE}


DELETE = object()

LAUNCH = {
    "name": "IcoStudio",
    "display_name": "IcoStudio",
    "absolute_app_path": "C:\\Program Files\\Iconeus\\IcoStudio\\IcoStudio.exe",
    "working_directory": "C:\\Program Files\\Iconeus\\IcoStudio",
}

CATALOGUE: dict[str, Any] = {
    "runtime_a": entry(),
    "runtime_b": entry(sha256=SHA_B),
    "vcredist": entry(),
    "studio": entry(dependencies=["vcredist", "runtime_b"], launch=LAUNCH),
    "batch": entry(dependencies=["vcredist", "runtime_a"], launch=LAUNCH | {"name": "IcoBatch"}),
}


def shipped_catalogue() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "group_vars/all/catalogue.yml").read_text(encoding="utf-8"))["app_catalogue"]


def catalogue_with(key: str, **overrides: Any) -> dict[str, Any]:
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue[key] = entry(**{**CATALOGUE[key], **overrides})
    return catalogue


def assert_rejected(catalogue: Any, path: str, fragment: str) -> None:
    errors = validate_catalogue(catalogue)
    matching = [error for error in errors if error.startswith(f"{path}: ")]
    assert matching, f"no error for {path} in {errors}"
    assert any(fragment in error for error in matching), f"{fragment!r} not in {matching}"


# --------------------------------------------------------------------------
# validate_catalogue
# --------------------------------------------------------------------------


def test_the_test_catalogue_and_the_shipped_catalogue_are_valid() -> None:
    assert validate_catalogue(CATALOGUE) == []
    assert validate_catalogue(shipped_catalogue()) == []


def test_the_shipped_catalogue_has_the_seed_applications() -> None:
    catalogue = shipped_catalogue()
    assert set(catalogue) == {
        "matlab_runtime_r2020b",
        "matlab_runtime_r2021b",
        "vcredist_2015_2022_x64",
        "icostudio",
        "icobatch",
    }
    assert catalogue["vcredist_2015_2022_x64"]["install_args"] == ["/install", "/quiet", "/norestart"]
    assert catalogue["matlab_runtime_r2021b"]["install_args"] == ["-mode", "silent", "-agreeToLicense", "yes"]
    assert (
        catalogue["icostudio"]["launch"]["absolute_app_path"] == "C:\\Program Files\\Iconeus\\IcoStudio\\IcoStudio.exe"
    )


@pytest.mark.parametrize("catalogue", [[], "apps", None, {}])
def test_the_catalogue_is_a_non_empty_mapping(catalogue: Any) -> None:
    errors = validate_catalogue(catalogue)
    assert errors
    assert errors[0].startswith("app_catalogue: ")


@pytest.mark.parametrize("key", ["IcoStudio", "1app", "ico-studio", "ico studio"])
def test_keys_are_lower_case_identifiers(key: str) -> None:
    assert_rejected({key: entry()}, f"app_catalogue.{key}", "the key must be")


@pytest.mark.parametrize("field", ["version", "installer_s3_key", "sha256", "install_args", "product_id"])
def test_required_entry_fields(field: str) -> None:
    assert_rejected(catalogue_with("vcredist", **{field: DELETE}), f"app_catalogue.vcredist.{field}", "is required")


def test_unknown_entry_fields_get_a_suggestion() -> None:
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue["vcredist"]["dependancies"] = []
    assert_rejected(catalogue, "app_catalogue.vcredist.dependancies", "did you mean dependencies?")


def test_version_is_a_string_with_a_yaml_hint() -> None:
    assert_rejected(
        catalogue_with("vcredist", version=9.1), "app_catalogue.vcredist.version", "quote the value in YAML"
    )


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        ("abc", "is not a sha256 digest"),
        (SHA_A.upper(), "is not a sha256 digest"),
        ("0" * 64, "is a filler value"),
        ("g" * 64, "is not a sha256 digest"),
    ],
)
def test_sha256_is_64_lower_case_hex_digits(digest: str, expected: str) -> None:
    assert_rejected(catalogue_with("vcredist", sha256=digest), "app_catalogue.vcredist.sha256", expected)


@pytest.mark.parametrize(("args", "path"), [("/quiet", "install_args"), (["/quiet", 1], "install_args[1]")])
def test_install_args_are_a_list_of_strings(args: Any, path: str) -> None:
    assert validate_catalogue(catalogue_with("vcredist", install_args=[])) == []
    assert_rejected(catalogue_with("vcredist", install_args=args), f"app_catalogue.vcredist.{path}", "must be")


@pytest.mark.parametrize("product_id", ["{12345678-1234-1234-1234-123456789abc}", "MATLAB Runtime 9.9", "App_is1"])
def test_product_id_accepts_a_product_code_or_an_uninstall_key_name(product_id: str) -> None:
    assert validate_catalogue(catalogue_with("vcredist", product_id=product_id)) == []


@pytest.mark.parametrize(
    ("product_id", "expected"),
    [
        ("{1234}", "is not an MSI ProductCode"),
        ("SOFTWARE\\Vendor\\App", "one Uninstall registry key name"),
        ("", "empty"),
    ],
)
def test_product_id_rejects(product_id: str, expected: str) -> None:
    assert_rejected(catalogue_with("vcredist", product_id=product_id), "app_catalogue.vcredist.product_id", expected)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("/installers/app.exe", "must be a relative S3 key"),
        ("installers/../app.exe", "must be a relative S3 key"),
        ("installers\\app.exe", "must be a relative S3 key"),
        ("installers/app.tar.gz", "must end with .exe, .msi, .zip"),
    ],
)
def test_installer_s3_key_rules(key: str, expected: str) -> None:
    assert_rejected(
        catalogue_with("vcredist", installer_s3_key=key), "app_catalogue.vcredist.installer_s3_key", expected
    )


def test_a_zip_installer_names_the_setup_program_inside() -> None:
    zipped = catalogue_with("vcredist", installer_s3_key="installers/runtime.zip", installer_in_archive="setup.exe")
    assert validate_catalogue(zipped) == []
    path = "app_catalogue.vcredist.installer_in_archive"
    assert_rejected(catalogue_with("vcredist", installer_s3_key="installers/runtime.zip"), path, "is required")
    for inner in ("..\\setup.exe", "C:\\setup.exe", "setup.txt"):
        bad = catalogue_with("vcredist", installer_s3_key="installers/runtime.zip", installer_in_archive=inner)
        assert_rejected(bad, path, "must")
    assert_rejected(catalogue_with("vcredist", installer_in_archive="setup.exe"), path, "only allowed")


def test_dependencies_must_exist() -> None:
    assert_rejected(
        catalogue_with("studio", dependencies=["vcredist", "runtime_c"]),
        "app_catalogue.studio.dependencies[1]",
        '"runtime_c" is not in app_catalogue (did you mean runtime_',
    )


def test_an_entry_cannot_depend_on_itself() -> None:
    assert_rejected(catalogue_with("studio", dependencies=["studio"]), "app_catalogue.studio.dependencies", "itself")


def test_dependency_cycles_are_reported_with_their_path() -> None:
    catalogue = catalogue_with("vcredist", dependencies=["studio"])
    assert_rejected(catalogue, "app_catalogue", "dependency cycle vcredist -> studio -> vcredist")
    assert validate_catalogue(CATALOGUE) == []


def test_find_cycle_is_none_for_a_dag_and_the_cycle_otherwise() -> None:
    assert find_cycle(CATALOGUE) is None
    assert find_cycle({"a": {"dependencies": ["b"]}, "b": {"dependencies": ["c"]}, "c": {"dependencies": ["a"]}}) == [
        "a",
        "b",
        "c",
        "a",
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "Ico Studio", "no spaces"),
        ("name", "_IcoStudio", "no spaces"),
        ("name", "I" * 101, "no spaces"),
        ("display_name", "Ico/Studio", "1-100 letters"),
        ("absolute_app_path", "IcoStudio.exe", "is not an absolute Windows path"),
        ("absolute_app_path", "C:/Program Files/IcoStudio.exe", "is not an absolute Windows path"),
        ("absolute_app_path", "C:\\Program Files\\IcoStudio.dll", "must end with .exe or .bat"),
        ("absolute_icon_path", "icons\\studio.png", "is not an absolute Windows path"),
        ("working_directory", "Program Files", "is not an absolute Windows path"),
        ("launch_parameters", "x" * 1025, "longer than the maximum of 1024"),
    ],
)
def test_launch_data_follows_the_image_assistant_rules(field: str, value: str, expected: str) -> None:
    launch = LAUNCH | {field: value}
    assert_rejected(catalogue_with("studio", launch=launch), f"app_catalogue.studio.launch.{field}", expected)


def test_launch_accepts_bat_files_icons_and_parameters() -> None:
    launch = LAUNCH | {
        "absolute_app_path": "C:\\Tools\\start.BAT",
        "absolute_icon_path": "C:\\Tools\\studio.png",
        "launch_parameters": '--profile "%USERPROFILE%"',
    }
    assert validate_catalogue(catalogue_with("studio", launch=launch)) == []


@pytest.mark.parametrize("field", ["name", "display_name", "absolute_app_path"])
def test_launch_required_fields(field: str) -> None:
    launch = {key: value for key, value in LAUNCH.items() if key != field}
    assert_rejected(catalogue_with("studio", launch=launch), f"app_catalogue.studio.launch.{field}", "is required")


def test_launch_names_are_unique() -> None:
    catalogue = catalogue_with("batch", launch=LAUNCH | {"name": "icostudio"})
    assert_rejected(catalogue, "app_catalogue.batch.launch.name", "already the launch name of app_catalogue.studio")


# --------------------------------------------------------------------------
# resolve_catalogue
# --------------------------------------------------------------------------


def keys(entries: list[dict[str, Any]]) -> list[str]:
    return [item["key"] for item in entries]


def test_resolution_puts_dependencies_first_in_key_order() -> None:
    assert keys(resolve_catalogue(CATALOGUE, ["studio", "batch"])) == [
        "runtime_a",
        "runtime_b",
        "vcredist",
        "batch",
        "studio",
    ]


def test_resolution_is_independent_of_request_and_mapping_order() -> None:
    reversed_catalogue = dict(reversed(list(CATALOGUE.items())))
    first = resolve_catalogue(CATALOGUE, ["studio", "batch"])
    assert resolve_catalogue(reversed_catalogue, ["batch", "studio", "batch"]) == first


def test_resolution_includes_only_what_is_needed_transitively() -> None:
    catalogue = catalogue_with("runtime_b", dependencies=["runtime_a"])
    assert keys(resolve_catalogue(catalogue, ["studio"])) == ["runtime_a", "runtime_b", "vcredist", "studio"]
    assert keys(resolve_catalogue(CATALOGUE, ["vcredist"])) == ["vcredist"]


def test_resolution_respects_every_dependency_edge() -> None:
    catalogue = {
        "z_base": entry(),
        "a_mid": entry(dependencies=["z_base"]),
        "top": entry(dependencies=["a_mid"]),
    }
    assert keys(resolve_catalogue(catalogue, ["top"])) == ["z_base", "a_mid", "top"]


def test_resolution_returns_copies_with_their_key() -> None:
    resolved = resolve_catalogue(CATALOGUE, ["studio"])
    assert resolved[-1] == {"key": "studio", **CATALOGUE["studio"]}
    resolved[-1]["launch"]["name"] = "changed"
    assert CATALOGUE["studio"]["launch"]["name"] == "IcoStudio"


def test_resolution_rejects_unknown_keys() -> None:
    with pytest.raises(CatalogueError, match="unknown application 'nope' \\(requested\\)"):
        resolve_catalogue(CATALOGUE, ["nope"])
    with pytest.raises(CatalogueError, match="unknown application 'gone' \\(a dependency of 'studio'\\)"):
        resolve_catalogue(catalogue_with("studio", dependencies=["gone"]), ["studio"])


def test_resolution_rejects_cycles() -> None:
    with pytest.raises(CatalogueError, match="dependency cycle runtime_b -> vcredist -> runtime_b"):
        cyclic = catalogue_with("vcredist", dependencies=["runtime_b"])
        cyclic["runtime_b"]["dependencies"] = ["vcredist"]
        resolve_catalogue(cyclic, ["studio"])


def test_resolution_of_the_shipped_catalogue() -> None:
    assert keys(resolve_catalogue(shipped_catalogue(), ["icostudio", "icobatch"])) == [
        "matlab_runtime_r2020b",
        "matlab_runtime_r2021b",
        "vcredist_2015_2022_x64",
        "icobatch",
        "icostudio",
    ]


def test_an_image_holds_at_most_50_launchable_apps() -> None:
    launchable = [{"key": f"app{n}", "launch": {"name": f"App{n}"}} for n in range(51)]
    assert validate_resolved([*launchable[:50], {"key": "lib", "launch": None}]) == []
    assert validate_resolved(launchable) == [
        "tenant.apps: the image would hold 51 launchable applications, more than the 50 Image Assistant allows"
    ]


# --------------------------------------------------------------------------
# success_exit_codes and detect
# --------------------------------------------------------------------------

VC_RUNTIME_KEY = "HKLM\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64"
VC_DETECT = {"registry": {"key": VC_RUNTIME_KEY, "value": "Version", "minimum_version": "14.40.33816.0"}}


def test_an_entry_may_declare_its_success_exit_codes() -> None:
    assert validate_catalogue(catalogue_with("vcredist", success_exit_codes=[0, 3010, 1638])) == []
    # win_package reads exit codes as signed 32-bit integers (0xC0000005 is -1073741819).
    assert validate_catalogue(catalogue_with("vcredist", success_exit_codes=[0, -1073741819])) == []


@pytest.mark.parametrize(
    ("codes", "path", "expected"),
    [
        (1638, "success_exit_codes", "must be a non-empty list of exit codes"),
        ([], "success_exit_codes", "must be a non-empty list of exit codes"),
        (["1638"], "success_exit_codes[0]", "must be a whole number"),
        ([0, True], "success_exit_codes[1]", "must be a whole number"),
        ([0, 4294967295], "success_exit_codes[1]", "signed 32-bit"),
        ([0, 1638, 0], "success_exit_codes", "lists 0 twice"),
    ],
)
def test_success_exit_codes_rules(codes: Any, path: str, expected: str) -> None:
    assert_rejected(catalogue_with("vcredist", success_exit_codes=codes), f"app_catalogue.vcredist.{path}", expected)


def test_an_entry_may_be_detected_by_a_registry_version_instead_of_a_product_id() -> None:
    detected = catalogue_with("vcredist", product_id=DELETE, detect=VC_DETECT)
    assert validate_catalogue(detected) == []
    present = {"registry": {"key": "HKLM:\\SOFTWARE\\Vendor\\App", "value": "InstallPath"}}
    assert validate_catalogue(catalogue_with("vcredist", product_id=DELETE, detect=present)) == []


def test_an_entry_is_detected_one_way() -> None:
    assert_rejected(
        catalogue_with("vcredist", product_id=DELETE),
        "app_catalogue.vcredist.product_id",
        "is required but missing (or give detect)",
    )
    assert_rejected(
        catalogue_with("vcredist", detect=VC_DETECT), "app_catalogue.vcredist.detect", "product_id or detect, not both"
    )


@pytest.mark.parametrize(
    ("detect", "path", "expected"),
    [
        ("registry", "detect", "must be a mapping"),
        ({}, "detect", "needs one rule: registry"),
        ({"registy": {}}, "detect.registy", "did you mean registry?"),
        ({"registry": {"value": "Version"}}, "detect.registry.key", "is required but missing"),
        ({"registry": {"key": VC_RUNTIME_KEY}}, "detect.registry.value", "is required but missing"),
        (
            {"registry": {"key": "HKCU\\Software\\App", "value": "Version"}},
            "detect.registry.key",
            "must be a key under HKLM",
        ),
        (
            {"registry": {"key": "HKLM\\SOFTWARE\\App\\\\x64", "value": "Version"}},
            "detect.registry.key",
            "must be a key under HKLM",
        ),
        (
            {"registry": {"key": "HKLM/SOFTWARE/App", "value": "Version"}},
            "detect.registry.key",
            "must be a key under HKLM",
        ),
        ({"registry": {"key": VC_RUNTIME_KEY, "value": ""}}, "detect.registry.value", "must not be empty"),
        (
            {"registry": {"key": VC_RUNTIME_KEY, "value": "Version", "minimum_version": "v14.40"}},
            "detect.registry.minimum_version",
            "2 to 4 numbers",
        ),
        (
            {"registry": {"key": VC_RUNTIME_KEY, "value": "Version", "minimum_version": 14.4}},
            "detect.registry.minimum_version",
            "quote the value in YAML",
        ),
        (
            {"registry": {"key": VC_RUNTIME_KEY, "value": "Version", "minimum": "14.40"}},
            "detect.registry.minimum",
            "did you mean minimum_version?",
        ),
    ],
)
def test_detect_rules(detect: Any, path: str, expected: str) -> None:
    assert_rejected(
        catalogue_with("vcredist", product_id=DELETE, detect=detect), f"app_catalogue.vcredist.{path}", expected
    )


def test_the_shipped_vc_runtime_is_detected_by_its_runtime_version_and_accepts_a_newer_one() -> None:
    # Microsoft C++ docs, "Redistribute Visual C++ files": a redistributable finding a more recent
    # version installed returns an error (1638); the installed version is the Version value under
    # ...\VisualStudio\14.0\VC\Runtimes\x64. The bundle's Uninstall GUID changes with each version.
    vcredist = shipped_catalogue()["vcredist_2015_2022_x64"]
    assert "product_id" not in vcredist
    assert vcredist["detect"] == {
        "registry": {
            "key": "HKLM\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64",
            "value": "Version",
            "minimum_version": vcredist["version"],
        }
    }
    assert vcredist["success_exit_codes"] == [0, 3010, 1638]


def test_detection_rules_of_the_requested_apps_in_order() -> None:
    catalogue = catalogue_with("vcredist", product_id=DELETE, detect=VC_DETECT)
    assert detection_rules(catalogue, ["vcredist", "studio"]) == [
        {
            "key": "vcredist",
            "registry": {
                "key": "HKLM:\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64",
                "value": "Version",
                "minimum_version": "14.40.33816.0",
            },
        },
        {"key": "studio", "product_id": "{11111111-2222-3333-4444-555555555555}"},
    ]


# --------------------------------------------------------------------------
# catalogue_hash
# --------------------------------------------------------------------------


def digest_of(catalogue: dict[str, Any], apps: tuple[str, ...] = ("studio", "batch"), **kwargs: Any) -> str:
    return catalogue_hash(resolve_catalogue(catalogue, list(apps)), **kwargs)


def test_hash_is_twelve_hex_characters_and_stable() -> None:
    digest = digest_of(CATALOGUE)
    assert len(digest) == 12
    assert int(digest, 16) >= 0
    assert digest_of(copy.deepcopy(CATALOGUE)) == digest


def test_hash_is_a_pinned_value() -> None:
    # Pinned so that an accidental change of the canonical form (which would
    # rebuild every tenant's image) fails a test.
    assert digest_of(CATALOGUE) == "5ff9f80fa74e"


def test_hash_ignores_mapping_and_list_order() -> None:
    shuffled = {
        key: dict(reversed(list(item.items()))) | {"dependencies": list(reversed(item["dependencies"]))}
        for key, item in reversed(list(CATALOGUE.items()))
    }
    assert digest_of(shuffled, ("batch", "studio")) == digest_of(CATALOGUE)
    assert catalogue_hash(list(reversed(resolve_catalogue(CATALOGUE, ["studio"])))) == digest_of(CATALOGUE, ("studio",))


@pytest.mark.parametrize(
    ("key", "overrides"),
    [
        ("vcredist", {"version": "1.1"}),
        ("vcredist", {"sha256": SHA_B}),
        ("vcredist", {"installer_s3_key": "installers/app-1.1.exe"}),
        ("vcredist", {"install_args": ["/quiet", "/norestart"]}),
        ("vcredist", {"product_id": "{11111111-2222-3333-4444-666666666666}"}),
        ("studio", {"launch": LAUNCH | {"launch_parameters": "--safe"}}),
        ("studio", {"launch": LAUNCH | {"display_name": "Ico Studio"}}),
        ("studio", {"dependencies": ["vcredist", "runtime_b", "runtime_a"]}),
    ],
)
def test_hash_changes_with_anything_installed(key: str, overrides: dict[str, Any]) -> None:
    assert digest_of(catalogue_with(key, **overrides)) != digest_of(CATALOGUE)


def test_hash_keeps_the_order_of_install_arguments() -> None:
    forward = catalogue_with("vcredist", install_args=["/quiet", "/norestart"])
    backward = catalogue_with("vcredist", install_args=["/norestart", "/quiet"])
    assert digest_of(forward) != digest_of(backward)


def test_hash_changes_with_the_set_of_apps() -> None:
    assert digest_of(CATALOGUE, ("studio",)) != digest_of(CATALOGUE, ("studio", "batch"))


def test_hash_ignores_descriptions_and_absent_optional_fields() -> None:
    described = catalogue_with("vcredist", description="Visual C++ runtime")
    assert digest_of(described) == digest_of(CATALOGUE)
    no_dependencies = catalogue_with("runtime_a", dependencies=DELETE)
    assert digest_of(no_dependencies) == digest_of(CATALOGUE)


def test_hash_ignores_how_an_install_is_detected_and_judged() -> None:
    # Neither changes what ends up on the image: the same installer with the same arguments.
    judged = catalogue_with("vcredist", success_exit_codes=[0, 3010, 1638])
    assert digest_of(judged) == digest_of(CATALOGUE)
    detected = catalogue_with("vcredist", product_id=DELETE, detect=VC_DETECT)
    newer = catalogue_with(
        "vcredist", product_id=DELETE, detect={"registry": VC_DETECT["registry"] | {"minimum_version": "14.42"}}
    )
    assert digest_of(detected) == digest_of(newer)


def test_hash_covers_the_base_image_when_given() -> None:
    plain = digest_of(CATALOGUE)
    first = digest_of(CATALOGUE, base_image="AppStream-WinServer2019-07-16-2024")
    second = digest_of(CATALOGUE, base_image="AppStream-WinServer2019-10-01-2024")
    assert len({plain, first, second}) == 3


# --------------------------------------------------------------------------
# image_name
# --------------------------------------------------------------------------


def test_image_name_is_tenant_suite_hash() -> None:
    assert image_name("acme-neuro", "0123456789ab") == "acme-neuro-suite-0123456789ab"


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        ("awslab", "must not start with 'aws'"),
        ("AppStreamLab", "must not start with 'appstream'"),
        ("Amazon", "must not start with 'amazon'"),
        ("lab with space", "may only contain letters"),
        ("-lab", "must start with a letter or digit"),
        ("x" * 90, "longer than 100"),
    ],
)
def test_image_name_follows_the_image_assistant_rules(tenant: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected.replace("(", "\\(")):
        image_name(tenant, "0123456789ab")


def test_image_name_errors_accepts_the_limit() -> None:
    assert image_name_errors("a" * 100) == []
    assert image_name_errors("a" * 101) == ["image_name: 101 characters is longer than 100"]


# --------------------------------------------------------------------------
# The filter plugin exposes the same functions
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filters() -> dict[str, Any]:
    return load_plugin("plugins/filter/catalogue.py").FilterModule().filters()


def test_filters_match_the_module_utils(filters: dict[str, Any]) -> None:
    resolved = filters["catalogue_resolve"](CATALOGUE, ["studio", "batch"])
    assert resolved == resolve_catalogue(CATALOGUE, ["studio", "batch"])
    assert filters["catalogue_hash"](resolved) == digest_of(CATALOGUE)
    assert filters["catalogue_hash"](resolved, "img") == digest_of(CATALOGUE, base_image="img")
    assert filters["catalogue_image_name"]("demo", "0123456789ab") == "demo-suite-0123456789ab"


def test_filters_raise_ansible_errors(filters: dict[str, Any]) -> None:
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="unknown application 'nope'"):
        filters["catalogue_resolve"](CATALOGUE, ["nope"])
    with pytest.raises(AnsibleFilterError, match="list of application keys"):
        filters["catalogue_resolve"](CATALOGUE, "studio")
    with pytest.raises(AnsibleFilterError, match="must not start with 'aws'"):
        filters["catalogue_image_name"]("aws", "0123456789ab")


def test_a_near_miss_windows_path_is_rejected_without_backtracking() -> None:
    # A trailing quote on a long path used to make the path pattern backtrack exponentially
    # (minutes for 40 characters); the pattern now fails in linear time.
    near_miss = 'C:\\Program Files\\Iconeus\\IcoStudio\\Release 2024\\bin\\IcoStudio.exe"'
    assert WINDOWS_ABSOLUTE_PATH.fullmatch(near_miss) is None
    assert WINDOWS_ABSOLUTE_PATH.fullmatch(near_miss[:-1]) is not None
