"""Merging back a priced purchases view: a record that names its purchase is that purchase
(its read-only product fields are not matched against the catalog), the review's rows and
its frame apply alike (a frame read and edited is applied as it stands), and the
merge-back runs a fixed number of statements however many records it has."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from bakekit.db import tables
from bakekit.results import Reconciliation
from tests.support.atomic import counting
from tests.support.data import _load, exporter_form


def _priced_view(records: int | None = None) -> dict[str, Any]:
    """The v4.2 export's priced purchases view: one record per purchase, by the export's
    purchase id and uuid, with the real prices (as bake-tracker's purchases view writes
    it)."""
    priced = exporter_form(priced=True)["purchases"][:records]
    inventory = _load("old_view_inventory.json")["records"]
    rows = [{"id": p["id"], "uuid": p["uuid"], "purchase_date": p["purchase_date"],
             "unit_price": p["unit_price"], "quantity_purchased": 1, "total_cost": None,
             "notes": None, "created_at": None, "product_id": r["product_id"],
             "product_slug": r["product_slug"], "product_name": r["product_name"],
             "brand": r["brand"], "ingredient_slug": r["ingredient_slug"],
             "ingredient_name": r["ingredient_name"], "supplier_id": None,
             "supplier_name": None} for p, r in zip(priced, inventory, strict=False)]
    return {"version": "1.0", "export_type": "purchases", "export_date": "2026-01-07",
            "_meta": {"editable_fields": ["notes"],
                      "readonly_fields": sorted(k for k in rows[0] if k != "notes")},
            "records": rows}


def _write(tmp_path, view: dict[str, Any], name: str = "view.json"):
    path = tmp_path / name
    path.write_text(json.dumps(view), encoding="utf-8")
    return path


def _purchase_products(ws) -> dict[int, str]:
    return {int(i): s for i, s in ws.execute(text(
        "SELECT purchases.id, products.slug FROM purchases JOIN products "
        "ON products.id = purchases.product_id")).all()}


def _priced_purchases(ws) -> dict[int, Decimal]:
    u = tables.purchases
    return {int(i): Decimal(str(c)) for i, c in ws.execute(
        select(u.c.id, u.c.unit_cost).where(u.c.unit_cost.isnot(None))).all()}


def _written(ws) -> dict[str, list[tuple[Any, ...]]]:
    """What a merge-back writes: prices and costs in row order, and the remembered keys
    with their local rows by position (PostgreSQL's ids go on after a rollback)."""
    out = {name: [tuple(r) for r in ws.execute(text(
        f"SELECT {column} FROM {name} ORDER BY id")).all()]
        for name, column in (("purchases", "unit_cost"), ("lots", "unit_cost"),
                             ("movements", "cost"))}
    keys = ws.execute(text("SELECT entity, external_id, uuid, local_id FROM external_ids "
                           "ORDER BY id")).all()
    first = {e: min(int(k.local_id) for k in keys if k.entity == e) for e, *_ in keys}
    out["external_ids"] = [(k.entity, k.external_id, k.uuid, int(k.local_id) - first[k.entity])
                           for k in keys]
    return out


def test_a_record_naming_its_purchase_is_that_purchase_whatever_its_read_only_fields_say(
        bakery, tmp_path):
    view = _priced_view(4)
    first, wrong, renamed, unknown = view["records"]
    wrong.update(ingredient_slug="no-such-ingredient", brand="Nobody")  # no catalog match
    renamed["product_name"] = "Something Else Entirely"
    unknown.update(id=99_999, uuid="00000000-0000-0000-0000-000000000000",
                   ingredient_slug="no-such-ingredient")  # names no purchase, no product
    path = _write(tmp_path, view)
    with bakery.session() as ws:
        ws.io.import_bake_tracker(exporter_form(priced=False))
        products = _purchase_products(ws)
        review = ws.io.reconcile(path)
        frame = review.frame.set_index("row")
        for n in (0, 1, 2):
            assert frame.loc[n, "status"] == "changed", frame.loc[n].to_dict()
            assert frame.loc[n, "message"].startswith("matched by remembered bake-tracker id")
            assert frame.loc[n, "product"] == products[int(frame.loc[n, "purchase_id"])]
        assert "read-only" not in frame.loc[0, "message"]
        assert "the record's ingredient_slug 'no-such-ingredient' is not its purchase's " \
               "product's" in frame.loc[1, "message"]
        assert "the record's brand 'Nobody'" in frame.loc[1, "message"]
        assert "read-only" not in frame.loc[2, "message"]  # a name is not compared
        assert frame.loc[3, "status"] == "missing", frame.loc[3].to_dict()
        assert "no-such-ingredient" in frame.loc[3, "message"]
        review.apply()
        priced = _priced_purchases(ws)
        assert set(priced) == {int(frame.loc[n, "purchase_id"]) for n in (0, 1, 2)}
        assert priced == {int(frame.loc[n, "purchase_id"]): Decimal(
            view["records"][n]["unit_price"]) for n in (0, 1, 2)}
        assert ws.inventory.audit().empty
        ws.rollback()


def test_a_record_naming_a_purchase_by_its_own_uuid_is_that_purchase(bakery, tmp_path):
    view = _priced_view(1)
    record = view["records"][0]
    with bakery.session() as ws:
        ws.io.import_bake_tracker(exporter_form(priced=False))
        bought = ws.inventory.purchase(ws.execute(text(
            "SELECT slug FROM products ORDER BY id")).scalars().first(), unit_cost=None,
            purchased_on="2025-12-01")
        purchase_id, uuid = ws.execute(text(
            "SELECT purchases.id, purchases.uuid FROM purchases JOIN lots "
            "ON lots.purchase_id = purchases.id WHERE lots.id = :lot"),
            {"lot": bought.lot_id}).one()
        record.update(id=55_555, uuid=str(uuid), unit_price="7.5000")
        review = ws.io.reconcile(_write(tmp_path, view))
        row = review.frame.iloc[0]
        assert (row["status"], int(row["purchase_id"])) == ("changed", purchase_id)
        assert row["message"].startswith("matched by purchase uuid"), row["message"]
        review.apply()
        assert _priced_purchases(ws) == {purchase_id: Decimal("7.5")}
        # the record's id is remembered now: the next view finds the purchase by it
        record["uuid"] = None
        again = ws.io.reconcile(_write(tmp_path, view, "again.json")).frame.iloc[0]
        assert again["status"] == "unchanged" and int(again["purchase_id"]) == purchase_id
        assert again["message"].startswith("matched by remembered bake-tracker id")
        ws.rollback()


def test_a_review_applies_from_its_frame_whether_read_first_or_not(bakery, tmp_path):
    path = _write(tmp_path, _priced_view())
    after = []
    for read_first in (False, True):
        with bakery.session() as ws:
            ws.io.import_bake_tracker(exporter_form(priced=False))
            review = ws.io.reconcile(path)
            if read_first:
                assert Reconciliation.frame.built(review) is False
                counts = {str(k): int(v) for k, v in
                          review.frame["status"].value_counts().items()}
            report = review.apply()
            assert Reconciliation.frame.built(review)  # the apply's one input: the frame
            if not read_first:
                counts = review.counts()
            assert report.counts("purchases")["updated"] == counts["changed"] > 100
            assert ws.inventory.audit().empty
            after.append(_written(ws))
            ws.rollback()
    assert after[0] == after[1]
    assert sum(c is not None for (c,) in after[0]["lots"]) > 100


def test_a_frame_read_and_edited_is_applied_as_it_stands(bakery, tmp_path):
    path = _write(tmp_path, _priced_view(10))
    with bakery.session() as ws:
        ws.io.import_bake_tracker(exporter_form(priced=False))
        review = ws.io.reconcile(path)
        changed = review.frame.index[review.frame["status"] == "changed"]
        keep = int(review.frame.loc[changed[0], "purchase_id"])
        review.frame.loc[changed[0], "status"] = "unchanged"  # the analyst holds one back
        report = review.apply()
        assert report.counts("purchases")["updated"] == len(changed) - 1
        priced = _priced_purchases(ws)
        assert keep not in priced and len(priced) == len(changed) - 1
        ws.rollback()


@pytest.mark.parametrize("records", [12, None])
def test_the_merge_back_runs_a_fixed_number_of_statements(bakery, tmp_path, records):
    """Review and apply of a priced purchases view whose records all name their purchases:
    the same statements for 12 records as for 156 (no catalog read, none per record)."""
    path = _write(tmp_path, _priced_view(records))
    with bakery.session() as ws:
        ws.io.import_bake_tracker(exporter_form(priced=False))
        ws.commit()
    with counting(bakery) as counts, bakery.session() as ws:
        review = ws.io.reconcile(path)
        reviewed = counts.n_statements
        assert review.apply().counts("purchases")["updated"] == review.counts()["changed"]
        ws.rollback()
    assert not any("FROM products" in s and "purchases" not in s for s in counts.statements)
    # begin; review: the remembered purchases with their purchases; apply: savepoint,
    # remembered keys, purchases' price, their uncosted lots with their ledger rows, lots'
    # cost, ledger cost, release (PostgreSQL: BEGIN is not a statement)
    begin = 1 if bakery.engine.dialect.name == "sqlite" else 0
    assert reviewed == begin + 1, counts.statements
    assert counts.n_statements == begin + 1 + 7, counts.statements
