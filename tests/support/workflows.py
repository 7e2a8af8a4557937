"""The fault registry's workflows: the seeded demo and, for every public write method, a
small workflow that calls it (tests/test_fault_registry.py, tests/test_no_orm_escape.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text

import bakekit
from bakekit.db.models import metadata
from bakekit.sample import load_sample, sample_data
from bakekit.workspace import Workspace

EVENT = "Holidays 2025"


def seed(ws: Workspace) -> None:
    """The demo data, plus things for the deletes and reversals to act on: an unused
    supplier, ingredient, product and recipe, an untouched production run and an untouched
    assembly run."""
    load_sample(ws, sample_data())
    ws.catalog.add_supplier("Local Mill", city="Hadley", state="MA")
    ws.catalog.add_ingredient("nutmeg", "Ground nutmeg", density="1 tsp = 2.2 g")
    ws.catalog.add_ingredient("saffron", "Saffron")
    ws.catalog.add_product("saffron-1g", "saffron", brand="Zaran", name="Saffron 1 g",
                           package_quantity=1, package_unit="g")
    ws.recipes.add("shortbread", "Shortbread",
                   ingredients=[("flour-ap", 2, "cup"), ("butter", 1, "cup"),
                                ("sugar", 0.5, "cup")])
    ws.production.record("sugar-cookie", batches=1, produced_at="2025-12-02T10:00:00")
    ws.assembly.record("cookie-box", quantity=2, event=EVENT)
    ws.production.record("sugar-cookie", batches=1, produced_at="2025-12-03T10:00:00")


def _last_run(ws: Workspace, area: str) -> int:
    history = getattr(ws, area).history()
    return int(history[~history["reversed"]]["run_id"].iloc[-1])


def _small_export() -> dict[str, Any]:
    return {
        "version": "4.2",
        "suppliers": [{"name": "Spice House", "city": "Chicago", "state": "IL"}],
        "ingredients": [{"slug": "cardamom", "display_name": "Cardamom"}],
        "products": [{"ingredient_slug": "cardamom", "brand": "Spice House",
                      "product_name": "Cardamom 2 oz", "package_unit_quantity": 2,
                      "package_unit": "oz"}],
        "purchases": [{"ingredient_slug": "cardamom", "product_brand": "Spice House",
                       "purchased_at": "2025-11-20", "quantity_purchased": 1,
                       "unit_cost": 9.5, "supplier": "Spice House"}],
    }


def _import_bake_tracker(ws: Workspace) -> None:
    """A small export with a lot of a day without a purchase, then a file merged over it
    whose item names its (priced) purchase: the lot matched is linked and costed, the
    ingredient's category filled (issue 29's write paths)."""
    first = _small_export()
    item = {"ingredient_slug": "cardamom", "product_brand": "Spice House",
            "product_name": "Cardamom 2 oz", "package_unit_quantity": 2, "package_unit": "oz",
            "quantity": 2, "purchase_date": "2025-11-21"}
    first["inventory_items"] = [item]
    ws.io.import_bake_tracker(first)
    report = ws.io.import_bake_tracker({
        "version": "4.2", "ingredients": [{"slug": "cardamom", "category": "Spices"}],
        "purchases": [{"id": 77, "ingredient_slug": "cardamom", "product_brand": "Spice House",
                       "product_name": "Cardamom 2 oz", "package_unit_quantity": 2,
                       "package_unit": "oz", "purchase_date": "2025-11-21",
                       "quantity_purchased": 1, "unit_price": "8.0000"}],
        "inventory_items": [{**item, "id": 5, "purchase_id": 77}]})
    assert report.counts("inventory_items")["updated"] == 1, report.frame


def _apply_reconciliation(ws: Workspace) -> None:
    source = pd.DataFrame([
        {"product": "costco-sugar-10lb", "packages": 1, "unit_cost": 9.99,
         "purchased_on": "2025-11-30", "supplier": "Costco"},
        {"product": "eggs-24", "packages": 1, "unit_cost": 7.79, "purchased_on": "2025-11-30",
         "supplier": "Costco"},
    ])
    review = ws.io.reconcile(source, kind="purchases")
    assert set(review.frame["status"]) == {"new"}, review.frame
    review.apply()
    # a bake-tracker products view: an editable field changes, its ids are remembered
    view = {"version": "1.0", "view_type": "products",
            "_meta": {"editable_fields": ["notes", "upc_code"], "readonly_fields": ["id"]},
            "records": [{"id": 8, "uuid": "16dc293a-461d-4e3d-a326-87fd0db3bfbe",
                         "ingredient_slug": "egg", "brand": "Kirkland",
                         "product_name": "Large eggs, 2 dozen", "package_unit": "each",
                         "package_unit_quantity": 24, "notes": "from the view",
                         "upc_code": "096619000000"}]}
    review = ws.io.reconcile(view)
    assert list(review.frame["status"]) == ["changed"], review.frame
    review.apply()


_EXPORT: list[Path] = []


def _set_late_price(ws: Workspace) -> None:
    """A purchase bought without a price, partly used, then priced: the price reaches the
    purchase, its lot, the ledger row of the use and the product's current price."""
    bought = ws.inventory.purchase("saffron-1g", packages=2, unit_cost=None,
                                   purchased_on="2025-11-20")
    ws.inventory.consume("saffron", 0.5, "g", reason="test bake", on="2025-11-21")
    ws.inventory.set_price(bought.purchase_id, 12.5, on="2025-11-22")


