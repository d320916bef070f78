"""The sandbox's WSGI application: one endpoint for moto's services and the project's own.

Requests are routed by the service named in their SigV4 credential scope (or their
X-Amz-Target prefix): AppStream, Directory Service and FSx go to the project's own
backends, everything else to moto. Around both sit fault injection, the request log
and the admin API under /_sandbox/, which answers only the sandbox's own user on the address
it serves (sandbox/admin_access.py). Smithy RPC v2 CBOR requests are translated to the
service's JSON request and their answer back (sandbox/rpcv2cbor.py).
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sandbox import DEFAULT_HOST, DEFAULT_PORT, rpcv2cbor
from sandbox.admin import handle_admin
from sandbox.admin_access import ensure_token
from sandbox.clock import SimClock
from sandbox.faults import Faults, fault_response
from sandbox.iam_enforce import IamEnforcer
from sandbox.jsonproto import JsonService
from sandbox.reqlog import RequestLog, is_mutating

_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request$")


# moto's own control API (reset, seeding, state): it would bypass the admin API's checks and reset
# moto's resources but not the project's backends. Not served.
_MOTO_API = "/moto-api"


class SandboxApp:
    def __init__(
        self,
        state_dir: Path,
        time_scale: float = 1.0,
        enforce_iam: bool | None = None,
        served: tuple[str, int] = (DEFAULT_HOST, DEFAULT_PORT),
    ) -> None:
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
        # The admin API answers requests addressed to `served` that carry this token (sandbox/admin_access.py).
        self.served = served
        self.admin_token = ensure_token(self.state_dir)

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
            return handle_admin(self, environ, start_response)
        if path.startswith(_MOTO_API):
            payload = json.dumps({"error": "moto's own API is not served by the sandbox: use /_sandbox/"}).encode()
            start_response(
                "404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        if rpcv2cbor.is_cbor_request(environ):
            # Translated to the service's JSON request, answered below, and the answer back to CBOR.
            return rpcv2cbor.serve(self._serve, environ, start_response)
        return self._serve(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        service, region, operation = self.identify(environ, body)
        protocol = environ.get(rpcv2cbor.ENVIRON_KEY)
        began = time.time()
        verdict = self.iam.check(environ, service, region, operation, body)
        principal = verdict.principal if verdict is not None else None
        if verdict is not None and not verdict.allowed:
            self.log.write(
                service,
                operation,
                region,
                verdict.status,
                verdict.code,
                began,
                body,
                principal,
                verdict.action,
                protocol=protocol,
            )
            headers = [("Content-Type", verdict.content_type), ("Content-Length", str(len(verdict.body)))]
            start_response(f"{verdict.status} Error", headers + verdict.headers)
            return [verdict.body]
        fault, latency = self.faults.decide(service, operation)
        if latency:
            time.sleep(latency)
        if fault is not None:
            status, content_type, payload = fault_response(service, fault, environ)
            error = "ThrottlingException" if fault == "throttle" else "InternalServerError"
            self.log.write(
                service, operation, region, status, error, began, body, principal, injected=True, protocol=protocol
            )
            start_response(f"{status} Error", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
            return [payload]
        own = self.services.get(service)
        if own is not None:
            status, document = own.handle(operation, body, region)
            payload = json.dumps(document).encode()
            error = document.get("__type") if status >= 400 else None
            self.log.write(service, operation, region, status, error, began, body, principal, protocol=protocol)
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", str(uuid.uuid4())),
            ]
            start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
            return [payload]
        return self._moto(environ, start_response, service, region, operation, body, began, principal, protocol)

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
        protocol: str | None = None,
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
        self.log.write(service, operation, region, status, error, began, body, principal, protocol=protocol)
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
        # A modelled calendar (AppStream's usage) turns the wall seconds since its last reading into modelled ones at
        # the scale in force when it is read: read it at the old scale first, or the seconds spent at the old scale
        # would be counted at the new one.
        for service in self.services.values():
            checkpoint = getattr(service, "checkpoint_calendar", None)
            if callable(checkpoint):
                checkpoint()
        self.clock.time_scale = float(scale)


__all__ = ["Faults", "SandboxApp", "fault_response", "is_mutating"]
