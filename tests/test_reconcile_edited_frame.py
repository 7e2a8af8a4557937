"""A reconciliation applies its frame as the analyst left it (issue 28): for every kind, rows
whose ``status`` was set to ``unchanged`` or ``skipped`` are held back, a row matched again
(another product or item) is written to what it now names, and the report counts what
the database shows afterwards."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from bakekit.db import tables
from bakekit.errors import ValidationError
from tests.support.atomic import snapshot
from tests.support.data import _load

DAY = "2025-11-30"


def _product_ids(ws) -> dict[str, int]:
    p = tables.products
    return {r.slug: int(r.id) for r in ws.execute(select(p.c.id, p.c.slug))}


def _prices(ws) -> dict[str, Decimal]:
    p = tables.products
    return {r.slug: Decimal(r.price) for r in ws.execute(select(p.c.slug, p.c.price))
            if r.price is not None}


def test_an_edited_prices_frame_is_what_is_applied(demo_bakery):
    with demo_bakery.session() as ws:
        review = ws.io.reconcile("data/price-list.csv", kind="prices")
        f = review.frame
        assert f.loc[[0, 2, 4, 6], "status"].tolist() == ["changed"] * 4
        before = _prices(ws)
        f.loc[0, "status"] = "unchanged"                     # flour held back
        f.loc[2, "status"] = "skipped"                       # butter held back
        f.loc[4, ["match", "product_id"]] = ["ka-flour-5lb", _product_ids(ws)["ka-flour-5lb"]]
        report = review.apply().counts("prices")
        after = _prices(ws)
        moved = {k: after[k] for k in after if after[k] != before.get(k)}
        assert moved == {"ka-flour-5lb": Decimal("6.99"), "cocoa-1lb": Decimal("15.95")}
        assert report["updated"] + report["created"] == len(moved) == 2
        assert (report["unchanged"], report["skipped"]) == (4, 3)
        ws.rollback()


def test_an_edited_purchases_frame_is_what_is_applied(demo_bakery):
    with demo_bakery.session() as ws:
        late = {slug: ws.inventory.purchase(slug, unit_cost=None, purchased_on=DAY).purchase_id
                for slug in ("salt-26oz", "ribbon-50")}
        ws.commit()
        rows = pd.DataFrame([
            {"product": "chips-36oz", "packages": 1, "unit_cost": 7.49, "purchased_on": DAY},
            {"product": "costco-sugar-10lb", "packages": 1, "unit_cost": 9.99,
             "purchased_on": DAY},
            {"product": "eggs-24", "packages": 2, "unit_cost": 7.79, "purchased_on": DAY},
            {"product": "costco-butter-4lb", "packages": 1, "unit_cost": 14.5,
             "purchased_on": DAY},
            {"product": "salt-26oz", "packages": 1, "unit_cost": 2.49, "purchased_on": DAY},
            {"product": "ribbon-50", "packages": 1, "unit_cost": 7.25, "purchased_on": DAY},
        ])
        review = ws.io.reconcile(rows, kind="purchases")
        f = review.frame
        assert f["status"].tolist() == ["new"] * 4 + ["changed"] * 2
        f.loc[0, "status"] = "skipped"
        f.loc[1, "status"] = "unchanged"
        f.loc[2, "product"] = "cocoa-1lb"                    # another product chosen
        f.loc[4, "status"] = "unchanged"                     # the salt stays unpriced
        f.loc[5, "unit_cost"] = 6.75                         # the ribbon's price, edited
        report = review.apply().counts("purchases")
        pur, p = tables.purchases, tables.products
        made = ws.execute(select(p.c.slug, pur.c.packages, pur.c.unit_cost)
                          .join(p, p.c.id == pur.c.product_id)
                          .where(pur.c.purchased_on == dt.date(2025, 11, 30))
                          .order_by(p.c.slug)).all()
        assert [(s, Decimal(n), None if c is None else Decimal(c)) for s, n, c in made] == [
            ("cocoa-1lb", 2, Decimal("7.79")), ("costco-butter-4lb", 1, Decimal("14.5")),
            ("ribbon-50", 1, Decimal("6.75")), ("salt-26oz", 1, None)]
        lots = tables.lots
        cost = dict(ws.execute(select(lots.c.purchase_id, lots.c.unit_cost)
                               .where(lots.c.purchase_id.in_(list(late.values())))).all())
        assert cost[late["salt-26oz"]] is None
        assert Decimal(cost[late["ribbon-50"]]) == Decimal("0.135")  # 6.75 / 50
        assert (report["created"], report["updated"]) == (2, 1)
        assert (report["unchanged"], report["skipped"]) == (2, 1)
        assert ws.inventory.audit().empty
        ws.rollback()


def test_an_edited_count_frame_is_what_is_applied(demo_bakery):
    counts = pd.DataFrame([
        {"item": "flour-ap", "counted": 30, "unit": "lb"},      # 35 on hand
        {"item": "sugar", "counted": 15, "unit": "lb"},         # 20 on hand
        {"item": "butter", "counted": 3, "unit": "lb"},         # 4 on hand
        {"item": "egg", "counted": 48, "unit": "each"},         # equal
    ])
    with demo_bakery.session() as ws:
        review = ws.io.reconcile(counts, kind="inventory_count")
        f = review.frame
        assert f["status"].tolist() == ["changed"] * 3 + ["unchanged"]
        f.loc[0, "status"] = "unchanged"
        f.loc[1, "status"] = "skipped"
        f.loc[2, "item"] = "brown-sugar"                     # the count was of another item
        report = review.apply().counts("inventory_count")
        on_hand = ws.inventory.lots().groupby("item")["remaining"].sum()
        assert on_hand[["flour-ap", "sugar", "butter", "brown-sugar", "egg"]].tolist() == [
            35, 20, 4, 3, 48]
        assert (report["updated"], report["unchanged"], report["skipped"]) == (1, 2, 1)
        assert ws.inventory.audit().empty
        ws.rollback()


def test_an_edited_products_frame_is_what_is_applied(bakery, tmp_path):
    view = _load("old_view_products.json")
    view["records"] = view["records"][:4]
    path = tmp_path / "products.json"
    path.write_text(json.dumps(view))
    with bakery.session() as ws:
        full = _load("sample_data_all_v4.2.json")
        ws.io.import_bake_tracker({"version": "4.2", "ingredients": full["ingredients"]})
        assert ws.io.reconcile(path).apply().counts("products")["created"] == 4
        for n in range(3):
            view["records"][n]["brand"] = f"Brand {n}"
        path.write_text(json.dumps(view))
        review = ws.io.reconcile(path)
        f = review.frame
        assert f["status"].tolist() == ["changed"] * 3 + ["unchanged"]
        ids = [int(x) for x in f["product_id"]]
        brands = {int(k): v for k, v in
                  ws.execute(select(tables.products.c.id, tables.products.c.brand))}
        f.loc[0, "status"] = "unchanged"
        f.loc[1, "status"] = "skipped"
        f.loc[2, "product_id"] = ids[3]                      # the record is that product
        report = review.apply().counts("products")
        now = {int(k): v for k, v in
               ws.execute(select(tables.products.c.id, tables.products.c.brand))}
        assert {k: v for k, v in now.items() if v != brands[k]} == {ids[3]: "Brand 2"}
        assert (report["updated"], report["unchanged"], report["skipped"]) == (1, 2, 1)
        ws.rollback()


def test_a_status_that_is_not_one_is_refused_naming_row_and_value(demo_bakery):
    before = snapshot(demo_bakery)
    with demo_bakery.session() as ws:
        review = ws.io.reconcile("data/price-list.csv", kind="prices")
        review.frame.loc[6, "status"] = "Changed"
        with pytest.raises(ValidationError, match=r"row 6: status 'Changed'") as caught:
            review.apply()
        assert (caught.value.field, caught.value.value) == ("status", "Changed")
    assert snapshot(demo_bakery) == before
