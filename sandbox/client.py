"""A small client of the sandbox for tests and scripts: admin API and boto3 clients.

The admin API needs the sandbox's token (sandbox/admin_access.py). The client finds it, first found:
the `token` given; the token file of the `state_dir` given; SANDBOX_TOKEN; the token file of
SANDBOX_STATE_DIR, else of the project's `.sandbox/` (where `python -m sandbox start` keeps its state
by default). The file is read at each call: a client made before its sandbox starts works once it runs.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sandbox import DEFAULT_HOST, DEFAULT_PORT
from sandbox.admin_access import TOKEN_HEADER, read_token

PROJECT_STATE_DIR = Path(__file__).resolve().parent.parent / ".sandbox"


def default_state_dir() -> Path:
    """The state directory `python -m sandbox` uses when given none: SANDBOX_STATE_DIR, else `.sandbox/`."""
    return Path(os.environ.get("SANDBOX_STATE_DIR") or PROJECT_STATE_DIR)


class SandboxClient:
    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host: str = DEFAULT_HOST,
        region: str = "eu-west-3",
        *,
        state_dir: Path | str | None = None,
        token: str | None = None,
    ) -> None:
        self.endpoint = f"http://{host}:{port}"
        self.region = region
        # Given explicitly, the state dir wins over SANDBOX_TOKEN: a test's own sandbox is not the one
        # SANDBOX_TOKEN was exported for.
        self._token = (
            token if token is not None else (None if state_dir is not None else os.environ.get("SANDBOX_TOKEN"))
        )
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()

    def admin_token(self) -> str | None:
        """The token sent to the admin API (None: none found, the sandbox will answer 401)."""
        return self._token if self._token else read_token(self.state_dir)

    # -- admin API --------------------------------------------------------------------------
    def call(self, method: str, path: str, payload: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.endpoint}/_sandbox/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                **({TOKEN_HEADER: token} if (token := self.admin_token()) else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")
            raise RuntimeError(f"sandbox admin {method} {path} failed: {err.code} {detail}") from err

    def healthy(self) -> bool:
        try:
            return self.health().get("status") == "ok"
        except (OSError, RuntimeError, ValueError):
            return False

    def health(self) -> dict[str, Any]:
        return self.call("GET", "health", timeout=1.0)

    def reset(self) -> None:
        self.call("POST", "reset", {})

    def set_time_scale(self, scale: float) -> None:
        self.call("PUT", "time-scale", {"time_scale": scale})

    def add_fault(self, **rule: Any) -> None:
        self.call("POST", "faults", rule)

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def log_mark(self) -> int:
        return self.call("GET", "log/stats")["next"]

    def log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.call("GET", f"log?since={since}")["entries"]

    def stats(self, since: int = 0) -> dict[str, Any]:
        return self.call("GET", f"log/stats?since={since}")

    def hook(self, service: str, action: str, **payload: Any) -> Any:
        payload.setdefault("region", self.region)
        return self.call("POST", f"{service}/{action}", payload)

    # -- what users and AWS do on their own (operations) ----------------------------------
    def start_session(self, stack: str, user: str, **payload: Any) -> str:
        """A user streams from `stack` (payload: authentication_type, fleet, start_time, applications)."""
        return self.hook("appstream", "start-session", stack=stack, user=user, **payload)["SessionId"]

    def end_session(self, session_id: str, **payload: Any) -> dict[str, Any]:
        """The session ends (payload: end_time); it goes to the usage report of the day it ends."""
        return self.hook("appstream", "end-session", session_id=session_id, **payload)

    def write_usage_reports(self, **payload: Any) -> dict[str, Any]:
        """Write the usage reports now (payload: date YYYY-MM-DD or month YYYY-MM; default every day due)."""
        return self.hook("appstream", "write-usage-reports", **payload)

    def confirm_subscriptions(self, **payload: Any) -> dict[str, Any]:
        """Confirm pending SNS e-mail subscriptions (payload: topic_arn, endpoint)."""
        return self.hook("sns", "confirm-subscriptions", **payload)

    def evaluate_alarms(self, **payload: Any) -> dict[str, str]:
        """Evaluate the region's CloudWatch metric alarms now; their states by name."""
        return self.hook("cloudwatch", "evaluate-alarms", **payload)["alarms"]

    def record_cost(self, date: str, amount: float, tags: dict[str, str], **payload: Any) -> None:
        """What the bill says: `amount` USD spent on `date` by resources carrying `tags` (Cost Explorer)."""
        self.hook("ce", "record-cost", date=date, amount=amount, tags=tags, **payload)

    # -- boto3 ---------------------------------------------------------------------------
    def boto3(self, service: str, region: str | None = None, protocol: str | None = None) -> Any:
        """A boto3 client aimed at the sandbox; `protocol` forces one of the service model's protocols.

        botocore resolves JSON for AppStream, DS, DataSync and CloudWatch although their models list
        `smithy-rpc-v2-cbor` first; `protocol="smithy-rpc-v2-cbor"` speaks CBOR as newer SDKs do."""
        import boto3
        from botocore.config import Config

        session = boto3.Session(botocore_session=speaking(protocol, service)) if protocol else boto3
        return session.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the sandbox's dummy credentials
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )


def speaking(protocol: str, service: str) -> Any:
    """A botocore session whose model of `service` lists `protocol` alone (it must be one of the model's)."""
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    load = loader.load_service_model

    def load_forcing(service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = load(service_name, type_name, api_version)
        if type_name != "service-2" or service_name != service:
            return model
        if protocol not in model["metadata"].get("protocols", [model["metadata"].get("protocol")]):
            raise ValueError(f"{service} does not speak {protocol}")
        return {**model, "metadata": {**model["metadata"], "protocol": protocol, "protocols": [protocol]}}

    loader.load_service_model = load_forcing
    return session
