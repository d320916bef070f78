"""Pure rules of Directory Service (no state, no I/O): passwords, tags."""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from sandbox.backends.ds.constants import MAX_TAGS
from sandbox.errors import AwsError

_PBKDF2_ROUNDS = 20_000

_COMPLEXITY_CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9\s]")


def hash_password(password: str) -> bytes:
    salt = os.urandom(16)
    return salt + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)


def password_matches(stored: bytes, password: str) -> bool:
    salt, digest = stored[:16], stored[16:]
    return hmac.compare_digest(digest, hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS))


def meets_complexity(password: str, user: str) -> bool:
    """AD's default policy as AWS applies it: 8-64 characters, 3 of 4 classes, not containing the user name."""
    if not 8 <= len(password) <= 64:
        return False
    if len(user) >= 3 and user.lower() in password.lower():
        return False
    return sum(1 for pattern in _COMPLEXITY_CLASSES if re.search(pattern, password)) >= 3


def tags_from_list(tags: list[dict[str, str]], limit_code: str) -> dict[str, str]:
    """Tags as a dict; `limit_code` is what the calling operation answers beyond MAX_TAGS."""
    result = {tag["Key"]: tag["Value"] for tag in tags}
    if len(result) > MAX_TAGS:
        raise AwsError(limit_code, f"Tag limit exceeded: a directory can have at most {MAX_TAGS} tags.")
    reserved = [key for key in result if key.lower().startswith("aws:")]
    if reserved:
        raise AwsError("InvalidParameterException", f"Tag keys starting with 'aws:' are reserved: {reserved}")
    return result
