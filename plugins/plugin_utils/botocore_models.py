# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The botocore models a run reads once, in the controller, for every tenant and every module that runs in a worker.

A botocore session reads a client's models through its own data loader: the service model, its endpoint rule
set, the endpoints and partitions tables, the retry and default-configuration tables. A loader parses each
JSON file once, but each new session makes a new loader, so every module run parsed them again: 30 to 100 ms
of CPU per client (EC2 the most), for every module and every tenant, and a tenant's no-op runs about fifteen
modules. This module keeps one loader per controller process and data path (`AWS_DATA_PATH`):

- `preload()` reads into it, once per run, the models of every service the collection's modules call. The
  `tenant_state` callback calls it in the controller's main process when the run takes its first tenant lock,
  before any tenant's AWS task: each worker Ansible forks afterwards (one per task and host) inherits them
  (copy-on-write, and the workers freeze what they inherit, tenant_state.freeze_inherited_objects_in_workers).
  A run that takes no lock (a playbook without tenants) never imports botocore here.
- `shared_by_sessions()` is used by plugins/action/in_worker.py around a module run in a worker: through
  botocore's public session initializer hook (`botocore.register_initializer`), a session the module makes
  gets the process's loader for its data path instead of a new one. A model is data read from botocore's own
  files (and `~/.aws/models`); a session keeps its credentials, region and configuration to itself
  (unit-tested with two sets of credentials).

The loader is what `botocore.loaders.create_loader` makes for the same data path, and holds the models read,
nothing else. It costs the controller's main process about 50 MiB for the run, which the workers share.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Every AWS service the collection's modules make a client for (tests/unit/plugins/plugin_utils checks the
# modules against this list), with the state store's DynamoDB and S3 (tenant_state, tenant_lock).
SERVICES = (
    "appstream",
    "application-autoscaling",
    "budgets",
    "ce",
    "cloudwatch",
    "datasync",
    "ds",
    "dynamodb",
    "ec2",
    "fsx",
    "iam",
    "logs",
    "resourcegroupstaggingapi",
    "s3",
    "secretsmanager",
    "sns",
    "sts",
)

# One loader per data path (AWS_DATA_PATH's value, None when unset) in this process; a forked worker inherits them.
_LOADERS: dict[str | None, Any] = {}


def shared_loader(data_path: str | None = None) -> Any:
    """This process's botocore data loader for `data_path`, made as a botocore session makes its own."""
    import botocore.loaders

    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = botocore.loaders.create_loader(data_path)
    return keep_search_paths_once(loader)


def keep_search_paths_once(loader: Any) -> Any:
    """Each boto3 session appends boto3's own data folder to its loader's search paths: keep each path once."""
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return loader


def preload(services: tuple[str, ...] = SERVICES) -> tuple[Any, list[str]]:
    """Read `services`' models into the shared loader for this process's AWS_DATA_PATH, as a client reads them.

    Each client is made by a session that reads no profile, configuration or credentials file, and dropped; it
    makes no call. Its paginator and waiter models are read too, through the client as a module reads them (the
    loader's cache is keyed by the arguments as the client passes them). Returns the loader and the services
    that could not be read (an older botocore without one of them): those are read by each module, as before.
    """
    import botocore.session

    loader = shared_loader(os.environ.get("AWS_DATA_PATH"))
    # No profile from the environment, and no configuration or credentials file: only models are wanted here.
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.register_component("data_loader", loader)
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    # Placeholder keys: a client made with none would look for credentials; this one makes no call.
    keys = {"aws_access_key_id": "preload", "aws_secret_access_key": "preload"}
    failed = []
    for service in services:
        try:
            client = core.create_client(service, region_name="us-east-1", **keys)
            # Reads the paginators model, if the service has one (asked of any of its operations).
            client.can_paginate(next(iter(client.meta.method_to_api_mapping)))
            _unused = client.waiter_names  # reads the waiters model, if the service has one
        except Exception:  # noqa: BLE001 - that service's modules read their own models
            failed.append(service)
    return loader, failed


def _share_loader(session: Any) -> None:
    """botocore session initializer: the session's data loader is this process's one for its data path."""
    session.lazy_register_component("data_loader", lambda: shared_loader(session.get_config_variable("data_path")))


@contextmanager
def shared_by_sessions() -> Iterator[None]:
    """While the block runs, each botocore session made in this process uses the shared loader for its data path.

    A session whose data path differs from the controller's (`AWS_DATA_PATH` in the task's environment, or
    `data_path` in its profile) gets a loader of its own for that path, filled as it goes. Nothing is done when
    botocore is not imported yet (a process where plugin_preload did not run): a module that needs no AWS
    library does not pay for importing it. Where it ran (the run's first lock task started), botocore is
    imported and the models were read ahead.
    """
    botocore = sys.modules.get("botocore")
    if botocore is None or "botocore.session" not in sys.modules:
        yield
        return
    botocore.register_initializer(_share_loader)
    try:
        yield
    finally:
        botocore.unregister_initializer(_share_loader)
