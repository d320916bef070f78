# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SMB client: files, folders and security descriptors on one share (smbprotocol's smbclient)."""

from __future__ import annotations

import errno
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    DACL_SECURITY_INFORMATION,
    GROUP_SECURITY_INFORMATION,
    OWNER_SECURITY_INFORMATION,
    PROTECTED_DACL_SECURITY_INFORMATION,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_PRESENT,
    SE_DACL_PROTECTED,
    UNPROTECTED_DACL_SECURITY_INFORMATION,
    SecurityDescriptor,
    pack_security_descriptor,
    parse_security_descriptor,
)


def _missing(exc: BaseException) -> bool:
    """smbprotocol reports a missing file as an OSError with errno ENOENT (SMBOSError), not FileNotFoundError."""
    return (
        getattr(exc, "errno", None) == errno.ENOENT
        or "STATUS_OBJECT_NAME_NOT_FOUND" in str(exc)
        or "STATUS_OBJECT_PATH_NOT_FOUND" in str(exc)
    )


def encryption_offered(server: str, port: int, connect_timeout: int) -> bool:
    """Whether the server negotiates a dialect and capabilities that allow SMB 3 encryption."""
    import uuid

    from smbprotocol.connection import Connection

    probe = Connection(uuid.uuid4(), server, port)
    probe.connect(timeout=connect_timeout)
    try:
        return bool(probe.supports_encryption)
    finally:
        probe.disconnect()


