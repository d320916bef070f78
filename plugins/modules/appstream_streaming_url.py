#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_streaming_url
version_added: 0.1.0
short_description: Create a temporary Amazon AppStream 2.0 streaming URL for a user or an image builder
description:
  - For a stack and fleet, creates a streaming URL that opens a session as O(user_id) without any
    user-pool or SAML setup (C(CreateStreamingURL)), for support sessions and tests.
  - For an image builder, creates the URL of its administrator session
    (C(CreateImageBuilderStreamingURL)).
  - B(Always V(changed=false).) A streaming URL is a short-lived credential, not a resource; no
    AWS resource is created or modified, and a playbook that only prints a URL should not report a
    change. Each run returns a new URL.
  - In check mode no URL is created; the module only checks that the stack, fleet or builder can
    stream and returns C(url=null).
  - "AWS refuses streaming URLs for domain-joined Always-On and On-Demand fleets (their users sign in
    through SAML 2.0 federation only): the module checks the fleet first and fails with that reason."
  - The URL grants a session to whoever holds it until it expires; do not log it.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  stack_name:
    description:
      - Stack to stream from. Required with O(fleet_name) and O(user_id), mutually exclusive with
        O(image_builder_name).
    type: str
  fleet_name:
    description: Fleet associated with O(stack_name) that runs the session.
    type: str
  user_id:
    description:
      - Identifier of the session's user, 2 to 32 characters from letters, digits and C(_+=,.@-).
    type: str
  application_id:
    description:
      - Application to launch when the session starts (its Image Assistant name), or V(Desktop)
        for a desktop stream view fleet. When unset the user chooses from the catalogue.
    type: str
  session_context:
    description: Session context passed to the session (available to applications and scripts).
    type: str
  image_builder_name:
    description: Image builder whose administrator session is wanted; it must be RUNNING.
    type: str
  validity:
    description:
      - Seconds during which the URL can be used to start a session, 1 to 604800. The API's own
        default is 60 seconds, too short for a URL handed to a person.
    type: int
    default: 300
attributes:
  check_mode:
    details: Checks the target with read calls and creates no URL.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Create a support session URL on the tenant stack
  iconeus.tenant_toolkit.appstream_streaming_url:
    stack_name: trial-lab-stack
    fleet_name: trial-lab-fleet
    user_id: support-ada
    application_id: IcoStudio
    validity: 600
  register: streaming_url_result
  no_log: true

- name: Open the image builder's administrator session
  iconeus.tenant_toolkit.appstream_streaming_url:
    image_builder_name: trial-lab-builder
  register: streaming_url_builder
"""

RETURN = r"""
url:
  description: The streaming URL; null in check mode.
  returned: always
  type: str
  sample: https://appstream2.eu-west-3.aws.amazon.com/authenticate?parameters=...
expires:
  description: When the URL stops being valid (ISO 8601); null in check mode.
  returned: always
  type: str
  sample: "2025-01-31T10:05:00+00:00"
target:
  description: What the URL opens.
  returned: always
  type: dict
  sample: {stack_name: trial-lab-stack, fleet_name: trial-lab-fleet, user_id: support-ada}
