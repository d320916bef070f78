# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sandbox_health
short_description: The local AWS sandbox's health answer, else an empty dict
version_added: 0.2.0
description:
  - Asks C(<endpoint>/_sandbox/health) with the sandbox's admin token (HTTP basic authentication, user C(sandbox)),
    as the sandbox's admin API answers it (C(sandbox/admin.py)), and returns the answer when it is a JSON object
    given with status 200.
  - "Returns C({}) for any other outcome: an endpoint that is not the sandbox, a refused token, a redirect (not
    followed: the token would go with it), no answer within O(timeout) seconds, an answer that is not a JSON object
    with C(status) C(ok), or is larger than 64 KiB. Of the answer, only the keys the sandbox's health has are
    returned."
  - "The token is sent only to a local sandbox: an http or https URL whose host is C(localhost) or an IP address
    (the sandbox answers no other host name). For any other endpoint no request is made and C({}) is returned."
  - Raises only for a wrong call (not one term, a O(timeout) that is not a positive number).
  - Runs in the task's worker process, with no proxy (the sandbox is local, and a proxy would see the token).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  _terms:
    description: The endpoint's URL (C(aws_endpoint_url)), one.
    required: true
  token:
    description:
      - The sandbox's admin token (C(sandbox_admin_token), C(group_vars/tenants/sandbox.yml)). Never shown; the
        task's result holds only the answer.
    type: str
    default: ''
  timeout:
    description: Seconds to wait for the connection and for each read of the answer.
    type: float
    default: 10
notes:
  - Only for runs aimed at an endpoint of their own (C(aws_endpoint_url)); AWS has no such path.
"""

EXAMPLES = r"""
- name: Ask the endpoint whether it is the local sandbox
  ansible.builtin.set_fact:
    sandbox_health: "{{ lookup('iconeus.tenant_toolkit.sandbox_health', aws_endpoint_url, token=sandbox_admin_token) }}"
"""

RETURN = r"""
_raw:
  description: One dict, the health answer (C(status), C(time_scale), C(samba)...), or empty.
  type: list
  elements: dict
"""

import contextlib
import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from ansible.errors import AnsibleLookupError
from ansible.module_utils.urls import open_url
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

display = Display()

HEALTH_PATH = "/_sandbox/health"
ADMIN_USER = "sandbox"
# The sandbox's health answer is a few hundred bytes: more is not the sandbox.
MAX_ANSWER_BYTES = 64 * 1024
# The keys of the sandbox's health answer (sandbox/admin.py): nothing else an endpoint sends is kept.
HEALTH_KEYS = ("status", "time_scale", "uptime_s", "services", "samba", "enforce_iam")


def local_endpoint(endpoint: Any) -> bool:
    """Whether `endpoint` is an http(s) URL of a host the sandbox can be: `localhost` or an IP address."""
    if not isinstance(endpoint, str):
        return False
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
    except ValueError:  # an unclosed or invalid [IPv6] literal
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def health(endpoint: Any, token: str, timeout: float) -> dict[str, Any]:
    """The sandbox's health answer at `endpoint`, or {} (with the reason said at -vvv, never the token)."""
    if not local_endpoint(endpoint):
        display.vvv("sandbox_health: not an http(s) URL of localhost or an IP address: not the sandbox, not asked")
        return {}
    url = endpoint.rstrip("/") + HEALTH_PATH
    try:
        answer = open_url(
            url,
            method="GET",
            url_username=ADMIN_USER,
            url_password=token,
            force_basic_auth=True,
            timeout=timeout,
            follow_redirects="none",
            use_proxy=False,
        )
    except Exception as err:  # noqa: BLE001 - any failure means: not the sandbox (HTTPError, URLError, timeout...)
        if hasattr(err, "close"):
            with contextlib.suppress(Exception):
                err.close()  # an HTTPError holds the answer's connection
        display.vvv(f"sandbox_health: {url}: no sandbox answer ({type(err).__name__})")
        return {}
    try:
        with answer:
            status = answer.status
            body = answer.read(MAX_ANSWER_BYTES + 1)
    except Exception as err:  # noqa: BLE001 - a connection lost or timed out while reading
        display.vvv(f"sandbox_health: {url}: the answer could not be read ({type(err).__name__})")
        return {}
    if status != 200:
        display.vvv(f"sandbox_health: {url}: status {status}")
        return {}
    if len(body) > MAX_ANSWER_BYTES:
        display.vvv(f"sandbox_health: {url}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        display.vvv(f"sandbox_health: {url}: the answer is not JSON")
        return {}
    if not isinstance(parsed, dict) or parsed.get("status") != "ok":
        display.vvv(f"sandbox_health: {url}: the answer is not the sandbox's health")
        return {}
    return {key: parsed[key] for key in HEALTH_KEYS if key in parsed}


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError(f"sandbox_health takes one term, the endpoint's URL, not {len(terms)}")
        timeout = self.get_option("timeout")
        if not timeout or timeout <= 0:
            raise AnsibleLookupError(f"sandbox_health: timeout must be a positive number of seconds, not {timeout!r}")
        return [health(terms[0], str(self.get_option("token") or ""), float(timeout))]
