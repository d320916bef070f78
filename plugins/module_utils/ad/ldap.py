# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LDAP client: an LDAPS connection to a domain controller (ldap3) with the certificate checks and
the directory operations the AD modules need, and errors that say what went wrong.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import warnings
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.dn import dn_to_domain, escape_filter
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    DACL_SECURITY_INFORMATION,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_PROTECTED,
    SID_PATTERN,
    WELL_KNOWN_NAMES,
    SecurityDescriptor,
    pack_security_descriptor,
    parse_security_descriptor,
    sid_from_bytes,
    sid_to_bytes,
)


def first_value(value: Any) -> Any:
    """The first value of an LDAP attribute as ldap3 returns it (a list for multi-valued syntaxes)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def certificate_names(certificate: dict[str, Any]) -> list[str]:
    names = [value for kind, value in certificate.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                names.append(value)
    return names


def _names_host(names: list[str], host: str) -> bool:
    """RFC 6125: the exact name, or a wildcard standing for the left-most label only."""
    host = host.lower().rstrip(".")
    return host in names or any(
        name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:] for name in names
    )


def is_address(server: str) -> bool:
    try:
        ipaddress.ip_address(server)
    except ValueError:
        return False
    return True


def certificate_matches(certificate: dict[str, Any], server: str, dc_names: list[str] | None = None) -> bool:
    """The name check behind validate_certs.

    Connecting by name: the certificate must name that host (wildcards allowed). Connecting by IP
    address (the directory's DnsIpAddrs): it must name that address, or that DC's own host name as the
    directory's DNS gives it for the address (`dc_names`, see dc_names_for_address) — never merely
    "a host of the domain", which any domain member's certificate would be.
    """
    names = [name.lower().rstrip(".") for name in certificate_names(certificate)]
    if _names_host(names, server):
        return True
    return is_address(server) and any(_names_host(names, dc_name) for dc_name in dc_names or [])


def dc_names_for_address(address: str, domain: str, dns_server: str | None = None, timeout: float = 5.0) -> list[str]:
    """The host names the domain's DNS gives for the DC at `address`, forward-confirmed.

    AD publishes its DCs as SRV records ``_ldap._tcp.dc._msdcs.<domain>`` ([MS-ADTS] 6.3.2.3); a
    target whose A record is `address` is that DC's own name. The query goes to the DC's own DNS
    service (AWS Managed AD's DnsIpAddrs are its DCs) unless `dns_server` says otherwise.
    """
    try:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rdatatype
    except ImportError as exc:
        raise AdError(
            "the dnspython Python library is required on the controller to check a DC's certificate when "
            "connecting by address (pip install dnspython)",
            "missing_library",
        ) from exc

    def ask(name: str, rdtype: Any) -> list[Any]:
        query = dns.message.make_query(name, rdtype)
        try:
            response = dns.query.udp(query, dns_server or address, timeout=timeout)
        except (dns.exception.DNSException, OSError) as exc:
            raise AdError(
                f"cannot ask the directory's DNS at {dns_server or address} for {name}: {exc}; connect by the "
                "DC's host name instead of its address",
                "tls",
            ) from exc
        return [item for answer in response.answer for item in answer if answer.rdtype == rdtype]

    found = []
    targets = [
        record.target.to_text() for record in ask(f"_ldap._tcp.dc._msdcs.{domain.strip('.')}.", dns.rdatatype.SRV)
    ]
    for target in names_in_domain(targets, domain):
        if any(a.address == address for a in ask(target + ".", dns.rdatatype.A)):
            found.append(target)
    return sorted(set(found))


def names_in_domain(targets: list[str], domain: str) -> list[str]:
    """The SRV targets that are hosts of `domain` (lower case, no trailing dot).

    The answer comes unsigned from the address being checked: a host outside the domain is never taken
    as the DC's own name, whatever that answer says (a public certificate for a name the answerer owns
    would otherwise pass)."""
    suffix = "." + domain.strip(".").lower()
    names = (target.rstrip(".").lower() for target in targets)
    return [name for name in names if name.endswith(suffix) and len(name) > len(suffix)]


class Directory:
    """An LDAPS connection to a DC with what the modules need on top of ldap3."""

    def __init__(self, params: dict[str, Any]) -> None:
        try:
            import ldap3  # noqa: F401
        except ImportError as exc:
            raise AdError(
                "the ldap3 Python library is required on the controller (pip install ldap3)", "missing_library"
            ) from exc
        self.params = params
        self.server_name = params["server"]
        self.conn = self._connect(params["username"], params["password"])
        root = self.conn.server.info
        naming = None
        if root is not None and root.other.get("defaultNamingContext"):
            naming = root.other["defaultNamingContext"][0]
        if not naming:
            self.conn.search("", "(objectClass=*)", search_scope="BASE", attributes=["defaultNamingContext"])
            naming = self.conn.entries[0]["defaultNamingContext"].value if self.conn.entries else None
        if not naming:
            raise AdError(
                f"{self.server_name} did not publish defaultNamingContext: is it a domain controller?", "protocol"
            )
        self.domain_dn: str = naming
        self.domain: str = params.get("domain") or dn_to_domain(naming)
        self._domain_sid: str | None = None

    # -- connection --
    def _tls(self) -> Any:
        from ldap3 import Tls

        if not self.params.get("validate_certs", True):
            return Tls(validate=ssl.CERT_NONE)
        ca_file = self.params.get("ca_file")
        if ca_file and not os.path.isfile(ca_file):
            # A CA file that is not there would silently fall back to the system's trust store.
            raise AdError(f"ca_file {ca_file} does not exist or is not a file", "tls")
        if not ca_file and is_address(self.params["server"]):
            # By address, the DC's name is learnt from an unsigned DNS answer of that address: only the
            # directory's own CA (which issues the DCs' certificates) may vouch for it, never the
            # system's public CAs.
            raise AdError(
                f"connecting to {self.params['server']} by address needs ca_file, the CA that issued the "
                "domain controllers' LDAPS certificates (or connect by the DC's host name)",
                "tls",
            )
        return Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file, valid_names=["*"])

    def _connect(self, user: str, password: str) -> Any:
        from ldap3 import DSA, SIMPLE, Connection, Server
        from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPSSLConfigurationError

        server = Server(
            self.params["server"],
            port=self.params.get("port") or 636,
            use_ssl=True,
            tls=self._tls(),
            get_info=DSA,
            connect_timeout=self.params.get("connect_timeout") or 10,
        )
        conn = Connection(
            server,
            user=user,
            password=password,
            authentication=SIMPLE,
            raise_exceptions=False,
            receive_timeout=max(30, self.params.get("connect_timeout") or 10),
            auto_referrals=False,
        )
        where = f"{self.params['server']}:{self.params.get('port') or 636}"
        try:
            with warnings.catch_warnings():
                # ldap3 tries ssl.match_hostname (deprecated) on the address before accepting "*";
                # the name check that counts is certificate_matches below.
                warnings.simplefilter("ignore", DeprecationWarning)
                conn.open()
        except LDAPSSLConfigurationError as exc:
            raise AdError(f"cannot set up TLS for {where}: {exc}", "tls") from exc
        except LDAPSocketOpenError as exc:
            text = str(exc)
            if "certificate" in text.lower() or "ssl" in text.lower():
                raise AdError(
                    f"the certificate of {where} is not trusted ({text}); give the directory's CA with "
                    "ca_file (validate_certs=false only for throw-away labs)",
                    "tls",
                ) from exc
            raise AdError(
                f"cannot reach the domain controller at {where} over LDAPS: {text}. The controller "
                "needs network access to the DCs (from inside the VPC or over a VPN)",
                "unreachable",
            ) from exc
        except LDAPException as exc:
            raise AdError(f"cannot open LDAPS to {where}: {exc}", "unreachable") from exc
        if self.params.get("validate_certs", True):
            certificate = conn.socket.getpeercert() if conn.socket is not None else None
            server_name = self.params["server"]
            dc_names: list[str] = []
            if certificate and is_address(server_name) and self.params.get("domain"):
                dc_names = dc_names_for_address(server_name, self.params["domain"])
            if not certificate or not certificate_matches(certificate, server_name, dc_names):
                conn.unbind()
                names = certificate_names(certificate or {})
                own = f" nor {', '.join(dc_names)} (the DC's own name in the domain's DNS)" if dc_names else ""
                hint = "" if self.params.get("domain") else "; set domain so that the DC's own name can be looked up"
                raise AdError(f"the certificate of {where} names {names}, not {server_name}{own}{hint}", "tls")
        try:
            bound = conn.bind()
        except LDAPException as exc:
            raise AdError(f"LDAP bind to {where} failed: {exc}", "credentials") from exc
        if not bound:
            result = conn.result or {}
            message = result.get("message") or ""
            if result.get("result") == 49:
                reason = {
                    "52e": "wrong user name or password",
                    "533": "account disabled",
                    "775": "account locked out",
                    "532": "password expired",
                    "773": "password must be changed",
                    "701": "account expired",
                }
                code = re.search(r"data ([0-9a-f]{3})", message)
                detail = reason.get(code.group(1), message) if code else message
                raise AdError(
                    f"bad credentials for {user} on {where}: {detail or 'invalid credentials'}",
                    "credentials",
                    {"ad_code": code.group(1) if code else None},
                )
            if result.get("result") == 8:
                raise AdError(f"{where} requires a stronger authentication: {message}", "credentials")
            raise AdError(f"LDAP bind to {where} failed: {result.get('description')} {message}", "credentials")
        return conn

    def check_password(self, user: str, password: str) -> bool:
        """True when `password` is `user`'s password (used by update_password=always).

        AD only reports a disabled, expired or must-change account once the password was right,
        so those refusals mean the password matches.
        """
        try:
            probe = self._connect(user, password)
        except AdError as err:
            if err.kind == "credentials":
                return err.result.get("ad_code") in ("533", "532", "773", "701")
            raise
        probe.unbind()
        return True

    def close(self) -> None:
        self.conn.unbind()

    # -- results --
    def _fail(self, action: str, target: str) -> AdError:
        result = self.conn.result or {}
        code = result.get("result")
        message = (result.get("message") or "").strip()
        description = result.get("description") or ""
        if code == 50:
            return AdError(
                f"{self.params['username']} lacks the right to {action} {target} (insufficientAccessRights: {message})",
                "rights",
            )
        if code == 32:
            return AdError(f"cannot {action} {target}: no such object ({message})", "missing")
        if code == 19 and "password" in message.lower():
            return AdError(
                f"cannot {action} {target}: the password does not meet the directory's policy ({message})", "policy"
            )
        return AdError(f"cannot {action} {target}: {description} {message}".strip(), description or "ldap")

    def search(
        self,
        base: str,
        search_filter: str,
        attributes: list[str],
        scope: str = "SUBTREE",
        controls: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Entries as {'dn', 'attributes', 'raw'}; a missing base is an empty result."""
        ok = self.conn.search(
            base,
            search_filter,
            search_scope=scope,
            attributes=attributes,
            controls=controls,
            paged_size=500 if scope != "BASE" else None,
        )
        if not ok and (self.conn.result or {}).get("result") not in (0, 32):
            raise self._fail("read", base)
        found = []
        for entry in self.conn.response or []:
            if entry.get("type") != "searchResEntry":
                continue
            found.append(
                {"dn": entry["dn"], "attributes": entry.get("attributes", {}), "raw": entry.get("raw_attributes", {})}
            )
        return found

    def get(self, dn: str, attributes: list[str], controls: list[Any] | None = None) -> dict[str, Any] | None:
        found = self.search(dn, "(objectClass=*)", attributes, scope="BASE", controls=controls)
        return found[0] if found else None

    def add(self, dn: str, object_class: str | list[str], attributes: dict[str, Any]) -> None:
        if not self.conn.add(dn, object_class, attributes):
            raise self._fail("create", dn)

    def modify(self, dn: str, changes: dict[str, Any], controls: list[Any] | None = None) -> None:
        if not self.conn.modify(dn, changes, controls=controls):
            raise self._fail("modify", dn)

    def delete(self, dn: str, tree: bool = False) -> None:
        controls = [("1.2.840.113556.1.4.805", True, None)] if tree else None
        if not self.conn.delete(dn, controls=controls):
            raise self._fail("delete", dn)

    def move(self, dn: str, new_rdn: str, new_parent: str) -> None:
        if not self.conn.modify_dn(dn, new_rdn, new_superior=new_parent):
            raise self._fail("move", dn)

    # -- security descriptors --
    def read_sd(self, dn: str, flags: int = DACL_SECURITY_INFORMATION) -> SecurityDescriptor:
        from ldap3.protocol.microsoft import security_descriptor_control

        entry = self.get(dn, ["nTSecurityDescriptor"], controls=security_descriptor_control(sdflags=flags))
        if entry is None:
            raise AdError(f"{dn} does not exist", "missing")
        raw = entry["raw"].get("nTSecurityDescriptor") or entry["raw"].get("ntSecurityDescriptor")
        if not raw:
            raise AdError(f"{self.params['username']} cannot read the security descriptor of {dn}", "rights")
        return parse_security_descriptor(raw[0])

    def write_dacl(self, dn: str, sd: SecurityDescriptor) -> None:
        from ldap3 import MODIFY_REPLACE
        from ldap3.protocol.microsoft import security_descriptor_control

        only_dacl = SecurityDescriptor(dacl=sd.dacl, control=sd.control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED))
        self.modify(
            dn,
            {"nTSecurityDescriptor": [(MODIFY_REPLACE, [pack_security_descriptor(only_dacl)])]},
            controls=security_descriptor_control(sdflags=DACL_SECURITY_INFORMATION),
        )

    # -- identities --
    @property
    def domain_sid(self) -> str:
        if self._domain_sid is None:
            entry = self.get(self.domain_dn, ["objectSid"])
            raw = (entry or {}).get("raw", {}).get("objectSid")
            if not raw:
                raise AdError(f"cannot read the domain SID from {self.domain_dn}", "rights")
            self._domain_sid = sid_from_bytes(raw[0])
        return self._domain_sid

    def find_principal(self, identity: str, attributes: list[str] | None = None) -> dict[str, Any] | None:
        """A user, group or computer by DN, SID, UPN, DOMAIN\\name or sAMAccountName."""
        attributes = attributes or ["objectSid", "sAMAccountName", "distinguishedName", "objectClass"]
        identity = identity.strip()
        if SID_PATTERN.match(identity):
            search_filter = "(objectSid={})".format("".join(f"\\{byte:02x}" for byte in sid_to_bytes(identity)))
        elif "=" in identity and "," in identity:
            return self.get(identity, attributes)
        elif "@" in identity:
            search_filter = f"(userPrincipalName={escape_filter(identity)})"
        else:
            name = identity.split("\\", 1)[1] if "\\" in identity else identity
            search_filter = f"(sAMAccountName={escape_filter(name)})"
        found = self.search(self.domain_dn, search_filter, attributes)
        return found[0] if found else None

    def resolve_sid(self, identity: str) -> str:
        """A SID for a principal name; well-known names and domain aliases need no lookup."""
        if SID_PATTERN.match(identity.strip()):
            return identity.strip().upper()
        known = WELL_KNOWN_NAMES.get(identity.strip().lower())
        if known:
            return known
        entry = self.find_principal(identity)
        if entry is None:
            raise AdError(f"no user or group named {identity!r} in {self.domain}", "missing")
        return sid_from_bytes(entry["raw"]["objectSid"][0])
