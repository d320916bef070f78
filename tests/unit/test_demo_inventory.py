"""The demo inventory (a project file, not collection content) stays a valid, priced tenant."""

from __future__ import annotations

import yaml

from tests.helpers import ROOT, demo_tenant


def test_the_price_table_prices_the_demo_tenant() -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.cost import estimate
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import normalise_tenant

    prices = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
    result = estimate(normalise_tenant(demo_tenant()), prices)
    assert result["priced_region"] == "eu-west-3" and result["total_monthly"] > 0
