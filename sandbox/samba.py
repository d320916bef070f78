"""Real Samba AD domain controllers behind the sandbox's Managed Microsoft AD directories.

With Samba installed, root (LDAP, Kerberos, SMB and DNS use privileged ports) and
SANDBOX_SAMBA=1 (see sandbox/backends/__init__.py), each directory that becomes Active is
backed by a Samba AD DC:

- provisioned in `<state_dir>/samba/<directory-id>/` with `samba-tool domain provision`
  (`<state_dir>/samba` links to a directory made by `tempfile.mkdtemp` under /var/tmp, owned by
  the sandbox's user, mode 0711, when the state dir sits below a directory other users cannot
  traverse, since smbd reads shares as the user; see `samba_root`);
- listening only on its own two loopback addresses 127.0.1.N (DnsIpAddrs has two entries, as
  AWS's two DCs give; allocated per directory, recorded in `<state_dir>/samba/addresses.json`,
  added to `lo` when missing), with its own `pid directory`, so several DCs run side by side;
- started as `samba -i -M single` in its own session and its own mount namespace, where
  /run/samba is private to it (smbd finds winbindd through a compiled-in socket path there);
  stopped on `destroy`, on sandbox reset and when the sandbox process exits;
- given AWS's layout before it starts (offline, through Samba's own Python bindings,
  which is much faster than one `samba-tool` process per object): `OU=<NetBIOS>` with
  `Computers` and `Users`, `OU=AWS Delegated Groups` with the delegated groups,
  `OU=AWS Reserved`, and the `Admin` account in `OU=Users,OU=<NetBIOS>` that is *not* a
  Domain Admin: it is a member of AWS Delegated Administrators (full control on the
  `OU=<NetBIOS>` subtree through an inheritable ACE), AWS Delegated Group Policy
  Administrators and Group Policy Creator Owners (may create GPOs, as on Windows, where
  that group may create groupPolicyContainer objects; Samba's provision needs the ACE added);
- `provision_file_share` serves the FSx share `share` from the DC itself
  (`acl_xattr`, Windows ACL semantics) and registers the file system's DNS name in the
  DC's DNS. Members of AWS Delegated FSx Administrators hold the privileges FSx grants its
  file system administrators (backup, restore, take ownership, security).

The built-in `Administrator` password is random, kept in `private/sandbox-administrator`
(mode 0600) for the sandbox's own maintenance calls and for tests that need a Domain
Admin view (`samba-tool gpo aclcheck`). Passwords never appear on a command line: they
go to the helper on stdin or through the `PASSWD` environment variable.

`python -m sandbox.samba provision|destroy|share|info|available` drives a provider without
the sandbox (used by the `directory` molecule scenario).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ADDRESS_NETWORK = ipaddress.ip_network("127.0.1.0/24")
READY_PORTS = (636, 445)
DEFAULT_READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
SHARE_NAME = "share"
# Where a DC root that must be traversable by all is made (by tempfile.mkdtemp: a fresh name, 0700 at
# creation, then 0711), when the state dir is not.
TRAVERSABLE_PARENT = Path("/var/tmp")  # noqa: S108 - only the parent of mkdtemp's private directories
TRAVERSABLE_PREFIX = "tenant-sandbox-samba-"
DC_HOST_NAME = "dc1"
SAMBA_PYTHON = "/usr/bin/python3"  # the interpreter Samba's bindings are built for (samba-tool's shebang)

AWS_DELEGATED_GROUPS = (
    "AWS Delegated Account Operators",
    "AWS Delegated Active Directory Based Activation Administrators",
    "AWS Delegated Add Workstations To Domain Users",
    "AWS Delegated Administrators",
    "AWS Delegated Allowed to Authenticate Objects",
    "AWS Delegated Allowed to Authenticate to Domain Controllers",
    "AWS Delegated Deleted Object Lifetime Administrators",
    "AWS Delegated Distributed File System Administrators",
    "AWS Delegated Domain Name System Administrators",
    "AWS Delegated Dynamic Host Configuration Protocol Administrators",
    "AWS Delegated Enterprise Certificate Authority Administrators",
    "AWS Delegated Fine Grained Password Policy Administrators",
    "AWS Delegated FSx Administrators",
    "AWS Delegated Group Policy Administrators",
    "AWS Delegated Kerberos Delegation Administrators",
    "AWS Delegated Managed Service Account Administrators",
    "AWS Delegated MS-NPRC Non-Compliant Devices",
    "AWS Delegated Remote Access Service Administrators",
    "AWS Delegated Replicate Directory Changes Administrators",
    "AWS Delegated Server Administrators",
    "AWS Delegated Sites and Services Administrators",
    "AWS Delegated System Management Administrators",
    "AWS Delegated Terminal Server Licensing Administrators",
    "AWS Delegated User Principal Name Suffix Administrators",
)
# Groups AWS Delegated Administrators is nested in, so that Admin holds their rights too.
ADMINISTRATORS_NESTED_IN = (
    "AWS Delegated FSx Administrators",
    "AWS Delegated Group Policy Administrators",
    "AWS Delegated Domain Name System Administrators",
    "AWS Delegated Server Administrators",
)
FSX_ADMIN_PRIVILEGES = ("SeBackupPrivilege", "SeRestorePrivilege", "SeTakeOwnershipPrivilege", "SeSecurityPrivilege")

# Runs under Samba's own Python (SAMBA_PYTHON) with a JSON request on stdin; prints JSON.
# Offline edits of sam.ldb are what `samba-tool ... -H sam.ldb` does too; ldb's locking
# makes them safe while the DC runs (set-password is used on a running DC).
_HELPER = r"""
import json, sys
import ldb
from samba import Ldb as SambaLdb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

