"""The tenant_definition vars plugin: each host_vars file parsed once per version, checked before it is kept."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible.errors import AnsibleParserError
from ansible.inventory.host import Host
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import vars_loader
from ansible.template import is_trusted_as_template


def _load(name: str) -> ModuleType:
    plugin = vars_loader.get(name, class_only=True)
    assert plugin is not None, f"{name} did not load"
    return sys.modules[plugin.__module__]


td = _load("iconeus.tenant_toolkit.tenant_definition")


class CountingLoader(DataLoader):
    """A DataLoader that counts the files it parses."""

    def __init__(self) -> None:
        super().__init__()
        self.parsed: list[str] = []

    def load_from_file(self, file_name: str, *args: Any, **kwargs: Any) -> Any:
        self.parsed.append(os.path.basename(file_name))
        return super().load_from_file(file_name, *args, **kwargs)


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new ansible-playbook process would: nothing found or parsed yet."""
    for name in ("_HOST_VARS_DIRS", "_FOUND", "_PARSED"):
        monkeypatch.setattr(td, name, {})
    monkeypatch.setattr(td, "_HELD_DEFINITION", set())


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    host_vars = tmp_path / "host_vars" / "lab"
    host_vars.mkdir(parents=True)
    (host_vars / "tenant.yml").write_text("tenant:\n  name: lab\n  region: eu-west-3\n", encoding="utf-8")
    (host_vars / "aws.yml").write_text("aws_profile: lab\n", encoding="utf-8")
    (tmp_path / "hosts.yml").write_text("tenants:\n  hosts:\n    lab: {}\n", encoding="utf-8")
    return tmp_path


def tenant_of(loader: DataLoader, inventory: Path) -> Any:
    return td.VarsModule().get_vars(loader, str(inventory / "hosts.yml"), [Host("lab")]).get("tenant")


def test_each_file_is_parsed_once_and_the_definition_is_the_same_on_every_call(inventory: Path) -> None:
    loader = CountingLoader()
    first = tenant_of(loader, inventory)
    for _attempt in range(5):
        assert tenant_of(loader, inventory) == first
    assert first == {"name": "lab", "region": "eu-west-3"}
    assert sorted(loader.parsed) == ["aws.yml", "tenant.yml"]


def rewrite_one_second_later(path: Path, text: str) -> os.stat_result:
    """Write a new version of `path` whose modification time is a second after the old one's; the old stat."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    return before


def test_a_changed_file_is_parsed_again(inventory: Path) -> None:
    loader = CountingLoader()
    assert tenant_of(loader, inventory)["region"] == "eu-west-3"
    path = inventory / "host_vars" / "lab" / "tenant.yml"
    # The same size: the modification time tells the new version apart.
    before = rewrite_one_second_later(path, "tenant:\n  name: lab\n  region: eu-west-1\n")
    assert path.stat().st_size == before.st_size
    assert tenant_of(loader, inventory)["region"] == "eu-west-1"
    assert loader.parsed.count("tenant.yml") == 2


def test_a_definition_file_with_other_keys_is_refused_on_every_call(inventory: Path) -> None:
    path = inventory / "host_vars" / "lab" / "tenant.yml"
    path.write_text("tenant:\n  name: lab\nansible_connection: local\n", encoding="utf-8")
    loader = CountingLoader()
    for _attempt in range(2):
        with pytest.raises(AnsibleParserError, match="may hold nothing else; it also sets ansible_connection"):
            tenant_of(loader, inventory)


def test_the_definition_strings_are_not_trusted_as_templates(inventory: Path) -> None:
    path = inventory / "host_vars" / "lab" / "tenant.yml"
    path.write_text("tenant:\n  name: \"{{ lookup('pipe', 'id') }}\"\n", encoding="utf-8")
    loader = CountingLoader()
    for _attempt in range(2):
        name = tenant_of(loader, inventory)["name"]
        assert name == "{{ lookup('pipe', 'id') }}" and not is_trusted_as_template(name)


class FindingLoader(CountingLoader):
    """A CountingLoader that also counts the searches for a host's files."""

    def __init__(self) -> None:
        super().__init__()
        self.searched: list[str] = []

    def find_vars_files(self, path: str, name: str, *args: Any, **kwargs: Any) -> Any:
        self.searched.append(name)
        return super().find_vars_files(path, name, *args, **kwargs)


def test_a_hosts_files_are_found_once_and_a_group_costs_nothing(inventory: Path) -> None:
    """Ansible asks once per task, host and inventory source: the files are found on the first call only."""
    from ansible.inventory.group import Group

    loader = FindingLoader()
    plugin = td.VarsModule()
    source = str(inventory / "hosts.yml")
    for _attempt in range(5):
        assert plugin.get_vars(loader, source, [Group("all"), Group("tenants")]) == {}
        assert plugin.get_vars(loader, source, [Host("lab")])["tenant"]["name"] == "lab"
    assert loader.searched == ["lab"]
    # Ansible passes the inventory's directory for a directory source: the same files, found once.
    assert plugin.get_vars(loader, str(inventory), [Host("lab")])["tenant"]["name"] == "lab"
    assert loader.searched == ["lab"]
    # Another inventory source is searched on its own (a host of that name may have files there).
    other = inventory / "other"
    (other / "host_vars" / "lab").mkdir(parents=True)
    (other / "hosts.yml").write_text("tenants:\n  hosts:\n    lab: {}\n", encoding="utf-8")
    assert plugin.get_vars(loader, str(other / "hosts.yml"), [Host("lab")]) == {}
    assert loader.searched == ["lab", "lab"]


def test_a_file_added_during_the_run_is_not_seen_as_host_group_vars_does_not_see_it(inventory: Path) -> None:
    loader = CountingLoader()
    assert tenant_of(loader, inventory)["name"] == "lab"
    (inventory / "host_vars" / "lab" / "zz-late.yml").write_text("tenant:\n  name: late\n", encoding="utf-8")
    assert tenant_of(loader, inventory)["name"] == "lab"
    assert "zz-late.yml" not in loader.parsed


def test_a_listed_file_removed_during_the_run_fails_the_inventory(inventory: Path) -> None:
    loader = CountingLoader()
    assert tenant_of(loader, inventory)["name"] == "lab"
    (inventory / "host_vars" / "lab" / "tenant.yml").unlink()
    with pytest.raises(AnsibleParserError, match=r"tenant\.yml"):
        tenant_of(loader, inventory)


def test_a_definition_removed_from_its_file_during_the_run_fails_the_inventory(inventory: Path) -> None:
    """host_group_vars keeps the first version, trusted as templates: it must never be the only `tenant`."""
    loader = CountingLoader()
    assert tenant_of(loader, inventory)["name"] == "lab"
    rewrite_one_second_later(inventory / "host_vars" / "lab" / "tenant.yml", "other: 1\n")
    with pytest.raises(AnsibleParserError, match="was removed from this file during the run"):
        tenant_of(loader, inventory)
