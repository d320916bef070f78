"""AWS wire protocols as the sandbox answers them: which protocol a request speaks, and its error shapes.

Shared by the server (injected faults), the IAM enforcer (refusals) and the admin API, so that
none of them imports another: an error the sandbox makes up itself must look exactly like the
service's own, or botocore would neither parse its code nor retry it.

The protocol is the request's, not only the service's: botocore 1.44 speaks JSON to AppStream,
Directory Service and CloudWatch although their models list `smithy-rpc-v2-cbor` first, and newer
SDKs speak CBOR to the same services (sandbox/rpcv2cbor.py translates those to JSON and back).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import botocore.session

_SESSION = botocore.session.get_session()


@cache
def service_protocol(service: str) -> str:
    """The protocol botocore resolves for `service` (its first supported one), JSON for unknown names."""
    try:
        return _SESSION.get_service_model(service).resolved_protocol
    except Exception:  # noqa: BLE001 - unknown service names fall back to JSON errors
        return "json"


def request_protocol(service: str, environ: dict[str, Any] | None = None) -> str:
    """The protocol one request speaks: JSON when it names an `X-Amz-Target`, else the service's.

    An RPC v2 CBOR request arrives here already translated to JSON (sandbox/rpcv2cbor.py), and its
    JSON error is translated back."""
    if environ is not None and environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    return service_protocol(service)


@dataclass
class ErrorReply:
    """An AWS error answer: status, content type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    code: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def error_reply(protocol: str, status: int, code: str, message: str, request_id: str | None = None) -> ErrorReply:
    """`code` with `message` shaped as `protocol` carries errors (what botocore's parser of it reads)."""
    request_id = request_id or str(uuid.uuid4())
    text = escape(message)
    if protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return ErrorReply(status, "text/xml", body.encode(), code)
    if protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return ErrorReply(status, "text/xml", body.encode(), code)
    if protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{text}</Message><RequestId>{request_id}</RequestId></Error>"
        return ErrorReply(status, "application/xml", body.encode(), code, [("x-amz-request-id", request_id)])
    document = {"__type": code, "message": message, "Message": message}
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    return ErrorReply(status, "application/x-amz-json-1.1", json.dumps(document).encode(), code, headers)


# Codes botocore retries as throttling or as server faults, per protocol (botocore/retries/standard.py).
_FAULTS: dict[str, dict[str, tuple[str, int]]] = {
    "ec2": {"throttle": ("RequestLimitExceeded", 503), "error": ("InternalError", 500)},
    "query": {"throttle": ("Throttling", 400), "error": ("InternalFailure", 500)},
    "rest-xml": {"throttle": ("SlowDown", 503), "error": ("InternalError", 500)},
}
_JSON_FAULTS = {"throttle": ("ThrottlingException", 400), "error": ("InternalServerError", 500)}


def fault_reply(protocol: str, kind: str) -> ErrorReply:
    """An injected fault (`throttle` or `error`) as the protocol's own throttling or 5xx answer."""
    code, status = _FAULTS.get(protocol, _JSON_FAULTS)[kind]
    return error_reply(protocol, status, code, "Injected by the sandbox")


_DENIALS: dict[str, tuple[str, int]] = {
    "ec2": ("UnauthorizedOperation", 403),
    "query": ("AccessDenied", 403),
    "rest-xml": ("AccessDenied", 403),
}


def denial_reply(protocol: str, message: str) -> ErrorReply:
    """An IAM refusal as the service answers it (EC2's message carries AWS's own prefix)."""
    code, status = _DENIALS.get(protocol, ("AccessDeniedException", 400))
    if protocol == "ec2":
        message = f"You are not authorized to perform this operation. {message}"
    return error_reply(protocol, status, code, message)
