"""The sandbox's AppStream 2.0 backend (no emulator of it exists elsewhere)."""

from sandbox.backends.appstream.service import AppStreamService

__all__ = ["AppStreamService"]
