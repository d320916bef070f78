"""The tenant_environment lookup: a tenant's AWS connection as a task environment, from the host's variables.

Who the modules are comes from the first of: the deployer role (a session from tenant_session), the access keys
(a credentials file of the run from tenant_credentials), a profile, nothing. No key is ever a value of the
environment.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template

from .run_files import RUN_ID, SECRET, load_lookup

te = load_lookup("iconeus.tenant_toolkit.tenant_environment")
ROLE = "arn:aws:iam::123456789012:role/tenant-deployer"
REGION = {"AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-3"}
BLANKS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}


def lookup(variables: dict[str, Any] | None = None, **options: Any) -> dict[str, str]:
    """The lookup as a task's template calls it: the host's variables, templated by the task's templar."""
    variables = variables or {}
    plugin = te.LookupModule(templar=Templar(loader=DataLoader(), variables=variables))
    (environment,) = plugin.run([], variables, **{"tenant": "acme-neuro", **options})
    return environment


def test_keys_of_the_host_vars_become_a_profile_of_a_file_of_the_run(run_files: Path) -> None:
    host_vars = {
        "aws_endpoint_url": "http://127.0.0.1:4566",
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": SECRET,
    }
    environment = lookup(host_vars, region="eu-west-3")
    path = run_files / RUN_ID / "acme-neuro.credentials"
    assert environment == {
        **REGION,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_SHARED_CREDENTIALS_FILE": str(path),
        "AWS_PROFILE": "tenant-keys-acme-neuro",
        **BLANKS,
    }
    parser = configparser.ConfigParser()
    parser.read(path)
    keys = {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": SECRET}
    assert dict(parser["tenant-keys-acme-neuro"]) == keys
    assert not any(SECRET in value or "AKIAEXAMPLE" in value for value in environment.values())


def test_options_given_to_the_lookup_win_over_the_host_vars(run_files: Path) -> None:
    host_vars = {"aws_endpoint_url": "http://127.0.0.1:1", "aws_profile": "from-host-vars"}
    environment = lookup(host_vars, region="eu-west-3", endpoint_url="http://127.0.0.1:2", profile="given")
    assert environment == {**REGION, "AWS_ENDPOINT_URL": "http://127.0.0.1:2", "AWS_PROFILE": "given"}


def test_a_profile_is_named_and_no_key_is_blanked(run_files: Path) -> None:
    assert lookup({"aws_profile": "tenants"}, region="eu-west-3") == {**REGION, "AWS_PROFILE": "tenants"}
    assert not run_files.exists()  # no credentials file for a profile


def test_without_credentials_the_modules_are_the_controller(run_files: Path) -> None:
    assert lookup({}, region="eu-west-3") == REGION


class _SessionStub:
    """Stands for tenant_session: records what it was asked, answers the path of a credentials file."""

    def __init__(self) -> None:
        self.asked: list[tuple[list[str], dict[str, Any]]] = []

    def run(self, terms: list[str], variables: Any = None, **options: Any) -> list[str]:
        self.asked.append((terms, options))
        return ["/sessions/acme-neuro-0123456789ab.credentials"]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> _SessionStub:
    stub = _SessionStub()
    real_get = lookup_loader.get

    def get(name: str, *args: Any, **kwargs: Any) -> Any:
        return stub if name == "iconeus.tenant_toolkit.tenant_session" else real_get(name, *args, **kwargs)

    monkeypatch.setattr(lookup_loader, "get", get)
    return stub


def test_the_deployer_role_comes_first_assumed_with_the_keys(run_files: Path, session: _SessionStub) -> None:
    host_vars = {
        "aws_assume_role_arn": ROLE,
        "aws_endpoint_url": "http://127.0.0.1:4566",
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_profile": "source",
    }
    environment = lookup(host_vars, region="eu-west-3")
    assert environment == {
        **REGION,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_SHARED_CREDENTIALS_FILE": "/sessions/acme-neuro-0123456789ab.credentials",
        "AWS_PROFILE": "tenant-session-acme-neuro",
        **BLANKS,
    }
    assert session.asked == [
        (
            [ROLE],
            {
                "tenant": "acme-neuro",
                "duration": 3600,
                "region": "eu-west-3",
                "endpoint_url": "http://127.0.0.1:4566",
                "profile": "source",
                "access_key": "AKIAEXAMPLE",
                "secret_key": SECRET,
            },
        )
    ]
    assert not run_files.exists()  # the keys went to the session's source only, never to a file of the run


def test_a_session_from_the_controller_passes_only_what_is_set(run_files: Path, session: _SessionStub) -> None:
    lookup({"aws_assume_role_arn": ROLE, "aws_assume_role_duration": 900}, region="eu-west-3")
    assert session.asked == [([ROLE], {"tenant": "acme-neuro", "duration": 900, "region": "eu-west-3"})]


def test_a_session_assumed_with_temporary_keys_passes_their_token(run_files: Path, session: _SessionStub) -> None:
    host_vars = {
        "aws_assume_role_arn": ROLE,
        "aws_access_key_id": "ASIAEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_session_token": "tok/en=",
    }
    lookup(host_vars, region="eu-west-3")
    ((_terms, options),) = session.asked
    assert (options["access_key"], options["secret_key"], options["session_token"]) == (
        "ASIAEXAMPLE",
        SECRET,
        "tok/en=",
    )


def test_host_variables_are_templated_as_any_variable(run_files: Path) -> None:
    """A vault_* indirection, an endpoint built from another variable: as group_vars used them."""
    host_vars = {
        "vault_secret": SECRET,
        "port": 4566,
        "aws_endpoint_url": trust_as_template("http://127.0.0.1:{{ port }}"),
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": trust_as_template("{{ vault_secret }}"),
    }
    environment = lookup(host_vars, region="eu-west-3")
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    parser = configparser.ConfigParser()
    parser.read(environment["AWS_SHARED_CREDENTIALS_FILE"])
    assert parser["tenant-keys-acme-neuro"]["aws_secret_access_key"] == SECRET


def test_a_role_set_to_nothing_fails_and_never_falls_back_to_the_profile(run_files: Path) -> None:
    # The role is what isolates the tenant: a null one must not leave the modules with the broader profile.
    for nothing in (None, ""):
        with pytest.raises(AnsibleLookupError, match="aws_assume_role_arn"):
            lookup({"aws_assume_role_arn": nothing, "aws_profile": "broad-deployer"}, region="eu-west-3")


@pytest.mark.parametrize(
    ("host_vars", "message"),
    [
        ({"aws_access_key_id": "AKIAEXAMPLE"}, "aws_secret_access_key: required with aws_access_key_id"),
        ({"aws_access_key_id": None, "aws_profile": "p"}, "aws_access_key_id: must be a non-empty string"),
        ({"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": [SECRET]}, "aws_secret_access_key: must be"),
        ({"aws_assume_role_arn": ROLE, "aws_access_key_id": "AKIAEXAMPLE"}, "aws_secret_access_key: required"),
        (
            {
                "aws_assume_role_arn": ROLE,
                "aws_access_key_id": "A",
                "aws_secret_access_key": "S",
                "aws_session_token": [SECRET],
            },
            "aws_session_token: must be",
        ),
    ],
)
def test_keys_that_are_not_a_pair_fail_naming_the_variable_not_the_value(
    run_files: Path, session: _SessionStub, host_vars: dict[str, Any], message: str
) -> None:
    with pytest.raises(AnsibleLookupError, match=message) as error:
        lookup(host_vars, region="eu-west-3")
    assert SECRET not in str(error.value)
    assert session.asked == []
    assert not run_files.exists()


def test_the_delegated_lookups_check_their_options(run_files: Path) -> None:
    with pytest.raises(AnsibleLookupError, match="tenant: must be a tenant name"):
        lookup({"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": SECRET}, tenant="../etc", region="x")
    with pytest.raises(AnsibleLookupError, match="tenant_session: give the ARN of one IAM role"):
        lookup({"aws_assume_role_arn": "not-an-arn"}, region="eu-west-3")


@pytest.mark.parametrize(
    ("terms", "options", "message"),
    [
        (["x"], {"region": "eu-west-3"}, "takes no terms"),
        ([], {"region": ""}, "region: the tenant's region is required"),
    ],
)
def test_bad_calls_name_what_is_wrong(terms: list[str], options: dict[str, Any], message: str) -> None:
    with pytest.raises(AnsibleLookupError, match=message):
        te.LookupModule(templar=Templar(loader=DataLoader())).run(terms, {}, tenant="acme-neuro", **options)
