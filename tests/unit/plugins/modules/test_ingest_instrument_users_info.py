"""ingest_instrument_users_info keeps the tenant's instrument users of the ingest path, by name."""

from __future__ import annotations

from ansible_collections.iconeus.tenant_toolkit.plugins.modules.ingest_instrument_users_info import instrument_users

PATH = "/tenant-toolkit/ingest/"


def test_only_the_tenant_s_instrument_users_under_the_ingest_path_are_kept() -> None:
    listed = [
        {"UserName": "acme-ingest-ECHO-02", "Path": PATH},
        {"UserName": "acme-ingest-ECHO-01", "Path": PATH},
        {"UserName": "acme-ingest-", "Path": PATH},  # no instrument
        {"UserName": "acme-ingest-ECHO-03", "Path": "/tenant-toolkit/ingest/elsewhere/"},  # another path
        {"UserName": "acmex-ingest-ECHO-01", "Path": PATH},  # another tenant
        {"UserName": "bob", "Path": PATH},
    ]
    assert instrument_users(listed, "acme") == [
        {"user_name": "acme-ingest-ECHO-01", "instrument": "ECHO-01"},
        {"user_name": "acme-ingest-ECHO-02", "instrument": "ECHO-02"},
    ]
