"""Data the tests share: the real bake-tracker files, a small catalog, a small export, the
exporter's form of a real file, a price list."""

from __future__ import annotations

import copy
import json
import uuid as uuidlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

import bakekit

# real files from bake-tracker (MIT; see tests/data/bake-tracker/README.md)
BAKE_TRACKER_DATA = Path(__file__).resolve().parents[1] / "data" / "bake-tracker"


def small_catalog(ws: bakekit.Workspace, *, packaging: bool = True) -> None:
    """Flour, sugar and butter (with densities), optionally gift boxes, and one product of
    each: the catalog the stress tests (crash, concurrency, state machine) share."""
    c = ws.catalog
    c.add_ingredient("flour", "Flour", density="1 cup = 4.25 oz")
    c.add_ingredient("sugar", "Sugar", density="1 cup = 7.05 oz")
    c.add_ingredient("butter", "Butter", density="1 cup = 8 oz")
    c.add_product("flour-2lb", "flour", name="Flour 2 lb", package_quantity=2,
                  package_unit="lb")
    c.add_product("sugar-1lb", "sugar", name="Sugar 1 lb", package_quantity=1,
                  package_unit="lb")
    c.add_product("butter-1lb", "butter", name="Butter 1 lb", package_quantity=1,
                  package_unit="lb")
    if packaging:
        c.add_ingredient("box", "Gift box", is_packaging=True)
        c.add_product("box-10", "box", name="Boxes (10)", package_quantity=10,
                      package_unit="each")


def flour_and_boxes(ws: bakekit.Workspace) -> None:
    """The catalog of the late-price tests: flour in 10 lb bags, boxes (packaging) in tens."""
    ws.catalog.add_ingredient("flour", "Flour")
    ws.catalog.add_product("flour-10lb", "flour", brand="KA", name="Flour 10 lb",
                           package_quantity=10, package_unit="lb")
    ws.catalog.add_ingredient("box", "Box", is_packaging=True)
    ws.catalog.add_product("box-10", "box", brand="B", name="Boxes", package_quantity=10,
                           package_unit="each")


def small_file() -> dict:
    """A tiny v4-style export touching every kind of section."""
    return {
        "version": "4.2",
        "suppliers": [{"name": "Costco", "city": "Waltham", "state": "MA"}],
        "ingredients": [
            {"slug": "flour", "display_name": "Flour", "density_volume_value": 1,
             "density_volume_unit": "cup", "density_weight_value": 4.25,
             "density_weight_unit": "oz"},
            {"slug": "flour_bread", "display_name": "Bread flour", "parent_slug": "flour"},
            {"slug": "sugar", "display_name": "Sugar"},
        ],
        "products": [
            {"ingredient_slug": "flour", "brand": "KA", "product_name": "AP 5 lb",
             "package_unit_quantity": 5, "package_unit": "lb"},
            {"ingredient_slug": "sugar", "brand": "C&H", "product_name": "Sugar",
             "package_unit_quantity": 4, "package_unit": "lb"},
        ],
        "purchases": [
            {"ingredient_slug": "flour", "product_brand": "KA", "purchased_at": "2025-01-05",
             "quantity_purchased": 1, "unit_cost": 18.0, "supplier": "Costco"},
        ],
        "inventory_items": [
            {"ingredient_slug": "flour", "product_brand": "KA", "quantity": 4,
             "purchase_date": "2025-01-05", "location": "pantry"},
            {"ingredient_slug": "sugar", "product_brand": "C&H", "quantity": 2,
             "purchase_date": "2025-01-06"},
        ],
        "recipes": [
            {"name": "Base", "slug": "base", "ingredients": [
                {"ingredient_slug": "flour", "quantity": 2, "unit": "cup"}]},
            {"name": "Cookies", "slug": "cookies", "ingredients": [
                {"ingredient_slug": "sugar", "quantity": 1, "unit": "cup"}],
             "components": [{"recipe_name": "Base", "quantity": 0.5}]},
        ],
        "finished_units": [{"slug": "cookie", "display_name": "Cookie",
                            "recipe_name": "Cookies", "items_per_batch": 24,
                            "item_unit": "cookie"}],
        "finished_goods": [{"slug": "cookie-box", "display_name": "Cookie box"}],
        "compositions": [{"finished_good_slug": "cookie-box", "finished_unit_slug": "cookie",
                          "component_quantity": 12}],
        "packages": [{"name": "Gift"}],
        "package_finished_goods": [{"package_name": "Gift",
                                    "finished_good_slug": "cookie-box", "quantity": 1}],
        "recipients": [{"name": "Alice"}],
        "events": [{"name": "Xmas", "event_date": "2025-12-20"}],
        "event_recipient_packages": [{"event_name": "Xmas", "recipient_name": "Alice",
                                      "package_name": "Gift", "quantity": 1}],
        "event_assembly_targets": [{"event_name": "Xmas", "finished_good_slug": "cookie-box",
                                    "target_quantity": 3}],
        "production_records": [{"recipe_name": "Cookies", "batches": 2,
                                "produced_at": "2024-12-14T10:00:00Z", "actual_cost": 9.5,
                                "event_name": "Xmas"}],
    }


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
