"""Fault injection: throttling, server errors and latency per service and operation (admin API `faults`)."""

from __future__ import annotations

import random
import threading
from typing import Any

from sandbox.protocol import ErrorReply, fault_reply, request_protocol


class Faults:
    """Throttling, server errors and latency injected per service and operation."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.random = random.Random(0)
        self._lock = threading.Lock()

    def configure(self, payload: dict[str, Any]) -> None:
        with self._lock:
            rule = {
                "service": payload.get("service", "*"),
                "operation": payload.get("operation", "*"),
                "throttle_rate": float(payload.get("throttle_rate", 0.0)),
                "error_rate": float(payload.get("error_rate", 0.0)),
                "latency_ms": float(payload.get("latency_ms", 0.0)),
            }
            for key in ("throttle_rate", "error_rate"):
                if not 0.0 <= rule[key] <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1")
            if "seed" in payload:
                self.random.seed(payload["seed"])
            self.rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def decide(self, service: str, operation: str) -> tuple[str | None, float]:
        """Return (fault kind or None, added latency in seconds) for one request."""
        with self._lock:
            latency = 0.0
            fault = None
            for rule in self.rules:
                if rule["service"] not in ("*", service) or rule["operation"] not in ("*", operation):
                    continue
                latency += rule["latency_ms"] / 1000.0
                draw = self.random.random()
                if fault is None and draw < rule["throttle_rate"]:
                    fault = "throttle"
                elif fault is None and draw < rule["throttle_rate"] + rule["error_rate"]:
                    fault = "error"
            return fault, latency


def fault_response(service: str, kind: str, environ: dict[str, Any] | None = None) -> tuple[int, str, bytes]:
    """An injected fault exactly as the service would send it, so botocore's retry logic recognises it."""
    reply: ErrorReply = fault_reply(request_protocol(service, environ), kind)
    return reply.status, reply.content_type, reply.body
