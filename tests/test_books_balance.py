"""The books balance (issue 30): every last gram usable, no ghost lots, stock value =
ledger value, the local day rule and one face for unknown cost. Every number was worked
out by hand first."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import bakekit


def _stock(ws: bakekit.Workspace, slug: str, unit: str, package_quantity: object,
           price: object, packages: int = 1, *, density: str | None = None,
           on: str = "2025-11-01") -> int:
    ws.catalog.add_ingredient(slug, slug.title(), density=density)
    ws.catalog.add_product(f"{slug}-pk", slug, brand="B", name=slug,
                           package_quantity=package_quantity, package_unit=unit)
    return ws.inventory.purchase(f"{slug}-pk", packages=packages, unit_cost=price,
                                 purchased_on=on).lot_id


# -- 1. a take never strands stock ---------------------------------------------------------

def test_the_last_of_a_bag_is_usable_after_many_small_takes(bakery):
    # 25 lb at $50; 2,500 takes of 0.0175 cup (4.25 oz a cup: 0.0046484375 lb each, which
    # the density's 15 places make 0.0046484375000000030 lb: every take rounds up by
    # 5e-10 lb); arithmetic leaves 25 - 11.62109375 = 13.37890625 lb worth 26.7578125
    with bakery.session() as ws:
        lot = _stock(ws, "flour", "lb", 25, 50, density="1 cup = 4.25 oz")
        for _ in range(2500):
            ws.inventory.consume("flour", "0.0175", "cup", reason="pinch", on="2025-11-02")
        held = ws.inventory.movements("flour")["cost"].sum()
        last = ws.inventory.consume("flour", "13.37890625", "lb", reason="the rest",
                                    on="2025-11-03")
        assert last.shortfall == 0
        assert last.total_cost == pytest.approx(held, abs=1e-9)
        lots = ws.inventory.lots(include_empty=True).set_index("lot_id")
        assert lots.loc[lot, "remaining"] == 0
        assert ws.inventory.movements("flour")["cost"].sum() == pytest.approx(0, abs=1e-12)
        assert ws.inventory.levels().empty


def test_a_take_rounds_to_the_nearest_quantum(bakery):
    # 1 tbsp of a 1 lb lot at 4.25 oz a cup: 1/16 cup = 0.016601562500000... lb, a tie
    # broken by the density's last place; 3 tsp = 1 tbsp must take the same
    with bakery.session() as ws:
        _stock(ws, "flour", "lb", 1, 1, density="1 cup = 4.25 oz")
        a = ws.inventory.consume("flour", 1, "tbsp", reason="a", on="2025-11-02")
        taken = Decimal(str(a.consumed["quantity"].iloc[0]))
        assert abs(taken - Decimal("0.0166015625")) <= Decimal("5e-10")
