"""`python -m ingest_uploader` runs the `ingest-upload` command."""

import sys

from ingest_uploader.cli import main

if __name__ == "__main__":
    sys.exit(main())
