"""A small framework for the sandbox's own JSON 1.1 services (AppStream, DS, FSx).

A service subclasses `JsonService`, names its botocore service id, and defines one
method per implemented operation, named after the operation in snake_case and taking
(ctx, params). The framework decodes `X-Amz-Target`, validates the input against
botocore's model, calls the method and serialises the result the way botocore's
JSON parser expects (timestamps as epoch seconds). Operations that exist in the
model but not here answer an AWS-shaped error naming them.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ServiceModel

from sandbox.clock import SimClock
from sandbox.errors import AwsError
from sandbox.validation import raise_for

ACCOUNT_ID = "123456789012"
_SESSION = botocore.session.get_session()


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@dataclass
class Context:
    region: str
    account_id: str
    request_id: str
    operation: str


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def paginate(
    items: list[Any],
    params: dict[str, Any],
    *,
    limit_key: str = "MaxResults",
    token_key: str = "NextToken",  # noqa: S107 - a parameter name, not a secret
    default_limit: int = 50,
) -> tuple[list[Any], str | None]:
    """Return one page of `items` and the token of the next one (an opaque offset)."""
    token = params.get(token_key)
    start = 0
    if token:
        try:
            start = int(token.split(":", 1)[1])
        except (IndexError, ValueError) as exc:
            raise AwsError(
                "InvalidNextTokenException" if token_key == "NextToken" else "ValidationException",  # noqa: S105
                f"The pagination token {token!r} is not valid",
            ) from exc
    limit = params.get(limit_key) or default_limit
    page = items[start : start + limit]
    following = start + limit
    return page, (f"page:{following}" if following < len(items) else None)


class JsonService:
    """Base of a JSON-protocol service: dispatch, validation, serialisation, per-region state."""

    service_name: str = ""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.model: ServiceModel = _SESSION.get_service_model(self.service_name)
        self.target_prefix = self.model.metadata["targetPrefix"]
        self._lock = threading.RLock()
        self._regions: dict[str, Any] = {}

    # -- state ------------------------------------------------------------------------
    def new_region_state(self, region: str) -> Any:
        raise NotImplementedError

    def state(self, ctx: Context) -> Any:
        with self._lock:
            if ctx.region not in self._regions:
                self._regions[ctx.region] = self.new_region_state(ctx.region)
            return self._regions[ctx.region]

    def all_states(self) -> Iterable[tuple[str, Any]]:
        return list(self._regions.items())

    def reset(self) -> None:
        with self._lock:
            self._regions.clear()

    # -- dispatch ---------------------------------------------------------------------
    def operation_from_target(self, target: str) -> str | None:
        prefix, _, operation = target.partition(".")
        return operation if prefix == self.target_prefix else None

    def handle(self, operation: str, body: bytes, region: str) -> tuple[int, dict[str, Any]]:
        """Run one operation; returns (HTTP status, JSON document)."""
        ctx = Context(region=region, account_id=ACCOUNT_ID, request_id=str(uuid.uuid4()), operation=operation)
        try:
            if operation not in self.model.operation_names:
                raise AwsError("UnknownOperationException", f"Unknown operation {operation!r} for {self.service_name}")
            try:
                params = json.loads(body or b"{}")
            except ValueError as exc:
                raise AwsError("SerializationException", "The request body is not valid JSON") from exc
            raise_for(self.model.operation_model(operation).input_shape, params)
            handler = getattr(self, snake(operation), None)
            if handler is None:
                raise AwsError(
                    "InvalidAction",
                    f"The sandbox does not implement {self.model.service_id}.{operation}",
                )
            with self._lock:
                result = handler(ctx, params) or {}
            return 200, json.loads(json.dumps(result, default=_default))
        except AwsError as err:
            return err.status, {"__type": err.code, "message": err.message, "Message": err.message, **err.extra}

    @contextmanager
    def unlocked(self) -> Iterator[None]:
        """Let other requests in while a handler waits on something outside the backend's state.

        Handlers run with the backend's lock held once (see `handle`); what they read before this
        may have changed after it."""
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()

    def error_codes(self, operation: str) -> list[str]:
        return [shape.name for shape in self.model.operation_model(operation).error_shapes]
