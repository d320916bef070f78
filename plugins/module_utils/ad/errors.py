# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error every Active Directory helper raises: a message for the operator and its kind."""

from __future__ import annotations

from typing import Any


class AdError(Exception):
    """A failure with a message meant for the operator (kind: unreachable, tls, credentials, rights, ...)."""

    def __init__(self, message: str, kind: str = "error", result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.result = result or {}
