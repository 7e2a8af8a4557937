"""The merge rules (DESIGN.md section 5, docs/api.md "Merge rules"): real bake-tracker
files merged one after another lose nothing and link everything, and what a review or an
apply reports is what the database shows afterwards (issue 29, one test per point)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from bakekit.db import tables
from bakekit.db.exact import number
from bakekit.errors import ImportValidationError, ValidationError
from tests.support.bt_files import (
    inventory_file,
    priced_purchases_view,
    priced_value,
    real,
    scalar,
    stock_state,
    write,
)


def _full_export_then_views(ws, tmp_path):
    """A full export, its products view, then the inventory file naming products and
    purchases by bake-tracker id (the items match the lots the export made)."""
    ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
    ws.io.reconcile(real("old_view_products.json")).apply()
    return ws.io.import_bake_tracker(write(tmp_path, inventory_file(), "inventory.json"))


def test_an_inventory_item_naming_its_purchase_links_the_lot_it_matched(bakery, tmp_path):
    with bakery.session() as ws:
        report = _full_export_then_views(ws, tmp_path)
        state = stock_state(ws)
        assert report.counts("inventory_items")["created"] == 0  # every item matched a lot
        assert state["lots"] == 156 and state["unlinked_lots"] == 0
        view = write(tmp_path, priced_purchases_view(), "purchases_view.json")
        review = ws.io.reconcile(view)
        assert (review.frame["status"] == "changed").sum() == 156
        review.apply()
        after = stock_state(ws)
        assert after["priced_purchases"] == 156
        assert after["uncosted_lots"] == 0  # told "costed": costed
        assert abs(after["value"] - priced_value()) <= Decimal("0.01") * 156
        again = ws.io.reconcile(view)
        assert set(again.frame["status"]) == {"unchanged"}
        ws.commit()


def test_a_placeholder_price_never_erases_a_merged_price(bakery, tmp_path):
    inventory = write(tmp_path, inventory_file(), "inventory.json")
    with bakery.session() as ws:
        _full_export_then_views(ws, tmp_path)
        ws.io.reconcile(write(tmp_path, priced_purchases_view(), "view.json")).apply()
        before = stock_state(ws)
        costs = scalar(ws, "SELECT SUM(unit_cost) FROM purchases")
        report = ws.io.import_bake_tracker(inventory)  # "0.0000": not known, not zero
        assert report.counts("purchases")["updated"] == 0
        assert report.counts("purchases")["unchanged"] == 156
        assert stock_state(ws) == before
        assert scalar(ws, "SELECT SUM(unit_cost) FROM purchases") == costs
        ws.commit()


def test_a_field_the_file_does_not_carry_is_never_erased(bakery):
    """The ingredients catalog (densities, descriptions), then bake-tracker's ingredients
    reference (names and categories only): every density and description stays."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("ingredients_catalog.json"), duplicates="first")
        before = {
            "densities": scalar(ws, "SELECT COUNT(*) FROM ingredients WHERE density IS NOT NULL"),
            "notes": scalar(ws, "SELECT COUNT(*) FROM ingredients WHERE notes IS NOT NULL"),
            "g_per_ml": scalar(ws, "SELECT SUM(g_per_ml) FROM ingredients")}
        assert before["densities"] > 100 and before["notes"] > 300
        names = dict(ws.execute(text("SELECT slug, name FROM ingredients")).all())
        report = ws.io.import_bake_tracker(real("ingredients_reference.json"))
        after = {
            "densities": scalar(ws, "SELECT COUNT(*) FROM ingredients WHERE density IS NOT NULL"),
            "notes": scalar(ws, "SELECT COUNT(*) FROM ingredients WHERE notes IS NOT NULL"),
            "g_per_ml": scalar(ws, "SELECT SUM(g_per_ml) FROM ingredients")}
        assert after == before
        # what the report says changed is what changed: the names and categories that differ
        now = dict(ws.execute(text("SELECT slug, name FROM ingredients")).all())
        renamed = sum(1 for s, n in names.items() if now[s] != n)
        counts = report.counts("ingredients")
        reasons = report.frame.set_index("entity").loc["ingredients", "reasons"]
        assert counts["created"] == len(now) - len(names)
        assert (f"name {renamed}" in reasons) == bool(renamed)
        ws.commit()


