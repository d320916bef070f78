"""The request log: one JSON line per request, without bodies, so no secret is ever written.

Tests read it (through the admin API or the file) to count API calls and to prove that
validation or check mode made no mutating call.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

_READ_PREFIXES = ("Describe", "List", "Get", "Head", "Search", "Lookup", "Check", "BatchGet", "Validate")
_REST_READ = re.compile(r"^(GET|HEAD) ")


def is_mutating(operation: str) -> bool:
    """True when an operation changes state (anything that is not a read)."""
    if _REST_READ.match(operation):
        return False
    return not operation.startswith(_READ_PREFIXES)


def tenant_of(body: bytes) -> str | None:
    """The value of a `tenant` tag carried by the request, if any (JSON or query form)."""
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return _tenant_in_json(document)
    fields = parse_qs(text)
    for key, values in fields.items():
        if key.endswith(".Key") and values and values[0] == "tenant":
            value = fields.get(key[:-4] + ".Value")
            if value:
                return value[0]
    return None


def _tenant_in_json(document: Any) -> str | None:
    if isinstance(document, dict):
        tags = document.get("Tags")
        if isinstance(tags, dict) and isinstance(tags.get("tenant"), str):
            return tags["tenant"]
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, dict) and tag.get("Key") == "tenant":
                    return tag.get("Value")
        for value in document.values():
            if isinstance(value, (dict, list)):
                found = _tenant_in_json(value)
                if found:
                    return found
    elif isinstance(document, list):
        for value in document:
            found = _tenant_in_json(value)
            if found:
                return found
    return None


class RequestLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")

    def write(
        self,
        service: str,
        operation: str,
        region: str,
        status: int,
        error: str | None,
        began: float,
        body: bytes,
        principal: str | None = None,
        denied_action: str | None = None,
        injected: bool = False,
        protocol: str | None = None,
    ) -> None:
        entry = {
            "time": datetime.datetime.fromtimestamp(began, datetime.UTC).isoformat(timespec="milliseconds"),
            "service": service,
            "operation": operation,
            "region": region,
            "status": status,
            "error": error,
            "duration_ms": round((time.time() - began) * 1000, 2),
            "mutating": is_mutating(operation),
            "tenant": tenant_of(body),
        }
        if principal is not None:  # only while IAM is enforced (sandbox/iam_enforce.py): the ARN, or "root"
            entry["principal"] = principal
        if denied_action is not None:
            entry["denied_action"] = denied_action
        if injected:
            entry["injected"] = True
        if protocol is not None:  # a request translated from another protocol (sandbox/rpcv2cbor.py)
            entry["protocol"] = protocol
        with self._lock:
            entry["seq"] = len(self.entries)
            self.entries.append(entry)
            self._file.write(json.dumps(entry) + "\n")
            self._file.flush()

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.entries[seq:])

    def stats(self, seq: int = 0) -> dict[str, Any]:
        entries = self.since(seq)
        return {"since": seq, "next": seq + len(entries), **summarise(entries)}


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of a list of log entries: calls, mutating calls and operations, errors, per operation and service."""
    by_operation = Counter(f"{e['service']}:{e['operation']}" for e in entries)
    mutating = [e for e in entries if e["mutating"] and not e.get("injected")]
    return {
        "total": len(entries),
        "mutating": len(mutating),
        "mutating_operations": sorted({f"{e['service']}:{e['operation']}" for e in mutating}),
        "errors": sum(1 for e in entries if e["error"]),
        "injected": sum(1 for e in entries if e.get("injected")),
        "by_operation": dict(sorted(by_operation.items())),
        "by_service": dict(sorted(Counter(e["service"] for e in entries).items())),
    }
