# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The password policy of a Managed Microsoft AD account, defined once.

botocore's ds model, CreateMicrosoftAD ``Password`` (shape ``Password``): 8-64 characters with
characters of at least three of four classes; whitespace counts as no "other" character there
(``[^A-Za-z0-9\\s]``) and ``.`` matches no line break. Microsoft, "Password must meet complexity
requirements": a password must not contain the account's whole sAMAccountName (case-insensitive)
when that name has three characters or more; the Managed AD account is ``Admin``.

Messages state the rule that is broken, never the value: they are shown for secrets.
"""

from __future__ import annotations

import re

ADMIN_ACCOUNT = "Admin"
PASSWORD_MIN = 8
PASSWORD_MAX = 64
RULE_SOURCE = "CreateMicrosoftAD password policy"
CHARACTER_CLASSES = {
    "lower-case letter": re.compile(r"[a-z]"),
    "upper-case letter": re.compile(r"[A-Z]"),
    "digit": re.compile(r"[0-9]"),
    "symbol": re.compile(r"[^A-Za-z0-9\s]"),
}


def password_classes(password: str) -> list[str]:
    """The character classes present in `password` (the role's generator guarantees all four)."""
    return [name for name, pattern in CHARACTER_CLASSES.items() if pattern.search(password)]


def password_policy_errors(password: str, account: str = ADMIN_ACCOUNT, min_length: int = PASSWORD_MIN) -> list[str]:
    """Why `password` would be refused for `account`; never includes the password itself."""
    errors: list[str] = []
    if "\n" in password or "\r" in password:
        errors.append(f"must not contain a line break ({RULE_SOURCE})")
    if not min_length <= len(password) <= PASSWORD_MAX:
        errors.append(f"must be {min_length} to {PASSWORD_MAX} characters long ({RULE_SOURCE})")
    missing = [name for name in CHARACTER_CLASSES if name not in password_classes(password)]
    if len(missing) > 1:
        errors.append(
            "must contain characters of at least three of these four kinds: lower-case letters, "
            f"upper-case letters, digits, other characters such as !-_#% (lacks: {', '.join(missing)}; {RULE_SOURCE})"
        )
    if len(account) >= 3 and account.casefold() in password.casefold():
        errors.append(
            f'must not contain the account name "{account}" in any case (Active Directory password complexity)'
        )
    return errors