def test_a_catalog_after_a_view_keeps_the_upc_and_name_the_view_set(bakery, tmp_path):
    view = json.loads(real("old_view_products.json").read_text())
    first = view["records"][0]
    first.update(gtin="00071012010615", product_name="AP Flour (edited)")
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        ws.io.reconcile(write(tmp_path, view, "products_view.json")).apply()
        row = ws.execute(text("SELECT id, upc, name FROM products WHERE name = "
                              "'AP Flour (edited)'")).one()
        products = scalar(ws, "SELECT COUNT(*) FROM products")
        catalog = json.loads(real("food_products_catalog.json").read_text())
        catalog["products"] = [p for p in catalog["products"]
                               if p["ingredient_slug"] == "flour_all_purpose"
                               and p["brand"] == "King Arthur"]
        catalog["products"][0].pop("product_name")  # a name the file does not give
        ws.io.import_bake_tracker(write(tmp_path, catalog, "catalog.json"))
        assert ws.execute(text("SELECT id, upc, name FROM products WHERE id = :i"),
                          {"i": row.id}).one() == row
        assert scalar(ws, "SELECT COUNT(*) FROM products") == products
        ws.commit()


def _same_fields(ws) -> int:
    return scalar(ws, "SELECT COUNT(*) FROM (SELECT ingredient_id, brand, package_quantity, "
                      "package_unit FROM products GROUP BY ingredient_id, brand, "
                      "package_quantity, package_unit HAVING COUNT(*) > 1) d")


