# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LDAP connection options every AD module takes, and how a module reports an AdError."""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError


def ad_argument_spec() -> dict[str, Any]:
    """Options of every module that talks LDAP to a domain controller."""
    return dict(
        server=dict(type="str", required=True),
        port=dict(type="int", default=636),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        domain=dict(type="str"),
        ca_file=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        connect_timeout=dict(type="int", default=10),
    )


def fail(module: Any, err: AdError, **result: Any) -> None:
    """fail_json with the operator-facing message and the failure's kind (unreachable, tls, credentials, ...)."""
    module.fail_json(msg=str(err), failure=err.kind, **{**err.result, **result})


def directory_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: params.get(key) for key in ad_argument_spec()}
