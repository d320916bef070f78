"""plugin_utils/botocore_models.py: a run's botocore models read once, and used by every module run in a worker."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.loaders
import botocore.session
import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import botocore_models

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(autouse=True)
def fresh_loaders(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(botocore_models, "_LOADERS", {})
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    yield


@pytest.fixture
def model_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every JSON file botocore's loaders parse from now on."""
    reads: list[str] = []
    real = botocore.loaders.JSONFileLoader.load_file

    def load_file(self: Any, file_path: str) -> Any:
        reads.append(file_path)
        return real(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", load_file)
    return reads


def client(service: str, key: str = "AK") -> Any:
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key="SK", region_name="eu-west-3")
    return session.client(service)


def test_after_the_preload_a_module_session_reads_no_model_file(model_reads: list[str]) -> None:
    _loader, failed = botocore_models.preload()
    assert failed == []
    assert model_reads, "the preload read the models"
    model_reads.clear()
    with botocore_models.shared_by_sessions():
        for service in botocore_models.SERVICES:
            made = client(service)
            assert made.meta.service_model.service_name == service
            # As the modules page through results and wait: the paginators and waiters models were read too.
            made.can_paginate(next(iter(made.meta.method_to_api_mapping)))
            _unused = made.waiter_names
    assert model_reads == []
    # Outside the block botocore is its own again: a new session reads its models (what the block saves).
    client("ec2")
    assert any("ec2" in path for path in model_reads)


def test_sessions_share_the_models_and_keep_their_own_credentials() -> None:
    with botocore_models.shared_by_sessions():
        one, two = client("appstream", "AK1"), client("appstream", "AK2")
    assert one.meta.service_model._service_description is two.meta.service_model._service_description
    assert one._request_signer._credentials.access_key == "AK1"
    assert two._request_signer._credentials.access_key == "AK2"
    assert client("appstream").meta.service_model._service_description is not (
        one.meta.service_model._service_description
    )


def test_the_initializer_is_removed_even_when_the_block_fails() -> None:
    before = list(botocore._INITIALIZERS)
    with pytest.raises(RuntimeError), botocore_models.shared_by_sessions():
        assert [*before, botocore_models._share_loader] == botocore._INITIALIZERS
        raise RuntimeError("the module failed")
    assert before == botocore._INITIALIZERS


def test_nothing_is_done_where_botocore_was_never_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker of a run that read nothing ahead, running a module that needs no AWS library: no import of it.
    monkeypatch.delitem(sys.modules, "botocore.session")
    before = list(botocore._INITIALIZERS)
    with botocore_models.shared_by_sessions():
        assert before == botocore._INITIALIZERS
        assert "botocore.session" not in sys.modules


def test_a_service_that_cannot_be_read_is_left_to_the_modules() -> None:
    _loader, failed = botocore_models.preload(("sts", "no-such-service"))
    assert failed == ["no-such-service"]


def test_each_data_path_has_its_own_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = botocore_models.shared_loader(None)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    with botocore_models.shared_by_sessions():
        session = boto3.session.Session(region_name="eu-west-3")
    loader = session._session.get_component("data_loader")
    assert loader is botocore_models.shared_loader(str(tmp_path)) and loader is not default
    assert str(tmp_path) in loader.search_paths


def test_search_paths_do_not_grow_with_the_sessions() -> None:
    # Each boto3 session appends boto3's data folder to its loader's search paths.
    with botocore_models.shared_by_sessions():
        for _unused in range(5):
            paths = boto3.session.Session(region_name="eu-west-3")._session.get_component("data_loader").search_paths
            assert len(paths) <= len(set(paths)) + 1


def test_the_preload_reads_no_profile_or_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The controller's environment may name a profile the run never uses, or files that do not exist.
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    loader, failed = botocore_models.preload(("sts",))
    assert failed == [] and loader is botocore_models.shared_loader(None)


def named_services(path: Path) -> set[str]:
    """The services named in `<x>.client("svc", ...)`, `<x>.call("svc", ...)` and `<x>.pages("svc", ...)` calls."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"client", "call", "pages"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def test_every_service_a_module_calls_is_preloaded() -> None:
    available = set(botocore.session.get_session().get_available_services())
    named: set[str] = set()
    for folder in ("plugins/modules", "plugins/module_utils"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= named_services(path) & available
    assert {"appstream", "ec2", "ds", "fsx"} <= named  # the scan finds the calls it looks for
    assert named <= set(botocore_models.SERVICES), sorted(named - set(botocore_models.SERVICES))
