"""The local side: what an acquisition holds, and whether every name in it can be sent.

Nothing here writes: the uploader only ever reads the instrument's data.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest_uploader import naming
from ingest_uploader.errors import LocalDataError, UsageError


@dataclass(frozen=True)
class LocalFile:
    relative: str  # POSIX form, relative to the acquisition: the tail of the file's key
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Acquisition:
    name: str
    source: Path  # the folder, or the file when a single file is sent
    files: tuple[LocalFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def newest_mtime(self) -> float:
        return max((f.mtime_ns for f in self.files), default=0) / 1e9

    def snapshot(self) -> str:
        """A digest of every file's path, size and modification time: equal digests, unchanged acquisition."""
        return snapshot_of(self.files)


def snapshot_of(files: tuple[LocalFile, ...] | list[LocalFile]) -> str:
    listing = sorted((f.relative, f.size, f.mtime_ns) for f in files)
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


def acquisition_name(source: Path, override: str | None) -> str:
    """The acquisition's name: --acquisition, else the folder's (or the file's) own name, validated."""
    name = override if override is not None else source.name
    problem = naming.name_problem(name)
    if problem is not None:
        if override is not None:
            raise UsageError(f"--acquisition '{name}' {problem}")
        raise LocalDataError(
            f"the acquisition name '{name}' (the name of {source}) {problem}",
            "Rename the folder, or give the name it should have in S3 with --acquisition NAME.",
        )
    return name


def scan(source: Path, name: str, instrument: str) -> Acquisition:
    """Every file of the acquisition at `source` (a folder, or one file), refusing names S3 or Windows cannot hold.

    All problems are reported at once, each naming its file, before anything is sent.
    """
    try:
        info = source.stat()
    except FileNotFoundError:
        raise LocalDataError(f"{source} does not exist", "Check the path.") from None
    except OSError as error:
        raise LocalDataError(
            f"{source} cannot be read: {error.strerror}", "Check the path and its permissions."
        ) from None
    if stat.S_ISREG(info.st_mode):
        files = [LocalFile(source.name, source, info.st_size, info.st_mtime_ns)]
        problems = _name_problems(files, instrument, name)
    elif stat.S_ISDIR(info.st_mode):
        files, problems = [], []
        for entry in _walk(source, problems):
            files.append(entry)
        problems += _name_problems(files, instrument, name)
        if not files and not problems:
            problems.append(f"{source} contains no file")
    else:
        raise LocalDataError(f"{source} is neither a file nor a folder", "Give an acquisition folder or a file.")
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise LocalDataError(
            f"{len(problems)} problem(s) in {source}; nothing was sent:\n{listing}",
            "Rename or remove these files (names must be valid on Windows and in S3), then re-run.",
        )
    return Acquisition(name, source, tuple(sorted(files, key=lambda f: f.relative)))


def _walk(root: Path, problems: list[str]) -> Iterator[LocalFile]:
    """Regular files under `root`, depth first, in name order. Links are refused, never followed."""
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            problems.append(f"{folder}: cannot be listed ({error.strerror})")
            continue
        for entry in entries:
            path = Path(entry.path)
            shown = _shown(path.relative_to(root))
            if entry.is_symlink() or _is_junction(entry):
                problems.append(f"{shown}: is a link; links are not followed (copy the data into the folder)")
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.is_file(follow_symlinks=False):
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as error:
                    problems.append(f"{shown}: cannot be read ({error.strerror})")
                    continue
                yield LocalFile(path.relative_to(root).as_posix(), path, info.st_size, info.st_mtime_ns)
            else:
                problems.append(f"{shown}: is not a regular file")


def _is_junction(entry: os.DirEntry[str]) -> bool:
    is_junction = getattr(entry, "is_junction", None)  # Python 3.12+; NTFS junctions are links too
    return bool(is_junction and is_junction())


def _shown(relative: Path) -> str:
    """A path as the user should read it: undecodable bytes and control characters escaped, never raw."""
    return ascii(relative.as_posix())[1:-1] if not relative.as_posix().isprintable() else relative.as_posix()


def _name_problems(files: list[LocalFile], instrument: str, acquisition: str) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for file in files:
        parts = file.relative.split("/")
        shown = _shown(Path(file.relative))
        found = next(((part, p) for part in parts if (p := naming.component_problem(part)) is not None), None)
        if found is not None:
            part, problem = found
            which = "its name" if part == parts[-1] else f"the folder '{_shown(Path(part))}'"
            problems.append(f"{shown}: {which} {problem}")
            continue
        problem = naming.key_problem(instrument, acquisition, file.relative)
        if problem is not None:
            problems.append(f"{shown}: {problem}")
            continue
        folded = naming.case_folded(file.relative)
        if folded in seen:
            problems.append(f"{shown}: differs from {seen[folded]} only by case (one name on Windows)")
        seen.setdefault(folded, shown)
    return problems


def has_changed(file: LocalFile) -> bool:
    """True when the file's size or modification time differ from what the scan saw (or it is gone)."""
    try:
        info = file.path.stat()
    except OSError:
        return True
    return (info.st_size, info.st_mtime_ns) != (file.size, file.mtime_ns)
