"""The generated reference documentation: every page is rendered from the code that it describes.

    python -m scripts.docs            # (re)writes the pages (what `make docs` runs)
    python -m scripts.docs --check    # writes nothing; exits 1 naming the pages that are stale

- docs/modules/, docs/roles/ (scripts.docs.modules): from the modules' DOCUMENTATION, EXAMPLES and RETURN
  and the roles' meta/argument_specs.yml, as ansible-doc reads them.
- docs/tenant-definition.md (scripts.docs.tenant_definition): from the schema of the tenant definition and
  the vault variables (plugins/module_utils/schema/) and the example inventory.

A page depends on nothing but its sources (no paths, no dates), so regenerating an unchanged tree changes
nothing; tests/unit/test_docs.py fails when a page on disk differs from what its sources give.
"""
