# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets supplied through ansible-vault (design.md section 4): which variables exist, the rules each
must meet (the service's own limits), checked before any AWS call. Messages never include a value.

VAULT_VARIABLES and the first paragraph of each check's docstring (``{NAME}`` stands for the value of NAME
here) make the vault section of docs/tenant-definition.md (scripts/tenant_definition_doc.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import password as ad_password
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import Check, suggest, type_label

# botocore appstream ServiceAccountCredentials.AccountPassword: 1-127 characters.
APPSTREAM_SERVICE_PASSWORD_MAX = 127


def check_directory_admin_password(value: str) -> list[str]:
    """{ad_password.PASSWORD_MIN} to {ad_password.PASSWORD_MAX} characters, no line break, characters of at least
    three of the kinds lower-case letter, upper-case letter, digit and other character, and not containing the
    account name `{ad_password.ADMIN_ACCOUNT}` in any case (the CreateMicrosoftAD password policy).

    The password policy lives in ad.password; messages state rules, never the value.
    """
    return ad_password.password_policy_errors(value)


def check_appstream_service_password(value: str) -> list[str]:
    """1 to {APPSTREAM_SERVICE_PASSWORD_MAX} characters (AppStream's limit for a service account password)."""
    if not 1 <= len(value) <= APPSTREAM_SERVICE_PASSWORD_MAX:
        return [
            f"must be 1 to {APPSTREAM_SERVICE_PASSWORD_MAX} characters long "
            "(AppStream ServiceAccountCredentials.AccountPassword)"
        ]
    return []


def check_not_empty(value: str) -> list[str]:
    """Not empty."""
    return [] if value else ["must not be empty"]


@dataclass(frozen=True)
class VaultVariable:
    """A secret the roles read from an ansible-vault variable when the operator supplies it."""

    check: Check
    # What the run does when the variable is unset, i.e. what a variable that
    # cannot be resolved would silently turn into.
    fallback: str
    # Only SAML tenants use it (they have the directory it belongs to).
    saml_only: bool
    # What the secret is and what uses it, for docs/tenant-definition.md.
    description: str = ""


VAULT_VARIABLES: dict[str, VaultVariable] = {
    "vault_directory_admin_password": VaultVariable(
        check_directory_admin_password,
        "the directory stage would generate a new Admin password and keep it in Secrets Manager",
        saml_only=True,
        description=(
            "Password of the directory's `Admin` account: set when the directory is created, then used by the roles "
            "aws_directory, ad_structure, gpo_drive_mapping and file_share_folders, and by domain_join when "
            "`vault_domain_join_password` is not set."
        ),
    ),
    "vault_appstream_service_password": VaultVariable(
        check_appstream_service_password,
        "AppStream would get the service account password kept in Secrets Manager",
        saml_only=True,
        description=(
            "Password of the service account AppStream joins fleets and image builders to the domain with, "
            "given to the directory config (role appstream_directory)."
        ),
    ),
    "vault_domain_join_password": VaultVariable(
        check_not_empty,
        "domain joins would use vault_directory_admin_password",
        saml_only=True,
        description="Password of the account the role domain_join joins a Windows host to the domain with.",
    ),
    "vault_image_build_password": VaultVariable(
        check_not_empty,
        "the image build account's password would be generated and kept in Secrets Manager (<tenant>/image-build)",
        saml_only=True,
        description=(
            "Password of the image build account (`svc-imagebuild`), which the builder access GPO makes a local "
            "administrator of the image builders (role image_builder_access); give the image stage the same one."
        ),
    ),
    "vault_image_winrm_password": VaultVariable(
        check_not_empty,
        "the image stage would sign in with the account kept in Secrets Manager (<tenant>/image-build for SAML "
        "tenants, the account bootstrap's secret for user-pool tenants)",
        saml_only=False,
        description=(
            "Password of `image_winrm_user`, the account `playbooks/image.yml` reaches the image builder with over "
            "WinRM (`image_build_mode=winrm`)."
        ),
    ),
}


def validate_vault_variables(
    secrets: Mapping[str, Any],
    set_names: Iterable[str] = (),
    auth: str | None = None,
) -> tuple[list[str], list[str]]:
    """Check the secrets supplied through ansible-vault: ``(errors, warnings)``.

    ``secrets`` maps each variable of ``VAULT_VARIABLES`` that is set for the
    tenant host to its value; ``None`` stands for a variable that is set but
    resolves to nothing (null, or a reference to an undefined variable such as
    one of a vault file that was not loaded), which the roles would take for
    unset. ``set_names`` lists every ``vault_*`` variable set, to point out
    misspelt ones. ``auth`` is the tenant's sign-in mode. Messages name the
    variable and the rule, never the value.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for name, value in secrets.items():
        rule = VAULT_VARIABLES.get(name)
        if rule is None:
            continue
        if value is None:
            errors.append(
                f"{name}: is set but resolves to nothing (null, or a reference to an undefined variable: "
                f"is the vault file that defines it loaded?); without it {rule.fallback}"
            )
        elif not isinstance(value, str):
            errors.append(f"{name}: must be a string, got {type_label(value)}")
        else:
            errors.extend(f"{name}: {message}" for message in rule.check(value))
        if rule.saml_only and auth == "userpool":
            warnings.append(f"{name}: is not used: user-pool tenants have no directory")
    for name in sorted(set(set_names) - set(VAULT_VARIABLES)):
        close = suggest(name, VAULT_VARIABLES)
        if close:
            warnings.append(f"{name}: is not a variable the toolkit reads (did you mean {close}?); it is ignored")
    return errors, warnings
