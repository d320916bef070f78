"""The sandbox's FSx backend (WINDOWS file systems): moto's has no lifecycle, updates or aliases."""

from sandbox.backends.fsx.constants import DURATIONS
from sandbox.backends.fsx.service import FSxService

__all__ = ["DURATIONS", "FSxService"]
