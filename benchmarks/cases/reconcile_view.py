"""Merge back a priced purchases view of the largest real bake-tracker file: the v4.2 export
imported as bake-tracker's exporter writes it with every price not known yet ("0.0000"),
then ``ws.io.reconcile(view).apply()`` of its priced purchases view (review + apply), against
``json.load`` of the view plus plain executemany UPDATEs of the very rows our apply wrote
(the purchases' and lots' unit cost, the ledger's purchase cost), in the same run."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import bakekit
from benchmarks.common import CaseResult, Context, race, sqlite_baseline

GOAL = "<= 4x"
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "bake-tracker"
SOURCE = DATA / "sample_data_all_v4.2.json"
PRICES = DATA / "old_view_inventory.json"

#: what the apply writes: (table, value column) of the rows it prices
WRITTEN = (("purchases", "unit_cost"), ("lots", "unit_cost"), ("movements", "cost"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def export_and_view() -> tuple[dict[str, Any], dict[str, Any]]:
    """The v4.2 export as bake-tracker's exporter writes it (one purchase per inventory
    item, ``unit_price`` "0.0000": not known yet) and its priced purchases view (records by
    the export's purchase id and uuid, the inventory view's real prices), built as
    tests/test_io_bt_formats.py builds them (``exporter_form``, ``_purchases_view``)."""
    data = copy.deepcopy(_load(SOURCE))
    view_records = _load(PRICES)["records"]
    prices: dict[tuple, Any] = {}
    for r in view_records:
        prices.setdefault((r["ingredient_slug"], r["brand"], r["product_name"],
                           float(r["package_unit_quantity"])), r["unit_cost"])
    ids = {(p["ingredient_slug"], p.get("brand"), p.get("product_name"),
            float(p["package_unit_quantity"])): n
           for n, p in enumerate(data["products"], start=1)}
    purchases, records = [], []
    for n, (item, r) in enumerate(zip(data["inventory_items"], view_records, strict=True),
                                  start=1):
        key = (item["ingredient_slug"], item["product_brand"], item.get("product_name"),
               float(item["package_unit_quantity"]))
        purchase = {
            "id": n, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"purchase/{n}")),
            "product_id": ids[key], "supplier_id": 1, "ingredient_slug": item["ingredient_slug"],
            "product_brand": item["product_brand"], "purchase_date": item["purchase_date"],
            "quantity_purchased": 1, "unit_price": "0.0000",
            "product_name": item.get("product_name"), "package_unit": item["package_unit"]}
        purchases.append(purchase)
        item["purchase_id"] = n
        records.append({
            "id": n, "uuid": purchase["uuid"], "purchase_date": item["purchase_date"],
            "unit_price": f"{Decimal(str(prices.get(key) or 0)):.4f}",
            "quantity_purchased": 1, "total_cost": None, "notes": None, "created_at": None,
            "product_id": r["product_id"], "product_slug": r["product_slug"],
            "product_name": r["product_name"], "brand": r["brand"],
            "ingredient_slug": r["ingredient_slug"], "ingredient_name": r["ingredient_name"],
            "supplier_id": None, "supplier_name": None})
    data["purchases"] = purchases
    view = {"version": "1.0", "export_type": "purchases", "export_date": "2026-01-07",
            "_meta": {"editable_fields": ["notes"],
                      "readonly_fields": sorted(k for k in records[0] if k != "notes")},
            "records": records}
    return data, view


def _priced(path: Path) -> dict[str, list[tuple[Any, int]]]:
    """Per table, the (value, id) rows that have a cost: what the apply wrote."""
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT {c}, id FROM {t} WHERE {c} IS NOT NULL "
                               "ORDER BY id").fetchall() for t, c in WRITTEN}
    finally:
        con.close()


def executemany_updates(path: Path, view: Path,
                        rows: dict[str, list[tuple[Any, int]]]) -> int:
    """The baseline: ``json.load`` the view, then one executemany UPDATE each of the
    purchases' and lots' unit cost and the ledger's cost, of the same rows our apply wrote,
    in one transaction (rolled back like ours). Returns the rows written."""
    written = 0
    with sqlite_baseline(path, view) as con:
        for table, column in WRITTEN:
            con.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ?", rows[table])
            written += len(rows[table])
        con.rollback()
    return written


def run(ctx: Context) -> CaseResult:
    if not SOURCE.exists() or not PRICES.exists():
        raise FileNotFoundError(f"the bake-tracker files are not in {DATA}")
    data, view = export_and_view()
    view_path = ctx.workdir / "reconcile-view-purchases.json"
    view_path.write_text(json.dumps(view), encoding="utf-8")
    db = ctx.workdir / "reconcile-view.db"
    bakery = bakekit.open(str(db))
    try:
        with bakery.session() as ws:  # the export, every price not known yet
            report = ws.io.import_bake_tracker(data)
            ws.commit()
        assert report.uncosted_lots == len(data["inventory_items"]), report.uncosted_lots
    finally:
        bakery.dispose()
    # the rows our apply writes, captured once from a committed apply on a copy
    applied = ctx.workdir / "reconcile-view-applied.db"
    shutil.copy(db, applied)
    bakery = bakekit.open(str(applied))
    try:
        with bakery.session() as ws:
            ws.io.reconcile(view_path).apply()
            ws.commit()
    finally:
        bakery.dispose()
    rows = _priced(applied)
    priced = sum(1 for r in view["records"] if Decimal(r["unit_price"]) != 0)
    assert len(rows["purchases"]) == len(rows["lots"]) == priced, {
        t: len(v) for t, v in rows.items()}

    bakery = bakekit.open(str(db))
    counts: list[dict[str, int]] = []

    def ours() -> int:
        with bakery.session() as ws:
            review = ws.io.reconcile(view_path)
            counts.append(review.counts())
            updated = review.apply().counts("purchases")["updated"]
            ws.rollback()
        return int(updated)

    try:
        with bakery.session() as ws:  # warm-up: imports, statement compilation
            ws.io.reconcile(view_path).apply()
            ws.rollback()
        t_ours, t_base, updated, written = race(
            ours, lambda: executemany_updates(db, view_path, rows), ctx.repeats)
    finally:
        bakery.dispose()
    assert counts[-1].get("changed") == priced and updated == priced, (counts[-1], updated)
    assert _priced(db) == {t: [] for t, _ in WRITTEN}  # both sides rolled back
    return CaseResult(f"reconcile and apply the priced purchases view of the v4.2 export "
                      f"({priced} purchases, SQLite)", t_ours, t_base, "s", 4.0, GOAL,
                      written,
                      f"baseline: json.load of the view + one executemany UPDATE each of the "
                      f"same {written:,} rows our apply wrote (purchases' and lots' unit "
                      f"cost, ledger cost), one transaction; both warm (one engine, "
                      f"statements compiled in a warm-up round), both roll back so each "
                      f"round starts alike")
