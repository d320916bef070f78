"""python -m sandbox start|stop|status|reset|serve

start   runs the endpoint in the background and returns once it answers
        (--enforce-iam, or SANDBOX_ENFORCE_IAM=1: authorise every request against the caller's IAM
        policies, see sandbox/iam_enforce.py)
stop    stops it
status  prints its health (exit 1 when it is not running)
reset   forgets every resource
serve   runs it in the foreground (what `start` launches)

The endpoint listens on loopback (--host 127.0.0.1). Any other --host (an interface, 0.0.0.0) needs
--allow-remote: the AWS side then answers anyone who reaches it, unauthenticated, as the sandbox
checks no signature. The admin API (/_sandbox/) answers only requests that carry the token kept in
`<state dir>/admin-token` (mode 0600); the commands here read it from --state-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sandbox import DEFAULT_HOST, DEFAULT_PORT
from sandbox.admin_access import is_loopback
from sandbox.client import SandboxClient, default_state_dir

DEFAULT_STATE_DIR = default_state_dir()


def _pid_file(state_dir: Path, port: int) -> Path:
    return state_dir / f"sandbox-{port}.pid"


def _alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped by a PID 1 that never reaps) is dead."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _running_pid(state_dir: Path, port: int) -> int | None:
    pid_file = _pid_file(state_dir, port)
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        return None
    return pid if _alive(pid) else None


def _client(args: argparse.Namespace) -> SandboxClient:
    return SandboxClient(port=args.port, host=args.host, state_dir=args.state_dir)


def _port_in_use(host: str, port: int) -> bool:
    """Something accepts connections there (the admin API would not answer a sandbox not ours)."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def start(args: argparse.Namespace) -> int:
    client = _client(args)
    if _running_pid(args.state_dir, args.port) and client.healthy():
        if args.time_scale is not None:
            client.set_time_scale(args.time_scale)
        if args.enforce_iam:
            client.call("PUT", "iam-enforcement", {"enabled": True})
        print(f"sandbox already running on {client.endpoint} (time scale {client.health()['time_scale']})")
        return 0
    if _port_in_use(args.host, args.port):
        # Something answers on the port but it is not ours (no live pid file in this state dir).
        print(
            f"port {args.port} is already served by another sandbox or program; choose another --port", file=sys.stderr
        )
        return 1
    args.state_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--port",
        str(args.port),
        "--host",
        args.host,
        "--state-dir",
        str(args.state_dir),
        "--time-scale",
        str(args.time_scale or 1.0),
        *(["--enforce-iam"] if args.enforce_iam else []),
        *(["--allow-remote"] if args.allow_remote else []),
    ]
    log = (args.state_dir / f"server-{args.port}.log").open("ab")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    _pid_file(args.state_dir, args.port).write_text(str(process.pid))
    deadline = time.time() + args.wait
    while time.time() < deadline:
        if process.poll() is not None:
            print(f"sandbox failed to start; see {log.name}", file=sys.stderr)
            return 1
        if client.healthy():
            health = client.health()
            print(
                f"sandbox running on {client.endpoint} (pid {process.pid}, time scale "
                f"{health['time_scale']}, state {args.state_dir}"
                f"{', IAM enforced' if health.get('enforce_iam') else ''})"
            )
            return 0
        time.sleep(0.1)
    print(f"sandbox did not answer within {args.wait}s; see {log.name}", file=sys.stderr)
    return 1


def stop(args: argparse.Namespace) -> int:
    pid = _running_pid(args.state_dir, args.port)
    if pid is None:
        print("sandbox is not running")
        return 0
    os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.killpg(pid, signal.SIGKILL)
    _pid_file(args.state_dir, args.port).unlink(missing_ok=True)
    _stop_left_dcs(args.state_dir)
    print(f"sandbox on port {args.port} stopped")
    return 0


def _stop_left_dcs(state_dir: Path) -> None:
    """Stop Samba DCs the server could not stop itself (killed before its exit hook ended).

    They run in sessions of their own, so the server's process group signal does not reach them."""
    if not (state_dir / "samba").exists():
        return
    from sandbox.samba import SambaDcProvider

    SambaDcProvider(state_dir, stop_on_exit=False).stop_stale()


def status(args: argparse.Namespace) -> int:
    client = _client(args)
    if not client.healthy():
        print(f"sandbox is not answering on {client.endpoint}")
        return 1
    print(json.dumps(client.health(), indent=2))
    return 0


def reset(args: argparse.Namespace) -> int:
    _client(args).reset()
    print("sandbox reset")
    return 0


def serve(args: argparse.Namespace) -> int:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from sandbox.server import SandboxApp

    # Without --enforce-iam, SANDBOX_ENFORCE_IAM decides (off when unset).
    app = SandboxApp(
        args.state_dir,
        time_scale=args.time_scale or 1.0,
        enforce_iam=args.enforce_iam or None,
        served=(args.host, args.port),
    )
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: (server.server_close(), sys.exit(0)))
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "stop", "status", "reset", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", DEFAULT_PORT)))
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="multiply every modelled AWS duration by this factor (1 = real time)",
    )
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="authorise every request against the caller's IAM policies (also SANDBOX_ENFORCE_IAM=1)",
    )
    parser.add_argument("--wait", type=float, default=30.0, help="seconds `start` waits for the endpoint")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="let start/serve listen on a --host other than loopback (the AWS side is then open to that network)",
    )
    args = parser.parse_args(argv)
    if args.time_scale is not None and args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    if args.command in ("start", "serve") and not is_loopback(args.host):
        if not args.allow_remote:
            parser.error(
                f"--host {args.host} is not a loopback address: the sandbox's AWS side checks no signature, so "
                "anyone who reaches it may read and change every resource. Add --allow-remote if that is meant."
            )
        print(
            f"WARNING: the sandbox listens on {args.host}:{args.port}, beyond this machine: its AWS side answers "
            "anyone who reaches it, unauthenticated; only the admin API needs the token.",
            file=sys.stderr,
        )
    return {"start": start, "stop": stop, "status": status, "reset": reset, "serve": serve}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
