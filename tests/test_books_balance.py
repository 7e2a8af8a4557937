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


# -- 3. value comes from the ledger --------------------------------------------------------

def _values(ws: bakekit.Workspace, item: str, as_of: str | None = None) -> list[float]:
    """An item's stock value as every read shows it (levels, valuation, aging, lots)."""
    levels = ws.inventory.levels(as_of).set_index("item")
    valuation = ws.inventory.valuation(as_of).set_index("item")
    aging = ws.reports.aging(as_of)
    out = [levels.loc[item, "value"], valuation.loc[item, "value"],
           aging.loc[aging["item"] == item, "value"].sum()]
    if as_of is None:
        lots = ws.inventory.lots(item)
        out.append(lots["value"].sum())
    return [float(v) for v in out]


def test_stock_value_is_the_ledger_money_of_the_lot(bakery):
    # 2 dozen at $6 a dozen: 2 eggs used cost 1.00, the 22 left are worth 11.00 (not
    # 22/12 = 1.833333333 dozen x 6 = 10.999999998)
    with bakery.session() as ws:
        _stock(ws, "egg", "dozen", 1, 6, packages=2, on="2025-11-01")
        used = ws.inventory.consume("egg", 2, "each", reason="a", on="2025-11-02")
        assert used.total_cost == 1.0
        for as_of in (None, "2025-11-02", "2025-11-30"):
            assert _values(ws, "egg", as_of) == pytest.approx([11.0] * (4 if as_of is None
                                                                      else 3), abs=1e-12)
        assert _values(ws, "egg", "2025-11-01") == pytest.approx([12.0] * 3, abs=1e-12)


def test_the_last_of_three_for_a_dollar_is_valued_at_what_it_costs(bakery):
    # 3 for $1: two used at 0.3333333333 each; the last is worth 1 - 0.6666666666
    with bakery.session() as ws:
        _stock(ws, "lemon", "each", 3, 1)
        for n in range(2):
            ws.inventory.consume("lemon", 1, "each", reason=f"use {n}", on="2025-11-02")
        values = _values(ws, "lemon")
        assert values == [0.3333333334] * 4
        last = ws.inventory.consume("lemon", 1, "each", reason="last", on="2025-11-03")
        assert last.total_cost == values[0]


def test_money_in_is_stock_value_plus_money_used_at_any_date(bakery):
    with bakery.session() as ws:
        _stock(ws, "egg", "dozen", 1, 6, packages=2, on="2025-11-01")
        _stock(ws, "lemon", "each", 3, 1, on="2025-11-01")
        _stock(ws, "flour", "lb", 25, "17.99", density="1 cup = 4.25 oz", on="2025-11-05")
        for day, (item, qty, unit) in enumerate([("egg", 7, "each"), ("lemon", 1, "each"),
                                                 ("flour", "0.7", "cup"), ("egg", 5, "each"),
                                                 ("flour", 3, "tbsp"), ("lemon", 1, "each")]):
            ws.inventory.consume(item, qty, unit, reason="bake", on=f"2025-11-{10 + day}")
        paid = 12 + 1 + 17.99
        for as_of in ("2025-11-10", "2025-11-12", "2025-11-15", "2025-12-31"):
            total = float(ws.inventory.valuation(as_of).iloc[-1]["value"])
            used = ws.reports.usage(end=as_of)["cost"].sum()
            assert round(total + used, 10) == round(paid, 10), as_of


# -- 2. as-of reads drop emptied lots and zero rows ----------------------------------------

def test_as_of_reads_drop_an_emptied_lot(bakery):
    # 2 dozen eggs, 19 then 5 used: nothing is left at the end of the day
    with bakery.session() as ws:
        _stock(ws, "egg", "dozen", 1, "4.20", packages=2)
        _stock(ws, "flour", "lb", 5, 6)
        ws.inventory.consume("egg", 19, "each", reason="a", on="2025-11-02")
        ws.inventory.consume("egg", 5, "each", reason="b", on="2025-11-02")
        for as_of in ("2025-11-02", "2025-12-31"):
            assert ws.inventory.levels(as_of)["item"].tolist() == ["flour"]
            assert ws.inventory.valuation(as_of)["item"].tolist() == ["flour", "TOTAL"]
            assert ws.reports.aging(as_of)["item"].tolist() == ["flour"]
        assert ws.inventory.levels()["item"].tolist() == ["flour"]
        assert ws.inventory.valuation("2025-12-31").iloc[-1]["value"] == 6.0
        assert "egg" in ws.inventory.levels("2025-11-01")["item"].tolist()


# -- 4. the local day rule -----------------------------------------------------------------

