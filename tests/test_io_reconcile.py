"""ws.io.reconcile: price lists (fuzzy matched), purchases and stock counts; apply()."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pandas as pd
import pytest
from sqlalchemy import select

from bakekit.db import tables
from bakekit.errors import ValidationError
from bakekit.io.reconcile import REQUIRED_COLUMNS, REVIEW_COLUMNS
from bakekit.io.tabular import PROGRESS_MIN_ROWS, _bar
from tests.support.atomic import assert_atomic, snapshot
from tests.support.data import BAKE_TRACKER_DATA, _imported, _prices_frame


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
    path = BAKE_TRACKER_DATA / "initial-inventory-prices.csv"
    with bakery.session() as ws:
        ws.io.import_bake_tracker(BAKE_TRACKER_DATA / "sample_data_all_v4.2.json")
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


def test_purchases_row_without_supplier_applies_with_the_products_supplier(bakery):
    _imported(bakery)
    rows = pd.DataFrame([  # a frame where some rows name a supplier and one has NaN
        {"product": "sugar-c-h-sugar-4-lb", "packages": 1, "unit_cost": 4.0,
         "purchased_on": "2025-03-01", "supplier": "Costco", "location": "pantry"},
        {"product": "sugar-c-h-sugar-4-lb", "packages": 2, "unit_cost": 4.0,
         "purchased_on": "2025-03-02", "supplier": float("nan"), "location": float("nan")},
    ])
    with bakery.session() as ws:
        review = ws.io.reconcile(rows, kind="purchases")
        assert list(review.frame["status"]) == ["new", "new"]
        assert review.frame.loc[1, "supplier"] is None
        assert review.apply().counts("purchases")["created"] == 2
        pur, s = tables.purchases, tables.suppliers
        got = ws.execute(select(pur.c.packages, s.c.name, pur.c.location)
                         .outerjoin(s, s.c.id == pur.c.supplier_id)
                         .where(pur.c.purchased_on >= dt.date(2025, 3, 1))
                         .order_by(pur.c.purchased_on)).all()
        assert [(float(p), n, loc) for p, n, loc in got] == [(1.0, "Costco", "pantry"),
                                                             (2.0, None, None)]
        assert ws.inventory.audit().empty


@pytest.mark.parametrize("kind", ["prices", "purchases", "inventory_count"])
def test_input_without_rows_gives_an_empty_review_with_every_column(bakery, kind):
    _imported(bakery)
    columns = {"prices": ["product_name", "unit_price"],
               "purchases": ["product", "purchased_on"],
               "inventory_count": ["item", "counted", "unit"]}[kind]
    before = snapshot(bakery)
    with bakery.session() as ws:
        review = ws.io.reconcile(pd.DataFrame(columns=columns), kind=kind)
        assert review.frame.empty
        assert list(review.frame.columns[:3]) == ["row", "status", "message"]
        assert set(REVIEW_COLUMNS[kind]) <= set(review.frame.columns)
        assert review.counts() == {}
        report = review.apply()
        assert report.counts(kind)["read"] == 0
        ws.commit()
    assert snapshot(bakery) == before


@pytest.mark.parametrize(("kind", "columns", "missing"), [
    ("purchases", ["product", "packages"], "purchased_on"),
    ("inventory_count", ["item", "unit"], "counted"),
    ("inventory_count", [], "item"),
])
def test_missing_required_column_is_a_validation_error_naming_expected_and_found(
        bakery, kind, columns, missing):
    frame = pd.DataFrame([dict.fromkeys(columns, "x")]) if columns else pd.DataFrame()
    with bakery.session() as ws, pytest.raises(ValidationError) as info:
        ws.io.reconcile(frame, kind=kind)
    text = str(info.value)
    assert info.value.field == "columns"
    assert f"missing column(s) {missing}" in text
    assert "expected " + ", ".join(REQUIRED_COLUMNS[kind]) in text
    assert "found " + (", ".join(columns) or "no columns") in text


@pytest.mark.parametrize(("name", "content", "says"), [
    ("broken.csv", 'item,counted,unit\nflour,"3,lb\n', "cannot be read as a CSV table"),
    ("empty.csv", "", "is empty"),
    ("latin1.csv", "item,counted,unit\ncr\xe8me,1,lb\n".encode("latin-1"), "not UTF-8"),
    ("scalar.json", "42", "cannot be read as a JSON table"),
    ("broken.json", '[{"item": "flour"', "cannot be read as a JSON table"),
])
def test_unreadable_source_is_a_validation_error_naming_the_path(bakery, tmp_path, name,
                                                                 content, says):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with bakery.session() as ws:
        for call in (lambda: ws.io.reconcile(path, kind="inventory_count"),
                     lambda: ws.io.import_history(path)):
            with pytest.raises(ValidationError) as info:
                call()
            assert info.value.field == "source" and info.value.value == str(path)
            assert str(path) in str(info.value) and says in str(info.value)


def test_progress_bar_only_for_long_inputs_and_tqdm_disable_is_respected(monkeypatch):
    short = list(range(PROGRESS_MIN_ROWS - 1))
    assert _bar(short, "x") is short  # no bar at all
    long = list(range(PROGRESS_MIN_ROWS))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    bar = _bar(long, "x")
    assert bar.disable and list(bar) == long
    for unset in (None, "0"):
        if unset is None:
            monkeypatch.delenv("TQDM_DISABLE")
        else:
            monkeypatch.setenv("TQDM_DISABLE", unset)
        with mock.patch("bakekit.io.tabular.tqdm") as fake:
            _bar(long, "x")
        assert fake.call_args.kwargs["disable"] is None  # none where stderr is no terminal
