# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rights delegated on an OU, as the Delegation of Control wizard writes them (the AppStream service
account's rights on its computer OU).
"""

from __future__ import annotations

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    ACCESS_ALLOWED,
    ACCESS_ALLOWED_OBJECT,
    CONTAINER_INHERIT,
    INHERIT_ONLY,
    Ace,
)

COMPUTER_CLASS = "bf967a86-0de6-11d0-a285-00aa003049e2"
USER_CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"  # noqa: S105 - a right's GUID
USER_FORCE_CHANGE_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"  # noqa: S105 - a right's GUID
DESCRIPTION_ATTRIBUTE = "bf967950-0de6-11d0-a285-00aa003049e2"


# Each right is the ACE the Delegation of Control wizard writes for it (CI: this OU and below;
# CI+IO with the computer class as inherited object type: computer objects below the OU).
DELEGATION_RIGHTS: dict[str, tuple[int, int, int, str | None, str | None]] = {
    "create_computer": (ACCESS_ALLOWED_OBJECT, CONTAINER_INHERIT, 0x1, COMPUTER_CLASS, None),
    "delete_computer": (ACCESS_ALLOWED_OBJECT, CONTAINER_INHERIT, 0x2, COMPUTER_CLASS, None),
    "change_password": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x100,
        USER_CHANGE_PASSWORD,
        COMPUTER_CLASS,
    ),
    "reset_password": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x100,
        USER_FORCE_CHANGE_PASSWORD,
        COMPUTER_CLASS,
    ),
    "write_description": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x20,
        DESCRIPTION_ATTRIBUTE,
        COMPUTER_CLASS,
    ),
    "full_control": (ACCESS_ALLOWED, CONTAINER_INHERIT, 0x000F01FF, None, None),
}


APPSTREAM_RIGHTS = ["create_computer", "change_password", "reset_password", "write_description"]


def delegation_aces(sid: str, rights: list[str]) -> list[Ace]:
    aces = []
    for right in rights:
        ace_type, flags, mask, object_type, inherited_type = DELEGATION_RIGHTS[right]
        aces.append(Ace(ace_type, flags, mask, sid.upper(), object_type, inherited_type))
    return aces
