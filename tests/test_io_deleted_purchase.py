"""A file naming a purchase deleted from the database (issue 29): an inventory item whose
``purchase_id`` an earlier import remembered, for a purchase deleted since, is refused
saying so, as for deleted products and suppliers, instead of falling back to another
purchase of that product on that day."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bakekit.errors import ImportValidationError
from tests.support.bt_files import scalar

PRODUCT = {"id": 7, "ingredient_slug": "flour", "brand": "Mill", "product_name": "Flour 5 lb",
           "package_unit": "lb", "package_unit_quantity": 5}


def _file(**sections) -> dict:
    return {"version": "4.2", "ingredients": [{"slug": "flour", "display_name": "Flour"}],
            "products": [PRODUCT], **sections}


def test_an_inventory_item_naming_a_deleted_purchase_is_refused(bakery):
    purchase = {"id": 1, "product_id": 7, "purchase_date": "2026-01-02",
                "quantity_purchased": 1, "unit_price": "3.5000"}
    with bakery.session() as ws:
        ws.io.import_bake_tracker(_file(purchases=[purchase]))
        gone = scalar(ws, "SELECT id FROM purchases")
        lots = "SELECT id FROM lots WHERE purchase_id = :p"
        ws.execute(text(f"DELETE FROM movements WHERE lot_id IN ({lots})"), {"p": gone})
        ws.execute(text("DELETE FROM lots WHERE purchase_id = :p"), {"p": gone})
        ws.execute(text("DELETE FROM purchases WHERE id = :p"), {"p": gone})
        slug = scalar(ws, "SELECT slug FROM products")
        # another purchase of that product on that day: what the old code fell back to
        ws.inventory.purchase(slug, packages=2, unit_cost=9, purchased_on="2026-01-02")
        item = {"id": 1, "purchase_id": 1, "product_id": 7, "quantity": 5,
                "purchase_date": "2026-01-02"}
        with pytest.raises(ImportValidationError) as caught:
            ws.io.import_bake_tracker(_file(inventory_items=[item]))
        errors = caught.value.errors
        assert list(errors["field"]) == ["purchase_id"]
        assert "purchase deleted from this database" in errors["reason"].iloc[0]
        assert scalar(ws, "SELECT COUNT(*) FROM lots") == 1  # the new purchase's lot only
        ws.rollback()
