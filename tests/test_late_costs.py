"""Unknown cost stays unknown, and a late price flows downstream (issue 20): runs, their
output lots, what was assembled from those, and their ledger rows, at once."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from tests.support.data import flour_and_boxes


def _books(ws) -> dict[str, Decimal]:
    """bought (purchase rows), value on hand (lots at cost), consumed out of stock (rows
    without a run: consume, adjust), and how much stock is still uncosted."""
    moves = ws.inventory.movements()
    lots = ws.inventory.lots(include_empty=True)
    bought = moves[moves["reason"] == "purchase"]["cost"]
    out = moves[moves["run_id"].isna() & (moves["reason"] != "purchase")]["cost"]
    value = (lots["remaining"] * lots["unit_cost"]).fillna(0)
    uncosted = lots[lots["unit_cost"].isna()]["remaining"].sum()
    return {"bought": round(Decimal(str(bought.sum())), 2),
            "value": round(Decimal(str(value.sum())), 2),
            "consumed": round(Decimal(str(-out.fillna(0).sum())), 2),
            "uncosted": Decimal(str(uncosted))}


def _assert_balanced(ws) -> None:
    books = _books(ws)
    assert books["uncosted"] == 0, books
    assert books["value"] + books["consumed"] == books["bought"], books
    assert ws.inventory.audit().empty


def _bakery_with_unpriced_flour(ws) -> None:
    flour_and_boxes(ws)
    ws.inventory.purchase("flour-10lb", packages=1, unit_cost=None, purchased_on="2025-11-01")
    ws.inventory.purchase("box-10", packages=1, unit_cost="10.00", purchased_on="2025-11-01")
    ws.recipes.add("bread", "Bread", ingredients=[("flour", 2, "lb")],
                   finished_units=[("loaf", "Loaf", 1, "each")])
    ws.assembly.add_finished_good("loaf-box", "Boxed loaf", components=[("loaf", 1),
                                                                         ("box", 1)])


def _price_flour(ws, price: str = "6.00") -> None:
    frame = pd.DataFrame([{"product_name": "Flour 10 lb", "brand": "KA", "package_qty": 10,
                           "package_unit": "lb", "ingredient_name": "Flour",
                           "unit_price": price}])
    review = ws.io.reconcile(frame, kind="prices")
    assert review.frame["status"].tolist() == ["new"], review.frame
    review.apply()


def test_a_run_from_unpriced_stock_has_no_cost_not_zero(bakery):
    with bakery.session() as ws:
        _bakery_with_unpriced_flour(ws)
        run = ws.production.record("loaf", batches=2)
        assert run.total_cost is None and run.per_unit_cost is None
        assert (run.known_cost, run.uncosted_quantity) == (0.0, 2.0)
        history = ws.production.history()
        assert history["total_cost"].isna().all()
        loaves = ws.inventory.lots("loaf").iloc[0]
        assert pd.isna(loaves["unit_cost"])
        levels = ws.inventory.levels().set_index("item")
        assert levels.loc["loaf", "uncosted_quantity"] == 2
        boxed = ws.assembly.record("loaf-box", quantity=1)
        assert boxed.total_cost is None and boxed.known_cost == 1.00
        assert boxed.uncosted_quantity == 1


def test_a_late_price_flows_through_production_and_assembly(bakery):
    with bakery.session() as ws:
        _bakery_with_unpriced_flour(ws)
        run = ws.production.record("loaf", batches=2)          # 4 lb of flour, unpriced
        boxed = ws.assembly.record("loaf-box", quantity=1)      # one loaf, one box
        ws.inventory.consume("flour", 1, "lb", reason="dusting")  # out of stock, unpriced
        _price_flour(ws)                                        # 6.00 for 10 lb: 0.60/lb
        _assert_balanced(ws)
        history = ws.production.history().set_index("run_id")
        assert history.loc[run.run_id, "total_cost"] == 2.40
        assert history.loc[run.run_id, "per_unit_cost"] == 1.20
        goods = ws.assembly.history().set_index("run_id")
        assert goods.loc[boxed.run_id, "total_cost"] == 2.20
        valuation = ws.inventory.valuation().set_index("item")
        assert valuation.loc["flour", "value"] == 3.00
        assert valuation.loc["loaf", "value"] == 1.20
        assert valuation.loc["loaf-box", "value"] == 2.20
        assert valuation.loc["TOTAL", "value"] == 3.00 + 1.20 + 2.20 + 9.00
        moves = ws.inventory.movements()
        assert moves["cost"].notna().all()
        dusting = moves[moves["reason"] == "dusting"]["cost"].tolist()
        assert dusting == [-0.60]


def test_a_run_with_another_unpriced_input_stays_unknown(bakery):
    with bakery.session() as ws:
        _bakery_with_unpriced_flour(ws)
        ws.catalog.add_ingredient("salt", "Salt")
        ws.catalog.add_product("salt-1lb", "salt", brand="S", name="Salt", package_quantity=1,
                               package_unit="lb")
        ws.inventory.purchase("salt-1lb", packages=1, unit_cost=None, purchased_on="2025-11-01")
        ws.recipes.update("bread", ingredients=[("flour", 2, "lb"), ("salt", 1, "oz")])
        run = ws.production.record("loaf", batches=1)
        _price_flour(ws)
        history = ws.production.history().set_index("run_id")
        assert pd.isna(history.loc[run.run_id, "total_cost"])
        assert pd.isna(ws.inventory.lots("loaf").iloc[0]["unit_cost"])
        assert ws.inventory.audit().empty


def test_a_late_price_reaches_a_reversed_run(bakery):
    with bakery.session() as ws:
        _bakery_with_unpriced_flour(ws)
        run = ws.production.record("loaf", batches=1)
        ws.production.reverse(run.run_id)
        _price_flour(ws)
        _assert_balanced(ws)
        assert ws.inventory.lots("flour")["remaining"].tolist() == [10]


# -- dates: one rule for every timestamp ---------------------------------------------------------
def test_times_from_any_zone_follow_real_time(bakery):
    """06:00 in Tokyo on 2 Dec is 21:00 UTC on 1 Dec: before a run at 23:00 UTC on 1 Dec
    given without a zone (taken as UTC), in history; its lot is dated by the local day
    written in it (2 Dec, the book rule), so FIFO takes the naive run's lot of 1 Dec first."""
    import datetime as dt

    with bakery.session() as ws:
        _bakery_with_unpriced_flour(ws)
        ws.inventory.purchase("flour-10lb", packages=1, unit_cost="6.00",
                              purchased_on="2025-11-01")
        late = ws.production.record("loaf", batches=1, produced_at="2025-12-02T06:00+09:00")
        naive = ws.production.record("loaf", batches=1, produced_at="2025-12-01T23:00")
        history = ws.production.history()
        assert history["run_id"].tolist() == [late.run_id, naive.run_id]
        assert history["produced_at"].tolist() == [pd.Timestamp("2025-12-01 21:00"),
                                                   pd.Timestamp("2025-12-01 23:00")]
        lots = ws.inventory.lots("loaf")
        assert lots["purchased_on"].dt.date.tolist() == [dt.date(2025, 12, 1),
                                                         dt.date(2025, 12, 2)]
        taken = ws.inventory.consume("loaf", 1, "each", reason="eaten")
        assert taken.consumed["lot_id"].tolist() == [naive.lot_id]
        aware = dt.datetime(2025, 12, 3, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        third = ws.production.record("loaf", batches=1, produced_at=aware)
        assert ws.production.history().set_index("run_id").loc[
            third.run_id, "produced_at"] == pd.Timestamp("2025-12-03 06:00")