def _demo_export() -> Path:
    """The demo data exported to a bakekit JSON file (built once, on an in-memory bakery)."""
    if not _EXPORT:
        path = Path(tempfile.mkdtemp(prefix="bakekit-export-")) / "demo.json"
        source = bakekit.open(":memory:")
        with source.session() as ws:
            load_sample(ws, sample_data())
            ws.io.export(path)
        source.dispose()
        _EXPORT.append(path)
    return _EXPORT[0]


def _import_history(ws: Workspace) -> None:
    ws.io.import_history(pd.DataFrame([
        {"item": "sugar-cookie", "quantity": 48, "produced_at": "2024-12-14T10:00:00",
         "total_cost": 6.5, "event": EVENT},
        {"item": "cookie-box", "kind": "assembly", "quantity": 4,
         "produced_at": "2024-12-15T10:00:00"},
    ]))


#: workflows that need an empty database (everything else runs on the seeded demo)
ON_EMPTY = {"io.IO.load"}


#: module.Class.method of every write method -> a small workflow that calls it
WORKFLOWS: dict[str, Callable[[Workspace], Any]] = {
    "catalog.Catalog.add_supplier": lambda ws: ws.catalog.add_supplier(
        "Baker's Supply", city="Boston", state="MA"),
    "catalog.Catalog.update_supplier": lambda ws: ws.catalog.update_supplier(
        "Costco", city="Seattle"),
    "catalog.Catalog.delete_supplier": lambda ws: ws.catalog.delete_supplier("Local Mill"),
    "catalog.Catalog.add_ingredient": lambda ws: ws.catalog.add_ingredient(
        "cinnamon", "Ground cinnamon", category="Spices", density="1 tsp = 2.6 g"),
    "catalog.Catalog.update_ingredient": lambda ws: ws.catalog.update_ingredient(
        "flour-ap", density="1 cup = 4.5 oz"),
    "catalog.Catalog.delete_ingredient": lambda ws: ws.catalog.delete_ingredient("nutmeg"),
    "catalog.Catalog.add_product": lambda ws: ws.catalog.add_product(
        "nutmeg-2oz", "nutmeg", brand="McCormick", name="Nutmeg 2 oz", package_quantity=2,
        package_unit="oz", supplier="Local Mill"),
    "catalog.Catalog.update_product": lambda ws: ws.catalog.update_product(
        "ka-flour-5lb", preferred=True),
    "catalog.Catalog.delete_product": lambda ws: ws.catalog.delete_product("saffron-1g"),
    "inventory.Inventory.purchase": lambda ws: ws.inventory.purchase(
        "costco-butter-4lb", packages=2, unit_cost=14.49, purchased_on="2025-11-25"),
    "inventory.Inventory.consume": lambda ws: ws.inventory.consume(
        "flour-ap", 30, "lb", reason="spill"),
    "inventory.Inventory.adjust": lambda ws: ws.inventory.adjust(
        int(ws.inventory.lots("sugar")["lot_id"].iloc[0]), 3, "lb", reason="count"),
    "inventory.Inventory.set_price": _set_late_price,
    "recipes.Recipes.add": lambda ws: ws.recipes.add(
        "snickerdoodles", "Snickerdoodles",
        ingredients=[("flour-ap", 2.75, "cup"), ("butter", 1, "cup"), ("sugar", 1.5, "cup")],
        components=[("cream-cheese-frosting", 0.25)],
        finished_units=[("snickerdoodle", "Snickerdoodle", 30, "cookie")]),
    "recipes.Recipes.update": lambda ws: ws.recipes.update(
        "shortbread", name="Scottish shortbread",
        ingredients=[("flour-ap", 2.5, "cup"), ("butter", 1, "cup")],
        finished_units=[("shortbread-finger", "Shortbread finger", 24, "finger")]),
    "recipes.Recipes.delete": lambda ws: ws.recipes.delete("shortbread"),
    "production.Production.record": lambda ws: ws.production.record(
        "frosted-brownie", batches=1, actual_yield=15, event=EVENT),
    "production.Production.reverse": lambda ws: ws.production.reverse(
        _last_run(ws, "production")),
    "assembly.Assembly.add_finished_good": lambda ws: ws.assembly.add_finished_good(
        "mini-box", "Mini box", components=[("sugar-cookie", 3), ("gift-box", 1)]),
    "assembly.Assembly.update_finished_good": lambda ws: ws.assembly.update_finished_good(
        "cookie-box", name="Cookie box (dozen)",
        components=[("chocolate-chip-cookie", 4), ("sugar-cookie", 8), ("gift-box", 1)]),
    "assembly.Assembly.record": lambda ws: ws.assembly.record(
        "cookie-box", quantity=1, event=EVENT),
    "assembly.Assembly.reverse": lambda ws: ws.assembly.reverse(_last_run(ws, "assembly")),
    "events.Events.create": lambda ws: ws.events.create("Easter 2026", "2026-04-05"),
    "events.Events.add_recipient": lambda ws: ws.events.add_recipient(
        "Aunt May", household="May"),
    "events.Events.add_package": lambda ws: ws.events.add_package(
        "mini", "Mini", contents=[("cookie-box", 1), ("brownie-bag", 1)]),
    "events.Events.assign": lambda ws: ws.events.assign(
        EVENT, "Grandma June", "classic", 2),
    "events.Events.unassign": lambda ws: ws.events.unassign(EVENT, "Grandma June", "deluxe"),
    "events.Events.set_status": lambda ws: ws.events.set_status(
        EVENT, "Grandma June", "deluxe", "assembled"),
    "events.Events.set_target": lambda ws: ws.events.set_target(EVENT, "sugar-cookie", 120),
    "events.Events.clone": lambda ws: ws.events.clone(EVENT, "Holidays 2026", "2026-12-19"),
    "io.IO.import_bake_tracker": _import_bake_tracker,
    "io.IO.apply_reconciliation": _apply_reconciliation,
    "io.IO.import_history": _import_history,
    "io.IO.load": lambda ws: ws.io.load(_demo_export()),
}


def _reset_sequences(bakery: bakekit.Bakery) -> None:
    """After restoring rows with explicit ids on PostgreSQL, move each id sequence past them."""
    with bakery.engine.connect() as conn:
        for t in metadata.sorted_tables:
            if "id" in t.columns and t.c.id.autoincrement and t.c.id.primary_key:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {t.name}), 0) + 1, false)"))
        conn.commit()
