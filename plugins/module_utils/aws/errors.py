# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an AWS error says: its code, whatever raised it (botocore ClientError or a stub)."""

from __future__ import annotations


def error_code(err: BaseException) -> str:
    """The service's error code of `err` (``ResourceNotFoundException``), or "" for other exceptions."""
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
