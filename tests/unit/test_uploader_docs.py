"""The uploader's README documents the instrument's IAM policy the ingest role really grants.

A project test (it reads uploader/, which is not collection content), so it lives outside
tests/unit/plugins/, where `ansible-test units` runs on the built collection.
"""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.policies import instrument_policy

ROOT = Path(__file__).resolve().parents[2]


def test_the_instrument_policy_is_the_one_the_uploader_documents() -> None:
    readme = (ROOT / "uploader" / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The instrument's IAM policy", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    documented = json.loads(block.replace("BUCKET", "landing").replace("INSTRUMENT", "ECHO-01"))
    assert instrument_policy("landing", "ECHO-01") == documented


def test_the_toolkit_refuses_the_acquisition_names_the_uploader_refuses() -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest import layout
    from ingest_uploader import naming

    samples = ["acq-1", "ECHO-01", "..", ".", ".hidden", "acq.", "CON", "nul.txt", "LPT9", "a" * 128, "a" * 129]
    samples += ["a b", "a\\b", "a/b", "", "run_2026-12-06.1", "COM0", "con2"]
    for sample in samples:
        assert (naming.name_problem(sample) is None) == (layout.name_problem(sample) is None), sample