def test_a_products_catalog_over_a_full_export_matches_its_products(bakery):
    """food_products_catalog names its products by other slugs: they are matched by
    ingredient, brand, size and unit, not added again."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        products = scalar(ws, "SELECT COUNT(*) FROM products")
        twins = _same_fields(ws)  # the export's own products of one size under two names
        report = ws.io.import_bake_tracker(real("food_products_catalog.json"))
        counts = report.counts("products")
        assert scalar(ws, "SELECT COUNT(*) FROM products") == products + counts["created"]
        assert counts["created"] <= 5, counts
        assert _same_fields(ws) == twins  # no product twice
        again = ws.io.import_bake_tracker(real("food_products_catalog.json"))
        assert again.counts("products")["created"] == 0
        assert again.counts("products")["updated"] == 0
        ws.commit()


def test_purchases_with_different_bake_tracker_ids_are_different_purchases(bakery):
    """Two purchases of one product on one day, differing only in their id and notes
    ("(1/2)", "(2/2)") and price: two purchases, each lot with its own price."""
    data = inventory_file(priced=True)
    first, second = data["purchases"][0], dict(data["purchases"][0])
    second.update(id=9001, uuid=None, unit_price="9.9900", notes="(2/2)")
    first.update(uuid=None, notes="(1/2)")
    price = round(Decimal(first["unit_price"]), 2)
    item = dict(data["inventory_items"][0])
    item.update(id=9001, uuid=None, purchase_id=9001)
    data["purchases"] = [first, second]
    data["inventory_items"] = [data["inventory_items"][0], item]
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        ws.io.reconcile(real("old_view_products.json")).apply()
        report = ws.io.import_bake_tracker(data)
        assert report.counts("purchases")["created"] == 2
        lots, p, pr = tables.lots, tables.purchases, tables.products
        rows = ws.execute(
            select(p.c.notes, p.c.unit_cost,
                   number(lots.c.unit_cost) * number(pr.c.package_quantity))
            .select_from(lots.join(p, p.c.id == lots.c.purchase_id)
                         .join(pr, pr.c.id == lots.c.product_id))
            .order_by(p.c.notes)).all()
        assert [(n, round(Decimal(str(c)), 2), round(Decimal(str(lc)), 2))
                for n, c, lc in rows] == [("(1/2)", price, price),
                                          ("(2/2)", Decimal("9.99"), Decimal("9.99"))]
        again = ws.io.import_bake_tracker(data)
        assert again.counts("purchases") == {"read": 2, "created": 0, "updated": 0,
                                             "unchanged": 2, "skipped": 0}
        ws.commit()


def test_a_remembered_id_never_names_a_row_that_took_a_deleted_rows_id(bakery):
    """Products with bake-tracker ids 6 and 7; product 7's row deleted; a new product
    (on SQLite it gets the freed id); a purchase of bake-tracker product 7 is refused,
    saying the product was deleted, not recorded against the new product."""
    data = {"version": "4.2", "ingredients": [{"slug": "flour", "display_name": "Flour"}],
            "products": [{"id": n, "ingredient_slug": "flour", "brand": f"Mill {n}",
                          "product_name": f"Flour {n}", "package_unit": "lb",
                          "package_unit_quantity": 5} for n in (6, 7)]}
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        seven = scalar(ws, "SELECT id FROM products WHERE brand = 'Mill 7'")
        ws.execute(text("DELETE FROM products WHERE id = :i"), {"i": seven})
        ws.catalog.add_product("flour-new", "flour", name="New flour", package_quantity=1,
                               package_unit="kg")
        purchase = {"version": "4.2", "purchases": [
            {"id": 1, "product_id": 7, "purchase_date": "2026-01-02", "quantity_purchased": 1,
             "unit_price": "3.5000"}]}
        with pytest.raises(ImportValidationError) as caught:
            ws.io.import_bake_tracker(purchase)
        errors = caught.value.errors
        assert list(errors["field"]) == ["product_id"]
        assert "deleted" in errors["reason"].iloc[0]
        assert scalar(ws, "SELECT COUNT(*) FROM purchases") == 0
        ws.rollback()


@pytest.mark.parametrize("name", ["sample_data_v3.0.json", "sample_data_v3.2.json"])
def test_an_early_3x_export_imports_whole(bakery, name):
    """3.0 (variants, pantry_items, unit_conversions) and 3.2 (purchase_unit and
    purchase_quantity): every product, purchase and item lands, each lot worth what the
    file says (its quantity at its cost, in whatever unit it was counted)."""
    data = json.loads(real(name).read_text())
    items = data.get("inventory_items") or data["pantry_items"]
    worth = sum(Decimal(str(i["quantity"])) * Decimal(str(i["unit_cost"])) for i in items)
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(real(name))
        state = stock_state(ws)
        assert state["products"] == len(data.get("products") or data["variants"])
        assert state["purchases"] == len(data["purchases"])
        assert state["lots"] == len(items) and state["uncosted_lots"] == 0
        assert abs(state["value"] - worth) <= Decimal("0.05")
        assert report.counts("unit_conversions")["read"] == len(data["unit_conversions"])
        assert "unit_conversions" not in report.unknown_fields
        # a conversion gave the ingredients without a density theirs (chips, pecans,
        # walnuts; vanilla, soda and salt have neither)
        converted = {c["ingredient_slug"] for c in data["unit_conversions"]}
        assert {s for s, in ws.execute(text("SELECT slug FROM ingredients WHERE density IS "
                                            "NULL"))}.isdisjoint(converted)
        for entity, counts in report._counts.items():  # the counts add up to the rows read
            assert counts["read"] == sum(counts[k] for k in ("created", "updated",
                                                             "unchanged", "skipped")), entity
        ws.commit()


def test_a_purchases_views_quantity_purchased_is_named_as_not_applied(bakery, tmp_path):
    """bake-tracker's purchases view lists quantity_purchased as editable; bakekit does not
    change a purchase's count from it (its stock is its lots'): the field is in the
    not-used list, and a record whose count differs says so."""
    view = json.loads(real("old_view_purchases.json").read_text())
    view["records"] = view["records"][:3]
    view["records"][0]["quantity_purchased"] = 7
    with bakery.session() as ws:
        _full_export_then_views(ws, tmp_path)
        review = ws.io.reconcile(write(tmp_path, view, "purchases_view.json"))
        assert "quantity_purchased" in review.unknown_fields
        first = review.frame.iloc[0]
        assert "quantity_purchased 7 is not the purchase's 1: not applied" in first["message"]
        review.apply()
        assert ws.execute(select(func.max(tables.purchases.c.packages))).scalar() == 1
        ws.commit()


def test_a_file_with_no_bake_tracker_section_is_refused(bakery):
    with bakery.session() as ws:
        with pytest.raises(ValidationError, match="no bake-tracker section"):
            ws.io.import_bake_tracker({})
        ws.rollback()


def test_a_decimal_comma_is_refused_not_read_as_thousands(bakery):
    data = {"version": "4.2", "ingredients": [
        {"slug": "flour", "display_name": "Flour", "density_volume_value": "1,0",
         "density_volume_unit": "cup", "density_weight_value": "4,25",
         "density_weight_unit": "oz"}]}
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as caught:
            ws.io.import_bake_tracker(data)
        errors = caught.value.errors
        assert list(errors["field"]) == ["density_volume_value", "density_weight_value"]
        assert "decimal comma" in errors["reason"].iloc[0]
        ws.rollback()


def test_a_slug_longer_than_its_column_is_refused_alike_on_every_back_end(bakery):
    data = {"version": "4.2", "ingredients": [{"slug": "x" * 500, "display_name": "Flour"}]}
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as caught:
            ws.io.import_bake_tracker(data)
        row = caught.value.errors.iloc[0]
        assert (row["entity"], row["row"], row["field"]) == ("ingredients", 1, "slug")
        assert row["reason"] == "is longer than 200 characters (500)"
        ws.rollback()


def test_a_pack_size_is_read_from_pack_of_before_a_count_in_the_name(bakery):
    catalog = json.loads(real("material_products_catalog.json").read_text())
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("materials_catalog.json"))
        ws.io.import_bake_tracker(catalog)
        p = tables.products
        size = ws.execute(select(p.c.package_quantity).where(
            p.c.name == "Michaels 6ct Cupcake Window Box 12pk")).scalar()
        assert Decimal(str(size)) == 12  # "Pack of 12 boxes", not the 6 cupcakes a box holds
        ws.commit()


def test_purchase_counts_apart_from_their_items_are_said(bakery):
    """The real inventory file writes quantity_purchased 16 for one 16 oz package's item:
    kept as the file says, and the report says so."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        ws.io.reconcile(real("old_view_products.json")).apply()
        report = ws.io.import_bake_tracker(real("inventory.json"))
        reasons = report.frame.set_index("entity").loc["purchases", "reasons"]
        assert "quantity_purchased is not what their items hold" in reasons
        assert "16 package(s) of 16, its items hold 16" in reasons
        ws.commit()


