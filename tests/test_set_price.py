"""A late price in one call (issue 31): ``ws.inventory.set_price`` gives a purchase recorded
without a price its price, which flows as a priced purchases view's does: usage,
production and its finished lots, assembly, valuation as of past dates."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bakekit.errors import NotFoundError, ValidationError
from tests.support.atomic import snapshot
from tests.support.data import flour_and_boxes


def _unpriced_history(ws) -> int:
    """Flour bought without a price on 2025-11-01, baked into loaves on 11-05 (4 lb), a loaf
    boxed on 11-06, 1 lb used for dusting on 11-07; returns the flour purchase's id."""
    flour_and_boxes(ws)
    bought = ws.inventory.purchase("flour-10lb", unit_cost=None, purchased_on="2025-11-01")
    ws.inventory.purchase("box-10", unit_cost="10.00", purchased_on="2025-11-01")
    ws.recipes.add("bread", "Bread", ingredients=[("flour", 2, "lb")],
                   finished_units=[("loaf", "Loaf", 1, "each")])
    ws.assembly.add_finished_good("loaf-box", "Boxed loaf", components=[("loaf", 1),
                                                                         ("box", 1)])
    ws.production.record("loaf", batches=2, produced_at="2025-11-05T10:00:00")
    ws.assembly.record("loaf-box", quantity=1)
    ws.inventory.consume("flour", 1, "lb", reason="dusting", on="2025-11-07")
    return bought.purchase_id


def test_set_price_flows_to_usage_runs_finished_lots_and_past_valuations(bakery):
    with bakery.session() as ws:
        purchase_id = _unpriced_history(ws)
        before = ws.inventory.valuation(as_of="2025-11-05").set_index("item")
        assert pd.isna(before.loc["flour", "value"])  # unknown, never 0.0 (book rules)
        assert before.loc["flour", "uncosted_quantity"] == 6.0
        late = ws.inventory.set_price(purchase_id, "6.00")
        assert (late.purchase_id, late.product, late.package_cost, late.lots) == (
            purchase_id, "flour-10lb", 6.0, 1)
        # the lot: 0.60 a pound; the run: 4 lb = 2.40, 1.20 a loaf; the box: 1.20 + 1.00
        assert ws.inventory.lots("flour")["unit_cost"].tolist() == [0.6]
        runs = ws.production.history()
        assert runs[["total_cost", "per_unit_cost"]].values.tolist() == [[2.4, 1.2]]
        assert ws.inventory.lots("loaf")["unit_cost"].tolist() == [1.2]
        assert ws.assembly.history()["total_cost"].tolist() == [2.2]
        assert ws.inventory.movements()["cost"].notna().all()
        assert ws.inventory.audit().empty
        # valuations as of past dates: flour 6 lb and two loaves on 11-05
        on_5th = ws.inventory.valuation(as_of="2025-11-05").set_index("item")
        assert on_5th.loc["flour", "value"] == pytest.approx(3.60)
        assert on_5th.loc["loaf", "value"] == pytest.approx(2.40)
        assert pd.isna(on_5th.loc["flour", "uncosted_quantity"]) or \
            on_5th.loc["flour", "uncosted_quantity"] == 0
        on_31st = ws.inventory.valuation(as_of="2025-10-31")
        assert on_31st["item"].tolist() == ["TOTAL"]
        # usage: the dusting costs 0.60, production 2.40 of flour
        usage = ws.reports.usage("2025-11-01", "2025-11-30").set_index(["item", "reason"])
        assert usage.loc[("flour", "dusting"), "cost"] == pytest.approx(0.60)
        assert usage.loc[("flour", "production"), "cost"] == pytest.approx(2.40)
        # the product's current price is the one just learned (dated as the purchase)
        product = ws.catalog.products().set_index("item").loc["flour-10lb"]
        assert product["price"] == 6.0
        assert str(product["price_on"])[:10] == "2025-11-01"


def test_set_price_writes_what_a_priced_purchases_review_writes(backend):
    import bakekit

    results = []
    for by_call in (True, False):
        bakery = bakekit.open(backend) if by_call else bakekit.open(":memory:")
        try:
            with bakery.session() as ws:
                purchase_id = _unpriced_history(ws)
                if by_call:
                    ws.inventory.set_price(purchase_id, 6)
                else:
                    review = ws.io.reconcile(pd.DataFrame([{
                        "product": "flour-10lb", "packages": 1, "unit_cost": 6,
                        "purchased_on": "2025-11-01"}]), kind="purchases")
                    assert review.frame["status"].tolist() == ["changed"], review.frame
                    review.apply()
                moves = ws.inventory.movements()[["item", "reason", "quantity", "cost"]]
                results.append((moves.reset_index(drop=True),
                                 ws.inventory.valuation(as_of="2025-11-06"),
                                 ws.production.history()[["total_cost", "per_unit_cost"]]))
        finally:
            bakery.dispose()
    for by_call, by_review in zip(results[0], results[1], strict=True):
        pd.testing.assert_frame_equal(by_call, by_review)


@pytest.mark.parametrize("price", [-1, "abc", None, math.nan, math.inf, True, "1e20"])
def test_set_price_refuses_a_bad_price_and_writes_nothing(bakery, price):
    with bakery.session() as ws:
        purchase_id = _unpriced_history(ws)
        ws.commit()
        before = snapshot(bakery)
        with pytest.raises(ValidationError) as caught:
            ws.inventory.set_price(purchase_id, price)
        assert caught.value.field == "unit_cost"
        assert "unit_cost" in str(caught.value)
        assert snapshot(bakery) == before


def test_set_price_refuses_an_unknown_purchase(bakery):
    with bakery.session() as ws:
        purchase_id = _unpriced_history(ws)
        with pytest.raises(NotFoundError, match=str(purchase_id + 100)):
            ws.inventory.set_price(purchase_id + 100, 6)
        for bad in ("1", 1.0, True, None):
            with pytest.raises(ValidationError, match="purchase_id"):
                ws.inventory.set_price(bad, 6)


def test_set_price_refuses_another_price_and_a_date_before_the_purchase(bakery):
    with bakery.session() as ws:
        purchase_id = _unpriced_history(ws)
        with pytest.raises(ValidationError, match="before purchase"):
            ws.inventory.set_price(purchase_id, 6, on="2025-10-31")
        ws.inventory.set_price(purchase_id, 6, on="2025-11-20")
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        again = ws.inventory.set_price(purchase_id, "6.00")  # the same price: nothing to do
        assert again.lots == 0
        with pytest.raises(ValidationError, match=r"has price 6.* already, not 7"):
            ws.inventory.set_price(purchase_id, 7)
        ws.commit()
    assert snapshot(bakery) == before
    with bakery.session() as ws:
        product = ws.catalog.products().set_index("item").loc["flour-10lb"]
        assert str(product["price_on"])[:10] == "2025-11-20"


def test_set_price_in_a_what_if_is_a_plan_that_applies(bakery):
    with bakery.session() as ws:
        purchase_id = _unpriced_history(ws)
        ws.commit()
    with bakery.what_if() as ws:
        ws.inventory.set_price(purchase_id, 6)
    assert ws.plan.operations["method"].tolist() == ["set_price"]
    ws.plan.apply()
    with bakery.session() as ws:
        assert ws.inventory.lots("flour")["unit_cost"].tolist() == [0.6]
