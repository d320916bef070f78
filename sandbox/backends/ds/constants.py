"""Directory Service's modelled durations and limits."""

from __future__ import annotations

# Modelled AWS durations, in real AWS seconds (the sandbox multiplies them by its time scale).
DURATIONS: dict[str, float] = {
    "directory_requested": 60,  # Requested -> Creating
    "directory_creating": 24 * 60,  # Creating -> Active (25 minutes in all)
    "directory_deleting": 10 * 60,  # Deleting -> gone
    "controller_creating": 20 * 60,  # an added domain controller: Creating -> Active
    "controller_deleting": 10 * 60,  # a removed domain controller: Deleting -> gone
}

DEFAULT_DIRECTORY_LIMIT = 20  # Managed Microsoft AD directories per region (AWS default quota)
MAX_DOMAIN_CONTROLLERS = 20
MAX_TAGS = 50
NETBIOS_MAX = 15
GONE = "Deleted"  # internal terminal stage: the resource is dropped the next time it is read
