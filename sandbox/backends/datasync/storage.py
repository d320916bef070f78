"""What DataSync reads and writes outside its own state: moto's S3, IAM and CloudWatch Logs, and the SMB
share a Samba DC serves for an FSx file system (sandbox/samba.py). Runs in the sandbox's process."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.jsonproto import ACCOUNT_ID

log = logging.getLogger("sandbox.datasync")
CHUNK = 4 * 1024 * 1024


def _s3() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT_ID]["aws"]


def bucket_exists(bucket: str) -> bool:
    return bucket in _s3().buckets


def role_exists(name: str) -> bool:
    from moto.iam.models import iam_backends

    try:
        iam_backends[ACCOUNT_ID]["aws"].get_role(name)
    except Exception:  # noqa: BLE001 - moto raises its own NoSuchEntity
        return False
    return True


@dataclass(frozen=True)
class SourceObject:
    relative: str  # path below the location's subdirectory, POSIX
    key: str
    version_id: str | None
    size: int


def read_object(bucket: str, key: str, version_id: str | None = None) -> tuple[bytes, str | None] | None:
    """The object's bytes and version id, None when there is no such object (or version)."""
    found = _s3().get_object(bucket, key, version_id=version_id)
    if found is None:
        return None
    return found.value, (str(found.version_id) if found.version_id not in (None, "null") else None)


def object_size(bucket: str, key: str, version_id: str | None = None) -> int | None:
    found = _s3().get_object(bucket, key, version_id=version_id)
    return None if found is None else int(found.size)


def list_current(bucket: str, prefix: str) -> list[tuple[str, int, str | None]]:
    """(key, size, version id) of every current object under `prefix`."""
    found = []
    for key, item in list(_s3().get_bucket(bucket).keys.items()):
        if key.startswith(prefix) and not key.endswith("/") and hasattr(item, "size"):
            version = str(item.version_id) if item.version_id not in (None, "null") else None
            found.append((key, int(item.size), version))
    return sorted(found)


# -- CloudWatch Logs --------------------------------------------------------------------------------
def log_group_exists(region: str, name: str) -> bool:
    from moto.logs.models import logs_backends

    return name in logs_backends[ACCOUNT_ID][region].groups


class TaskLog:
    """The task's log stream in its CloudWatch log group (one stream per execution), as DataSync writes it."""

    def __init__(self, region: str, group: str | None, stream: str, level: str) -> None:
        self.region, self.group, self.stream, self.level = region, group, stream, level
        self._started = False

    def write(self, message: str, level: str = "BASIC") -> None:
        if not self.group or self.level == "OFF" or (level == "TRANSFER" and self.level != "TRANSFER"):
            return
        from moto.logs.models import logs_backends

        backend = logs_backends[ACCOUNT_ID][self.region]
        try:
            if not self._started:
                backend.create_log_stream(self.group, self.stream)
                self._started = True
            backend.put_log_events(
                self.group, self.stream, [{"timestamp": int(time.time() * 1000), "message": message}]
            )
        except Exception:
            log.warning("DataSync log to %s failed", self.group, exc_info=True)


# -- the SMB share ------------------------------------------------------------------------------------
class Share:
    """Files on `\\\\<address>\\<share>` as the location's user (smbprotocol, its own connection cache)."""

    def __init__(self, address: str, share: str, user: str, domain: str, password: str) -> None:
        import smbclient

        self.smbclient = smbclient
        self.root = f"\\\\{address}\\{share}"
        self.cache: dict[str, Any] = {}
        # A DNS domain (as DataSync's Domain usually is) logs on as the UPN, a NetBIOS one as DOMAIN\user.
        username = (f"{user}@{domain}" if "." in domain else f"{domain}\\{user}") if domain else user
        smbclient.register_session(
            address, username=username, password=password, connection_cache=self.cache, connection_timeout=30
        )

    def path(self, relative: str) -> str:
        parts = [part for part in relative.replace("\\", "/").split("/") if part]
        return "\\".join([self.root, *parts])

    def ensure_folder(self, relative: str) -> int:
        """Create the folder and its parents; return how many were created."""
        created = 0
        parts = [part for part in relative.split("/") if part]
        for depth in range(1, len(parts) + 1):
            folder = self.path("/".join(parts[:depth]))
            if self.smbclient.path.isdir(folder, connection_cache=self.cache):
                continue
            self.smbclient.mkdir(folder, connection_cache=self.cache)
            created += 1
        return created

    def write(self, relative: str, data: bytes) -> None:
        with self.smbclient.open_file(self.path(relative), mode="wb", connection_cache=self.cache) as handle:
            for start in range(0, len(data), CHUNK):
                handle.write(data[start : start + CHUNK])

    def digest(self, relative: str) -> str | None:
        """SHA-256 of the file as the share serves it, None when it does not exist."""
        digest = hashlib.sha256()
        try:
            with self.smbclient.open_file(self.path(relative), mode="rb", connection_cache=self.cache) as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except OSError as err:
            if getattr(err, "errno", None) == errno.ENOENT:
                return None
            raise
        return digest.hexdigest()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.smbclient.reset_connection_cache(connection_cache=self.cache)


@contextlib.contextmanager
def share_of(address: str | None, share: str, user: str, domain: str, password: str) -> Iterator[Share | None]:
    """The destination share, or None when the file system has no real share (no Samba): modelled copy."""
    if address is None:
        yield None
        return
    opened = Share(address, share, user, domain, password)
    try:
        yield opened
    finally:
        opened.close()
