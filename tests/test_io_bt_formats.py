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
from sqlalchemy import text

from bakekit.errors import ImportValidationError, ValidationError
from tests.support.atomic import changed_rows, snapshot
from tests.support.data import BAKE_TRACKER_DATA, _load, exporter_form


def _total(ws) -> float:
    """What the priced stock is worth: the rows with a value (the TOTAL itself is pd.NA when
    some stock has no price, the book rule for unknown cost)."""
    frame = ws.inventory.valuation()
    return float(frame.loc[frame["item"] != "TOTAL", "value"].sum())


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


# -- 3. files that are not imports ---------------------------------------------------------------
@pytest.mark.parametrize(("name", "what", "kind"), [
    ("old_view_products.json", "products view", "products"),
    ("old_view_inventory.json", "inventory view", "inventory_count"),
    ("aug_products.json", "products view", "products"),
    ("bt_mobile_purchase_sample.json", "bt_mobile purchases file", "purchases"),
    ("bt_mobile_inventory_sample.json", "bt_mobile inventory_updates file", "inventory_count")])
def test_views_and_mobile_files_are_refused_by_import_naming_what_takes_them(
        bakery, name, what, kind):
    before = snapshot(bakery)
    with bakery.session() as ws:
        with pytest.raises(ValidationError) as info:
            ws.io.import_bake_tracker(BAKE_TRACKER_DATA / name)
        message = str(info.value)
        assert what in message and "ws.io.reconcile(" in message and repr(kind) in message
        assert ws.io.reconcile(BAKE_TRACKER_DATA / name).kind == kind
        with pytest.raises(ValidationError, match="kind"):
            ws.io.reconcile(BAKE_TRACKER_DATA / name,
                            kind="prices" if kind != "prices" else "purchases")
    assert snapshot(bakery) == before


def _catalogs(ws) -> None:
    """The catalogs a user starts from: ingredients, suppliers, packaging."""
    full = _load("sample_data_all_v4.2.json")
    ws.io.import_bake_tracker({"version": "4.2", "ingredients": full["ingredients"]})
    for name in ("suppliers.json", "materials_catalog.json",
                 "material_products_catalog.json"):
        report = ws.io.import_bake_tracker(BAKE_TRACKER_DATA / name)
        data = _load(name)
        for section, rows in data.items():
            if isinstance(rows, list):
                assert report.counts(section)["read"] == len(rows), (name, section)


def _purchases_view(records: list[dict[str, Any]], *, by_purchase: bool) -> dict[str, Any]:
    """A priced purchases view (denormalized_export_service.export_purchases_context_rich
    at 5ba2de31) of the real inventory view's purchases and prices."""
    rows = []
    for r in records:
        rows.append({
            "id": r["purchase_id"] if by_purchase else 10_000 + r["id"],
            "uuid": None, "purchase_date": r["purchase_date"],
            "unit_price": f"{Decimal(str(r['unit_cost'] or 0)):.4f}",
            "quantity_purchased": 1, "total_cost": None, "notes": None, "created_at": None,
            "product_id": r["product_id"], "product_slug": r["product_slug"],
            "product_name": r["product_name"], "brand": r["brand"],
            "ingredient_slug": r["ingredient_slug"], "ingredient_name": r["ingredient_name"],
            "supplier_id": None, "supplier_name": None})
    return {"version": "1.0", "export_type": "purchases", "export_date": "2026-01-07",
            "_meta": {"editable_fields": ["notes"],
                      "readonly_fields": sorted(k for k in rows[0] if k != "notes")},
            "records": rows}


def _want_value(records: list[dict[str, Any]]) -> float:
    return float(sum(Decimal(str(r["unit_cost"] or 0)) * Decimal(str(r["quantity"]))
                     / Decimal(str(r["package_unit_quantity"])) for r in records))


