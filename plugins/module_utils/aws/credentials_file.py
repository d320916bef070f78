# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials files the toolkit writes for boto3: one profile each, readable by their owner only.

A play's `environment` is shown by `ansible-playbook -vvv` (it prefixes every module's command line), so
it never holds a key. The keys go to a shared credentials file (the format of `~/.aws/credentials`, AWS
SDKs and Tools Reference Guide, "Shared config and credentials files") and the environment names the file
and the profile (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`), which boto3, the AWS CLI and amazon.aws
read like any profile.

Used by the lookups `tenant_session` (an assumed role's session) and `tenant_credentials` (access keys
given as host variables, kept for one run).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import is_run_id

# What an access key id, secret access key or session token can hold (base64 and base32 text). Anything
# else, a line break first, could add lines to the file (another profile, a credential_process).
_CREDENTIAL_VALUE = re.compile(r"^[A-Za-z0-9+/=_.:-]{1,4096}$")

# The variables of the run files' parent directory; the tenant_state callback removes a run's directory
# when the run ends.
RUN_FILES_ENV = "TENANT_TOOLKIT_RUN_FILES"
DEFAULT_RUN_FILES = "~/.cache/appstream-tenant-toolkit/runs"


_REQUIRED = ("aws_access_key_id", "aws_secret_access_key")


class CredentialsError(ValueError):
    """A value that cannot be written to a credentials file (the message never holds the value)."""


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read (a reader never sees half a file)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def private_directory(directory: Path) -> Path:
    """`directory` (and its missing parents), mode 0700 whoever made it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def profile_text(profile: str, keys: dict[str, str | None], comment: str = "") -> str:
    """A credentials file holding `profile` with `keys` (aws_access_key_id and aws_secret_access_key, and
    aws_session_token, which None or "" leaves out)."""
    lines = [f"# {line}" for line in comment.splitlines()] + [f"[{profile}]"]
    for name, value in keys.items():
        if value in (None, "") and name not in _REQUIRED:
            continue
        if not isinstance(value, str) or not _CREDENTIAL_VALUE.match(value):
            raise CredentialsError(f"{name}: not an AWS credential (letters, digits and + / = _ . : - only)")
        lines.append(f"{name} = {value}")
    missing = [name for name in _REQUIRED if name not in keys]
    if missing:
        raise CredentialsError(f"{missing[0]}: missing")
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    """Write `text` to `path` (0600) unless it already holds it: a play templates its environment for
    every task, and the file is only rewritten when the keys change."""
    try:
        if path.read_text() == text and (path.stat().st_mode & 0o777) == 0o600:
            return
    except OSError:
        pass
    write_private(path, text)


def run_files_root(environ: dict[str, str] | None = None) -> Path:
    """The directory holding one private directory per running playbook run."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(RUN_FILES_ENV) or DEFAULT_RUN_FILES).expanduser()


def run_files_directory(run_id: str, environ: dict[str, str] | None = None) -> Path:
    """The private directory (0700) of the files of run `run_id`."""
    if not is_run_id(run_id):
        raise CredentialsError("not a run id")
    return private_directory(run_files_root(environ) / run_id)


def remove_run_files(run_id: str, environ: dict[str, str] | None = None) -> None:
    """Remove the directory of run `run_id` and what it holds (nothing when there is none)."""
    if is_run_id(run_id):
        shutil.rmtree(run_files_root(environ) / run_id, ignore_errors=True)