req = json.load(sys.stdin)
lp = LoadParm()
lp.load(req["smb_conf"])
samdb = SamDB(url=req["sam_ldb"], session_info=system_session(), lp=lp)
domain_dn = str(samdb.domain_dn())
domain_sid = security.dom_sid(samdb.get_domain_sid())


def dn_exists(dn):
    try:
        samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["dn"])
        return True
    except ldb.LdbError as err:
        if err.args[0] == ldb.ERR_NO_SUCH_OBJECT:
            return False
        raise


def sid_of(dn):
    res = samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["objectSid"])
    return str(ndr_unpack(security.dom_sid, res[0]["objectSid"][0]))


def add_ace(dn, ace_sddl):
    res = samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"],
                       controls=["sd_flags:1:%d" % security.SECINFO_DACL])
    desc = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0])
    if ace_sddl in desc.as_sddl(domain_sid):
        return
    ace = security.descriptor.from_sddl("D:" + ace_sddl, domain_sid).dacl.aces[0]
    desc.dacl_add(ace)
    msg = ldb.Message(ldb.Dn(samdb, dn))
    msg["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(desc), ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
    samdb.modify(msg, controls=["sd_flags:1:%d" % security.SECINFO_DACL])


def add_member(group_dn, member_dn):
    res = samdb.search(base=group_dn, scope=ldb.SCOPE_BASE, attrs=["member"])
    current = {str(ldb.Dn(samdb, str(value))).lower() for value in res[0].get("member", [])}
    if member_dn.lower() in current:
        return
    msg = ldb.Message(ldb.Dn(samdb, group_dn))
    msg["member"] = ldb.MessageElement(member_dn, ldb.FLAG_MOD_ADD, "member")
    samdb.modify(msg)


def layout():
    netbios = req["netbios"]
    samdb.setpassword("(sAMAccountName=Administrator)", req["administrator_password"],
                      force_change_at_next_login=False)
    for ou in (f"OU={netbios}", f"OU=Computers,OU={netbios}", f"OU=Users,OU={netbios}",
               "OU=AWS Delegated Groups", "OU=AWS Reserved"):
        dn = f"{ou},{domain_dn}"
        if not dn_exists(dn):
            samdb.create_ou(dn)
    groups_ou = f"OU=AWS Delegated Groups,{domain_dn}"
    for name in req["groups"]:
        if not dn_exists(f"CN={name},{groups_ou}"):
            samdb.newgroup(name, groupou="OU=AWS Delegated Groups", description=f"{name} (sandbox)")
    users_ou = f"OU=Users,OU={netbios}"
    admin_dn = f"CN=Admin,{users_ou},{domain_dn}"
    if not dn_exists(admin_dn):
        samdb.newuser("Admin", req["admin_password"], userou=users_ou, useusernameascn=True,
                      description="Delegated administrator of the directory (sandbox)")
        samdb.setexpiry(f"(sAMAccountName=Admin)", 0, no_expiry_req=True)
    else:
        samdb.setpassword("(sAMAccountName=Admin)", req["admin_password"], force_change_at_next_login=False)
    delegated_admins = f"CN=AWS Delegated Administrators,{groups_ou}"
    add_member(delegated_admins, admin_dn)
    add_member(f"CN=AWS Delegated Group Policy Administrators,{groups_ou}", admin_dn)
    add_member(f"CN=Group Policy Creator Owners,CN=Users,{domain_dn}", admin_dn)
    for name in req["nested_in"]:
        add_member(f"CN={name},{groups_ou}", delegated_admins)
    admins_sid = sid_of(delegated_admins)
    # Full control on the customer OU and everything below it, as AWS delegates it.
    add_ace(f"OU={netbios},{domain_dn}", f"(A;CI;GA;;;{admins_sid})")
    add_ace(f"OU=AWS Delegated Groups,{domain_dn}", f"(A;;LCRPLORC;;;{admins_sid})")
    # Windows grants Group Policy Creator Owners "create groupPolicyContainer" on CN=Policies;
    # Samba's provision does not, so GPO creation by a non-Domain-Admin would fail without it.
    add_ace(f"CN=Policies,CN=System,{domain_dn}", "(OA;;CC;f30e3bc2-9ff0-11d1-b603-0000f80367c1;;PA)")
    fsx_sid = sid_of(f"CN=AWS Delegated FSx Administrators,{groups_ou}")
    # Through samba.Ldb so that objectSid is stored as a binary SID, as provision stores the others.
    privileges = SambaLdb(req["privilege_ldb"], session_info=system_session(), lp=lp)
    with_sid = privileges.search(base="", scope=ldb.SCOPE_SUBTREE, expression=f"(objectSid={fsx_sid})",
                                 attrs=["privilege"])
    current = sorted(str(value) for value in with_sid[0].get("privilege", [])) if len(with_sid) else []
    if current != sorted(req["fsx_privileges"]):
        for entry in privileges.search(base="", scope=ldb.SCOPE_SUBTREE, expression="(comment=AWS Delegated FSx*)"):
            privileges.delete(entry.dn)
        privileges.add_ldif("\n".join([f"dn: sid={fsx_sid}", "objectClass: privilege", f"objectSid: {fsx_sid}",
                                       "comment: AWS Delegated FSx Administrators",
                                       *[f"privilege: {name}" for name in req["fsx_privileges"]]]) + "\n")
    print(json.dumps({"domain_dn": domain_dn, "domain_sid": str(domain_sid), "admin_dn": admin_dn,
                      "fsx_admins_sid": fsx_sid, "delegated_admins_sid": admins_sid}))


def set_password():
    user = req["user"]
    found = samdb.search(base=domain_dn, scope=ldb.SCOPE_SUBTREE,
                         expression="(&(objectClass=user)(sAMAccountName=%s))" % ldb.binary_encode(user),
                         attrs=["dn"])
    if len(found) != 1:
        print(json.dumps({"error": "UserDoesNotExist"}))
        return
    samdb.setpassword("(sAMAccountName=%s)" % ldb.binary_encode(user), req["password"],
                      force_change_at_next_login=False)
    print(json.dumps({"ok": True}))


{"layout": layout, "set-password": set_password}[req["action"]]()
"""


class DirectoryLike(Protocol):
    """What the provider needs to know about a directory (the DS backend's Directory fits)."""

    directory_id: str
    name: str
    short_name: str


@dataclass
class DirectorySpec:
    """A directory described by hand (CLI, tests)."""

    directory_id: str
    name: str
    short_name: str


@dataclass
class DcInfo:
    directory_id: str
    realm: str
    netbios: str
    address: str
    directory: Path
    domain_dn: str
    domain_sid: str
    addresses: list[str] = field(default_factory=list)

    @property
    def ca_file(self) -> Path:
        return self.directory / "private" / "tls" / "ca.pem"

    @property
    def smb_conf(self) -> Path:
        return self.directory / "etc" / "smb.conf"

    @property
    def sam_ldb(self) -> Path:
        return self.directory / "private" / "sam.ldb"

    def as_dict(self) -> dict[str, Any]:
        return {
            "addresses": list(self.addresses or [self.address]),
            "directory_id": self.directory_id,
            "realm": self.realm,
            "netbios": self.netbios,
            "address": self.address,
            "directory": str(self.directory),
            "domain_dn": self.domain_dn,
            "domain_sid": self.domain_sid,
            "ca_file": str(self.ca_file),
            "smb_conf": str(self.smb_conf),
            "sam_ldb": str(self.sam_ldb),
        }


class SambaError(RuntimeError):
    """A Samba DC could not be provisioned, started or changed."""


def _provisioning_error(message: str) -> Exception:
    """The DS backend's ProvisioningError (directory goes Failed) when available, else SambaError."""
    try:
        from sandbox.backends.ds import ProvisioningError
    except ImportError:  # the backend is optional for the CLI
        return SambaError(message)
    return ProvisioningError(message)


def _binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(Path(prefix) / name) for prefix in ("/usr/sbin", "/usr/bin") if (Path(prefix) / name).exists()), None
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_open(address: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def _ldaps_answers(address: str, timeout: float = 2.0) -> bool:
    """A TLS handshake on 636 completes (the certificate is generated at first start)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # readiness probe only; clients validate against the DC's CA
    try:
        with socket.create_connection((address, 636), timeout=timeout) as raw, context.wrap_socket(raw):
            return True
    except (OSError, ssl.SSLError):
        return False


def _address_in_use(address: str) -> bool:
    """True when something (another sandbox's DC) already listens on the address."""
    for port in (389, 445):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, port))
            except OSError as exc:
                if exc.errno == 98:  # EADDRINUSE; EADDRNOTAVAIL means only that lo lacks it yet
                    return True
    return False


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        for child in children.get(pid, []):
            found.append(child)
            queue.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        if status.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _belongs_to(pid: int, directory: str) -> bool:
    """Whether a live process works for the DC in `directory` (a recycled pid must not be killed).

    smbd and winbindd carry the DC's smb.conf on their command line; `samba` rewrites its
    process title, so for it the files it holds open tell.
    """
    proc = Path(f"/proc/{pid}")
    with contextlib.suppress(OSError):
        if directory in (proc / "cmdline").read_bytes().decode(errors="replace"):
            return True
    with contextlib.suppress(OSError):
        for fd in (proc / "fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd).startswith(directory + "/"):
                    return True
    return False


def _terminate(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _traversable_by_all(path: Path) -> bool:
    """Every existing directory from / down to `path` lets any user through (o+x)."""
    for directory in [path, *path.parents]:
        if directory.exists() and not directory.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def _safe_dc_root(path: Path) -> bool:
    """`path` is a real directory only the sandbox's user (or root) can change, and so is every directory
    above it, but for sticky ones (/tmp, /var/tmp), where others cannot rename or remove what is ours."""
    try:
        info = path.lstat()
    except OSError:
        return False
    owners = {os.geteuid(), 0}
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return False
    for directory in path.parents:
        above = directory.stat()
        if above.st_uid not in owners or (above.st_mode & 0o022 and not above.st_mode & stat.S_ISVTX):
            return False
    return True


def samba_root(state_dir: Path) -> Path:
    """Where the DCs of a state dir live: `<state_dir>/samba`, or a traversable stand-in linked from there.

    smbd opens shared files as the connected user's uid, so every directory above the shares
    and SYSVOL must let any user through. A state dir below a private directory (pytest's
    /tmp/pytest-of-root, molecule's ~/.ansible/tmp) cannot, so its DCs go to a directory made by
    `tempfile.mkdtemp` in /var/tmp (a name nobody can predict or create first, ours, 0700 at
    creation) that is then opened to traversal only (0711: no listing, no writing), and
    `<state_dir>/samba` is a symlink to it. A link whose target is gone, or is no longer a private
    directory of ours (another user could have made one at that name after a cleaner removed ours),
    is replaced by a new one: DC files are never put where someone else can change them.
    """
    wanted = state_dir.resolve() / "samba"
    if wanted.is_symlink():
        # One link, read, not resolved: a target that is itself a link could lead anywhere (and
        # destroy_all removes what it finds there).
        linked = Path(os.readlink(wanted))
        if linked.parent == TRAVERSABLE_PARENT and linked.name.startswith(TRAVERSABLE_PREFIX) and _safe_dc_root(linked):
            return linked
        wanted.unlink()
    if wanted.exists() or _traversable_by_all(state_dir.resolve()):
        return wanted
    base = Path(tempfile.mkdtemp(prefix=TRAVERSABLE_PREFIX, dir=TRAVERSABLE_PARENT))
    base.chmod(0o711)
    wanted.parent.mkdir(parents=True, exist_ok=True)
    try:
        wanted.symlink_to(base, target_is_directory=True)
    except FileExistsError:  # another provider of this state dir linked one first: use theirs
        base.rmdir()
        return samba_root(state_dir)
    return base


class SambaDcProvider:
    """Provisions, starts and removes Samba AD DCs for sandbox directories (DS backend seam)."""

    def __init__(
        self, state_dir: Path | str, ready_timeout: float = DEFAULT_READY_TIMEOUT, stop_on_exit: bool = True
    ) -> None:
        self.root = samba_root(Path(state_dir))
        self.ready_timeout = ready_timeout
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.RLock()  # held by provisioning (a background job of the DS backend)
        # Guards _processes and _stopping, never held while waiting: stop_all must not wait for a
        # provisioning under way, and no samba may start once it has run (it would be an orphan).
        self._processes_lock = threading.Lock()
        self._stopping = False
        if stop_on_exit:
            import atexit

            atexit.register(self.stop_all)

    # -- availability -------------------------------------------------------------------------
    @staticmethod
    def available() -> bool:
        """Samba's DC binaries and Python bindings are installed and we may bind privileged ports."""
        return (
            _binary("samba-tool") is not None
            and _binary("samba") is not None
            and Path(SAMBA_PYTHON).exists()
            and os.geteuid() == 0
        )

    # -- paths and records ----------------------------------------------------------------------
    def dc_dir(self, directory_id: str) -> Path:
        return self.root / directory_id

    def _record_path(self, directory_id: str) -> Path:
        return self.dc_dir(directory_id) / "sandbox-dc.json"

    def _read_record(self, directory_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._record_path(directory_id).read_text())
        except (OSError, ValueError):
            return None

    def info(self, directory_id: str) -> DcInfo | None:
        record = self._read_record(directory_id)
        if not record or not record.get("complete"):
            return None
        addresses = record.get("addresses") or [record["address"]]
        return DcInfo(
            directory_id,
            record["realm"],
            record["netbios"],
            addresses[0],
            self.dc_dir(directory_id),
            record["domain_dn"],
            record["domain_sid"],
            addresses,
        )

    def administrator_password(self, directory_id: str) -> str:
        return (self.dc_dir(directory_id) / "private" / "sandbox-administrator").read_text().strip()

    # -- addresses -------------------------------------------------------------------------------
    def allocate_addresses(self, directory_id: str, count: int = 2) -> list[str]:
        """127.0.1.N addresses for a directory: kept once chosen, first choice derived from the id."""
        registry = self.root / "addresses.json"
        with _file_lock(self.root / "addresses.lock"):
            table = self._read_table(registry)
            if len(table.get(directory_id, [])) >= count:
                return table[directory_id][:count]
            hosts = list(ADDRESS_NETWORK.hosts())[1:]  # .1 stays free for ad hoc use
            start = int.from_bytes(hashlib.sha256(directory_id.encode()).digest()[:4], "big") % len(hosts)
            taken = {address for addresses in table.values() for address in addresses}
            chosen: list[str] = []
            for probe in range(len(hosts)):
                candidate = str(hosts[(start + probe) % len(hosts)])
                if candidate not in taken and not _address_in_use(candidate):
                    chosen.append(candidate)
                if len(chosen) == count:
                    table[directory_id] = chosen
                    registry.write_text(json.dumps(table, indent=2, sort_keys=True))
                    return chosen
        raise _provisioning_error("no free loopback address left in 127.0.1.0/24 for a Samba DC")

    @staticmethod
    def _read_table(registry: Path) -> dict[str, list[str]]:
        try:
            table = json.loads(registry.read_text())
        except (OSError, ValueError):
            return {}
        return {key: [value] if isinstance(value, str) else list(value) for key, value in table.items()}

    def _release_addresses(self, directory_id: str) -> list[str]:
        registry = self.root / "addresses.json"
        with _file_lock(self.root / "addresses.lock"):
            table = self._read_table(registry)
            addresses = table.pop(directory_id, [])
            registry.write_text(json.dumps(table, indent=2, sort_keys=True))
            return addresses

    @staticmethod
    def _ensure_loopback(address: str) -> None:
        shown = subprocess.run(["ip", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=False)
        if f"inet {address}/" in shown.stdout:
            return
        added = subprocess.run(
            ["ip", "addr", "add", f"{address}/8", "dev", "lo"], capture_output=True, text=True, check=False
        )
        if added.returncode != 0 and "File exists" not in added.stderr:
            raise _provisioning_error(f"cannot add {address} to lo: {added.stderr.strip()}")

    # -- the DS backend seam ----------------------------------------------------------------------
    def provision(self, directory: DirectoryLike, admin_password: str) -> list[str]:
        """Provision (or reuse) and start the DC of `directory`; return its addresses once LDAPS answers."""
        with self._lock:
            try:
                info = self._ensure_provisioned(directory, admin_password)
                self._start(info)
            except SambaError as exc:
                raise _provisioning_error(str(exc)) from exc
            return list(info.addresses)

    def set_password(self, directory: DirectoryLike, user: str, password: str) -> None:
        """ResetUserPassword on the real DC; unknown users answer UserDoesNotExistException."""
        info = self.info(directory.directory_id)
        if info is None:
            raise SambaError(f"no Samba DC for {directory.directory_id}")
        result = self._helper(info.directory, {"action": "set-password", "user": user, "password": password})
        if result.get("error") == "UserDoesNotExist":
            from sandbox.errors import AwsError

            raise AwsError(
                "UserDoesNotExistException", f"User {user} does not exist in directory {directory.directory_id}."
            )

    def destroy(self, directory: DirectoryLike | str) -> None:
        """Stop the DC, delete its files and give its loopback address back."""
        directory_id = directory if isinstance(directory, str) else directory.directory_id
        with self._lock:
            self._stop(directory_id)
            shutil.rmtree(self.dc_dir(directory_id), ignore_errors=True)
            for address in self._release_addresses(directory_id):
                subprocess.run(["ip", "addr", "del", f"{address}/8", "dev", "lo"], capture_output=True, check=False)

    def stop_all(self) -> None:
        """Stop every DC this provider started (sandbox stop); their files stay for a later start.

        Does not wait for a provisioning under way (it holds `_lock`): its samba is stopped here,
        so it fails at once, and a samba it has not started yet is refused (`_stopping`)."""
        with self._processes_lock:
            self._stopping = True
            directory_ids = list(self._processes)
        for directory_id in directory_ids:
            self._stop(directory_id)
            info = self.info(directory_id)
            for address in info.addresses if info else []:
                subprocess.run(["ip", "addr", "del", f"{address}/8", "dev", "lo"], capture_output=True, check=False)

    def stop_stale(self) -> None:
        """Stop DCs a crashed earlier sandbox left running under this state dir (their files stay)."""
        if self.root.exists():
            for entry in sorted(self.root.iterdir()):
                if entry.is_dir():
                    self._kill_stale(entry.name)

    def destroy_all(self) -> None:
        """Remove every DC under the state dir (sandbox reset)."""
        with self._lock:
            if not self.root.exists():
                return
            for entry in sorted(self.root.iterdir()):
                if entry.is_dir():
                    self.destroy(entry.name)

    # -- FSx share ----------------------------------------------------------------------------------
    def provision_file_share(self, directory: DirectoryLike, fs_dns_name: str) -> str:
        """Serve `\\\\<fs_dns_name>\\share` from the directory's DC; return the address clients use."""
        with self._lock:
            info = self.info(directory.directory_id)
            if info is None:
                raise SambaError(f"no Samba DC for {directory.directory_id}")
            share_dir = info.directory / "fsx" / SHARE_NAME
            created = not share_dir.exists()
            share_dir.mkdir(parents=True, exist_ok=True)
            if self._ensure_share_section(info, share_dir):
                self._reload_smbd(info)
            if created or not self._read_record(info.directory_id).get("share_acl"):
                self._set_share_root_acl(info, share_dir)
            self._ensure_dns_record(info, fs_dns_name)
            return info.address

    def _ensure_share_section(self, info: DcInfo, share_dir: Path) -> bool:
        conf = info.smb_conf.read_text()
        if f"[{SHARE_NAME}]" in conf:
            return False
        conf += (
            f"\n[{SHARE_NAME}]\n"
            f"\tpath = {share_dir}\n"
            "\tread only = no\n"
            "\tvfs objects = dfs_samba4 acl_xattr\n"
            "\tmap acl inherit = yes\n"
            "\tstore dos attributes = yes\n"
            # Windows semantics, as FSx has them: access is decided by the NT ACLs alone, and reaching a folder
            # needs no right on its parents (Windows grants "Bypass traverse checking" to everyone): the DataSync
            # account writes Projects\Incoming without any right on Projects. Without this, Samba also maps the
            # NT ACLs onto POSIX ACLs and the kernel's path walk demands traverse rights on every parent.
            "\tacl_xattr:ignore system acls = yes\n"
        )
        info.smb_conf.write_text(conf)
        return True

    def _reload_smbd(self, info: DcInfo) -> None:
        smbcontrol = _binary("smbcontrol")
        if smbcontrol and self._running(info.directory_id):
            subprocess.run(
                [smbcontrol, "-s", str(info.smb_conf), "smbd", "reload-config"],
                capture_output=True,
                check=False,
                timeout=30,
            )

    def _set_share_root_acl(self, info: DcInfo, share_dir: Path) -> None:
        # FSx's default: SYSTEM and the file system administrators full control, domain users modify.
        fsx = self._read_record(info.directory_id)["fsx_admins_sid"]
        full = "0x001f01ff"  # not "FA": Samba 4.17 parses FA as 0x1ff, without the standard rights
        sddl = (
            f"O:{fsx}G:DUD:PAI(A;OICI;{full};;;SY)(A;OICI;{full};;;BA)(A;OICI;{full};;;{fsx})"
            f"(A;OICIIO;{full};;;CO)(A;OICI;0x001301bf;;;DU)"
        )
        self._run(
            [_binary("samba-tool") or "samba-tool", "ntacl", "set", sddl, str(share_dir), "-s", str(info.smb_conf)],
            "set the share's root ACL",
        )
        self._update_record(info.directory_id, share_acl=True)

    def _ensure_dns_record(self, info: DcInfo, fs_dns_name: str) -> None:
        zone = info.realm.lower()
        name = fs_dns_name.lower().rstrip(".")
        if name.endswith("." + zone):
            name = name[: -len(zone) - 1]
        env = {**os.environ, "PASSWD": self.administrator_password(info.directory_id)}
        tool = _binary("samba-tool") or "samba-tool"
        base = ["-s", str(info.smb_conf), "-U", "Administrator"]
        query = subprocess.run(
            [tool, "dns", "query", info.address, zone, name, "A", *base],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if query.returncode == 0 and info.address in query.stdout:
            return
        # A DC that has just started can refuse the DNS RPC logon for a few seconds (NT_STATUS_LOGON_FAILURE
        # seen on a loaded machine, while its first-start tasks run): retry that, and only that, briefly.
        deadline = time.monotonic() + 45
        while True:
            added = subprocess.run(
                [tool, "dns", "add", info.address, zone, name, "A", info.address, *base],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            output = added.stderr + added.stdout
            if added.returncode == 0 or "ALREADY_EXISTS" in output:
                return
            if "NT_STATUS_LOGON_FAILURE" not in output or time.monotonic() > deadline:
                raise SambaError(f"cannot register {fs_dns_name} in the DC's DNS: {added.stderr.strip()[-500:]}")
            time.sleep(2)

    # -- provisioning ----------------------------------------------------------------------------------
    def _ensure_provisioned(self, directory: DirectoryLike, admin_password: str) -> DcInfo:
        realm = directory.name.upper()
        netbios = directory.short_name.upper()
        record = self._read_record(directory.directory_id)
        self._kill_stale(directory.directory_id)
        if record and record.get("complete") and record["realm"] == realm and record["netbios"] == netbios:
            info = self.info(directory.directory_id)
            assert info is not None
            for address in info.addresses:
                self._ensure_loopback(address)
            self._layout(info, admin_password)  # idempotent; also applies the current Admin password
            return info
        dc_dir = self.dc_dir(directory.directory_id)
        shutil.rmtree(dc_dir, ignore_errors=True)
        addresses = self.allocate_addresses(directory.directory_id)
        for address in addresses:
            self._ensure_loopback(address)
        address = addresses[0]
        dc_dir.mkdir(parents=True)
        for sub in ("run", "log"):
            (dc_dir / sub).mkdir()
        empty_conf = dc_dir / "provision-base.conf"
        empty_conf.write_text("")  # keep the host's /etc/samba/smb.conf shares out of the DC
        command = [
            _binary("samba-tool") or "samba-tool",
            "domain",
            "provision",
            "-s",
            str(empty_conf),
            f"--realm={realm}",
            f"--domain={netbios}",
            "--server-role=dc",
            "--dns-backend=SAMBA_INTERNAL",
            f"--targetdir={dc_dir}",
            f"--host-ip={address}",
            f"--host-name={DC_HOST_NAME}",
            f"--option=interfaces={' '.join(addresses)}",
            "--option=bind interfaces only=yes",
            f"--option=pid directory={dc_dir / 'run'}",
            f"--option=log file={dc_dir / 'log'}/%m.log",
            "--option=dns forwarder=",
        ]
        # No --adminpass: it would show in the process list. Provision picks a random one and the
        # layout helper replaces it with ours, given on stdin.
        self._run(command, f"provision the Samba AD DC for {directory.directory_id}")
        secret = dc_dir / "private" / "sandbox-administrator"
        secret.write_text(secrets.token_urlsafe(18) + "aA1!")
        secret.chmod(0o600)
        self._write_record(
            directory.directory_id,
            {"realm": realm, "netbios": netbios, "address": address, "addresses": addresses, "complete": False},
        )
        info = DcInfo(directory.directory_id, realm, netbios, address, dc_dir, "", "", addresses)
        info = self._layout(info, admin_password)
        self._update_record(directory.directory_id, complete=True)
        return info

    def _layout(self, info: DcInfo, admin_password: str) -> DcInfo:
        result = self._helper(
            info.directory,
            {
                "action": "layout",
                "netbios": info.netbios,
                "admin_password": admin_password,
                "administrator_password": self.administrator_password(info.directory_id),
                "groups": list(AWS_DELEGATED_GROUPS),
                "nested_in": list(ADMINISTRATORS_NESTED_IN),
                "privilege_ldb": str(info.directory / "private" / "privilege.ldb"),
                "fsx_privileges": list(FSX_ADMIN_PRIVILEGES),
            },
        )
        self._update_record(
            info.directory_id,
            domain_dn=result["domain_dn"],
            domain_sid=result["domain_sid"],
            fsx_admins_sid=result["fsx_admins_sid"],
            admin_dn=result["admin_dn"],
        )
        info.domain_dn, info.domain_sid = result["domain_dn"], result["domain_sid"]
        return info

    def _helper(self, dc_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
        payload = {
            **request,
            "smb_conf": str(dc_dir / "etc" / "smb.conf"),
            "sam_ldb": str(dc_dir / "private" / "sam.ldb"),
        }
        done = subprocess.run(
            [SAMBA_PYTHON, "-c", _HELPER],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise SambaError(f"Samba helper {request['action']} failed: {done.stderr.strip()[-1500:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- processes --------------------------------------------------------------------------------------
    def _running(self, directory_id: str) -> bool:
        with self._processes_lock:
            process = self._processes.get(directory_id)
        return process is not None and process.poll() is None

    def _start(self, info: DcInfo) -> None:
        if self._running(info.directory_id) and _ldaps_answers(info.address):
            return
        self._stop(info.directory_id)
        command = self._in_own_run_dir(
            info, [_binary("samba") or "samba", "-s", str(info.smb_conf), "-i", "-M", "single"]
        )
        with self._processes_lock, (info.directory / "log" / "samba.out").open("ab") as log:
            if self._stopping:
                raise SambaError(f"the sandbox is stopping: the DC of {info.directory_id} is not started")
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
            self._processes[info.directory_id] = process
        self._update_record(info.directory_id, pid=process.pid)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (info.directory / "log" / "samba.out").read_text(errors="replace")[-1500:]
                raise SambaError(f"samba exited with {process.returncode} while starting: {tail}")
            if all(_port_open(info.address, port) for port in READY_PORTS) and _ldaps_answers(info.address):
                return
            time.sleep(0.2)
        self._stop(info.directory_id)
        raise SambaError(
            f"the Samba DC of {info.directory_id} did not answer on {info.address} within {self.ready_timeout:.0f}s"
        )

    @staticmethod
    def _in_own_run_dir(info: DcInfo, command: list[str]) -> list[str]:
        """Run `command` in a mount namespace where /run/samba is the DC's own directory.

        smbd reaches winbindd through libwbclient, whose socket path is compiled in
        (/run/samba/winbindd) and ignores `winbindd socket directory`; the RPC sockets under
        /run/samba/ncalrpc are shared the same way. Two DCs in one namespace would answer each
        other's smbd (NT_STATUS_INTERNAL_ERROR at session setup), so each DC gets a private
        /run/samba. The shell only binds the mount and execs; paths arrive as arguments.
        """
        unshare = _binary("unshare")
        if unshare is None:
            return command
        run_dir = info.directory / "run" / "samba-run"
        run_dir.mkdir(parents=True, exist_ok=True)
        Path("/run/samba").mkdir(parents=True, exist_ok=True)
        return [
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$0" /run/samba && exec "$@"',
            str(run_dir),
            *command,
        ]

    def _stop(self, directory_id: str) -> None:
        with self._processes_lock:
            process = self._processes.pop(directory_id, None)
        if process is not None and process.poll() is None:
            pids = [process.pid, *_descendants(process.pid)]
            _terminate(pids)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        self._kill_stale(directory_id)

    def _kill_stale(self, directory_id: str) -> None:
        """Stop processes a crashed sandbox left behind for this DC (found through its pid files)."""
        run = self.dc_dir(directory_id) / "run"
        if not run.is_dir():
            return
        marker = str(self.dc_dir(directory_id))
        candidates = []
        for pid_file in run.glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                candidates.append(int(pid_file.read_text().split()[0]))
        record = self._read_record(directory_id) or {}
        if record.get("pid"):
            candidates.append(int(record["pid"]))
        stale = [pid for pid in set(candidates) if _alive(pid) and _belongs_to(pid, marker)]
        if stale:
            everything = sorted({pid for root in stale for pid in (root, *_descendants(root))})
            _terminate(everything)

    # -- small helpers -------------------------------------------------------------------------------------
    def _write_record(self, directory_id: str, record: dict[str, Any]) -> None:
        path = self._record_path(directory_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2, sort_keys=True))

    def _update_record(self, directory_id: str, **changes: Any) -> None:
        record = self._read_record(directory_id) or {}
        record.update(changes)
        self._write_record(directory_id, record)

    @staticmethod
    def _run(command: list[str], purpose: str) -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        if done.returncode != 0:
            output = (done.stderr.strip() or done.stdout.strip())[-1500:]
            raise SambaError(f"cannot {purpose}: {output}")


# -- CLI (molecule's `directory` scenario drives a DC without the sandbox) -------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.samba", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["provision", "destroy", "share", "info", "available"])
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("SANDBOX_STATE_DIR", ".sandbox")))
    parser.add_argument("--id", dest="directory_id", default="d-molecule00")
    parser.add_argument("--name", default="corp.example.com", help="directory FQDN")
    parser.add_argument("--netbios", default="CORP")
    parser.add_argument("--fs-dns-name", default=None, help="FSx DNS name for `share`")
    args = parser.parse_args(argv)
    if args.command == "available":
        print(json.dumps({"available": SambaDcProvider.available()}))
        return 0 if SambaDcProvider.available() else 1
    provider = SambaDcProvider(args.state_dir, stop_on_exit=False)
    directory = DirectorySpec(args.directory_id, args.name, args.netbios)
    if args.command == "destroy":
        provider.destroy(directory)
        print(json.dumps({"destroyed": args.directory_id}))
        return 0
    if args.command == "provision":
        password = os.environ.get("SAMBA_ADMIN_PASSWORD") or sys.stdin.readline().strip()
        if not password:
            parser.error("give the Admin password in SAMBA_ADMIN_PASSWORD or on stdin")
        provider.provision(directory, password)
    elif args.command == "share":
        provider.provision_file_share(directory, args.fs_dns_name or f"fs-{args.directory_id[2:]}.{args.name}")
    info = provider.info(args.directory_id)
    if info is None:
        print(json.dumps({"error": f"no DC for {args.directory_id}"}))
        return 1
    print(json.dumps(info.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
