"""ws.io.import_bake_tracker: the real v3.4 and v4.2 exports, partial files, updates, and
malformed files (every problem listed, nothing written)."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from sqlalchemy import select

from bakekit.db import tables
from bakekit.errors import ImportValidationError
from tests.support.atomic import assert_atomic, counting, snapshot
from tests.support.data import BAKE_TRACKER_DATA, small_file


def _price(ws, brand: str) -> float:
    t = tables.products
    return float(ws.scalar(select(t.c.price).where(t.c.brand == brand)))


REAL_FILES = ["sample_data_v3.4.json", "sample_data_all_v4.2.json"]


def _real(name: str):
    return BAKE_TRACKER_DATA / name


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_imports_completely_and_reimport_is_a_no_op(bakery, name):
    path = _real(name)
    data = json.loads(path.read_text())
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(path)
        frame = report.frame.set_index("entity")
        for section, rows in data.items():
            if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                assert frame.loc[section, "read"] == len(rows), section
                assert frame.loc[section, "created"] == len(rows), section
        assert ws.inventory.audit().empty
        lots = ws.inventory.lots()
        assert len(lots) == len(data["inventory_items"])
        ws.commit()
    before = snapshot(bakery)
    with bakery.session() as ws:
        again = ws.io.import_bake_tracker(path)
        ws.commit()
    assert again.frame["created"].sum() == 0
    assert again.frame["updated"].sum() == 0
    assert snapshot(bakery) == before


def test_v34_details(bakery):
    path = _real("sample_data_v3.4.json")
    with bakery.session() as ws:
        ws.io.import_bake_tracker(path)
        ing = ws.catalog.ingredients().set_index("item")
        assert ing["density"].notna().sum() == 113
        assert _price(ws, "King Arthur") == pytest.approx(19.99)
        lots = ws.inventory.lots()
        # priced where a purchase of the same product and day exists, else uncosted
        assert lots["unit_cost"].notna().sum() == 5
        assert lots["unit_cost"].isna().sum() == 8


def test_v42_details(bakery):
    path = _real("sample_data_all_v4.2.json")
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(path)
        ing = ws.catalog.ingredients()
        assert ing["density"].notna().sum() == 127
        assert "1 cup = 4.42 oz" in set(ing["density"])
        assert ing["parent"].notna().sum() == 398
        assert ing["is_packaging"].sum() == 21
        assert "is_hidden" in report.unknown_fields["products"]
        assert ws.inventory.lots()["unit_cost"].isna().all()


def test_price_arriving_later_updates_and_costs_the_lots(bakery):
    data = small_file()
    data["purchases"][0]["unit_cost"] = None
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        assert ws.inventory.lots("flour")["unit_cost"].isna().all()
        data["purchases"][0]["unit_cost"] = 18.0
        report = ws.io.import_bake_tracker(data)
        assert report.counts("purchases")["updated"] == 1
        assert report.counts("inventory_items")["updated"] == 1
        lot = ws.inventory.lots("flour").iloc[0]
        assert lot["unit_cost"] == pytest.approx(3.6)
        assert _price(ws, "KA") == 18.0
        assert ws.inventory.audit().empty


def test_partial_files_resolve_against_the_database(bakery):
    data = small_file()
    with bakery.session() as ws:
        ws.io.import_bake_tracker({"ingredients": data["ingredients"]})
        report = ws.io.import_bake_tracker({"products": data["products"]})
        assert report.counts("products")["created"] == 2
        report = ws.io.import_bake_tracker({"version": "3.4",
                                            "purchases": data["purchases"],
                                            "inventory_items": data["inventory_items"]})
        assert report.counts("inventory_items")["created"] == 2
        report = ws.io.import_bake_tracker({"recipes": data["recipes"]})
        assert report.counts("recipes")["created"] == 2
        assert ws.inventory.audit().empty


def test_changed_recipe_is_updated(bakery):
    data = small_file()
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)
        data["recipes"][0]["ingredients"][0]["quantity"] = 3
        report = ws.io.import_bake_tracker(data)
        assert report.counts("recipes") == {"read": 2, "created": 0, "updated": 1,
                                            "unchanged": 1, "skipped": 0}


def test_malformed_file_lists_every_problem_and_writes_nothing(bakery):
    data = small_file()
    data["ingredients"][2]["display_name"] = 42  # wrong type
    data["products"][0]["package_unit"] = "smidgen"  # unknown unit
    data["products"][1]["ingredient_slug"] = "no_such_thing"  # unknown slug
    data["inventory_items"][0]["quantity"] = -3  # negative
    data["purchases"][0]["unit_cost"] = math.nan  # NaN price
    del data["events"][0]["event_date"]  # missing key
    before = snapshot(bakery)
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.import_bake_tracker(data)
    errors = info.value.errors
    found = set(zip(errors["entity"], errors["field"], strict=True))
    for expected in [("ingredients", "display_name"), ("products", "package_unit"),
                     ("products", "ingredient_slug"), ("inventory_items", "quantity"),
                     ("purchases", "unit_cost"), ("events", "event_date")]:
        assert expected in found, (expected, errors)
    assert {"row", "entity", "field", "value", "reason"} <= set(errors.columns)
    unit_row = errors[errors["field"] == "package_unit"].iloc[0]
    assert unit_row["row"] == 1 and unit_row["value"] == "smidgen"
    assert snapshot(bakery) == before


def test_bad_json_and_wrong_shapes(bakery, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"ingredients": [ {"slug": "x",, } ]}')
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker(bad)
        assert "not valid JSON" in info.value.errors["reason"].iloc[0]
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker({"ingredients": {"slug": "x"}, "version": "9.0"})
        assert set(info.value.errors["field"]) == {"ingredients", "version"}
        assert ws.catalog.ingredients().empty


def test_import_is_atomic(bakery):
    assert_atomic(bakery, lambda ws: ws.io.import_bake_tracker(small_file()))


def test_recipe_cycle_through_a_recipe_already_in_the_database_is_refused(bakery):
    data = small_file()
    with bakery.session() as ws:
        ws.io.import_bake_tracker(data)  # cookies contains base
        ws.commit()
    before = snapshot(bakery)
    base = {**data["recipes"][0], "components": [{"recipe_slug": "cookies", "quantity": 1}]}
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.import_bake_tracker({"recipes": [base]})
    errors = info.value.errors
    assert list(errors["field"]) == ["components"]
    assert "cycle: Base -> cookies -> Base" in errors["reason"].iloc[0]
    assert snapshot(bakery) == before


def test_a_cycle_in_the_file_is_reported_once_and_a_file_recipe_replaces_the_database_one(
        bakery):
    data = small_file()
    three = [{"name": n, "slug": n.lower(), "ingredients": [],
              "components": [{"recipe_slug": c, "quantity": 1}]}
             for n, c in (("A", "b"), ("B", "c"), ("C", "a"))]
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker({"recipes": three})
        errors = info.value.errors
        assert len(errors) == 1 and errors["row"].iloc[0] == 1
        assert errors["reason"].iloc[0].endswith("cycle: A -> B -> C -> A")
        ws.io.import_bake_tracker(data)
        # cookies no longer contains base, so base may now contain cookies
        cookies = {**data["recipes"][1], "components": []}
        base = {**data["recipes"][0], "components": [{"recipe_slug": "cookies",
                                                      "quantity": 1}]}
        report = ws.io.import_bake_tracker({"recipes": [base, cookies]})
        assert report.counts("recipes")["updated"] == 2


@pytest.mark.parametrize(("section", "field"), [
    ("suppliers", "name"), ("ingredients", "slug"), ("recipes", "slug"),
    ("finished_units", "slug"), ("packages", "slug"), ("recipients", "name"),
    ("events", "name")])
def test_two_differing_rows_with_one_key_in_a_section_are_a_problem(bakery, section, field):
    data = small_file()
    data[section].append({**data[section][0], "notes": "another row"})
    row = len(data[section])
    with bakery.session() as ws:
        with pytest.raises(ImportValidationError) as info:
            ws.io.import_bake_tracker(data)
        errors = info.value.errors
        assert list(zip(errors["entity"], errors["row"], errors["field"], strict=True)) == [
            (section, row, field)]
        assert errors["reason"].iloc[0].startswith(
            f"duplicate of {section} row 1: one {field} per row; the rows differ in notes")
        assert ws.catalog.ingredients().empty


@pytest.mark.parametrize(("section", "field"), [
    ("suppliers", "name"), ("ingredients", "slug"), ("recipes", "slug"),
    ("finished_units", "slug"), ("packages", "slug"), ("recipients", "name"),
    ("events", "name")])
def test_identical_rows_count_once_and_first_or_last_chooses(bakery, section, field):
    data = small_file()
    data[section].append({**data[section][0]})
    with bakery.session() as ws, ws.scenario():
        report = ws.io.import_bake_tracker(data)
        assert report.identical_rows == 1
        counts = report.counts(section)
        assert counts["skipped"] == 1 and counts["created"] == len(data[section]) - 1
        assert "identical rows counted once" in report.frame.set_index("entity").loc[
            section, "reasons"]
    data[section][-1] = {**data[section][0], "notes": "the last one"}
    for keep in ("first", "last"):
        with bakery.session() as ws, ws.scenario():
            report = ws.io.import_bake_tracker(data, duplicates=keep)
            reasons = report.frame.set_index("entity").loc[section, "reasons"]
            assert f"{keep} kept" in reasons
            assert report.counts(section)["skipped"] == 1


def test_a_material_with_an_ingredients_slug_is_a_duplicate(bakery):
    data = small_file()
    data["materials"] = [{"slug": "sugar", "display_name": "Sugar bags"}]
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.import_bake_tracker(data)
    errors = info.value.errors
    assert list(errors["value"]) == ["sugar"]
    assert "duplicate of ingredients row 3" in errors["reason"].iloc[0]


def test_a_key_twice_in_one_json_object_is_named(bakery, tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"version": "4.2", "suppliers": [{"name": "A", "city": "X", '
                    '"name": "B"}]}')
    with bakery.session() as ws, pytest.raises(ImportValidationError) as info:
        ws.io.import_bake_tracker(path)
    errors = info.value.errors
    assert list(errors["field"]) == ["name"]
    assert errors["value"].iloc[0] == '"A", "B"'
    assert "appears 2 times in one JSON object" in errors["reason"].iloc[0]


def test_real_file_import_inserts_each_table_in_batches_not_row_by_row(bakery):
    path = _real("sample_data_all_v4.2.json")  # 434 ingredients, 182 products, 156 lots
    with counting(bakery) as counts, bakery.session() as ws:
        ws.io.import_bake_tracker(path)
    inserts = Counter(s.split()[2] for s in counts.statements if s.startswith("INSERT"))
    # one INSERT a section of each entity (ingredients: one a level of their hierarchy, 4)
    assert inserts and max(inserts.values()) <= 5, inserts
    assert max(n for t, n in inserts.items() if t != "ingredients") <= 2, inserts
    assert not [s for s in counts.statements if s.startswith("UPDATE")]  # parents go in set
    assert len(counts.statements) <= 45


def test_report_counts_agree_with_its_frame_which_is_built_when_first_read(bakery):
    with bakery.session() as ws:
        report = ws.io.import_bake_tracker(_real("sample_data_all_v4.2.json"))
        ws.rollback()
    assert callable(report.__dict__["_frame_frame"])  # not built by the import
    counts = {e: report.counts(e) for e in ("ingredients", "products", "inventory_items",
                                           "recipes", "nothing-like-this")}
    assert callable(report.__dict__["_frame_frame"])  # nor by counts()
    frame = report.frame.set_index("entity")
    for entity, c in counts.items():
        expected = ({k: int(frame.loc[entity, k]) for k in c} if entity in frame.index
                    else dict.fromkeys(c, 0))
        assert c == expected, entity
    assert counts["inventory_items"]["created"] == 156
    assert report.frame is report.frame  # built once