def test_catalogs_then_products_view_then_inventory_by_id_then_priced_purchases_view(
        bakery, tmp_path):
    products_view = BAKE_TRACKER_DATA / "old_view_products.json"
    inventory_view = _load("old_view_inventory.json")["records"]
    with bakery.session() as ws:
        _catalogs(ws)
        review = ws.io.reconcile(products_view)
        assert review.kind == "products" and review.counts() == {"new": 156}
        assert "last_purchase_price" in review.unknown_fields
        assert review.apply().counts("products")["created"] == 156
        ws.commit()
    with bakery.session() as ws:
        # again: every record matches its product by the remembered id, nothing changes
        assert ws.io.reconcile(products_view).counts() == {"unchanged": 156}
        items = [{k: r[k] for k in ("id", "uuid", "product_id", "purchase_id", "quantity",
                                    "purchase_date", "location", "notes")}
                 for r in inventory_view]
        report = ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        assert report.counts("inventory_items") == {"read": 156, "created": 156, "updated": 0,
                                                    "unchanged": 0, "skipped": 0}
        assert report.uncosted_lots == 156
        assert report.unknown_fields == {"inventory_items": ("notes",)}
        ws.commit()
    path = tmp_path / "purchases_view.json"
    path.write_text(json.dumps(_purchases_view(inventory_view, by_purchase=False)))
    with bakery.session() as ws:
        review = ws.io.reconcile(path)
        assert review.kind == "purchases" and review.counts() == {"changed": 156}
        assert ws.inventory.lots()["unit_cost"].isna().all()  # review writes nothing
        review.apply()
        lots = ws.inventory.lots()
        assert len(lots) == 156 and lots["unit_cost"].notna().all()  # never a second lot
        assert ws.inventory.audit().empty
        assert _total(ws) == pytest.approx(_want_value(inventory_view), abs=0.05)
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        assert ws.io.reconcile(path).counts() == {"unchanged": 156}
        assert ws.io.reconcile(products_view).counts() == {"unchanged": 156}
        assert ws.io.reconcile(BAKE_TRACKER_DATA / "old_view_inventory.json").counts() == {
            "unchanged": 156}
        again = ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        assert again.frame["created"].sum() == 0 and again.frame["updated"].sum() == 0
        ws.commit()
    after = snapshot(bakery)
    assert after == before, changed_rows(before, after)


def test_identical_inventory_items_keep_their_own_lots_when_rows_move(bakery):
    """Items alike in product, day, quantity and location keep the lot each was imported
    as, however the database happens to return the lots (here: every lot rewritten in
    reverse order, which moves PostgreSQL's row versions; CI once failed on this)."""
    products_view = BAKE_TRACKER_DATA / "old_view_products.json"
    inventory_view = _load("old_view_inventory.json")["records"]
    items = [{k: r[k] for k in ("id", "uuid", "product_id", "purchase_id", "quantity",
                                "purchase_date", "location")} for r in inventory_view]
    alike = pd.DataFrame(items).duplicated(
        ["product_id", "purchase_date", "quantity", "location"], keep=False)
    assert alike.sum() >= 2  # the real file has identical items: the case under test
    with bakery.session() as ws:
        _catalogs(ws)
        ws.io.reconcile(products_view).apply()
        ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        ws.commit()
    with bakery.session() as ws:
        ids = ws.execute(text("SELECT id FROM lots ORDER BY id DESC")).scalars().all()
        for lot_id in ids:
            ws.execute(text("UPDATE lots SET location = location WHERE id = :i"), {"i": lot_id})
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        again = ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        assert again.counts("inventory_items")["unchanged"] == len(items)
        ws.commit()
    after = snapshot(bakery)
    assert after == before, changed_rows(before, after)


