# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: appstream_image_builders
short_description: AppStream 2.0 image builders as WinRM targets
version_added: 0.1.0
description:
  - Lists the Amazon AppStream 2.0 image builders of one or more regions (C(DescribeImageBuilders)) and
    makes each one a host named after the builder, reached over WinRM on its private address
    (C(NetworkAccessConfiguration.EniPrivateIpAddress)).
  - Reads each builder's tags (C(ListTagsForResource)) to filter on the C(tenant) ownership tag and to
    group builders by tenant; builders are also grouped by state.
  - "Groups: C(appstream_image_builders) (every listed builder), C(tenant_<tenant>) (the tenant tag, with
    characters other than letters, digits and C(_) turned into C(_)) and C(state_<state>) in lower case,
    for example C(state_running). O(compose), O(groups) and O(keyed_groups) add more."
  - "Host variables: C(ansible_host) (the private address, when the builder has one), the WinRM
    connection variables (C(ansible_connection=winrm), C(ansible_port), C(ansible_winrm_scheme) (C(http) on
    5985 with C(ansible_winrm_message_encryption=always), C(https) on 5986), C(ansible_winrm_transport),
    C(ansible_winrm_server_cert_validation), C(ansible_winrm_ca_trust_path)),
    C(appstream_tenant) (the tenant tag) and C(appstream_image_builder) (the builder as
    C(DescribeImageBuilders) reports it, in snake_case, with its C(tags), C(region) and C(private_ip))."
  - WinRM credentials (C(ansible_user), C(ansible_password)) are not set here; give them through
    group_vars or a vault.
  - The configuration file name must end with C(.appstream_image_builders.yml) or
    C(.appstream_image_builders.yaml).
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - boto3
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin; it makes the file an C(appstream_image_builders) inventory source.
    type: str
    required: true
    choices: [iconeus.tenant_toolkit.appstream_image_builders, appstream_image_builders]
  regions:
    description:
      - Regions whose builders are listed.
      - Defaults to the region of the environment (C(AWS_REGION), then C(AWS_DEFAULT_REGION)).
    type: list
    elements: str
    default: []
  endpoint_url:
    description: URL of the AppStream endpoint, for example a local sandbox. Unset means AWS's own.
    type: str
    aliases: [aws_endpoint_url]
    env:
      - name: AWS_ENDPOINT_URL
  profile:
    description: AWS profile of the shared credentials and config files.
    type: str
    aliases: [aws_profile]
    env:
      - name: AWS_PROFILE
  access_key:
    description: AWS access key id; the usual boto3 credential chain applies when unset.
    type: str
    aliases: [aws_access_key_id]
    env:
      - name: AWS_ACCESS_KEY_ID
  secret_key:
    description: AWS secret access key.
    type: str
    aliases: [aws_secret_access_key]
    env:
      - name: AWS_SECRET_ACCESS_KEY
  session_token:
    description: AWS session token of temporary credentials.
    type: str
    aliases: [aws_session_token]
    env:
      - name: AWS_SESSION_TOKEN
  tenants:
    description:
      - Only builders whose C(tenant) tag is one of these. Empty lists every builder, tagged or not.
    type: list
    elements: str
    default: []
  states:
    description:
      - Only builders in these states (for example C(RUNNING)). Empty lists builders in every state.
    type: list
    elements: str
    default: []
  transport:
    description:
      - WinRM authentication (C(ansible_winrm_transport)). Only V(ntlm), since Kerberos and CredSSP need Python
        packages (pykerberos or gssapi, requests-credssp) the toolkit does not install.
    type: str
    choices: [ntlm]
    default: ntlm
  port:
    description:
      - WinRM port (C(ansible_port)). V(5985) is the HTTP listener the builder access policy enables, used
        with NTLM message encryption (pywinrm 0.5); V(5986) is an HTTPS listener, where the operator's
        enterprise CA issues the builders' certificates.
    type: int
    choices: [5985, 5986]
    default: 5985
  validate_certs:
    description:
      - On 5986, whether the WinRM client checks the builder's TLS certificate
        (C(ansible_winrm_server_cert_validation) V(validate) or V(ignore)).
      - Keep it on and give the issuing CA with O(ca_path); turn it off only for a builder whose listener
        uses a self-signed certificate.
    type: bool
    default: true
  ca_path:
    description: CA bundle the builder's WinRM certificate is checked against (C(ansible_winrm_ca_trust_path)).
    type: path
