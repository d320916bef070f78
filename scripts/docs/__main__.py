"""python -m scripts.docs [--check]: regenerate the reference pages, or name the stale ones."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ansible.plugins.loader import init_plugin_loader

# The schema is imported by its FQCN, through the collection the repository is (ansible.cfg's
# collections_path), as ansible-playbook and the tests import it.
init_plugin_loader([str(Path(__file__).resolve().parents[2] / "collections")])

from scripts.docs.pages import all_pages, stale_pages, write_pages  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a page is stale")
    args = parser.parse_args(argv)
    pages = all_pages()
    if args.check:
        stale = stale_pages(pages)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        if stale:
            print("run `make docs` to regenerate them", file=sys.stderr)
        return 1 if stale else 0
    for path in write_pages(pages):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
