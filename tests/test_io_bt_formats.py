"""Real bake-tracker files in every format it writes: prices (``unit_price``, zero as "not
known yet"), integer ids, duplicates, views and bt_mobile files, and the merge-back sequences
a user runs."""

from __future__ import annotations

import copy
import json
import uuid as uuidlib
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from bakekit.errors import ImportValidationError, ValidationError
from tests.conftest import BAKE_TRACKER_DATA, snapshot


def _load(name: str) -> dict[str, Any]:
    return json.loads((BAKE_TRACKER_DATA / name).read_text())


def _view_prices() -> dict[tuple, float]:
    """The real prices of the inventory view, by product (ingredient, brand, name, size)."""
    out = {}
    for r in _load("old_view_inventory.json")["records"]:
        key = (r["ingredient_slug"], r["brand"], r["product_name"],
               float(r["package_unit_quantity"]))
        out.setdefault(key, r["unit_cost"])
    return out


def exporter_form(*, priced: bool) -> dict[str, Any]:
    """sample_data_all_v4.2.json as bake-tracker's own exporter writes it
    (import_export_service.export_all_to_json at 5ba2de31): one purchase per inventory item
    with ``id``, ``uuid``, ``product_id``, ``supplier_id``, ``purchase_date`` and
    ``unit_price`` as a string ("4.2900", or "0.0000" for not known yet); inventory items
    point at their purchase by ``purchase_id``. Prices are the inventory view's real ones."""
    data = copy.deepcopy(_load("sample_data_all_v4.2.json"))
    prices = _view_prices()
    ids = {}
    for n, p in enumerate(data["products"], start=1):
        ids[(p["ingredient_slug"], p.get("brand"), p.get("product_name"),
             float(p["package_unit_quantity"]))] = n
    purchases = []
    for n, item in enumerate(data["inventory_items"], start=1):
        key = (item["ingredient_slug"], item["product_brand"], item.get("product_name"),
               float(item["package_unit_quantity"]))
        price = prices.get(key) if priced else 0
        purchases.append({
            "id": n, "uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"purchase/{n}")),
            "product_id": ids[key], "supplier_id": 1,
            "ingredient_slug": item["ingredient_slug"],
            "product_brand": item["product_brand"], "purchase_date": item["purchase_date"],
            "quantity_purchased": 1,
            "unit_price": f"{Decimal(str(price or 0)):.4f}",
            "product_name": item.get("product_name"), "package_unit": item["package_unit"]})
        item["purchase_id"] = n
    data["purchases"] = purchases
    return data


def _total(ws) -> float:
    frame = ws.inventory.valuation()
    return float(frame.loc[frame["item"] == "TOTAL", "value"].iloc[0])


def _nonzero(values) -> int:
    return sum(1 for v in values if v is not None and Decimal(str(v)) != 0)


# -- 1. prices -----------------------------------------------------------------------------------
def test_exporter_unit_price_strings_cost_every_lot_they_price(bakery):
    data = exporter_form(priced=True)
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(data)
        lots = ws.inventory.lots()
        assert len(lots) == len(data["inventory_items"]) == 156
        priced = _nonzero(p["unit_price"] for p in data["purchases"])
        assert priced > 150
        assert lots["unit_cost"].notna().sum() == priced
        assert report.uncosted_lots == 156 - priced
        assert "unit_price" not in report.unknown_fields.get("purchases", ())
        assert ws.inventory.audit().empty
        # the money adds up: valuation is what the priced rows say
        by_purchase = {p["id"]: Decimal(p["unit_price"]) for p in data["purchases"]}
        want = sum(by_purchase[i["purchase_id"]] * Decimal(str(i["quantity"]))
                   / Decimal(str(i["package_unit_quantity"])) for i in data["inventory_items"])
        assert _total(ws) == pytest.approx(float(want), abs=0.05)


def test_zero_price_is_not_known_yet_by_default(bakery):
    data = exporter_form(priced=False)
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(data)
        assert report.zero_prices == 156
        assert report.uncosted_lots == 156
        assert ws.inventory.lots()["unit_cost"].isna().all()
        assert "not known yet" in report.frame.set_index("entity").loc["purchases", "reasons"]
        # a later file with the prices fills the same lots, never a second lot
        priced = exporter_form(priced=True)
        again = ws.io.import_bake_tracker(priced)
        assert again.counts("purchases")["updated"] == _nonzero(
            p["unit_price"] for p in priced["purchases"])
        lots = ws.inventory.lots()
        assert len(lots) == 156
        assert lots["unit_cost"].notna().sum() == again.counts("purchases")["updated"]
        assert ws.inventory.audit().empty


def test_zero_price_zero_keeps_a_real_zero(bakery):
    data = exporter_form(priced=False)
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(data, zero_price="zero")
        assert report.zero_prices == 0
        lots = ws.inventory.lots()
        assert (lots["unit_cost"] == 0).all()
        with pytest.raises(ValidationError, match="zero_price"):
            ws.io.import_bake_tracker(data, zero_price="maybe")


@pytest.mark.parametrize("name", ["sample_data_v3.4.json", "sample_data_all_v4.2.json"])
def test_real_exports_cost_as_many_lots_as_the_file_prices(bakery, name):
    data = _load(name)
    with bakery.session() as ws:
        ws.io.import_bake_tracker(BAKE_TRACKER_DATA / name)
        lots = ws.inventory.lots()
        # a lot is costed where its own row or a purchase of its product that day has a
        # price other than 0
        priced_days = {(p["ingredient_slug"], p.get("product_brand"),
                        p.get("purchased_at") or p.get("purchase_date"))
                       for p in data.get("purchases", [])
                       if _nonzero([p.get("unit_price") or p.get("unit_cost")])}
        want = sum(1 for i in data["inventory_items"]
                   if _nonzero([i.get("unit_cost")]) or
                   (i["ingredient_slug"], i.get("product_brand"), i["purchase_date"])
                   in priced_days)
        assert lots["unit_cost"].notna().sum() == want
        assert ws.inventory.audit().empty