notes:
  - One C(ListTagsForResource) call per builder; builders are few (one per tenant while an image is built).
  - Builder names are unique per region; listing several regions that hold builders of the same name keeps
    the last region's.
"""

EXAMPLES = r"""
# inventories/builders/eu.appstream_image_builders.yml
# ansible-inventory -i inventories/builders/eu.appstream_image_builders.yml --graph
plugin: iconeus.tenant_toolkit.appstream_image_builders
regions: [eu-west-3]
tenants: [acme-neuro]
states: [RUNNING]
port: 5986
ca_path: /etc/pki/acme-neuro/winrm-ca.pem

# Against the local sandbox, every state, plus a group per base image:
# plugin: iconeus.tenant_toolkit.appstream_image_builders
# regions: [eu-west-3]
# endpoint_url: http://127.0.0.1:4566
# keyed_groups:
#   - key: appstream_image_builder.image_arn.split('/')[-1]
#     prefix: base
"""

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate

NAME = "iconeus.tenant_toolkit.appstream_image_builders"


def aws_libraries() -> tuple[Any, type[Exception], type[Exception]]:
    """boto3 and botocore's two error classes, imported when a source is parsed, not when the plugin loads.

    Ansible loads every enabled inventory plugin at the start of every run (ansible.cfg enables this one),
    and importing boto3 takes a fifth of a second of the controller's start-up, also in runs that have no
    builder inventory. A missing boto3 is reported by parse(), so that ansible-doc still renders.
    """
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as err:
        raise AnsibleParserError(f"{NAME} inventory needs boto3 on the controller") from err
    return boto3, BotoCoreError, ClientError


CONFIG_SUFFIXES = (".appstream_image_builders.yml", ".appstream_image_builders.yaml")
ALL_GROUP = "appstream_image_builders"
TENANT_TAG = "tenant"
GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def safe_group_name(name: str) -> str:
    """A group name Ansible accepts without warnings: letters, digits and `_`."""
    return GROUP_UNSAFE.sub("_", name)


def tenant_group(tenant: str) -> str:
    return f"tenant_{safe_group_name(tenant)}"


def state_group(state: str) -> str:
    return f"state_{safe_group_name(state.lower())}"


def private_ip(builder: Mapping[str, Any]) -> str | None:
    return (builder.get("NetworkAccessConfiguration") or {}).get("EniPrivateIpAddress") or None


def builder_selected(
    builder: Mapping[str, Any], tags: Mapping[str, str], tenants: Iterable[str], states: Iterable[str]
) -> bool:
    """Whether a builder passes the tenant-tag and state filters (empty filters pass everything)."""
    tenants, states = set(tenants), {state.upper() for state in states}
    if tenants and tags.get(TENANT_TAG) not in tenants:
        return False
    return not (states and str(builder.get("State", "")).upper() not in states)


def winrm_host_vars(
    address: str | None, transport: str, port: int, validate_certs: bool, ca_path: str | None
) -> dict[str, Any]:
    """The connection variables of a WinRM target: HTTP 5985 with message encryption, or HTTPS 5986."""
    variables: dict[str, Any] = {
        "ansible_connection": "winrm",
        "ansible_port": port,
        "ansible_winrm_transport": transport,
    }
    if port == 5985:
        # pywinrm 0.5 encrypts every message with the NTLM session key: credentials and commands never
        # travel in clear; "always" refuses to talk to a listener that would not.
        variables["ansible_winrm_scheme"] = "http"
        variables["ansible_winrm_message_encryption"] = "always"
    else:
        variables["ansible_winrm_scheme"] = "https"
        variables["ansible_winrm_server_cert_validation"] = "validate" if validate_certs else "ignore"
        if ca_path:
            variables["ansible_winrm_ca_trust_path"] = ca_path
    if address:
        variables["ansible_host"] = address
    return variables


def builder_record(builder: Mapping[str, Any], tags: Mapping[str, str], region: str) -> dict[str, Any]:
    """The builder as a host variable: snake_case, JSON-able, with tags, region and private address."""
    described = {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in builder.items()
        if key != "ResponseMetadata"
    }
    record = camel_dict_to_snake_dict(described)
    record["tags"] = dict(tags)
    record["region"] = region
    record["private_ip"] = private_ip(builder)
    return record


def builder_host(
    builder: Mapping[str, Any],
    tags: Mapping[str, str],
    region: str,
    transport: str = "ntlm",
    port: int = 5985,
    validate_certs: bool = True,
    ca_path: str | None = None,
) -> tuple[str, list[str], dict[str, Any]]:
    """(host name, groups, host variables) of one builder."""
    groups = [ALL_GROUP, state_group(str(builder.get("State", "unknown")))]
    tenant = tags.get(TENANT_TAG)
    if tenant:
        groups.append(tenant_group(tenant))
    variables = winrm_host_vars(private_ip(builder), transport, port, validate_certs, ca_path)
    variables["appstream_tenant"] = tenant
    variables["appstream_image_builder"] = builder_record(builder, tags, region)
    return str(builder["Name"]), groups, variables


def list_builders(client: Any) -> list[dict[str, Any]]:
    """Every builder of the client's region (DescribeImageBuilders pages with NextToken)."""
    return paginate(client.describe_image_builders, "ImageBuilders")