def test_full_export_then_its_priced_purchases_view(bakery, tmp_path):
    data = exporter_form(priced=False)
    inventory_view = _load("old_view_inventory.json")["records"]
    priced = exporter_form(priced=True)
    view = _purchases_view(inventory_view, by_purchase=True)
    # the view's purchase ids are the export's: give each record its export purchase
    for rec, purchase in zip(view["records"], priced["purchases"], strict=True):
        rec.update(id=purchase["id"], uuid=purchase["uuid"],
                   unit_price=purchase["unit_price"], purchase_date=purchase["purchase_date"])
    path = tmp_path / "view.json"
    path.write_text(json.dumps(view))
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(data)
        assert report.uncosted_lots == 156
        review = ws.io.reconcile(path)
        nonzero = _nonzero(p["unit_price"] for p in priced["purchases"])
        counts = review.counts()
        assert counts["changed"] == nonzero and counts.get("unchanged", 0) == 156 - nonzero
        assert review.frame["purchase_id"].notna().all()
        review.apply()
        lots = ws.inventory.lots()
        assert len(lots) == 156 and lots["unit_cost"].notna().sum() == nonzero
        assert ws.inventory.audit().empty
        want = sum(Decimal(p["unit_price"]) * Decimal(str(i["quantity"]))
                   / Decimal(str(i["package_unit_quantity"]))
                   for p, i in zip(priced["purchases"], data["inventory_items"], strict=True))
        assert _total(ws) == pytest.approx(float(want), abs=0.05)
        assert ws.io.reconcile(path).counts() == {"unchanged": 156}


def test_view_records_change_only_editable_fields(bakery, tmp_path):
    view = _load("old_view_products.json")
    with bakery.session() as ws:
        _catalogs(ws)
        ws.io.reconcile(BAKE_TRACKER_DATA / "old_view_products.json").apply()
        first = view["records"][0]
        view["records"] = [dict(first, brand="King Arthur Baking",
                                ingredient_category="Changed", last_purchase_price="9.99")]
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(view))
        review = ws.io.reconcile(path)
        assert review.counts() == {"changed": 1}
        assert review.frame["message"].iloc[0] == (
            "matched by remembered bake-tracker id: brand 'King Arthur' -> "
            "'King Arthur Baking'")
        review.apply()
        products = ws.catalog.products()
        assert "King Arthur Baking" in set(products["brand"])
        # brand not editable: the same edit changes nothing
        view["_meta"]["editable_fields"] = ["notes"]
        view["records"][0]["brand"] = "Someone Else"
        path.write_text(json.dumps(view))
        assert ws.io.reconcile(path).counts() == {"unchanged": 1}


def test_a_product_without_a_name_matches_on_ingredient_brand_and_package(bakery, tmp_path):
    view = _load("old_view_products.json")
    with bakery.session() as ws:
        _catalogs(ws)
        full = _load("sample_data_all_v4.2.json")
        nameless = [{k: v for k, v in p.items() if k != "product_name"}
                    for p in full["products"]]
        ws.io.import_bake_tracker({"version": "4.2", "products": nameless})
        review = ws.io.reconcile(BAKE_TRACKER_DATA / "old_view_products.json")
        counts = review.counts()
        assert counts.get("missing", 0) == 0
        loose = review.frame["message"].str.contains("the names differ")
        assert loose.sum() >= 140
        conflicts = review.frame[review.frame["status"] == "conflict"]
        assert all("products match" in m for m in conflicts["message"])
        assert len(view["records"]) == len(review.frame)


def test_bt_mobile_rows_match_products_by_normalised_upc(bakery):
    with bakery.session() as ws:
        _catalogs(ws)
        ws.catalog.add_product("ap-5lb", "flour_all_purpose", brand="Gold Medal",
                               name="AP flour 5 lb", package_quantity=5, package_unit="lb")
        ws.catalog.update_product("ap-5lb", upc="0016000-196100")
        review = ws.io.reconcile(BAKE_TRACKER_DATA / "bt_mobile_purchase_sample.json")
        frame = review.frame
        assert list(frame["status"]) == ["new", "missing"]
        assert frame["product"].iloc[0] == "ap-5lb"
        assert "no product has UPC/GTIN '999999999999'" in frame["message"].iloc[1]
        assert "supplier 'Costco' unknown" not in frame["message"].iloc[0]
        review.apply()
        lots = ws.inventory.lots("flour_all_purpose")
        assert list(lots["unit_cost"]) == [pytest.approx(7.99 / 5)]
        review = ws.io.reconcile(BAKE_TRACKER_DATA / "bt_mobile_inventory_sample.json")
        assert list(review.frame["status"]) == ["changed", "missing", "missing"]
        review.apply()
        assert ws.inventory.lots("flour_all_purpose")["remaining"].iloc[0] == 2.5
        assert ws.inventory.audit().empty