# -- 2. integer ids ------------------------------------------------------------------------------
def _with_product_ids(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for n, p in enumerate(data["products"], start=1):
        p["id"] = n
    return data


def test_ids_resolve_in_the_file_then_remembered_then_by_natural_fields(bakery):
    full = _with_product_ids(_load("sample_data_all_v4.2.json"))
    by_id = {p["id"]: p for p in full["products"]}
    key = {(p["ingredient_slug"], p.get("brand"), p.get("product_name"),
            float(p["package_unit_quantity"])): p["id"] for p in full["products"]}
    items = []
    for item in full["inventory_items"]:
        pid = key[(item["ingredient_slug"], item["product_brand"], item.get("product_name"),
                   float(item["package_unit_quantity"]))]
        items.append({"product_id": pid, "quantity": item["quantity"],
                      "purchase_date": item["purchase_date"], "location": item.get("location")})
    with bakery.session() as ws:
        # products (with ids) first: their ids are remembered
        ws.io.import_bake_tracker({k: full[k] for k in ("version", "suppliers", "ingredients",
                                                        "products")})
        ws.commit()
    with bakery.session() as ws:
        # an inventory file that names products only by bake-tracker's id
        report = ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        assert report.counts("inventory_items")["created"] == 156
        lots = ws.inventory.lots().sort_values("lot_id")
        products = ws.catalog.products().set_index("item")
        first = by_id[items[0]["product_id"]]
        row = products.loc[lots["product"].iloc[0]]
        assert (row["brand"], row["package_quantity"]) == (first["brand"],
                                                          first["package_unit_quantity"])
        assert ws.inventory.audit().empty
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        again = ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        assert again.frame["created"].sum() == 0
        ws.commit()
    assert snapshot(bakery) == before


def test_an_id_nothing_resolves_names_the_id_and_what_to_import_first(bakery):
    before = snapshot(bakery)
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.import_bake_tracker({"inventory_items": [
            {"product_id": 999, "quantity": 1, "purchase_date": "2025-12-21"}],
            "purchases": [{"product_id": 998, "supplier_id": 7, "quantity_purchased": 1,
                           "purchase_date": "2025-12-21", "unit_price": "1.0000",
                           "ingredient_slug": "x"}]})
    errors = info.value.errors.set_index(["entity", "field"])
    reason = errors.loc[("inventory_items", "product_id"), "reason"]
    assert "product_id 999" in reason and "import the products first" in reason
    reason = errors.loc[("purchases", "supplier_id"), "reason"]
    assert "supplier_id 7" in reason and "import the suppliers first" in reason
    assert snapshot(bakery) == before


# -- 4. duplicates -------------------------------------------------------------------------------
def test_four_purchases_with_distinct_uuids_are_four_purchases(bakery):
    data = exporter_form(priced=True)
    first = data["purchases"][0]
    extra = [{**first, "id": 1000 + n, "uuid": str(uuidlib.uuid4())} for n in range(3)]
    data["purchases"] += extra
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(data)
        assert report.counts("purchases")["created"] == 159
        assert report.identical_rows == 0
    # the same rows without uuids: identical, counted once
    same = {"version": "3.4", "ingredients": data["ingredients"], "suppliers": data["suppliers"],
            "products": data["products"],
            "purchases": [{k: v for k, v in p.items() if k not in ("id", "uuid")}
                          for p in [first] + extra]}
    for p in same["purchases"]:
        p["package_unit_quantity"] = data["inventory_items"][0]["package_unit_quantity"]
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(same)
        assert report.counts("purchases") == {"read": 4, "created": 1, "updated": 0,
                                              "unchanged": 0, "skipped": 3}
        assert report.identical_rows == 3
        same["purchases"][1]["unit_price"] = "9.9900"
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker(same)
        reason = info.value.errors["reason"].iloc[0]
        assert "purchases row 1" in reason and "unit_price" in reason
        report = ws.io.import_bake_tracker(same, duplicates="last")
        assert report.counts("purchases")["skipped"] == 3


# -- 6. round trip ---------------------------------------------------------------------------
def test_export_then_load_keeps_every_lots_fifo_position(bakery, tmp_path):
    import bakekit

    data = exporter_form(priced=True)
    # lots of one product bought on one day at different prices: only their order tells
    # which FIFO takes first
    for n, p in enumerate(data["purchases"]):
        p["unit_price"] = f"{Decimal(p['unit_price']) + n % 7:.4f}"
    first = tmp_path / "first.json"
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        ws.commit()
        ws.io.export(first)
        slugs = list(ws.recipes.recipes()["item"])
        costs = {s: ws.recipes.cost(s, 3) for s in slugs}
        lots = ws.inventory.lots()[["item", "purchased_on", "quantity", "unit_cost"]]
    assert len(slugs) == 20
    other = bakekit.open(tmp_path / "loaded.db")
    try:
        with other.session() as ws:
            ws.io.load(first)
            ws.commit()
            for s in slugs:
                pd.testing.assert_frame_equal(ws.recipes.cost(s, 3), costs[s])
            again = ws.inventory.lots()[["item", "purchased_on", "quantity", "unit_cost"]]
            assert again.reset_index(drop=True).equals(lots.reset_index(drop=True))
            second = tmp_path / "second.json"
            ws.io.export(second)
    finally:
        other.dispose()
    a, b = (json.loads(p.read_text()) for p in (first, second))
    a.pop("exported_at"), b.pop("exported_at")
    assert a == b