"""

import contextlib
import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

USER_ID = re.compile(r"^[\w+=,.@-]{2,32}$")
MAX_VALIDITY = 604800
# Fleet types whose domain-joined instances accept SAML sign-in only.
SAML_ONLY_FLEET_TYPES = ("ALWAYS_ON", "ON_DEMAND")


def input_errors(params: dict[str, Any]) -> list[str]:
    errors = []
    if not 1 <= params["validity"] <= MAX_VALIDITY:
        errors.append(f"validity: {params['validity']} is not between 1 and {MAX_VALIDITY} seconds")
    if params.get("user_id") is not None and not USER_ID.match(params["user_id"]):
        errors.append("user_id: 2 to 32 characters from letters, digits and _+=,.@-")
    return errors


def fleet_refusal(fleet: dict[str, Any]) -> str | None:
    """Why AWS would refuse a streaming URL on this fleet, or None."""
    directory = (fleet.get("DomainJoinInfo") or {}).get("DirectoryName")
    if directory and fleet.get("FleetType", "ON_DEMAND") in SAML_ONLY_FLEET_TYPES:
        return (
            f"fleet {fleet['Name']!r} is joined to the domain {directory}: AWS allows streaming from domain-joined "
            "Always-On and On-Demand fleets only through SAML 2.0 federation, not through streaming URLs"
        )
    if fleet.get("State") != "RUNNING":
        return f"fleet {fleet['Name']!r} is {fleet.get('State')}, not RUNNING: start it first"
    return None


def stack_url(module: Any, client: Any) -> dict[str, Any]:
    params = module.params
    target = {"stack_name": params["stack_name"], "fleet_name": params["fleet_name"], "user_id": params["user_id"]}
    try:
        fleets = client.describe_fleets(Names=[params["fleet_name"]], aws_retry=True)["Fleets"]
    except is_boto3_error_code("ResourceNotFoundException"):
        fleets = []
    if not fleets:
        module.fail_json(msg=f"fleet {params['fleet_name']!r} does not exist", target=target)
    refusal = fleet_refusal(fleets[0])
    if refusal:
        module.fail_json(msg=refusal, target=target)
    associated = paginate(client.list_associated_stacks, "Names", aws_retry=True, FleetName=params["fleet_name"])
    if params["stack_name"] not in associated:
        module.fail_json(
            msg=f"fleet {params['fleet_name']!r} is not associated with stack {params['stack_name']!r}", target=target
        )
    if module.check_mode:
        return {"url": None, "expires": None, "target": target}
    request = {
        "StackName": params["stack_name"],
        "FleetName": params["fleet_name"],
        "UserId": params["user_id"],
        "Validity": params["validity"],
    }
    if params.get("application_id"):
        request["ApplicationId"] = target["application_id"] = params["application_id"]
    if params.get("session_context"):
        request["SessionContext"] = params["session_context"]
    response = client.create_streaming_url(aws_retry=True, **request)
    return {"url": response["StreamingURL"], "expires": response["Expires"].isoformat(), "target": target}


def builder_url(module: Any, client: Any) -> dict[str, Any]:
    name = module.params["image_builder_name"]
    target = {"image_builder_name": name}
    try:
        builders = client.describe_image_builders(Names=[name], aws_retry=True)["ImageBuilders"]
    except is_boto3_error_code("ResourceNotFoundException"):
        builders = []
    if not builders:
        module.fail_json(msg=f"image builder {name!r} does not exist", target=target)
    if builders[0].get("State") != "RUNNING":
        module.fail_json(msg=f"image builder {name!r} is {builders[0].get('State')}, not RUNNING", target=target)
    if module.check_mode:
        return {"url": None, "expires": None, "target": target}
    response = client.create_image_builder_streaming_url(Name=name, Validity=module.params["validity"], aws_retry=True)
    return {"url": response["StreamingURL"], "expires": response["Expires"].isoformat(), "target": target}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            stack_name=dict(type="str"),
            fleet_name=dict(type="str"),
            user_id=dict(type="str"),
            application_id=dict(type="str"),
            session_context=dict(type="str"),
            image_builder_name=dict(type="str"),
            validity=dict(type="int", default=300),
        ),
        supports_check_mode=True,
        mutually_exclusive=[
            ("image_builder_name", "stack_name"),
            ("image_builder_name", "fleet_name"),
            ("image_builder_name", "user_id"),
            ("image_builder_name", "application_id"),
            ("image_builder_name", "session_context"),
        ],
        required_one_of=[("stack_name", "image_builder_name")],
        required_together=[("stack_name", "fleet_name", "user_id")],
    )
    errors = input_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    client = module.client("appstream", retry_decorator=retry_decorator())
    try:
        make_url = builder_url if module.params["image_builder_name"] else stack_url
        result = make_url(module, client)
    except botocore.exceptions.ClientError as err:
        module.fail_json_aws(err, msg="AppStream refused the streaming URL")
    except botocore.exceptions.BotoCoreError as err:
        module.fail_json_aws(err, msg="AppStream could not be reached")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