def test_the_real_inventory_file_again_after_the_purchases_view_keeps_every_price(bakery):
    """bake-tracker's v3.5 inventory file ("0.0000" placeholders) imported again after
    its purchases view priced the purchases: every price and cost stays."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        ws.io.reconcile(real("old_view_products.json")).apply()
        ws.io.import_bake_tracker(real("inventory.json"))
        ws.io.reconcile(real("old_view_purchases.json")).apply()
        before = stock_state(ws)
        assert before["priced_purchases"] == 155 and before["uncosted_lots"] == 0
        report = ws.io.import_bake_tracker(real("inventory.json"))
        assert report.counts("purchases")["updated"] == 0
        assert stock_state(ws) == before
        ws.commit()


def test_the_same_purchase_id_twice_is_a_duplicate(bakery):
    data = inventory_file(priced=True)
    twice = dict(data["purchases"][0], uuid=None, unit_price="1.0000")
    data["purchases"] = [dict(data["purchases"][0], uuid=None), twice]
    data["inventory_items"] = data["inventory_items"][:1]
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        ws.io.reconcile(real("old_view_products.json")).apply()
        with pytest.raises(ImportValidationError) as caught:
            ws.io.import_bake_tracker(data)
        row = caught.value.errors.iloc[0]
        assert (row["entity"], row["row"], row["field"]) == ("purchases", 2, "purchase")
        assert "differ in unit_price" in row["reason"]
        ws.rollback()


def test_a_recipe_given_without_lines_keeps_its_ingredients(bakery):
    """A recipe listed by name and category only (a later file) changes its category and
    keeps its ingredient lines: a recipe's cost never drops to nothing."""
    with bakery.session() as ws:
        ws.io.import_bake_tracker(real("sample_data_all_v4.2.json"))
        lines = scalar(ws, "SELECT COUNT(*) FROM recipe_ingredients")
        recipe = ws.execute(text("SELECT slug, name FROM recipes ORDER BY id")).first()
        report = ws.io.import_bake_tracker({"version": "4.2", "recipes": [
            {"slug": recipe.slug, "name": recipe.name, "category": "Renamed category"}]})
        assert report.counts("recipes")["updated"] == 1
        assert scalar(ws, "SELECT COUNT(*) FROM recipe_ingredients") == lines
        assert scalar(ws, "SELECT category FROM recipes WHERE slug = :s".replace(
            ":s", f"'{recipe.slug}'")) == "Renamed category"
        ws.commit()
