"""plugin_utils/plugin_preload.py: the plugins every tenant task's worker used to load, loaded once before the fork."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible.plugins import loader as plugin_loader
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import plugin_preload

from ..forking import in_a_forked_child

ROOT = Path(__file__).resolve().parents[4]


def loads_in_a_forked_worker() -> list[str] | None:
    """The plugin files a process forked now executes when it asks for the preloaded plugins, as a worker does."""

    def ask_for_the_plugins() -> str:
        loaded: list[str] = []
        real = plugin_loader.PluginLoader._load_module_source

        def record(self: plugin_loader.PluginLoader, *, python_module_name: str, path: str) -> object:
            if python_module_name not in sys.modules:
                loaded.append(path)
            return real(self, python_module_name=python_module_name, path=path)

        plugin_loader.PluginLoader._load_module_source = record  # type: ignore[method-assign]
        plugin_loader.test_loader.get("ansible.builtin.defined")
        assert plugin_loader.filter_loader.get("iconeus.tenant_toolkit.tenant_report_budget") is not None
        for name in plugin_preload.LOOKUPS + plugin_preload.AWS_LOOKUPS:
            plugin_loader.lookup_loader.get(name, class_only=True)
        for name in plugin_preload.ACTIONS:
            plugin_loader.action_loader.get(name, class_only=True)
        return json.dumps(loaded)

    return json.loads(in_a_forked_child(ask_for_the_plugins) or "null")


def test_a_worker_forked_after_the_preload_loads_none_of_its_plugins_again() -> None:
    assert plugin_preload.preload() == []
    assert loads_in_a_forked_worker() == []


def test_the_preloaded_lookups_and_actions_are_the_collections_own() -> None:
    # A plugin added to or removed from the collection is seen here: the list names files that exist.
    for name in plugin_preload.LOOKUPS + plugin_preload.AWS_LOOKUPS:
        assert (ROOT / "plugins" / "lookup" / f"{name.rpartition('.')[2]}.py").is_file(), name
    for name in plugin_preload.ACTIONS:
        assert (ROOT / "plugins" / "action" / f"{name.rpartition('.')[2]}.py").is_file(), name
    lookups = {path.stem for path in (ROOT / "plugins" / "lookup").glob("*.py") if path.stem != "__init__"}
    assert {name.rpartition(".")[2] for name in plugin_preload.LOOKUPS + plugin_preload.AWS_LOOKUPS} == lookups


def modules_imported_in_a_forked_worker(names: list[str]) -> list[str] | None:
    """The modules a process forked now executes when it imports `names`, as a worker running a module does."""

    def import_them() -> str:
        import importlib

        before = set(sys.modules)
        for name in names:
            importlib.import_module(name)
        return json.dumps(sorted(set(sys.modules) - before))

    return json.loads(in_a_forked_child(import_them) or "null")


def test_a_worker_forked_after_the_preload_imports_none_of_the_module_utils_again() -> None:
    from ansible.module_utils.common.json import Direction, get_module_encoder

    assert plugin_preload.preload() == []
    names = [
        name for package in plugin_preload.MODULE_UTILS_PACKAGES for name in plugin_preload.module_utils_names(package)
    ]
    assert "ansible_collections.amazon.aws.plugins.module_utils.modules" in names
    assert modules_imported_in_a_forked_worker(names) == []

    def profile_modules() -> str:
        before = set(sys.modules)
        for direction in Direction:
            get_module_encoder(plugin_preload.MODULE_PROFILE, direction)
        return json.dumps(sorted(set(sys.modules) - before))

    assert json.loads(in_a_forked_child(profile_modules) or "null") == []


def test_the_preload_imports_every_module_utils_into_a_process_that_had_none() -> None:
    def missing_after_preload() -> str:
        packages = plugin_preload.MODULE_UTILS_PACKAGES
        profiles = "ansible.module_utils._internal._json._profiles._module_legacy_"
        for name in [name for name in sys.modules if name.startswith((*packages, profiles))]:
            del sys.modules[name]
        assert plugin_preload.import_module_utils() == []
        names = [name for package in packages for name in plugin_preload.module_utils_names(package)]
        names += [f"{profiles}c2m", f"{profiles}m2c"]  # the module protocol's profiles, both ways
        return json.dumps([name for name in names if name not in sys.modules])

    assert json.loads(in_a_forked_child(missing_after_preload) or "null") == []


def test_the_preloaded_module_utils_are_every_file_of_the_collections_module_utils() -> None:
    prefix = "ansible_collections.iconeus.tenant_toolkit.plugins."
    module_utils = ROOT / "plugins" / "module_utils"
    paths = [path.with_suffix("") for path in module_utils.rglob("*.py")] + [module_utils]
    paths += [folder for folder in module_utils.rglob("*") if folder.is_dir() and folder.name != "__pycache__"]
    expected = {".".join(path.relative_to(ROOT / "plugins").parts).removesuffix(".__init__") for path in paths}
    assert {name.removeprefix(prefix) for name in plugin_preload.module_utils_names()} == expected


def test_in_worker_speaks_the_profile_the_preload_imports() -> None:
    from ansible.plugins.loader import action_loader

    in_worker = sys.modules[action_loader.get("iconeus.tenant_toolkit.in_worker", class_only=True).__module__]
    assert in_worker.PROFILE == plugin_preload.MODULE_PROFILE == "legacy"  # AnsiballZ's default for a module


def test_the_plugins_loaded_when_the_playbook_starts_import_no_aws_library() -> None:
    """In a fresh Python (this process has loaded the plugins already, and Ansible caches plugin modules)."""
    parts = Path(plugin_preload.__file__).parts
    collections = Path(*parts[: parts.index("ansible_collections")])
    script = (
        "import json, sys\n"
        "from ansible.plugins.loader import init_plugin_loader\n"
        f"init_plugin_loader([{str(collections)!r}])\n"
        "from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import plugin_preload\n"
        "assert plugin_preload.preload_without_aws() == []\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in ('boto3', 'botocore'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
