#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_image_info
version_added: 0.1.0
short_description: List AppStream 2.0 images, newest first
description:
  - Lists the AppStream 2.0 images of the region (the account's, AWS base images and images shared with the
    account), filtered by name, name prefix, state, visibility, platform and tags, newest first by creation time.
  - Tags are read (C(ListTagsForResource)) only for the account's own images and only when O(tags) is given
    or O(include_tags=true), so a filter by name costs one call.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  names:
    description: Exact image names (C(DescribeImages) C(Names)); an unknown name is simply not returned.
    type: list
    elements: str
    aliases: [name]
  name_prefix:
    description: Only images whose name starts with this prefix.
    type: str
  visibility:
    description: Only images of this visibility (C(DescribeImages) C(Type)).
    type: str
    choices: [PUBLIC, PRIVATE, SHARED]
    aliases: [type]
  state:
    description: Only images in these states.
    type: list
    elements: str
    choices: [PENDING, AVAILABLE, FAILED, COPYING, DELETING, CREATING, IMPORTING, VALIDATING]
  platform:
    description: Only images of this platform, for example C(WINDOWS_SERVER_2019).
    type: str
  tags:
    description: Only images carrying all these tags (implies reading tags; public and shared images have none).
    type: dict
  include_tags:
    description: Return the tags of the account's images.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Find the tenant's newest available catalogue image
  iconeus.tenant_toolkit.appstream_image_info:
    name_prefix: acme-neuro-suite-
    visibility: PRIVATE
    state: [AVAILABLE]
    tags:
      tenant: acme-neuro
  register: images

- name: Use it
  ansible.builtin.set_fact:
    newest_image: "{{ images.images[0].name }}"
  when: images.images | length > 0

- name: Latest AWS Windows Server 2019 base image
  iconeus.tenant_toolkit.appstream_image_info:
    name_prefix: AppStream-WinServer2019-
    visibility: PUBLIC
  register: base_images
"""

RETURN = r"""
images:
  description: Matching images, newest first (by C(CreatedTime)), in snake_case.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Image name.
      type: str
      sample: acme-neuro-suite-3f9c0a1b2c4d
    arn:
      description: Image ARN.
      type: str
      sample: arn:aws:appstream:eu-west-3:123456789012:image/acme-neuro-suite-3f9c0a1b2c4d
    state:
      description: Image state.
      type: str
      sample: AVAILABLE
    visibility:
      description: C(PUBLIC), C(PRIVATE) or C(SHARED).
      type: str
      sample: PRIVATE
    platform:
      description: Platform.
      type: str
      sample: WINDOWS_SERVER_2019
    created_time:
      description: Creation time.
      type: str
      sample: "2024-11-28T16:49:12+00:00"
    tags:
      description: Tags (when read).
      type: dict
      sample: {tenant: acme-neuro}
"""

import datetime
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    describe_all,
    get_tags,
    is_not_found,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator

STATES = ["PENDING", "AVAILABLE", "FAILED", "COPYING", "DELETING", "CREATING", "IMPORTING", "VALIDATING"]


def argument_spec() -> dict[str, Any]:
    return dict(
        names=dict(type="list", elements="str", aliases=["name"]),
        name_prefix=dict(type="str"),
        visibility=dict(type="str", choices=["PUBLIC", "PRIVATE", "SHARED"], aliases=["type"]),
        state=dict(type="list", elements="str", choices=STATES),
        platform=dict(type="str"),
        tags=dict(type="dict"),
        include_tags=dict(type="bool", default=False),
    )


def created(image: dict[str, Any]) -> float:
    value = image.get("CreatedTime")
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return float(value or 0)


def matches(image: dict[str, Any], params: dict[str, Any]) -> bool:
    if params.get("name_prefix") and not image["Name"].startswith(params["name_prefix"]):
        return False
    if params.get("state") and image.get("State") not in params["state"]:
        return False
    if params.get("platform") and image.get("Platform") != params["platform"]:
        return False
    return not (params.get("visibility") and image.get("Visibility") != params["visibility"])


def newest_first(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(images, key=lambda image: (created(image), image["Name"]), reverse=True)


def describe_images(client: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    request: dict[str, Any] = {}
    if params.get("visibility"):
        request["Type"] = params["visibility"]
    if not params.get("names"):
        return describe_all(client, "describe_images", "Images", **request)
    found = []
    for name in params["names"]:
        # One name at a time: DescribeImages fails the whole call when one name is unknown.
        try:
            found.extend(describe_all(client, "describe_images", "Images", Names=[name]))
        except Exception as err:
            if not is_not_found(err):
                raise
    return found


def main() -> None:
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    client = module.client("appstream", retry_decorator=retry_decorator())
    try:
        images = [image for image in describe_images(client, params) if matches(image, params)]
        wanted_tags = {str(k): str(v) for k, v in (params.get("tags") or {}).items()}
        if wanted_tags or params["include_tags"]:
            for image in images:
                own = image.get("Visibility") == "PRIVATE"
                image["Tags"] = get_tags(client, image["Arn"]) if own else {}
            images = [i for i in images if all(i["Tags"].get(k) == v for k, v in wanted_tags.items())]
    except Exception as err:
        if hasattr(err, "response"):
            module.fail_json_aws(err, msg="Could not list AppStream images")
        raise
    result = []
    for image in newest_first(images):
        entry = camel_dict_to_snake_dict({k: v for k, v in image.items() if k != "Tags"})
        if "Tags" in image:
            entry["tags"] = image["Tags"]
        result.append(entry)
    module.exit_json(changed=False, images=result)


if __name__ == "__main__":
    main()
