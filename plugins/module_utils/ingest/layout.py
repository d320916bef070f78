# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where instrument data lives: the landing bucket's keys, the names of a tenant's ingest resources.

The key contract is the uploader's (uploader/README.md, "The contract with the bucket and DataSync"):
`incoming/<instrument>/<acquisition>/<relative/posix/path>`, and the acquisition manifest
`incoming/<instrument>/<acquisition>/_acquisition-manifest.json`, written last. Everything the toolkit
writes itself into the bucket lives under `_toolkit/`, which no instrument may write (its policy allows
`incoming/<instrument>/*` only).

Pure functions and constants (no AWS call).
"""

from __future__ import annotations

import re

KEY_ROOT = "incoming"
MANIFEST_NAME = "_acquisition-manifest.json"
TOOLKIT_PREFIX = "_toolkit/"
# The CSV manifests handed to DataSync, one per task execution (AWS DataSync user guide, "Transferring
# specific files or objects by using a manifest").
DATASYNC_MANIFEST_PREFIX = TOOLKIT_PREFIX + "datasync-manifests/"

# The mark of a transferred object version: S3 lifecycle expires objects carrying it after the tenant's
# retention (tenant.ingest.retention_days); an acquisition whose manifest carries it is not sent again.
TRANSFERRED_TAG_KEY = "ingest-state"
TRANSFERRED_TAG_VALUE = "transferred"

# IAM path of the instrument users: the deployer's IAM permissions can be scoped to it.
INSTRUMENT_USER_PATH = "/tenant-toolkit/ingest/"

# The share folder acquisitions arrive in, under the projects folder the project drive maps
# (roles/gpo_drive_mapping: P: is \\<fsx>\share\Projects): P:\Incoming\<instrument>\<acquisition>.
SHARE_NAME = "share"
PROJECTS_FOLDER = "Projects"
INCOMING_FOLDER = "Incoming"


def bucket_name(tenant: str, account_id: str, region: str) -> str:
    """The landing bucket: S3 names are global, so the account and region make it the tenant's own.

    At most 24 + 8 + 12 + 1 + 14 = 59 characters (S3 allows 63), lower case since tenant names are."""
    return f"{tenant}-ingest-{account_id}-{region}"


def instrument_user_name(tenant: str, instrument: str) -> str:
    """The instrument's IAM user: at most 24 + 8 + 32 = 64 characters, IAM's limit (schema: instrument names)."""
    return f"{tenant}-ingest-{instrument}"


def instrument_secret_name(tenant: str, instrument: str) -> str:
    """Where the instrument's access key is kept, next to the tenant's other secrets (`<tenant>/...`)."""
    return f"{tenant}/ingest/{instrument}"


def instrument_prefix(instrument: str) -> str:
    return f"{KEY_ROOT}/{instrument}/"


def acquisition_prefix(instrument: str, acquisition: str) -> str:
    return f"{KEY_ROOT}/{instrument}/{acquisition}/"


def manifest_key(instrument: str, acquisition: str) -> str:
    return acquisition_prefix(instrument, acquisition) + MANIFEST_NAME


# Instrument and acquisition names, as the uploader writes them (uploader/src/ingest_uploader/naming.py,
# name_problem): the contract's alphabet, then what Windows refuses of it. The uploader is installed on
# instrument PCs without the collection, so the rule is written in both; tests/unit/test_uploader_docs.py
# holds the two equal on the same samples.
_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
WINDOWS_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{kind}{n}" for kind in ("COM", "LPT") for n in range(1, 10)}
)


def is_device_name(name: str) -> bool:
    """A name Windows takes for a device whatever its extension (CON, NUL.txt, LPT1.bin)."""
    return name.split(".")[0].rstrip(" ").upper() in WINDOWS_DEVICE_NAMES


def name_problem(value: str) -> str | None:
    """Why an instrument or acquisition name is refused, or None when it is valid."""
    if not _NAME.fullmatch(value):
        return "must be 1 to 128 characters among letters, digits, '.', '_' and '-'"
    if value.startswith("."):
        return "must not start with '.'"
    if value.endswith("."):
        return "must not end with '.' (Windows drops it)"
    if is_device_name(value):
        return f"'{value.split('.')[0]}' is a reserved device name on Windows"
    return None


def split_manifest_key(key: str) -> tuple[str, str] | None:
    """(instrument, acquisition) of an acquisition manifest's key, None for any other key.

    Keys are written by instruments (untrusted): a name the uploader would not write ('..', '.', a
    backslash, a device name) is no acquisition, so it can never become a path outside
    Incoming\\<instrument>\\ on the share (IAM compares `incoming/<instrument>/*` as text, and
    `incoming/ECHO-01/../ECHO-02/...` matches it)."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != KEY_ROOT or parts[3] != MANIFEST_NAME:
        return None
    if name_problem(parts[1]) or name_problem(parts[2]):
        return None
    return parts[1], parts[2]


def share_subdirectory() -> str:
    """The DataSync FSx location's subdirectory: the share, then the folders (forward slashes)."""
    return f"/{SHARE_NAME}/{PROJECTS_FOLDER}/{INCOMING_FOLDER}/"


def incoming_folder() -> str:
    """The Incoming folder inside the share, as smb_folders takes it."""
    return f"{PROJECTS_FOLDER}\\{INCOMING_FOLDER}"
