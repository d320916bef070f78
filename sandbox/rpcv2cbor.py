"""The Smithy RPC v2 CBOR protocol, answered for any service whose JSON requests the sandbox answers.

botocore 1.44's models list `smithy-rpc-v2-cbor` first for AppStream, Directory Service, DataSync and
CloudWatch (metadata `protocols`); botocore itself still resolves JSON for them, newer SDKs speak CBOR.
Spec: https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html ("Smithy RPC v2 CBOR
protocol"); the client side this must satisfy is botocore's own RpcV2CBORSerializer/RpcV2CBORParser.

- Request: `POST /service/<ServiceName>/operation/<Operation>`, header `smithy-protocol: rpc-v2-cbor`,
  body the operation's input structure in CBOR (none for an operation without input). <ServiceName>
  is the service shape's name, botocore's `targetPrefix`.
- Response: the same header, `Content-Type: application/cbor`, the output structure in CBOR.
  Timestamps are CBOR tag 1 over epoch seconds, blobs byte strings.
- Error: the status of the error, a CBOR map of its members plus `__type`, the error's shape ID
  (`<namespace>#<Code>`; clients keep what follows `#`).

The gateway is generic, by service model: it decodes the CBOR input with the operation's input
shape into the JSON document an awsJson request carries (timestamps to epoch seconds, blobs to
base64), hands the request on as `X-Amz-Target: <targetPrefix>.<Operation>` JSON to whatever
answers it (the project's backends, or moto: CloudWatch, DataSync), and encodes the JSON answer
back with the output shape. A backend that answers JSON therefore answers CBOR as well; the
request log, IAM enforcement and fault injection see the JSON request.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import gzip
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
import cbor2
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.utils import parse_timestamp

CONTENT_TYPE = "application/cbor"
HEADER = ("smithy-protocol", "rpc-v2-cbor")
ENVIRON_KEY = "sandbox.protocol"  # set to "rpc-v2-cbor" on a request the gateway translated
_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_TARGET_PREFIX = re.compile(r'"targetPrefix"\s*:\s*"([^"]+)"')
_SESSION = botocore.session.get_session()
_SESSION_LOCK = threading.Lock()

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class CborError(Exception):
    """A request the gateway refuses before any backend sees it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def is_cbor_request(environ: dict[str, Any]) -> bool:
    return environ.get("HTTP_SMITHY_PROTOCOL", "").strip().lower() == HEADER[1]


# -- which service and operation ----------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    model: ServiceModel
    operation: OperationModel


def _service_model(name: str) -> ServiceModel | None:
    with _SESSION_LOCK:  # botocore's loader caches are not meant for concurrent first loads
        try:
            return _SESSION.get_service_model(name)
        except Exception:  # noqa: BLE001 - not a botocore service name
            return None


@cache
def _services_by_target_prefix() -> dict[str, str]:
    """botocore service names by targetPrefix, read from the head of each model file (~0.6 s, once).

    Only for a request whose signing name is not the service's botocore name (CloudWatch signs as
    `monitoring`): loading every model whole would take ~11 s."""
    with _SESSION_LOCK:
        loader = _SESSION.get_component("data_loader")
        index: dict[str, str] = {}
        for name in _SESSION.get_available_services():
            version = loader.determine_latest_version(name, "service-2")
            for base in loader.search_paths:
                path = os.path.join(base, name, version, "service-2.json")
                found = next((p for p in (path + ".gz", path) if os.path.exists(p)), None)
                if found is None:
                    continue
                with gzip.open(found, "rt") if found.endswith(".gz") else open(found) as handle:
                    match = _TARGET_PREFIX.search(handle.read(4096))
                if match:
                    index.setdefault(match.group(1), name)
                break
        return index


