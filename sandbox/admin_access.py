"""Who may use the admin API (/_sandbox/): the sandbox's own user, on the address it serves.

The admin API resets every resource, switches IAM enforcement off and drives backend hooks; the AWS
side is meant to be reachable by any SDK (which signs with SigV4, not with anything of ours). Two
checks guard the admin side only:

- the `Host` header must name the address the sandbox serves (or `localhost`) with its port: a web
  page cannot reach it through a DNS name rebound to 127.0.0.1 (the browser sends that name);
- the request must carry the token the server keeps in `<state dir>/admin-token` (mode 0600, a
  random 256-bit value made at the first start and reused while it stays private): another local
  user, or a page that guesses the port, has not got it. It comes in the `X-Sandbox-Token` header,
  or as the password of HTTP Basic authentication (any user name): Ansible's uri module treats its
  `url_password` as a secret (no_log) and masks it in every output, -vvv included, whereas a header
  value would be printed with the task's arguments (the collection's `sandbox_health` lookup shows its
  `token` option nowhere).

Kept apart from sandbox/admin.py so that the client reads the token without importing the server.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hmac
import ipaddress
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

TOKEN_FILE = "admin-token"  # noqa: S105 - the file's name, not a token
TOKEN_HEADER = "X-Sandbox-Token"  # noqa: S105 - the header's name
TOKEN_ENVIRON = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")
_TOKEN_BYTES = 32
_WILDCARDS = {ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::")}  # noqa: S104 - compared, not bound


def token_path(state_dir: Path) -> Path:
    return Path(state_dir) / TOKEN_FILE


def read_token(state_dir: Path) -> str | None:
    """The token of the sandbox of `state_dir`, or None when there is none we can trust.

    A token file that is a symlink, not ours, or readable by others is not trusted: its value may
    be known to someone else."""
    try:
        descriptor = os.open(token_path(state_dir), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(descriptor) as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None
        token = handle.read(256).strip()
    return token or None


def ensure_token(state_dir: Path) -> str:
    """The token of `state_dir`: the one on disk while it is private, else a new one written 0600.

    Several sandboxes of one state dir (one per port) share it; the lock keeps two that start
    together from writing two tokens."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with _locked(state_dir / f".{TOKEN_FILE}.lock"):
        existing = read_token(state_dir)
        if existing is not None:
            return existing
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        staged = state_dir / f".{TOKEN_FILE}.{os.getpid()}"
        staged.unlink(missing_ok=True)
        # O_EXCL|O_NOFOLLOW: a file or link planted at the staging name is never written through;
        # the mode is set at creation, so the token is never readable by others, not even briefly.
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(token + "\n")
        os.replace(staged, token_path(state_dir))
        return token


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def presented_token(environ: dict[str, str]) -> str | None:
    """The token a request carries: its X-Sandbox-Token header, else its HTTP Basic password."""
    header = environ.get(TOKEN_ENVIRON)
    if header:
        return header
    scheme, _, credentials = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1); a name other than localhost is not."""
    if host.lower() == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def host_allowed(host_header: str, served_host: str, served_port: int) -> bool:
    """Whether a request's `Host` header names the sandbox itself: its address or localhost, its port.

    A sandbox serving every interface (--allow-remote with 0.0.0.0 or ::) accepts any address
    literal; a DNS name other than localhost is never accepted, since it may be rebound to us."""
    name, port = _split_host(host_header)
    if name is None or port != served_port:
        return False
    if name.lower() == "localhost" or name.lower() == served_host.lower().strip("[]"):
        return True
    address, served = _address(name), _address(served_host)
    if address is None:
        return False
    return served is not None and (served in _WILDCARDS or address == served)


def _split_host(header: str) -> tuple[str | None, int | None]:
    """`name:port`, `[v6]:port` or a bare name (port 80, as HTTP means it)."""
    header = header.strip()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    elif header.count(":") == 1:
        name, _, port_text = header.partition(":")
    elif ":" in header:
        return None, None  # an IPv6 address must be bracketed
    else:
        name, port_text = header, ""
    if not name or port_text is None:
        return None, None
    if not port_text:
        return name, 80
    return (name, int(port_text)) if port_text.isdigit() else (None, None)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
