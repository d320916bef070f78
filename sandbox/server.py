"""The sandbox's WSGI application: one endpoint for moto's services and the project's own.

Requests are routed by the service named in their SigV4 credential scope (or their
X-Amz-Target prefix): AppStream, Directory Service and FSx go to the project's own
backends, everything else to moto. Around both sit fault injection, the request log
and the admin API under /_sandbox/.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import botocore.session

from sandbox.clock import SimClock
from sandbox.iam_enforce import IamEnforcer
from sandbox.jsonproto import JsonService
from sandbox.reqlog import RequestLog, is_mutating

_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request$")
_SESSION = botocore.session.get_session()


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


def _protocol(service: str) -> str:
    try:
        return _SESSION.get_service_model(service).metadata.get("protocol", "json")
    except Exception:  # noqa: BLE001 - unknown service names fall back to JSON errors
        return "json"


def fault_response(service: str, kind: str) -> tuple[int, str, bytes]:
    """An error exactly as the service would send it, so botocore's retry logic recognises it."""
    request_id = str(uuid.uuid4())
    protocol = _protocol(service)
    throttle = kind == "throttle"
    if protocol == "ec2":
        code, status = ("RequestLimitExceeded", 503) if throttle else ("InternalError", 500)
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>Injected by the sandbox</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return status, "text/xml", body.encode()
    if protocol == "query":
        code, status = ("Throttling", 400) if throttle else ("InternalFailure", 500)
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>Injected by the sandbox"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, "text/xml", body.encode()
    if protocol == "rest-xml":
        code, status = ("SlowDown", 503) if throttle else ("InternalError", 500)
        body = f"<Error><Code>{code}</Code><Message>Injected by the sandbox</Message></Error>"
        return status, "application/xml", body.encode()
    code, status = ("ThrottlingException", 400) if throttle else ("InternalServerError", 500)
    body = json.dumps({"__type": code, "message": "Injected by the sandbox"})
    return status, "application/x-amz-json-1.1", body.encode()


class SandboxApp:
    def __init__(self, state_dir: Path, time_scale: float = 1.0, enforce_iam: bool | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from sandbox.backends import build_services

        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.clock = SimClock(time_scale)
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.services: dict[str, JsonService] = build_services(self.clock, self.state_dir)
        self._targets = {svc.target_prefix: name for name, svc in self.services.items()}
        self.faults = Faults()
        self.log = RequestLog(self.state_dir / "requests.jsonl")
        # Opt-in IAM authorisation of every request (None: as SANDBOX_ENFORCE_IAM says; off by default).
        self.iam = IamEnforcer(self.services, enforce_iam)
        self.started = time.time()

    # -- routing -------------------------------------------------------------------------
    def identify(self, environ: dict[str, Any], body: bytes) -> tuple[str, str, str]:
        """Return (service, region, operation) of a request."""
        service, region = "", "us-east-1"
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match:
            region, service = match.group(3), match.group(4)
        else:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            credential = (query.get("X-Amz-Credential") or [""])[0]
            if (qmatch := _QUERY_SCOPE.match(credential)) is not None:
                region, service = qmatch.group(1), qmatch.group(2)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, operation = target.partition(".")
            if not service:
                service = self._targets.get(prefix, prefix)
            return service, region, operation
        content_type = environ.get("CONTENT_TYPE", "")
        if "x-www-form-urlencoded" in content_type:
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return service or "unknown", region, action[0]
        query_action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        if query_action:
            return service or "unknown", region, query_action[0]
        return service or "unknown", region, f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox"):
            from sandbox.admin import handle_admin

            return handle_admin(self, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        service, region, operation = self.identify(environ, body)
        began = time.time()
        verdict = self.iam.check(environ, service, region, operation, body)
        principal = verdict.principal if verdict is not None else None
        if verdict is not None and not verdict.allowed:
            self.log.write(
                service, operation, region, verdict.status, verdict.code, began, body, principal, verdict.action
            )
            headers = [("Content-Type", verdict.content_type), ("Content-Length", str(len(verdict.body)))]
            start_response(f"{verdict.status} Error", headers + verdict.headers)
            return [verdict.body]
        fault, latency = self.faults.decide(service, operation)
        if latency:
            time.sleep(latency)
        if fault is not None:
            status, content_type, payload = fault_response(service, fault)
            error = "ThrottlingException" if fault == "throttle" else "InternalServerError"
            self.log.write(service, operation, region, status, error, began, body, principal, injected=True)
            start_response(f"{status} Error", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
            return [payload]
        own = self.services.get(service)
        if own is not None:
            status, document = own.handle(operation, body, region)
            payload = json.dumps(document).encode()
            error = document.get("__type") if status >= 400 else None
            self.log.write(service, operation, region, status, error, began, body, principal)
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", str(uuid.uuid4())),
            ]
            start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
            return [payload]
        return self._moto(environ, start_response, service, region, operation, body, began, principal)

    def _moto(
        self,
        environ: dict[str, Any],
        start_response: Any,
        service: str,
        region: str,
        operation: str,
        body: bytes,
        began: float,
        principal: str | None = None,
    ) -> Any:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        chunks = list(self.moto(environ, capture))
        status = captured.get("status", 500)
        error = None
        if status >= 400:
            text = b"".join(chunks)[:4096].decode("utf-8", "replace")
            found = re.search(r"<Code>([^<]+)</Code>", text) or re.search(r'"__type"\s*:\s*"(?:[^#"]*#)?([^"]+)"', text)
            error = found.group(1) if found else f"HTTP{status}"
        self.log.write(service, operation, region, status, error, began, body, principal)
        return chunks

    # -- admin helpers -------------------------------------------------------------------------
    def reset(self) -> None:
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()
        for svc in self.services.values():
            svc.reset()

    def set_time_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time_scale must be positive")
        self.clock.time_scale = float(scale)


__all__ = ["SandboxApp", "is_mutating"]
