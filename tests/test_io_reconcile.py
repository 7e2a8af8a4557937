"""ws.io.reconcile: price lists (fuzzy matched), purchases and stock counts; apply()."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SHARED_DATA, assert_atomic, snapshot
from tests.test_io_import import small_file


def _prices_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"product_name": "AP 5 lb", "brand": "KA", "package_qty": 5, "package_unit": "lb",
         "ingredient_name": "Flour", "unit_price": "$18.00"},
        {"product_name": "Sugar", "brand": "C&H", "package_qty": 4, "package_unit": "lb",
         "ingredient_name": "Sugar", "unit_price": "$4.00"},
        {"product_name": "Sugar", "brand": "C&H", "package_qty": 4, "package_unit": "lb",
         "ingredient_name": "Sugar", "unit_price": None},
        {"product_name": "Caviar", "brand": "Petrossian", "package_qty": 1, "package_unit": "oz",
         "ingredient_name": "Fish eggs", "unit_price": "$99"},
    ])


def _imported(bakery, *, priced: bool = False):
    data = small_file()
    if not priced:
        data["purchases"][0]["unit_cost"] = None
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        ws.commit()


def test_prices_review_then_apply_costs_uncosted_lots(bakery):
    _imported(bakery)
    with bakery.session() as ws:
        review = ws.io.reconcile(_prices_frame(), kind="prices")
        frame = review.frame
        assert list(frame["status"]) == ["new", "new", "invalid", "missing"]
        assert frame.loc[0, "match"].startswith("flour-ka")
        assert frame.loc[0, "score"] == 100
        assert {"row", "status", "message", "match", "score", "price", "old_price"} <= set(frame)
        assert ws.inventory.lots()["unit_cost"].isna().all()  # review writes nothing
        report = review.apply()
        assert report.counts("prices")["created"] == 2
        lots = ws.inventory.lots().set_index("item")
        assert lots.loc["flour", "unit_cost"] == pytest.approx(3.6)
        assert lots.loc["sugar", "unit_cost"] == pytest.approx(1.0)
        assert ws.inventory.audit().empty
        again = ws.io.reconcile(_prices_frame(), kind="prices")
        assert list(again.frame["status"])[:2] == ["unchanged", "unchanged"]


def test_prices_from_csv_and_excel(bakery, tmp_path):
    _imported(bakery)
    _prices_frame().to_csv(tmp_path / "p.csv", index=False)
    _prices_frame().to_excel(tmp_path / "p.xlsx", index=False)
    with bakery.session() as ws:
        for name in ("p.csv", "p.xlsx"):
            review = ws.io.reconcile(tmp_path / name, kind="prices")
            assert list(review.frame["status"]) == ["new", "new", "invalid", "missing"]


def test_real_price_list_against_v42(bakery):
    path = SHARED_DATA / "initial-inventory-prices.csv"
    if not path.exists():
        pytest.skip(f"real bake-tracker data not found at {SHARED_DATA}")
    with bakery.session() as ws:
        ws.io.import_bake_tracker(SHARED_DATA / "sample_data_all_v4.2.json")
        review = ws.io.reconcile(path, kind="prices")
        counts = review.counts()
        assert counts["invalid"] == 19  # rows without a price
        assert counts["new"] >= 120
        review.apply()
        assert ws.inventory.audit().empty
        assert ws.inventory.lots()["unit_cost"].notna().sum() >= 120
        assert set(ws.io.reconcile(path, kind="prices").frame["status"]) <= {
            "unchanged", "invalid", "missing", "conflict"}


def test_purchases_new_unchanged_changed(bakery):
    _imported(bakery)
    rows = pd.DataFrame([
        {"product": "flour-ka-ap-5-lb-5-lb", "packages": 1, "unit_cost": 18.0,
         "purchased_on": "2025-01-05"},  # the imported purchase had no price
        {"product": "sugar-c-h-sugar-4-lb", "packages": 2, "unit_cost": "$4.10",
         "purchased_on": "2025-02-01", "supplier": "Costco"},
        {"product": "nope", "packages": 1, "unit_cost": 1, "purchased_on": "2025-02-01"},
        {"product": "sugar-c-h-sugar-4-lb", "packages": -1, "unit_cost": 1,
         "purchased_on": "2025-02-01"},
    ])
    with bakery.session() as ws:
        review = ws.io.reconcile(rows, kind="purchases")
        assert list(review.frame["status"]) == ["changed", "new", "missing", "invalid"]
        review.apply()
        lots = ws.inventory.lots().set_index("item")
        assert lots.loc["flour", "unit_cost"] == pytest.approx(3.6)
        assert len(ws.inventory.lots("sugar")) == 2
        assert ws.inventory.audit().empty
        again = ws.io.reconcile(rows, kind="purchases")
        assert list(again.frame["status"])[:2] == ["unchanged", "unchanged"]


def test_inventory_count_variance_and_adjustments(bakery):
    _imported(bakery, priced=True)
    counts = pd.DataFrame([
        {"item": "flour", "counted": 3, "unit": "lb"},     # 4 lb on hand: -1 lb
        {"item": "sugar-c-h-sugar-4-lb", "counted": 2, "unit": "lb"},  # equal
        {"item": "ghost", "counted": 1, "unit": "lb"},
        {"item": "sugar", "counted": 1, "unit": "furlong"},
    ])
    with bakery.session() as ws:
        review = ws.io.reconcile(counts, kind="inventory_count")
        f = review.frame
        assert list(f["status"]) == ["changed", "unchanged", "missing", "invalid"]
        assert f.loc[0, "variance"] == pytest.approx(-1)
        assert f.loc[0, "variance_value"] == pytest.approx(-3.6)
        review.apply()
        assert ws.inventory.lots("flour")["remaining"].iloc[0] == pytest.approx(3)
        assert ws.inventory.audit().empty


def test_inventory_count_rows_without_count_or_unit_are_invalid(bakery):
    _imported(bakery, priced=True)
    counts = pd.DataFrame([
        {"item": "flour", "counted": None, "unit": "lb"},
        {"item": "flour", "counted": float("nan"), "unit": "lb"},
        {"item": "flour", "counted": 3, "unit": None},
        {"item": "flour", "quantity": 3, "unit": "lb"},  # "quantity" names the count too
    ])
    with bakery.session() as ws:
        f = ws.io.reconcile(counts, kind="inventory_count").frame
        assert list(f["status"]) == ["invalid", "invalid", "invalid", "changed"]
        assert "counted" in f.loc[0, "message"] and "unit" in f.loc[2, "message"]


def test_reconcile_apply_is_atomic(bakery):
    _imported(bakery)

    def workflow(ws):
        ws.io.reconcile(_prices_frame(), kind="prices").apply()
        ws.io.reconcile(pd.DataFrame([{"item": "flour", "counted": 3, "unit": "lb"}]),
                        kind="inventory_count").apply()
    assert_atomic(bakery, workflow)


def test_review_writes_nothing(bakery):
    _imported(bakery)
    before = snapshot(bakery)
    with bakery.session() as ws:
        ws.io.reconcile(_prices_frame(), kind="prices")
        ws.commit()
    assert snapshot(bakery) == before
