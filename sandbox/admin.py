"""The sandbox-only admin API under /_sandbox/ (JSON in, JSON out).

GET  /_sandbox/health                      status, time scale, uptime
POST /_sandbox/reset                       forget every resource (moto's and the project's backends)
GET  /_sandbox/time-scale                  current scale; PUT/POST {"time_scale": S} sets it
GET  /_sandbox/iam-enforcement             whether IAM is enforced, and the latest denials;
                                           PUT/POST {"enabled": true|false} switches it
GET  /_sandbox/faults                      current rules; POST adds one
                                           {"service", "operation", "throttle_rate", "error_rate",
                                            "latency_ms", "seed"}; DELETE clears them
GET  /_sandbox/log?since=N                 request log entries from sequence N
GET  /_sandbox/log/stats?since=N           counts by operation, mutating calls, errors
POST /_sandbox/<service>/<action>          a backend's own hook, e.g. appstream/create-image,
                                           appstream/fail-fleet, ds/fail-directory, fsx/fail-file-system,
                                           appstream/start-session, appstream/end-session
POST /_sandbox/sns/confirm-subscriptions   what an e-mail recipient does with SNS's confirmation link
                                           {"topic_arn"?, "endpoint"?} (moto_gaps.py)
POST /_sandbox/cloudwatch/evaluate-alarms  evaluate the region's metric alarms now {"names"?} (alarms.py)

Every call must be addressed to the sandbox itself (`Host`: the address it serves or localhost, and
its port; else 403) and carry its token (from `<state dir>/admin-token`, in `X-Sandbox-Token` or as
the HTTP Basic password; else 401), see sandbox/admin_access.py. A refused call changes nothing.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Protocol
from urllib.parse import parse_qs

from sandbox.admin_access import TOKEN_HEADER, host_allowed, presented_token, token_matches
from sandbox.clock import SimClock
from sandbox.errors import AwsError
from sandbox.faults import Faults
from sandbox.iam_enforce import IamEnforcer
from sandbox.jsonproto import JsonService
from sandbox.reqlog import RequestLog


class SandboxControl(Protocol):
    """What the admin API drives: the server's application (sandbox/server.py SandboxApp) is one.

    Declared here, not imported from the server, so that the server may import this module."""

    clock: SimClock
    services: dict[str, JsonService]
    faults: Faults
    iam: IamEnforcer
    log: RequestLog
    started: float
    admin_token: str
    served: tuple[str, int]  # the (host, port) the server listens on

    def reset(self) -> None: ...

    def set_time_scale(self, scale: float) -> None: ...


def _confirm_subscriptions() -> Any:
    from sandbox.moto_gaps import confirm_email_subscriptions

    return confirm_email_subscriptions


def _evaluate_alarms() -> Any:
    from sandbox.alarms import admin_evaluate_alarms

    return admin_evaluate_alarms


# Hooks on services moto answers (the project's own backends have theirs as admin_<hook> methods).
_MOTO_HOOKS = {
    ("sns", "confirm-subscriptions"): _confirm_subscriptions,
    ("cloudwatch", "evaluate-alarms"): _evaluate_alarms,
}


def _reply(
    start_response: Any, status: int, document: Any, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    payload = json.dumps(document, default=str).encode()
    start_response(
        f"{status} {'OK' if status < 400 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *(headers or [])],
    )
    return [payload]


def refusal(app: SandboxControl, environ: dict[str, Any]) -> tuple[int, str] | None:
    """Why an admin request is refused (status, message), or None when it may go on."""
    host, port = app.served
    if not host_allowed(environ.get("HTTP_HOST", ""), host, port):
        return 403, f"the admin API answers only requests addressed to {host}:{port} or localhost:{port}"
    if not token_matches(presented_token(environ), app.admin_token):
        return 401, (
            f"the admin API needs the token of the sandbox's state directory (admin-token), in the {TOKEN_HEADER} "
            "header or as the HTTP Basic password"
        )
    return None


def handle_admin(app: SandboxControl, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "").rstrip("/")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""  # read even when refused: the connection goes on
    refused = refusal(app, environ)
    if refused is not None:
        status, message = refused
        # In the server log, so that an operator sees who knocked; no header value is written.
        print(f"refused admin {method} {path!r}: {status} {message}", file=sys.stderr, flush=True)
        challenge = [("WWW-Authenticate", 'Basic realm="sandbox admin"')] if status == 401 else []
        return _reply(start_response, status, {"error": message}, challenge)
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        return _reply(start_response, 400, {"error": "the body must be JSON"})
    parts = path.split("/")[2:]  # after "", "_sandbox"
    try:
        return _reply(start_response, 200, _route(app, method, parts, query, payload))
    except KeyError as exc:
        return _reply(start_response, 404, {"error": f"no such admin route or resource: {exc.args[0]}"})
    except (ValueError, TypeError) as exc:
        return _reply(start_response, 400, {"error": str(exc)})
    except AwsError as exc:
        return _reply(start_response, exc.status, {"error": exc.message, "code": exc.code})


def _route(app: SandboxControl, method: str, parts: list[str], query: dict[str, str], payload: dict[str, Any]) -> Any:
    head = parts[0] if parts else "health"
    if head == "health":
        return {
            "status": "ok",
            "time_scale": app.clock.time_scale,
            "uptime_s": round(time.time() - app.started, 3),
            "services": sorted(app.services),
            # Whether directories are backed by real Samba AD DCs (LDAP/SMB stages can run).
            "samba": getattr(app.services.get("ds"), "dc_provider", None) is not None,
            # Whether requests are authorised against the caller's IAM policies (sandbox/iam_enforce.py).
            "enforce_iam": app.iam.enabled,
        }
    if head == "reset" and method == "POST":
        app.reset()
        return {"reset": True}
    if head == "time-scale":
        if method in ("PUT", "POST"):
            app.set_time_scale(float(payload["time_scale"]))
        return {"time_scale": app.clock.time_scale}
    if head == "iam-enforcement":
        if method in ("PUT", "POST"):
            enabled = payload["enabled"]
            if not isinstance(enabled, bool):
                raise ValueError("enabled must be true or false")
            app.iam.set_enabled(enabled)
        return app.iam.status()
    if head == "faults":
        if method == "POST":
            app.faults.configure(payload)
        elif method == "DELETE":
            app.faults.clear()
        return {"rules": app.faults.rules}
    if head == "log":
        since = int(query.get("since", 0))
        if len(parts) > 1 and parts[1] == "stats":
            return app.log.stats(since)
        return {"entries": app.log.since(since), "next": since + len(app.log.since(since))}
    if (head, parts[1] if len(parts) == 2 else "") in _MOTO_HOOKS and method == "POST":
        return _MOTO_HOOKS[(head, parts[1])]()(payload.get("region", "us-east-1"), payload)
    if head in app.services and len(parts) == 2 and method == "POST":
        service = app.services[head]
        hook = getattr(service, "admin_" + parts[1].replace("-", "_"), None)
        if hook is None:
            raise KeyError("/".join(parts))
        return hook(payload.get("region", "us-east-1"), payload)
    raise KeyError("/".join(parts))
