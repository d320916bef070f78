"""All the generated pages: render them in memory, compare them with the tree, write them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scripts.docs import modules, tenant_definition
from scripts.docs.modules import ROOT

OWNED_DIRECTORIES = modules.OWNED_DIRECTORIES


def all_pages(root: Path = ROOT) -> dict[Path, str]:
    """Every generated page, rendered in memory, by its path from the repository root."""
    return {**modules.all_pages(root), **tenant_definition.pages(root)}


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _left_over(pages: Mapping[Path, str], root: Path) -> list[Path]:
    """Pages in the generated directories that no module or role produces any more."""
    found = (path.relative_to(root) for directory in OWNED_DIRECTORIES for path in (root / directory).glob("*.md"))
    return sorted(path for path in found if path not in pages)


def stale_pages(pages: Mapping[Path, str], root: Path = ROOT) -> list[str]:
    """Pages that differ from what is on disk, are missing, or are left over."""
    stale = [path for path, text in pages.items() if _read(root / path) != text]
    return sorted(str(path) for path in [*stale, *_left_over(pages, root)])


def write_pages(pages: Mapping[Path, str], root: Path = ROOT) -> list[str]:
    """Write the pages that changed and delete left-over ones; returns the paths touched."""
    touched = []
    for path in _left_over(pages, root):
        (root / path).unlink()
        touched.append(str(path))
    for path, text in sorted(pages.items()):
        if _read(root / path) != text:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
            touched.append(str(path))
    return touched
