"""What the lookup tests that write a run's credentials files share: the run, a secret, a plugin's module
(the `run_files` fixture is in conftest.py)."""

from __future__ import annotations

import sys
from types import ModuleType

from ansible.plugins.loader import lookup_loader

RUN_ID = "r-0123456789ab"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def load_lookup(name: str) -> ModuleType:
    """The Python module of the lookup `name`, loaded as Ansible loads it."""
    plugin = lookup_loader.get(name, class_only=True)
    assert plugin is not None, f"{name} did not load"
    return sys.modules[plugin.__module__]