def builder_tags(client: Any, arn: str) -> dict[str, str]:
    client_error = aws_libraries()[2]
    try:
        return dict(client.list_tags_for_resource(ResourceArn=arn).get("Tags") or {})
    except client_error as err:
        # A builder deleted between the two calls has no tags any more: it is skipped by the caller.
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return {}
        raise


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = NAME

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        boto_core_error, client_error = aws_libraries()[1:]
        regions = self._regions()
        make_client = self._client_factory()
        for region in regions:
            try:
                client = make_client(region)
                for builder in list_builders(client):
                    tags = builder_tags(client, builder["Arn"])
                    if builder_selected(builder, tags, self.get_option("tenants"), self.get_option("states")):
                        self._add_builder(builder, tags, region)
            except (boto_core_error, client_error) as err:
                raise AnsibleParserError(f"{NAME}: cannot list the image builders of {region}: {err}") from err

    def _regions(self) -> list[str]:
        regions = [r for r in self.get_option("regions") or [] if r]
        if regions:
            return regions
        boto3 = aws_libraries()[0]
        session = boto3.session.Session(profile_name=self.get_option("profile") or None)
        if session.region_name:
            return [session.region_name]
        raise AnsibleParserError(f"{NAME}: set `regions`, or AWS_REGION / AWS_DEFAULT_REGION in the environment")

    def _client_factory(self) -> Callable[[str], Any]:
        boto3 = aws_libraries()[0]
        session = boto3.session.Session(
            profile_name=self.get_option("profile") or None,
            aws_access_key_id=self.get_option("access_key") or None,
            aws_secret_access_key=self.get_option("secret_key") or None,
            aws_session_token=self.get_option("session_token") or None,
        )
        endpoint_url = self.get_option("endpoint_url") or None
        return lambda region: session.client("appstream", region_name=region, endpoint_url=endpoint_url)

    def _add_builder(self, builder: Mapping[str, Any], tags: Mapping[str, str], region: str) -> None:
        name, groups, variables = builder_host(
            builder,
            tags,
            region,
            transport=self.get_option("transport"),
            port=self.get_option("port"),
            validate_certs=self.get_option("validate_certs"),
            ca_path=self.get_option("ca_path"),
        )
        for group in groups:
            self.inventory.add_group(group)
        self.inventory.add_host(name, group=groups[0])
        for group in groups[1:]:
            self.inventory.add_child(group, name)
        for key, value in variables.items():
            self.inventory.set_variable(name, key, value)
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