# -- 7. messages ---------------------------------------------------------------------------------
def test_messages_show_prices_without_float_noise_and_missing_rows_no_match(bakery):
    from tests.support.data import small_file

    data = small_file()
    data["purchases"][0]["unit_cost"] = None
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        frame = pd.DataFrame([
            {"product_name": "AP 5 lb", "brand": "KA", "package_qty": 5, "package_unit": "lb",
             "unit_price": 1.5899999999999999},
            {"product_name": "Caviar", "brand": "Petrossian", "package_qty": 1,
             "package_unit": "oz", "unit_price": None},
            {"product_name": "Caviar", "brand": "Petrossian", "package_qty": 1,
             "package_unit": "oz", "unit_price": 99}])
        review = ws.io.reconcile(frame, kind="prices").frame
        assert review["message"].iloc[0].startswith("price None -> 1.59")
        assert review["message"].iloc[1] == "price: is missing"
        missing = review.iloc[2]
        assert missing["status"] == "missing"
        assert missing["match"] is None and pd.isna(missing["score"])
        assert "not a match" in missing["message"]


# -- every format on its real file ---------------------------------------------------------------
def _missing_ingredients(name: str, known: set[str]) -> list[dict[str, Any]]:
    """Ingredients a file names that no real file here defines (sample_data_min.json was
    written against bake-tracker's seed catalog): the test supplies them by slug."""
    data = _load(name)
    slugs = {p["ingredient_slug"] for p in data.get("products", [])}
    slugs |= {i["ingredient_slug"] for r in data.get("recipes", [])
              for i in r.get("ingredients", []) if "ingredient_slug" in i}
    return [{"slug": s, "display_name": s} for s in sorted(slugs - known)]


