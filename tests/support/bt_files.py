"""bake-tracker files of one real bakery (sample_data_all v4.2 and the views exported from
the same database, tests/data/bake-tracker/) in the forms a user merges them in: the
inventory file (purchases and inventory items by bake-tracker id, prices "0.0000") and the
priced purchases view, both built from old_view_inventory.json's real ids and prices."""

from __future__ import annotations

import json
import uuid as uuidlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bakekit.db import tables
from bakekit.db.exact import number
from tests.support.data import BAKE_TRACKER_DATA, _load


def purchase_uuid(n: int) -> str:
    """The uuid of bake-tracker purchase ``n`` in these files (as exporter_form's)."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"purchase/{n}"))


def inventory_file(*, priced: bool = False) -> dict[str, Any]:
    """A v4.2 partial export of purchases and inventory items as bake-tracker's exporter
    writes it: each item names its product and purchase by bake-tracker id, each purchase
    its product; prices "0.0000" (not known yet) unless ``priced``."""
    records = _load("old_view_inventory.json")["records"]
    purchases, items = [], []
    for r in records:
        price = Decimal(str(r["unit_cost"])) if priced else Decimal(0)
        ref = {"ingredient_slug": r["ingredient_slug"], "product_brand": r["brand"],
               "product_name": r["product_name"], "package_unit": r["package_unit"],
               "package_unit_quantity": r["package_unit_quantity"]}
        purchases.append({"id": r["purchase_id"], "uuid": purchase_uuid(r["purchase_id"]),
                          "product_id": r["product_id"], "purchase_date": r["purchase_date"],
                          "quantity_purchased": 1, "unit_price": f"{price:.4f}", **ref})
        items.append({"id": r["id"], "uuid": r["uuid"], "product_id": r["product_id"],
                      "purchase_id": r["purchase_id"], "quantity": r["quantity"],
                      "purchase_date": r["purchase_date"], "location": r["location"],
                      "notes": r["notes"], **ref})
    return {"version": "4.2", "exported_at": "2026-01-07T23:23:19+00:00",
            "application": "bake-tracker", "purchases": purchases, "inventory_items": items}


def priced_purchases_view() -> dict[str, Any]:
    """bake-tracker's purchases view of the same purchases, with their real prices."""
    records = []
    for r in _load("old_view_inventory.json")["records"]:
        records.append({
            "id": r["purchase_id"], "uuid": purchase_uuid(r["purchase_id"]),
            "purchase_date": r["purchase_date"],
            "unit_price": f"{Decimal(str(r['unit_cost'])):.4f}",
            "quantity_purchased": 1, "total_cost": None, "notes": None, "created_at": None,
            "product_id": r["product_id"], "product_slug": r["product_slug"],
            "product_name": r["product_name"], "brand": r["brand"],
            "ingredient_slug": r["ingredient_slug"], "ingredient_name": r["ingredient_name"],
            "supplier_id": None, "supplier_name": None})
    return {"version": "1.0", "view_type": "purchases", "export_date": "2026-01-07",
            "_meta": {"editable_fields": ["notes"],
                      "readonly_fields": sorted(k for k in records[0] if k != "notes")},
            "records": records}


def priced_value() -> Decimal:
    """The stock value the inventory view prices: each item's share of its package."""
    total = Decimal(0)
    for r in _load("old_view_inventory.json")["records"]:
        total += (Decimal(str(r["quantity"])) / Decimal(str(r["package_unit_quantity"]))
                  * Decimal(str(r["unit_cost"])))
    return total


def write(tmp_path: Path, data: dict[str, Any], name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def real(name: str) -> Path:
    return BAKE_TRACKER_DATA / name


def scalar(ws: Any, sql: str) -> Any:
    return ws.execute(text(sql)).scalar()


def stock_value(ws: Any) -> Any:
    """SUM(remaining * unit_cost) over the lots (a product of exact columns: ``number``)."""
    lots = tables.lots
    return ws.execute(select(func.sum(number(lots.c.remaining)
                                      * number(lots.c.unit_cost)))).scalar()


def stock_state(ws: Any) -> dict[str, Any]:
    """What the merge rules are checked on: counts of lots, links, costs and prices."""
    value = stock_value(ws)
    return {
        "products": scalar(ws, "SELECT COUNT(*) FROM products"),
        "purchases": scalar(ws, "SELECT COUNT(*) FROM purchases"),
        "priced_purchases": scalar(ws, "SELECT COUNT(*) FROM purchases "
                                       "WHERE unit_cost IS NOT NULL"),
        "lots": scalar(ws, "SELECT COUNT(*) FROM lots"),
        "uncosted_lots": scalar(ws, "SELECT COUNT(*) FROM lots WHERE unit_cost IS NULL"),
        "unlinked_lots": scalar(ws, "SELECT COUNT(*) FROM lots WHERE purchase_id IS NULL"),
        "value": None if value is None else round(Decimal(str(value)), 2)}