class FileShare:
    """Files, folders and security descriptors on one SMB share (smbprotocol's smbclient)."""

    READ_CONTROL = 0x00020000
    WRITE_DAC = 0x00040000
    WRITE_OWNER = 0x00080000
    FILE_READ_ATTRIBUTES = 0x0080

    def __init__(
        self,
        server: str,
        share: str,
        username: str,
        password: str,
        auth_protocol: str = "negotiate",
        encrypt: bool = True,
        port: int = 445,
        connect_timeout: int = 10,
    ) -> None:
        try:
            import smbclient
            import smbclient.shutil
        except ImportError as exc:
            raise AdError(
                "the smbprotocol Python library is required on the controller (pip install smbprotocol)",
                "missing_library",
            ) from exc
        from smbprotocol.exceptions import LogonFailure, NotFound, SMBAuthenticationError, SMBException

        self.smbclient = smbclient
        self.server = server
        self.share = share
        self.port = port
        try:
            # Encryption is required unless the caller opts out (a lab server without SMB 3); even then it
            # is used whenever the server offers it (SMB 3 dialects with the encryption capability), as an
            # unauthenticated probe says: a share holding users' files is never read in clear text when it
            # need not be.
            self.encrypted = encrypt or encryption_offered(server, port, connect_timeout)
            smbclient.register_session(
                server,
                username=username,
                password=password,
                port=port,
                auth_protocol=auth_protocol,
                encrypt=self.encrypted,
                connection_timeout=connect_timeout,
            )
        except (LogonFailure, SMBAuthenticationError, NotFound) as exc:
            # Samba answers STATUS_NOT_FOUND instead of LOGON_FAILURE for a bad UPN logon.
            raise AdError(f"bad credentials for {username} on \\\\{server}: {exc}", "credentials") from exc
        except (OSError, SMBException, ValueError) as exc:
            raise AdError(
                f"cannot reach the file server \\\\{server} on port {port}: {exc}. The controller "
                "needs network access to it (from inside the VPC or over a VPN)",
                "unreachable",
            ) from exc

    def unc(self, path: str = "") -> str:
        path = path.replace("/", "\\").strip("\\")
        return f"\\\\{self.server}\\{self.share}" + (f"\\{path}" if path else "")

    def _wrap(self, action: str, path: str, exc: Exception) -> AdError:
        text = str(exc)
        if "STATUS_ACCESS_DENIED" in text or "0xc0000022" in text.lower() or "Access is denied" in text:
            return AdError(f"access denied to {action} {self.unc(path)}: {text}", "rights")
        if "STATUS_PRIVILEGE_NOT_HELD" in text or "0xc0000061" in text.lower():
            return AdError(
                f"{action} {self.unc(path)} needs a privilege the account lacks (take ownership or "
                f"restore, as the file system administrators group has): {text}",
                "rights",
            )
        if "STATUS_BAD_NETWORK_NAME" in text:
            return AdError(f"the file server has no share named {self.share!r}: {text}", "missing")
        return AdError(f"cannot {action} {self.unc(path)}: {text}", "smb")

    def exists(self, path: str) -> bool:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.stat(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return False
            raise self._wrap("read", path, exc) from exc
        return True

    def is_dir(self, path: str) -> bool:
        from smbprotocol.exceptions import SMBException

        try:
            return self.smbclient.path.isdir(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            raise self._wrap("read", path, exc) from exc

    def listdir(self, path: str) -> list[str]:
        from smbprotocol.exceptions import SMBException

        try:
            return sorted(self.smbclient.listdir(self.unc(path), port=self.port))
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return []
            raise self._wrap("list", path, exc) from exc

    def mkdir(self, path: str) -> None:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.mkdir(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if getattr(exc, "errno", None) == errno.EEXIST:
                return
            raise self._wrap("create", path, exc) from exc

    def makedirs(self, path: str) -> None:
        parts = [part for part in path.replace("/", "\\").split("\\") if part]
        for index in range(1, len(parts) + 1):
            sub = "\\".join(parts[:index])
            if not self.exists(sub):
                self.mkdir(sub)

    def read_text(self, path: str, encoding: str = "utf-8") -> str | None:
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="rb", port=self.port) as handle:
                data = handle.read()
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return None
            raise self._wrap("read", path, exc) from exc
        if data.startswith(b"\xff\xfe"):
            return data.decode("utf-16")
        return data.decode(encoding.replace("utf-8", "utf-8-sig"), errors="replace")

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="wb", port=self.port) as handle:
                handle.write(text.encode(encoding))
        except (OSError, SMBException) as exc:
            raise self._wrap("write", path, exc) from exc

    def read_bytes(self, path: str) -> bytes | None:
        """The file's content, or None when it does not exist (binary policy files: Registry.pol, .inf)."""
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="rb", port=self.port) as handle:
                return handle.read()
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return None
            raise self._wrap("read", path, exc) from exc

    def write_bytes(self, path: str, data: bytes) -> None:
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="wb", port=self.port) as handle:
                handle.write(data)
        except (OSError, SMBException) as exc:
            raise self._wrap("write", path, exc) from exc

    def remove_file(self, path: str) -> None:
        """Delete one file; a file already gone is not an error."""
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.remove(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return
            raise self._wrap("delete", path, exc) from exc

    def remove_tree(self, path: str) -> None:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.shutil.rmtree(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return
            raise self._wrap("delete", path, exc) from exc

    # -- security descriptors over SMB2 QUERY_INFO / SET_INFO (InfoType SECURITY) --
    def _open(self, path: str, access: int) -> Any:
        from smbclient._io import SMBDirectoryIO, SMBFileIO

        cls = SMBDirectoryIO if self.is_dir(path) else SMBFileIO
        raw = cls(self.unc(path), mode="r", desired_access=access | self.FILE_READ_ATTRIBUTES, port=self.port)
        raw.open()
        return raw

    def get_sd(
        self, path: str, info: int = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION
    ) -> SecurityDescriptor:
        from smbclient._io import SMBFileTransaction
        from smbprotocol.exceptions import SMBException
        from smbprotocol.open import SMB2QueryInfoRequest, SMB2QueryInfoResponse

        try:
            raw = self._open(path, self.READ_CONTROL)
            try:
                request = SMB2QueryInfoRequest()
                request["info_type"] = 3  # SMB2_0_INFO_SECURITY
                request["file_info_class"] = 0
                request["output_buffer_length"] = 65535
                request["additional_information"] = info
                request["file_id"] = raw.fd.file_id

                def receive(sent: Any) -> bytes:
                    response = raw.fd.connection.receive(sent)
                    parsed = SMB2QueryInfoResponse()
                    parsed.unpack(response["data"].get_value())
                    return parsed["buffer"].get_value()

                transaction = SMBFileTransaction(raw)
                transaction += (request, receive)
                transaction.commit()
                data = transaction.results[0]
            finally:
                raw.close()
        except (OSError, SMBException) as exc:
            raise self._wrap("read the ACL of", path, exc) from exc
        return parse_security_descriptor(data)

    def set_sd(
        self, path: str, sd: SecurityDescriptor, set_owner: bool = False, set_group: bool = False, set_dacl: bool = True
    ) -> None:
        """Write the parts of `sd` asked for; a DACL goes with its protection (inheritance) flag."""
        from smbclient._io import SMBFileTransaction
        from smbprotocol.exceptions import SMBException
        from smbprotocol.open import SMB2SetInfoRequest, SMB2SetInfoResponse

        info, access = 0, self.READ_CONTROL
        if set_dacl:
            info |= DACL_SECURITY_INFORMATION | (
                PROTECTED_DACL_SECURITY_INFORMATION if sd.protected else UNPROTECTED_DACL_SECURITY_INFORMATION
            )
            access |= self.WRITE_DAC
        if set_owner and sd.owner:
            info |= OWNER_SECURITY_INFORMATION
            access |= self.WRITE_OWNER
        if set_group and sd.group:
            info |= GROUP_SECURITY_INFORMATION
            access |= self.WRITE_OWNER
        payload = pack_security_descriptor(
            SecurityDescriptor(
                owner=sd.owner if set_owner else None,
                group=sd.group if set_group else None,
                dacl=sd.dacl if set_dacl else None,
                control=(sd.control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED))
                | (SE_DACL_PRESENT if set_dacl else 0),
            )
        )
        try:
            raw = self._open(path, access)
            try:
                request = SMB2SetInfoRequest()
                request["info_type"] = 3
                request["file_info_class"] = 0
                # smbprotocol's flag enum lacks (UN)PROTECTED_DACL_SECURITY_INFORMATION ([MS-SMB2] 2.2.39).
                request["additional_information"].flag_strict = False
                request["additional_information"] = info
                request["file_id"] = raw.fd.file_id
                request["buffer"] = payload

                def receive(sent: Any) -> Any:
                    response = raw.fd.connection.receive(sent)
                    parsed = SMB2SetInfoResponse()
                    parsed.unpack(response["data"].get_value())
                    return parsed

                transaction = SMBFileTransaction(raw)
                transaction += (request, receive)
                transaction.commit()
            finally:
                raw.close()
        except (OSError, SMBException) as exc:
            raise self._wrap("set the ACL of", path, exc) from exc

    def close(self) -> None:
        self.smbclient.reset_connection_cache()