#: each real file, and what must be there before it (catalog files name rows of others)
REAL = {
    "sample_data_v3.4.json": (),
    "sample_data_all_v4.2.json": (),
    "sample_data_min.json": ("v4.2 ingredients",),
    "suppliers.json": (),
    "materials_catalog.json": (),
    "material_products_catalog.json": ("materials_catalog.json",),
    "recipes_catalog.json": ("v3.4 ingredients",),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_file_reads_every_row_uses_or_lists_every_field_and_reimports_as_a_no_op(
        bakery, name):
    from bakekit.io.bake_tracker import KNOWN

    data = _load(name)
    with bakery.session() as ws:
        for before in REAL[name]:
            if before.endswith("ingredients"):
                source = "sample_data_v3.4.json" if "3.4" in before else \
                    "sample_data_all_v4.2.json"
                ingredients = _load(source)["ingredients"]
                ingredients += _missing_ingredients(name, {i["slug"] for i in ingredients})
                ws.io.import_bake_tracker({"version": "4.2", "ingredients": ingredients})
            else:
                ws.io.import_bake_tracker(BAKE_TRACKER_DATA / before)
        report = ws.io.import_bake_tracker(BAKE_TRACKER_DATA / name)
        for section, rows in data.items():
            if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
                continue
            counts = report.counts(section)
            assert counts["read"] == len(rows), section
            assert counts["created"] + counts["skipped"] == len(rows), (section, counts)
            fields = {k for r in rows for k in r}
            listed = set(report.unknown_fields.get(section, ()))
            assert fields <= KNOWN[section] | listed, (section, fields - KNOWN[section])
            assert not listed & KNOWN[section], section
        assert ws.inventory.audit().empty
        # the money adds up: valuation is what the file's priced rows say
        priced = {}
        for p in data.get("purchases", []):
            price = p.get("unit_price") or p.get("unit_cost")
            if price and Decimal(str(price)):
                priced[(p["ingredient_slug"], p.get("product_brand"),
                        p.get("purchased_at") or p.get("purchase_date"))] = Decimal(str(price))
        want = Decimal(0)
        products = {(p["ingredient_slug"], p.get("brand")): p for p in data.get("products", [])}
        for i in data.get("inventory_items", []):
            price = priced.get((i["ingredient_slug"], i.get("product_brand"),
                                i["purchase_date"]))
            size = i.get("package_unit_quantity") or products[
                (i["ingredient_slug"], i.get("product_brand"))]["package_unit_quantity"]
            if price is not None:
                want += price * Decimal(str(i["quantity"])) / Decimal(str(size))
        assert _total(ws) == pytest.approx(float(want), abs=0.05)
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        again = ws.io.import_bake_tracker(BAKE_TRACKER_DATA / name)
        assert again.frame["created"].sum() == 0 and again.frame["updated"].sum() == 0
        ws.commit()
    assert snapshot(bakery) == before


def test_ingredient_ids_resolve_in_the_file_and_are_remembered(bakery):
    ingredients = [{"id": 4, "slug": "flour_all_purpose", "display_name": "Flour"}]
    product = {"ingredient_id": 4, "brand": "King Arthur", "product_name": "AP",
               "package_unit": "lb", "package_unit_quantity": 5}
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker({"ingredients": ingredients, "products": [product]})
        assert report.counts("products")["created"] == 1
        other = {**product, "product_name": "AP 10", "package_unit_quantity": 10}
        assert ws.io.import_bake_tracker({"products": [other]}).counts("products")[
            "created"] == 1
        with pytest.raises(ImportValidationError, match="ingredient_id"):
            ws.io.import_bake_tracker({"products": [{**other, "ingredient_id": 5}]})


def test_an_inventory_view_changes_a_lot_only_where_quantity_is_editable(bakery, tmp_path):
    view = _load("old_view_inventory.json")
    with bakery.session() as ws:
        _catalogs(ws)
        ws.io.reconcile(BAKE_TRACKER_DATA / "old_view_products.json").apply()
        items = [{k: r[k] for k in ("id", "uuid", "product_id", "quantity", "purchase_date")}
                 for r in view["records"]]
        ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        view["records"] = [dict(view["records"][0], quantity=10.0)]
        path = tmp_path / "count.json"
        path.write_text(json.dumps(view))
        review = ws.io.reconcile(path)
        assert review.kind == "inventory_count"
        assert list(review.frame["status"]) == ["changed"]
        assert review.frame["message"].iloc[0].endswith("16 -> 10 oz")
        view["_meta"]["editable_fields"] = ["notes"]
        path.write_text(json.dumps(view))
        assert list(ws.io.reconcile(path).frame["status"]) == ["unchanged"]
        view["_meta"]["editable_fields"] = ["quantity"]
        path.write_text(json.dumps(view))
        review = ws.io.reconcile(path)
        review.apply()
        lots = ws.inventory.lots().set_index("lot_id")
        assert lots.loc[int(review.frame["lot_id"].iloc[0]), "remaining"] == 10.0
        assert ws.inventory.audit().empty


def test_a_priced_purchases_view_matched_by_lots_is_a_plan_that_applies(bakery, tmp_path):
    """A what-if of the merge-back (its rows name the lots they fill, not purchases) gives a
    plan that reads back from its file and costs every lot when applied."""
    from bakekit.plan import Plan

    inventory_view = _load("old_view_inventory.json")["records"]
    items = [{k: r[k] for k in ("id", "uuid", "product_id", "purchase_id", "quantity",
                                "purchase_date", "location", "notes")} for r in inventory_view]
    with bakery.session() as ws:
        _catalogs(ws)
        ws.io.reconcile(BAKE_TRACKER_DATA / "old_view_products.json").apply()
        ws.io.import_bake_tracker({"version": "4.2", "inventory_items": items})
        ws.commit()
    path = tmp_path / "purchases_view.json"
    path.write_text(json.dumps(_purchases_view(inventory_view, by_purchase=False)))
    before = snapshot(bakery)
    with bakery.what_if() as ws:
        assert ws.io.reconcile(path).apply().counts("purchases")["updated"] == 156
    assert snapshot(bakery) == before  # the what-if wrote nothing
    plan = Plan.from_json(ws.plan.to_json(), bakery)
    plan.apply()
    with bakery.session() as ws:
        assert ws.inventory.lots()["unit_cost"].notna().all()
        assert ws.inventory.audit().empty
        assert _total(ws) == pytest.approx(_want_value(inventory_view), abs=0.05)
