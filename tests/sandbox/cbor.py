"""Helpers of the RPC v2 CBOR tests: a sandbox whose boto3 clients speak CBOR, and what the toolkit calls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from sandbox.client import SandboxClient
from sandbox.jsonproto import snake
from tests.helpers import ROOT
from tests.sandboxes import running_sandbox

CBOR = "smithy-rpc-v2-cbor"
# What the toolkit's own code is made of (modules, module_utils, roles, playbooks, scripts).
TOOLKIT_SOURCES = ("plugins", "roles", "playbooks", "scripts")


class CborSandbox(SandboxClient):
    """A SandboxClient whose boto3 clients of `services` speak RPC v2 CBOR instead of JSON."""

    def __init__(self, port: int, region: str, services: tuple[str, ...], state_dir: Path) -> None:
        super().__init__(port=port, region=region, state_dir=state_dir)
        self.services = services

    def boto3(self, service: str, region: str | None = None, protocol: str | None = None) -> Any:
        if protocol is None and service in self.services:
            protocol = CBOR
        return super().boto3(service, region, protocol)


def cbor_sandbox(tmp_path_factory: pytest.TempPathFactory, time_scale: float, *services: str) -> Iterator[CborSandbox]:
    """A sandbox of its own (fresh state, its own request log) seen through CBOR clients of `services`."""
    with running_sandbox(tmp_path_factory.mktemp("cbor-sandbox"), time_scale) as plain:
        client = CborSandbox(int(plain.endpoint.rsplit(":", 1)[1]), plain.region, services, plain.state_dir)
        yield client


@cache
def _toolkit_text() -> str:
    parts = []
    for folder in TOOLKIT_SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yml", ".yaml", ".j2"):
                parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def toolkit_operations(service: str, backend: Any) -> set[str]:
    """Operations of the botocore model of `service` that the toolkit calls (their boto3 method name
    appears in its code) and that the sandbox's backend implements."""
    model = botocore.session.get_session().get_service_model(service)
    text = _toolkit_text()
    return {
        operation
        for operation in model.operation_names
        if re.search(rf"\b{xform_name(operation)}\b", text) and hasattr(backend, snake(operation))
    }


def operations_sent_in_cbor(client: SandboxClient, service: str) -> set[str]:
    """Operations of `service` the sandbox answered through its RPC v2 CBOR gateway (request log)."""
    return {
        entry["operation"]
        for entry in client.log()
        if entry["service"] == service and entry.get("protocol") == "rpc-v2-cbor" and entry["status"] < 500
    }