def resolve(environ: dict[str, Any]) -> Call:
    """The service model and operation a CBOR request names (path, then its SigV4 signing name)."""
    match = _PATH.match(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD", "POST") != "POST" or match is None:
        raise CborError(404, "UnknownOperationException", "RPC v2 requests are POST /service/<S>/operation/<O>")
    target_prefix, operation = match.group(1), match.group(2)
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    model = _service_model(scope.group(1)) if scope else None
    if model is None or model.metadata.get("targetPrefix") != target_prefix:
        name = _services_by_target_prefix().get(target_prefix)
        model = _service_model(name) if name else None
    if model is None:
        raise CborError(404, "UnknownOperationException", f"No service named {target_prefix}")
    if operation not in model.operation_names:
        raise CborError(404, "UnknownOperationException", f"Unknown operation {operation} for {target_prefix}")
    return Call(model, model.operation_model(operation))


# -- CBOR to the JSON document, and back ----------------------------------------------------------------
def _epoch(value: Any) -> float | int:
    if isinstance(value, cbor2.CBORTag):
        value = value.value
    if isinstance(value, datetime.datetime):
        value = value.timestamp()
    if isinstance(value, str):
        value = parse_timestamp(value).timestamp()
    return int(value) if float(value).is_integer() else float(value)


def to_json(value: Any, shape: Shape | None) -> Any:
    """A decoded CBOR value as awsJson carries it: timestamps epoch seconds, blobs base64."""
    kind = shape.type_name if shape is not None else None
    if value is None:
        return None
    if kind == "timestamp" or isinstance(value, datetime.datetime | cbor2.CBORTag):
        return _epoch(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        members = getattr(shape, "members", {}) if kind == "structure" else {}
        item = getattr(shape, "value", None) if kind == "map" else None
        return {key: to_json(entry, members.get(key) if kind == "structure" else item) for key, entry in value.items()}
    if isinstance(value, list):
        return [to_json(entry, getattr(shape, "member", None)) for entry in value]
    return value


def to_cbor(value: Any, shape: Shape | None) -> Any:
    """An awsJson value as RPC v2 CBOR carries it: timestamps tag 1 epoch seconds, blobs byte strings."""
    kind = shape.type_name if shape is not None else None
    if value is None:
        return None
    if kind == "timestamp":
        return cbor2.CBORTag(1, _epoch(value))
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return value.encode()
    if isinstance(value, dict):
        members = getattr(shape, "members", {}) if kind == "structure" else {}
        item = getattr(shape, "value", None) if kind == "map" else None
        return {key: to_cbor(entry, members.get(key) if kind == "structure" else item) for key, entry in value.items()}
    if isinstance(value, list):
        return [to_cbor(entry, getattr(shape, "member", None)) for entry in value]
    if kind in ("double", "float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def error_code(raw: Any) -> str:
    """The bare code of an awsJson `__type` ("ns#Code", "Code:http://...", "Code")."""
    return str(raw or "InternalFailure").rsplit("#", 1)[-1].split(":", 1)[0]


def error_type(model: ServiceModel | None, code: str) -> str:
    """The error's shape ID: AWS models live in `com.amazonaws.<service id>` (clients keep what follows #)."""
    if model is None:
        return code
    namespace = "com.amazonaws." + re.sub(r"[^a-z0-9]", "", model.service_id.lower())
    return f"{namespace}#{code}"


def encode_error(document: dict[str, Any], model: ServiceModel | None = None) -> bytes:
    """An error document (awsJson's `__type`, `message`, other members) as an RPC v2 CBOR error body."""
    body = {key: value for key, value in document.items() if key != "__type"}
    body["__type"] = error_type(model, error_code(document.get("__type")))
    return cbor2.dumps(body)


# -- the WSGI gateway ---------------------------------------------------------------------------------
def _reply(start_response: Any, status: int, body: bytes, headers: list[tuple[str, str]]) -> list[bytes]:
    reason = "OK" if status < 400 else "Error"
    fixed = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body))), HEADER]
    start_response(f"{status} {reason}", fixed + headers)
    return [body]


def _passed_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    dropped = {"content-type", "content-length", HEADER[0]}
    return [(key, value) for key, value in headers if key.lower() not in dropped]


def serve(app: WsgiApp, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answer one RPC v2 CBOR request through `app`, which answers awsJson."""
    try:
        call = resolve(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            decoded = cbor2.loads(raw) if raw else {}
        except (cbor2.CBORDecodeError, ValueError) as exc:
            raise CborError(400, "SerializationException", f"The request body is not valid CBOR: {exc}") from exc
        if not isinstance(decoded, dict):
            raise CborError(400, "SerializationException", "The request body must be a CBOR map")
    except CborError as err:
        return _reply(start_response, err.status, encode_error({"__type": err.code, "message": err.message}), [])
    body = json.dumps(to_json(decoded, call.operation.input_shape)).encode()
    json_version = call.model.metadata.get("jsonVersion", "1.0")
    environ.update(
        {
            "PATH_INFO": "/",
            "HTTP_X_AMZ_TARGET": f"{call.model.metadata['targetPrefix']}.{call.operation.name}",
            "CONTENT_TYPE": f"application/x-amz-json-{json_version}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            ENVIRON_KEY: HEADER[1],
        }
    )
    environ.pop("HTTP_SMITHY_PROTOCOL", None)
    environ.pop("HTTP_ACCEPT", None)
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = int(status.split()[0]), headers
        return lambda _data: None

    chunks = app(environ, capture)
    try:
        answer = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = captured.get("status", 500), _passed_headers(captured.get("headers", []))
    try:
        document = json.loads(answer) if answer.strip() else {}
    except ValueError:
        text = answer[:200].decode("utf-8", "replace")
        document = {"__type": "InternalFailure", "message": f"The service did not answer JSON: {text}"}
        status = 500 if status < 400 else status
    if status >= 400:
        return _reply(start_response, status, encode_error(document, call.model), headers)
    return _reply(start_response, status, cbor2.dumps(to_cbor(document, call.operation.output_shape)), headers)