def test_a_purchase_with_an_offset_is_filed_under_its_local_day(bakery):
    with bakery.session() as ws:
        _stock(ws, "egg", "dozen", 1, 6, on="2025-12-01T01:00:00+09:00")
        lots = ws.inventory.lots("egg")
        assert lots["purchased_on"].dt.date.astype(str).tolist() == ["2025-12-01"]
        assert ws.inventory.movements("egg")["posted_on"].astype(str).tolist() == ["2025-12-01"]
        assert ws.inventory.levels("2025-11-30").empty
        used = ws.inventory.consume("egg", 1, "each", reason="a", on="2025-12-01T00:30-05:00")
        assert used.shortfall == 0  # 1 Dec local, not 1 Dec 05:30 UTC... nor 30 Nov


def test_a_run_late_in_the_evening_is_filed_under_its_local_day(bakery):
    # 23:30 on 30 Nov in California is 07:30 UTC on 1 Dec: November's usage
    with bakery.session() as ws:
        _stock(ws, "flour", "lb", 5, 6, on="2025-11-01")
        ws.recipes.add("loaf", "Loaf", ingredients=[("flour", 1, "lb")],
                       finished_units=[("loaf-each", "Loaf", 1, "each")])
        made = ws.production.record("loaf-each", batches=1,
                                    produced_at="2025-11-30T23:30:00-08:00")
        used = ws.reports.usage("2025-11-01", "2025-12-31")
        assert used["period"].dt.month.tolist() == [11]
        lot = ws.inventory.lots("loaf-each").set_index("lot_id").loc[made.lot_id]
        assert str(lot["purchased_on"].date()) == "2025-11-30"
        assert ws.production.history()["produced_at"].tolist() == [
            pd.Timestamp("2025-12-01 07:30")]  # the time itself stays real (UTC)
        back = ws.production.reverse(made.run_id, on="2025-11-30")
        assert back.item == "loaf-each"


def test_the_row_checker_files_an_offset_under_its_local_day():
    from bakekit.io._sync import Checker, Problems

    row = Checker(Problems(), "purchases", 1)
    assert str(row.date({"on": "2025-12-01T01:00:00+09:00"}, "on")) == "2025-12-01"
    assert str(row.date({"d": "2025-11-30T23:30-08:00"}, "on", alternatives=("d",))) \
        == "2025-11-30"
    assert row.ok


# -- 5. unknown is one thing everywhere ----------------------------------------------------

def _missing(value: object) -> bool:
    return value is None or value is pd.NA


def test_an_uncosted_lot_makes_every_cost_and_value_missing_never_zero(bakery):
    # flour: 5 lb at $6 then 10 lb with no price yet; sugar: priced only
    with bakery.session() as ws:
        _stock(ws, "flour", "lb", 5, 6, on="2025-11-01")
        ws.catalog.add_product("flour-10", "flour", brand="B", name="f10",
                               package_quantity=10, package_unit="lb")
        ws.inventory.purchase("flour-10", packages=1, unit_cost=None, purchased_on="2025-11-02")
        _stock(ws, "sugar", "lb", 4, 2, on="2025-11-01")
        ws.recipes.add("loaf", "Loaf", ingredients=[("flour", 3, "lb"), ("sugar", 1, "lb")],
                       finished_units=[("loaf-each", "Loaf", 1, "each")])
        levels = ws.inventory.levels().set_index("item")
        assert _missing(levels.loc["flour", "value"])
        assert levels.loc["flour", "uncosted_quantity"] == 10
        assert levels.loc["sugar", "value"] == 2
        valuation = ws.inventory.valuation().set_index("item")
        assert _missing(valuation.loc["flour", "value"])
        assert valuation.loc["sugar", "value"] == 2
        assert _missing(valuation.loc["TOTAL", "value"])
        assert "incomplete" in valuation.loc["TOTAL", "note"]
        assert valuation.loc["TOTAL", "uncosted_lots"] == 1
        lots = ws.inventory.lots("flour")
        assert lots["value"].iloc[0] == 6 and _missing(lots["value"].iloc[1])
        aging = ws.reports.aging()
        assert _missing(aging.loc[aging["item"] == "flour", "value"].iloc[1])
        assert str(aging["value"].dtype) == "Float64"
        cost = ws.recipes.cost("loaf", 2).set_index("item")  # 6 lb: 5 priced, 1 not
        assert _missing(cost.loc["flour", "cost"]) and cost.loc["sugar", "cost"] == 1.0
        assert cost.loc["flour", "costed_quantity"] == 5
        assert _missing(ws.recipes.cost("loaf", 2)["cost"].sum(skipna=False))
        used = ws.inventory.consume("flour", 6, "lb", reason="a", on="2025-11-03")
        assert used.total_cost is None and used.uncosted == 1
        usage = ws.reports.usage().set_index("item")
        assert _missing(usage.loc["flour", "cost"])
        made = ws.production.record("loaf-each", batches=1, produced_at="2025-11-04T10:00")
        assert made.total_cost is None
        stock = ws.production.stock().set_index("item")
        assert _missing(stock.loc["loaf-each", "value"])
        assert _missing(stock.loc["loaf-each", "unit_cost"])
        assert str(ws.production.stock()["value"].dtype) == "Float64"
